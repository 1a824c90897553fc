// The scanning station in the browser, end to end: `hemoledger serve` with a
// token file on its embedded Kafka, and Debian's headless Chromium driven
// over the DevTools protocol (--remote-debugging-pipe) as a technician would
// use the page: sign in with the bench's station token, pick an action, type
// the patient, scan labels into the focused field (a keyboard-wedge scanner
// types text and Enter). The assertions read what the page shows; a
// screenshot of each answer is kept under the build directory
// (test-artefacts/station/).
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "connectors/isbt128.h"
#include "events/json_codec.h"
#include "tests/engine/chromium_support.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

constexpr const char* kProduct = "E0382V00";

// Headless Chromium and one page of it, spoken to with the DevTools protocol
// over a pair of pipes (Chromium reads fd 3 and writes fd 4; each message is
// JSON followed by a NUL).
class Browser {
 public:
  Browser() {
    int to_chrome[2], from_chrome[2];
    REQUIRE(pipe(to_chrome) == 0);
    REQUIRE(pipe(from_chrome) == 0);
    std::vector<std::string> args = headless_chromium_args(profile_.path());
    for (const char* flag :
         {"--autoplay-policy=no-user-gesture-required", "--remote-debugging-pipe", "about:blank"}) {
      args.emplace_back(flag);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to_chrome[0], 3);
    posix_spawn_file_actions_adddup2(&fa, from_chrome[1], 4);
    const std::string log = profile_.path() + "/chromium.log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    const int rc = posix_spawn(&pid_, kChromium, &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(to_chrome[0]);
    close(from_chrome[1]);
    out_ = to_chrome[1];
    in_ = from_chrome[0];
    REQUIRE(rc == 0);
    const json target = command("Target.createTarget", {{"url", "about:blank"}});
    const json attached =
        command("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}});
    session_ = attached["sessionId"].get<std::string>();
    command("Page.enable", json::object(), session_);
    command("Emulation.setDeviceMetricsOverride",
            {{"width", 1280}, {"height", 1000}, {"deviceScaleFactor", 1}, {"mobile", false}},
            session_);
  }
  ~Browser() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    close(out_);
    close(in_);
  }

  void open(const std::string& url) {
    command("Page.navigate", {{"url", url}}, session_);
    REQUIRE(wait_for("document.readyState === 'complete'"));
  }
  // The value of a JavaScript expression in the page.
  json eval(const std::string& expression) {
    const json r = command("Runtime.evaluate",
                           {{"expression", expression}, {"returnByValue", true}}, session_);
    INFO(expression << " -> " << r.dump());
    REQUIRE_FALSE(r.contains("exceptionDetails"));
    return r["result"].value("value", json());
  }
  std::string text(const std::string& id) {
    return eval("document.getElementById('" + id + "').textContent").get<std::string>();
  }
  // Whether a JavaScript condition comes true within 30 seconds.
  bool wait_for(const std::string& condition) {
    return eventually([&] { return eval("!!(" + condition + ")").get<bool>(); }, 30);
  }
  // Types text where the focus is, as a keyboard (or a keyboard-wedge scanner) does.
  void type(const std::string& text) { command("Input.insertText", {{"text", text}}, session_); }
  void press_enter() {
    for (const char* kind : {"keyDown", "keyUp"}) {
      json key = {
          {"type", kind}, {"key", "Enter"}, {"code", "Enter"}, {"windowsVirtualKeyCode", 13}};
      if (std::string(kind) == "keyDown") key["text"] = "\r";
      command("Input.dispatchKeyEvent", key, session_);
    }
  }
  void screenshot(const std::string& path) {
    const json r = command("Page.captureScreenshot", {{"format", "png"}}, session_);
    const std::string b64 = r["data"].get<std::string>();
    std::string png(b64.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(png.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    REQUIRE(n > 0);
    std::size_t padding = 0;
    for (auto it = b64.rbegin(); it != b64.rend() && *it == '='; ++it) ++padding;
    png.resize(static_cast<std::size_t>(n) - padding);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << png;
    REQUIRE(png.rfind("\x89PNG", 0) == 0);
  }

 private:
  json command(const std::string& method, const json& params, const std::string& session = "") {
    json msg = {{"id", ++id_}, {"method", method}, {"params", params}};
    if (!session.empty()) msg["sessionId"] = session;
    std::string bytes = msg.dump();
    bytes.push_back('\0');
    for (std::size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = write(out_, bytes.data() + sent, bytes.size() - sent);
      REQUIRE(n > 0);
      sent += static_cast<std::size_t>(n);
    }
    for (;;) {
      const json reply = next_message();
      if (reply.value("id", -1) != id_) continue;  // an event, or another reply
      INFO(method << " -> " << reply.dump());
      REQUIRE_FALSE(reply.contains("error"));
      return reply["result"];
    }
  }
  json next_message() {
    for (;;) {
      const auto nul = buffer_.find('\0');
      if (nul != std::string::npos) {
        json j = json::parse(buffer_.substr(0, nul), nullptr, false);
        buffer_.erase(0, nul + 1);
        if (!j.is_discarded()) return j;
        continue;
      }
      pollfd p{in_, POLLIN, 0};
      REQUIRE(poll(&p, 1, 60000) == 1);  // Chromium answers, or the test fails
      char chunk[65536];
      const ssize_t n = read(in_, chunk, sizeof chunk);
      REQUIRE(n > 0);
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  TempDir profile_;
  pid_t pid_ = -1;
  int out_ = -1, in_ = -1;
  int id_ = 0;
  std::string session_, buffer_;
};

// The engine with a token file: an admin token to prepare units, the station
// token of JEM-BB's bench.
struct StationEngine {
  TempDir dir;
  int port = free_port();
  std::string admin, bench, ward;  // ward: a station token of Jerusalem Hospital
  std::unique_ptr<Child> serve;
  StationEngine() {
    const std::string tokens = dir.path() + "/tokens.json";
    admin = new_token(tokens, "station-test-admin", "admin");
    bench = new_token(tokens, "jem-bench-1", "station", "JEM-BB");
    ward = new_token(tokens, "jem-hos-ward-1", "station", "JEM-HOS");
    serve = std::make_unique<Child>(
        with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data", "--listen",
                    "127.0.0.1:" + std::to_string(port), "--tokens", tokens}),
        std::vector<std::string>{}, dir.path() + "/serve.log");
    REQUIRE(wait_for_api(port, 30));
  }
  void post(const Event& e) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30);
    c.set_bearer_token_auth(admin.c_str());
    auto r = c.Post("/api/events", encode_json(e), "application/json");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
  }
  // An O- red-cell unit at JEM-BB collected two days ago, typed and screened
  // and released unless `release` is false (then it stays quarantined).
  void unit(const std::string& din, bool release) {
    EventMaker m(din, test_clock().now() - 2 * kDay);
    Event c = m.make(EventType::donation_collected, "JEM-BB", din);
    c.donor = "D-" + din;
    c.abo_rh = AboRh::o_neg;
    post(c);
    post(m.make(EventType::component_produced, "JEM-BB", din, kProduct));
    if (!release) return;
    auto result = [&](const char* test, std::string v) {
      Event t = m.make(EventType::test_resulted, "JEM-LAB", din);
      t.test = test;
      t.result = std::move(v);
      post(t);
    };
    result("abo_rh", "O-");
    for (const char* s : {"hiv", "hbv", "hcv", "syphilis"}) result(s, "negative");
    post(m.make(EventType::unit_released, "JEM-BB", din, kProduct));
  }
  json record(const std::string& din) {
    auto j = get_json(port, "/api/units/" + din + "/" + kProduct, nullptr, admin);
    REQUIRE(j);
    return *j;
  }
  // The unit's four labels, made with the project's ISBT 128 encoders.
  std::vector<std::string> labels(const std::string& din) {
    const json r = record(din);
    const TimeMs expires = *parse_rfc3339(r["unit"]["expires_at"].get<std::string>());
    return {*isbt128::encode_din(din), "=<" + std::string(kProduct),
            *isbt128::encode_blood_groups(AboRh::o_neg), *isbt128::encode_expiry(expires)};
  }
};

std::string engine_din_label(const std::string& din) { return *isbt128::encode_din(din); }

struct Words {
  std::string lang, facility, ok, stop, issued_reason, quarantined_reason, unreachable;
};

// Scans each label into the focused field and waits for the engine's answer;
// returns it as {answer, code, text, sound}.
json scan_unit(Browser& b, const std::vector<std::string>& labels) {
  const int before =
      b.eval("document.querySelectorAll('#history li:not(.empty)').length").get<int>();
  for (const auto& l : labels) {
    REQUIRE(b.eval("document.activeElement.id").get<std::string>() == "scan");
    b.type(l);
    b.press_enter();
  }
  REQUIRE(b.wait_for("document.querySelectorAll('#history li:not(.empty)').length > " +
                     std::to_string(before)));
  return {{"answer", b.eval("document.getElementById('answer').dataset.answer")},
          {"code", b.eval("document.getElementById('answer').dataset.code")},
          {"word", b.text("answer-word")},
          {"text", b.text("answer-text")},
          {"sound", b.eval("document.getElementById('answer').dataset.sound")}};
}

void run_bench(const Words& w, int first_din) {
  StationEngine engine;
  const std::string good = din_for(first_din), held = din_for(first_din + 1);
  engine.unit(good, true);
  engine.unit(held, false);
  Browser b;
  b.open("http://127.0.0.1:" + std::to_string(engine.port) + "/station?lang=" + w.lang);
  const std::string shots = std::string(HEMOLEDGER_ARTEFACT_DIR) + "/station/" + w.lang + "-";

  // Sign in: the token field has the focus; the bench types its token and Enter.
  REQUIRE(b.eval("document.activeElement.id").get<std::string>() == "token");
  b.type(engine.bench);
  b.press_enter();
  REQUIRE(b.wait_for("!document.getElementById('station').hidden"));
  CHECK(b.eval("document.documentElement.lang").get<std::string>() == w.lang);
  CHECK(b.eval("document.documentElement.dir").get<std::string>() ==
        (w.lang == "ar" ? "rtl" : "ltr"));
  CHECK(b.text("facility") == w.facility);
  // The actions come from the engine's table, as large buttons.
  CHECK(b.eval("document.querySelectorAll('#actions button').length").get<int>() >= 10);

  // Issue to Jerusalem Hospital, for an O- patient whose pseudonym is typed (or
  // scanned from the wristband).
  b.eval("document.getElementById('action-issue').click()");
  b.eval(
      "(() => { const s = document.getElementById('need-patient_group'); s.value = 'O-';"
      " s.dispatchEvent(new Event('change'));"
      " const t = document.getElementById('need-to'); t.value = 'JEM-HOS';"
      " t.dispatchEvent(new Event('change')); })()");
  b.eval("document.getElementById('need-patient').focus()");
  b.type("PT-0042");
  b.press_enter();  // back to the scan field

  json a = scan_unit(b, engine.labels(good));
  b.screenshot(shots + "1-ok.png");
  INFO(a.dump());
  CHECK(a["answer"] == "ok");
  CHECK(a["word"] == w.ok);
  CHECK(a["sound"] == "ok");
  CHECK_THAT(a["text"].get<std::string>(), Catch::Contains(good));
  CHECK(engine.record(good)["unit"]["status"] == "issued");

  // The same unit again: STOP, unit_issued, nothing recorded.
  a = scan_unit(b, engine.labels(good));
  b.screenshot(shots + "2-stop-issued.png");
  INFO(a.dump());
  CHECK(a["answer"] == "stop");
  CHECK(a["code"] == "unit_issued");
  CHECK(a["word"] == w.stop);
  CHECK(a["sound"] == "stop");
  CHECK_THAT(a["text"].get<std::string>(), Catch::Contains(w.issued_reason));

  // A quarantined unit: STOP with its reason.
  a = scan_unit(b, engine.labels(held));
  b.screenshot(shots + "3-stop-quarantined.png");
  INFO(a.dump());
  CHECK(a["answer"] == "stop");
  CHECK(a["code"] == "unit_quarantined");
  CHECK_THAT(a["text"].get<std::string>(), Catch::Contains(w.quarantined_reason));
  CHECK(engine.record(held)["unit"]["status"] == "quarantined");

  // The session's history, newest first.
  CHECK(b.eval("document.querySelectorAll('#history li.ok').length").get<int>() == 1);
  CHECK(b.eval("document.querySelectorAll('#history li.stop').length").get<int>() == 2);

  // The engine goes away: the page says so, and shows nothing as done.
  engine.serve->signal(SIGKILL);
  engine.serve->wait();
  a = scan_unit(b, {engine_din_label(good)});
  b.screenshot(shots + "4-stop-unreachable.png");
  INFO(a.dump());
  CHECK(a["answer"] == "stop");
  CHECK(a["code"] == "engine_unreachable");
  CHECK_THAT(a["text"].get<std::string>(), Catch::Contains(w.unreachable));
  CHECK(b.wait_for("document.getElementById('engine-state').classList.contains('down')"));
}

// Signs the page in with `token` and waits for the bench.
void sign_in(Browser& b, const std::string& token) {
  REQUIRE(b.eval("document.activeElement.id").get<std::string>() == "token");
  b.type(token);
  b.press_enter();
  REQUIRE(b.wait_for("!document.getElementById('station').hidden"));
}

// Sets a form field of the action and tells the page it changed.
void set_field(Browser& b, const std::string& id, const std::string& value) {
  b.eval("(() => { const f = document.getElementById('" + id +
         "'); f.value = " + json(value).dump() + "; f.dispatchEvent(new Event('change')); })()");
}

}  // namespace

TEST_CASE(
    "the page records an emergency release with its reason and approver, and the hospital's "
    "bench reports a transfusion reaction",
    "[station][chromium][bedside]") {
  if (!std::filesystem::exists(kChromium)) {
    FAIL("headless Chromium is missing at " << kChromium);
  }
  StationEngine engine;
  const std::string din = din_for(530001);
  engine.unit(din, true);
  const std::string shots = std::string(HEMOLEDGER_ARTEFACT_DIR) + "/station/bedside-";
  {
    Browser b;
    b.open("http://127.0.0.1:" + std::to_string(engine.port) + "/station?lang=en");
    sign_in(b, engine.bench);
    b.eval("document.getElementById('action-emergency').click()");
    // Everything an emergency release needs is asked for, and nothing is sent without it.
    for (const char* f : {"need-patient", "need-to", "need-reason", "need-approver"}) {
      CHECK(b.eval(std::string("!!document.getElementById('") + f + "')").get<bool>());
    }
    CHECK_FALSE(b.eval("!!document.getElementById('need-patient_group')").get<bool>());
    set_field(b, "need-patient", "PT-0077");
    set_field(b, "need-to", "JEM-HOS");
    set_field(b, "need-reason", "massive haemorrhage, no time to group");
    set_field(b, "need-approver", "Dr. Rania Haddad");
    b.eval("document.getElementById('scan').focus()");
    json a = scan_unit(b, engine.labels(din));
    b.screenshot(shots + "1-emergency.png");
    INFO(a.dump());
    CHECK(a["answer"] == "ok");
    const json rec = engine.record(din);
    CHECK(rec["unit"]["status"] == "issued");
    CHECK(rec["unit"]["holder"] == "JEM-HOS");
    CHECK(rec["unit"]["emergency_release"] == true);
    CHECK(rec["unit"]["patient"] == "PT-0077");
  }
  // At Jerusalem Hospital the ward reports a febrile reaction that began a
  // second after the issue (the form takes seconds).
  const TimeMs issued_at =
      *parse_rfc3339(engine.record(din)["unit"]["issued_at"].get<std::string>());
  Browser b;
  b.open("http://127.0.0.1:" + std::to_string(engine.port) + "/station?lang=en");
  sign_in(b, engine.ward);
  b.eval("document.getElementById('action-reaction').click()");
  set_field(b, "need-patient", "PT-0077");
  set_field(b, "need-reaction", "febrile");
  set_field(b, "need-severity", "non_severe");
  set_field(b, "need-imputability", "probable");
  const std::string local =
      b.eval("(() => { const d = new Date(" + std::to_string(issued_at / 1000 * 1000 + 1000) +
             "); const p = n => String(n).padStart(2, '0');"
             " return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' +"
             " p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()); })()")
          .get<std::string>();
  set_field(b, "need-onset", local);
  b.eval("document.getElementById('scan').focus()");
  json a = scan_unit(b, engine.labels(din));
  b.screenshot(shots + "2-reaction.png");
  INFO(a.dump());
  CHECK(a["answer"] == "ok");
  auto donation = get_json(engine.port, "/api/units/" + din, nullptr, engine.admin);
  REQUIRE(donation);
  INFO(donation->dump());
  REQUIRE((*donation)["reactions"].size() == 1);
  CHECK((*donation)["reactions"][0]["reaction"] == "febrile");
  CHECK((*donation)["reactions"][0]["severity"] == "non_severe");
  CHECK((*donation)["reactions"][0]["imputability"] == "probable");
  CHECK((*donation)["reactions"][0]["onset_at"] == format_rfc3339(issued_at / 1000 * 1000 + 1000));
}

TEST_CASE(
    "a bench signs in, issues a unit and is stopped on a second issue and on a "
    "quarantined unit, in English and in Arabic",
    "[station][chromium]") {
  if (!std::filesystem::exists(kChromium)) {
    FAIL("headless Chromium is missing at " << kChromium
                                            << ": install Debian's chromium package "
                                               "(apt-get install chromium, or ./run.sh test)");
  }
  SECTION("in English") {
    run_bench({"en", "Jerusalem Blood Bank", "OK", "STOP", "has been issued", "is quarantined",
               "cannot be reached"},
              510001);
  }
  SECTION("in Arabic") {
    run_bench({"ar", "بنك الدم - القدس", "موافق", "توقّف", "مصروفة من قبل", "في الحجر",
               "تعذّر الوصول إلى المحرك"},
              520001);
  }
}
