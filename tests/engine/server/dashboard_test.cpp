// The dashboard at `GET /`, end to end: `hemoledger serve` on its embedded
// Kafka, events posted through the API, and Debian's headless Chromium loading
// the page and running its JavaScript. The assertions read the DOM Chromium
// dumps after the page has polled the API: what a regional coordinator sees.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/clock.h"
#include "tests/engine/chromium_support.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

// Runs a command in its own process group with stdout and stderr in files;
// kills the whole group if it outlives `seconds`. Returns the wait status, or
// -1 if it could not be started or timed out.
int run_with_timeout(std::vector<std::string> args, const std::string& out, const std::string& err,
                     double seconds) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return -1;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// Headless Chromium with a fresh profile, network features that would reach
// outside the machine turned off, and `extra` flags (--dump-dom,
// --screenshot=...). Returns what it printed on standard output.
std::string chromium(const std::vector<std::string>& extra, const std::string& url,
                     const std::string& work_dir, const std::string& name) {
  TempDir profile;
  std::vector<std::string> args = headless_chromium_args(profile.path());
  args.push_back("--virtual-time-budget=5000");
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(url);
  const std::string out = work_dir + "/" + name + ".out", err = work_dir + "/" + name + ".err";
  const int status = run_with_timeout(args, out, err, 120);
  INFO("chromium " << name << " stderr:\n" << read_file(err));
  REQUIRE(status != -1);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return read_file(out);
}

// An element of a DOM dump found by its id: the opening tag and what lies
// between it and the first closing tag of the same name (enough for the
// dashboard's cells and list items, which do not nest their own tag).
struct Element {
  std::string open_tag;
  std::string inner;
};

std::optional<Element> element_by_id(const std::string& dom, const std::string& tag,
                                     const std::string& id) {
  const auto at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return std::nullopt;
  const auto start = dom.rfind("<" + tag, at);
  const auto open_end = dom.find('>', at);
  if (start == std::string::npos || open_end == std::string::npos) return std::nullopt;
  const auto close = dom.find("</" + tag + ">", open_end);
  if (close == std::string::npos) return std::nullopt;
  return Element{dom.substr(start, open_end + 1 - start),
                 dom.substr(open_end + 1, close - open_end - 1)};
}

std::string html_tag(const std::string& dom) {
  const auto start = dom.find("<html");
  if (start == std::string::npos) return "";
  return dom.substr(start, dom.find('>', start) + 1 - start);
}

// The engine runs with a token file (docs/security.md): the admin token the
// test writes with, and which the page is given with ?token=.
std::string g_token;

// Posts one event and requires the engine to apply it.
void post_applied(int port, const json& event) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30);
  c.set_bearer_token_auth(g_token.c_str());
  auto r = c.Post("/api/events", event.dump(), "application/json");
  INFO("event " << event.dump());
  REQUIRE(r);
  INFO("answer " << r->status << " " << r->body);
  REQUIRE(r->status == 200);
}

// A red-cell unit of `group` collected at `collected` in the blood bank of
// `governorate` (its laboratory types and screens it), released; issued to a
// patient of the same group at `issued` if given. `expires` overrides the
// shelf life.
void red_cell_unit(int port, const std::string& governorate, const std::string& din,
                   const std::string& group, TimeMs collected, std::optional<TimeMs> issued = {},
                   std::optional<TimeMs> expires = {}, bool transfused = true) {
  const std::string bank = governorate + "-BB", lab = governorate + "-LAB";
  const std::string product = "E0382V00";
  auto event = [&](const char* type, const std::string& facility, TimeMs at) {
    return json{{"id", "dash-" + din + "-" + std::to_string(at) + "-" + type},
                {"type", type},
                {"at", format_rfc3339(at)},
                {"facility", facility},
                {"din", din}};
  };
  json c = event("DonationCollected", bank, collected);
  c["donor"] = "DNR-" + din;
  c["abo_rh"] = group;
  post_applied(port, c);
  json p = event("ComponentProduced", bank, collected + kHour);
  p["product"] = product;
  if (expires) p["expires_at"] = format_rfc3339(*expires);
  post_applied(port, p);
  const std::vector<std::pair<std::string, std::string>> results = {{"abo_rh", group},
                                                                    {"hiv", "negative"},
                                                                    {"hbv", "negative"},
                                                                    {"hcv", "negative"},
                                                                    {"syphilis", "negative"}};
  for (const auto& [test, result] : results) {
    json t = event("TestResulted", lab, collected + 2 * kHour);
    t["id"] = t["id"].get<std::string>() + "-" + test;
    t["test"] = test;
    t["result"] = result;
    post_applied(port, t);
  }
  json r = event("UnitReleased", bank, collected + 3 * kHour);
  r["product"] = product;
  post_applied(port, r);
  if (issued) {
    json i = event("UnitIssued", bank, *issued);
    i["product"] = product;
    i["patient_abo_rh"] = group;
    i["patient"] = "PAT-" + din.substr(7);
    i["to"] = governorate + "-HOS";
    post_applied(port, i);
    // The hospital transfuses it (unless the test wants a unit of unknown fate).
    if (transfused) {
      json t = event("UnitTransfused", governorate + "-HOS", *issued + kHour);
      t["product"] = product;
      post_applied(port, t);
    }
  }
}

// The cell of a scope (a governorate code or "country") and group.
void check_cell(const std::string& dom, const std::string& scope, const std::string& group,
                int available, const std::string& days, const std::string& phase) {
  INFO("cell " << scope << " " << group);
  auto cell = element_by_id(dom, "td", "cell-" + scope + "-" + group);
  REQUIRE(cell);
  CHECK_THAT(cell->open_tag, Catch::Contains("phase-" + phase));
  CHECK_THAT(cell->inner,
             Catch::Contains("<span class=\"n\">" + std::to_string(available) + "</span>"));
  CHECK_THAT(cell->inner, Catch::Contains("<span class=\"d\">" + days));
}

}  // namespace

TEST_CASE(
    "a coordinator sees stock, phases, alerts and expiring units on the dashboard in English "
    "and Arabic",
    "[dashboard]") {
  if (!std::filesystem::exists(kChromium)) {
    FAIL("headless Chromium is missing at " << kChromium
                                            << ": install Debian's chromium package "
                                               "(apt-get install chromium, or ./run.sh test)");
  }
  TempDir dir;
  const int port = free_port();
  const std::string tokens = dir.path() + "/tokens.json";
  g_token = new_token(tokens, "dashboard-test", "admin");
  Child serve(with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data",
                          "--listen", "127.0.0.1:" + std::to_string(port), "--tokens", tokens}),
              {}, dir.path() + "/serve.log");
  REQUIRE(wait_for_api(port, 30));

  // Demand counts whole days before today, so issues are dated three days ago.
  const TimeMs now = test_clock().now();
  const TimeMs collected = now - 5 * kDay, issued = now - 3 * kDay;
  const TimeMs expires = now + 30 * kHour + 30 * kMinute;
  int n = 0;
  auto next_din = [&n] { return din_for(880000 + ++n); };
  // Nablus: two O- (one expiring in 30 h) and three A+, no demand.
  const std::string expiring_din = next_din();
  red_cell_unit(port, "NBS", expiring_din, "O-", collected, {}, expires);
  red_cell_unit(port, "NBS", next_din(), "O-", collected);
  for (int i = 0; i < 3; ++i) red_cell_unit(port, "NBS", next_din(), "A+", collected);
  // Jenin: O- all issued (0 left: Red); A+ 2 left of 3 (56 days: Green);
  // B+ 1 left of 6 (28 / 5 = 5.6 days: Pre-Amber).
  for (int i = 0; i < 2; ++i) red_cell_unit(port, "JEN", next_din(), "O-", collected, issued);
  red_cell_unit(port, "JEN", next_din(), "A+", collected, issued);
  for (int i = 0; i < 2; ++i) red_cell_unit(port, "JEN", next_din(), "A+", collected);
  for (int i = 0; i < 5; ++i) red_cell_unit(port, "JEN", next_din(), "B+", collected, issued);
  red_cell_unit(port, "JEN", next_din(), "B+", collected);

  // The API's own view, so that a failure below is the page's fault.
  auto expiring = get_json(port, "/api/expiring", nullptr, g_token);
  REQUIRE(expiring);
  REQUIRE((*expiring)["units"].size() == 1);
  REQUIRE((*expiring)["units"][0]["suggestion"].is_object());
  REQUIRE((*expiring)["units"][0]["suggestion"]["to"] == "JEN-BB");

  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/?token=" + g_token;
  const std::string unit_id = "unit-" + expiring_din + "-E0382V00";

  {  // English, the default
    const std::string dom = chromium({"--dump-dom"}, url, dir.path(), "en");
    INFO(dom);
    CHECK_THAT(html_tag(dom), Catch::Contains("lang=\"en\""));
    CHECK_THAT(html_tag(dom), Catch::Contains("dir=\"ltr\""));
    auto nablus = element_by_id(dom, "tr", "gov-NBS");
    REQUIRE(nablus);
    CHECK_THAT(nablus->inner, Catch::Contains(">Nablus</th>"));
    auto jenin = element_by_id(dom, "tr", "gov-JEN");
    REQUIRE(jenin);
    CHECK_THAT(jenin->inner, Catch::Contains(">Jenin</th>"));
    check_cell(dom, "NBS", "O-", 2, "—", "green");
    check_cell(dom, "NBS", "A+", 3, "—", "green");
    check_cell(dom, "JEN", "O-", 0, "0.0 d", "red");
    check_cell(dom, "JEN", "A+", 2, "56 d", "green");
    check_cell(dom, "JEN", "B+", 1, "5.6 d", "pre_amber");
    check_cell(dom, "HBN", "O-", 0, "—", "green");
    check_cell(dom, "country", "O-", 2, "28 d", "green");
    check_cell(dom, "country", "A+", 5, "140 d", "green");
    check_cell(dom, "country", "B+", 1, "5.6 d", "pre_amber");
    auto jen_o_neg = element_by_id(dom, "td", "cell-JEN-O-");
    REQUIRE(jen_o_neg);
    CHECK_THAT(jen_o_neg->open_tag, Catch::Contains("aria-label=\"Jenin, O-: 0 units available, "
                                                    "0.0 days of supply, Red\""));
    auto unit = element_by_id(dom, "li", unit_id);
    REQUIRE(unit);
    CHECK_THAT(unit->inner, Catch::Contains("Nablus Blood Bank"));
    CHECK_THAT(unit->inner, Catch::Contains("30 h left"));
    CHECK_THAT(unit->inner, Catch::Contains("Suggested transfer to"));
    CHECK_THAT(unit->inner, Catch::Contains("Jenin Blood Bank"));
    // Open alerts, most severe first: Jenin's O- is Red, its B+ Pre-Amber, and
    // Nablus's expiring O- unit comes with its transfer.
    auto alerts = element_by_id(dom, "ol", "alerts");
    REQUIRE(alerts);
    CHECK_THAT(alerts->inner,
               Catch::Contains("O- Red cells in Jenin: 0.0 days of supply, 0 available (Red)"));
    CHECK_THAT(
        alerts->inner,
        Catch::Contains("B+ Red cells in Jenin: 5.6 days of supply, 1 available (Pre-Amber)"));
    CHECK_THAT(alerts->inner,
               Catch::Contains("1 O- Red cells unit at Nablus Blood Bank expire within 72 h; "
                               "suggested transfer to Jenin Blood Bank"));
    CHECK(alerts->inner.find("sev-red") < alerts->inner.find("sev-info"));
    auto kafka = element_by_id(dom, "span", "kafka-status");
    REQUIRE(kafka);
    CHECK_THAT(kafka->inner, Catch::Contains("embedded mock cluster"));
    auto engine = element_by_id(dom, "span", "engine-state");
    REQUIRE(engine);
    CHECK(engine->inner == "Engine OK");
  }

  {  // Arabic, right to left
    const std::string dom = chromium({"--dump-dom"}, url + "&lang=ar", dir.path(), "ar");
    INFO(dom);
    CHECK_THAT(html_tag(dom), Catch::Contains("lang=\"ar\""));
    CHECK_THAT(html_tag(dom), Catch::Contains("dir=\"rtl\""));
    auto nablus = element_by_id(dom, "tr", "gov-NBS");
    REQUIRE(nablus);
    CHECK_THAT(nablus->inner, Catch::Contains(">نابلس</th>"));
    auto jenin = element_by_id(dom, "tr", "gov-JEN");
    REQUIRE(jenin);
    CHECK_THAT(jenin->inner, Catch::Contains(">جنين</th>"));
    check_cell(dom, "NBS", "O-", 2, "—", "green");
    check_cell(dom, "JEN", "A+", 2, "56 يوم", "green");
    check_cell(dom, "JEN", "B+", 1, "5.6 يوم", "pre_amber");
    check_cell(dom, "country", "A+", 5, "140 يوم", "green");
    auto country = element_by_id(dom, "tr", "country");
    REQUIRE(country);
    CHECK_THAT(country->inner, Catch::Contains("مجموع البلد"));
    auto alerts = element_by_id(dom, "ol", "alerts");
    REQUIRE(alerts);
    CHECK_THAT(alerts->inner, Catch::Contains("O- الكريات الحمراء في جنين"));
    CHECK_THAT(alerts->inner, Catch::Contains("أحمر"));
    CHECK_THAT(alerts->inner, Catch::Contains("نقل مقترح إلى بنك الدم - جنين"));
    auto unit = element_by_id(dom, "li", unit_id);
    REQUIRE(unit);
    CHECK_THAT(unit->inner, Catch::Contains("بنك الدم - نابلس"));
    CHECK_THAT(unit->inner, Catch::Contains("نقل مقترح إلى"));
    CHECK_THAT(unit->inner, Catch::Contains("بنك الدم - جنين"));
    auto engine = element_by_id(dom, "span", "engine-state");
    REQUIRE(engine);
    CHECK(engine->inner == "المحرك يعمل");
  }

  {  // a screenshot renders
    const std::string png = dir.path() + "/dashboard.png";
    chromium({"--screenshot=" + png, "--window-size=1280,900", "--hide-scrollbars"}, url,
             dir.path(), "screenshot");
    REQUIRE(std::filesystem::exists(png));
    CHECK(std::filesystem::file_size(png) > 10000);
    const std::string head = read_file(png).substr(0, 8);
    CHECK(head == "\x89PNG\r\n\x1a\n");
  }

  serve.signal(SIGTERM);
  REQUIRE(serve.wait_for(30));
}

TEST_CASE(
    "the dashboard shows emergency releases, transfusion reactions and units of unknown fate in "
    "English and Arabic",
    "[dashboard][bedside]") {
  if (!std::filesystem::exists(kChromium)) {
    FAIL("headless Chromium is missing at " << kChromium
                                            << ": install Debian's chromium package "
                                               "(apt-get install chromium, or ./run.sh test)");
  }
  TempDir dir;
  const int port = free_port();
  const std::string tokens = dir.path() + "/tokens.json";
  g_token = new_token(tokens, "dashboard-test", "admin");
  Child serve(with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data",
                          "--listen", "127.0.0.1:" + std::to_string(port), "--tokens", tokens}),
              {}, dir.path() + "/serve.log");
  REQUIRE(wait_for_api(port, 30));

  const TimeMs now = test_clock().now();
  const TimeMs collected = now - 5 * kDay;
  const std::string product = "E0382V00";
  // Issued two days ago and never accounted for: a unit of unknown fate.
  const std::string lost = din_for(890001), emergency = din_for(890002), reacted = din_for(890003);
  red_cell_unit(port, "NBS", lost, "A+", collected, now - 2 * kDay, {}, false);
  // Released today without the patient's group: an emergency release.
  red_cell_unit(port, "NBS", emergency, "O-", collected);
  post_applied(port, {{"id", "dash-emergency"},
                      {"type", "UnitIssued"},
                      {"at", format_rfc3339(now - kHour)},
                      {"facility", "NBS-BB"},
                      {"din", emergency},
                      {"product", product},
                      {"to", "NBS-HOS"},
                      {"patient", "TRAUMA-17"},
                      {"emergency", true},
                      {"reason", "major trauma"},
                      {"approver", "Dr. Rania Haddad"}});
  // Transfused yesterday, then a severe TRALI.
  red_cell_unit(port, "NBS", reacted, "B+", collected, now - kDay - 2 * kHour);
  post_applied(port, {{"id", "dash-reaction"},
                      {"type", "TransfusionReaction"},
                      {"at", format_rfc3339(now - kDay)},
                      {"facility", "NBS-HOS"},
                      {"din", reacted},
                      {"product", product},
                      {"patient", "PAT-" + reacted.substr(7)},
                      {"onset_at", format_rfc3339(now - kDay - kHour)},
                      {"reaction", "trali"},
                      {"severity", "severe"},
                      {"imputability", "probable"}});

  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/?token=" + g_token;
  const auto count = [](const std::string& dom, const std::string& kind) {
    auto li = element_by_id(dom, "li", "bedside-" + kind);
    REQUIRE(li);
    const auto at = li->open_tag.find("data-count=\"");
    REQUIRE(at != std::string::npos);
    return std::stoi(li->open_tag.substr(at + 12));
  };
  {  // English
    const std::string dom = chromium({"--dump-dom"}, url, dir.path(), "en-bedside");
    INFO(dom);
    CHECK(count(dom, "emergency_release") == 1);
    CHECK(count(dom, "transfusion_reaction") == 1);
    CHECK(count(dom, "unknown_fate") == 1);
    auto title = element_by_id(dom, "h2", "bedside-title");
    REQUIRE(title);
    CHECK(title->inner == "Vein to vein");
    auto card = element_by_id(dom, "li", "bedside-transfusion_reaction");
    REQUIRE(card);
    CHECK_THAT(card->open_tag, Catch::Contains("sev-red"));
    CHECK_THAT(card->inner, Catch::Contains("Transfusion reactions"));
    auto alerts = element_by_id(dom, "ol", "alerts");
    REQUIRE(alerts);
    CHECK_THAT(alerts->inner, Catch::Contains("Emergency release: " + emergency +
                                              " E0382V00 (O- Red cells) at Nablus Hospital, "
                                              "patient's group not yet recorded"));
    CHECK_THAT(alerts->inner,
               Catch::Contains("Transfusion reaction at Nablus Hospital: severe TRALI after " +
                               reacted + " E0382V00 (B+ Red cells) (imputability probable)"));
    CHECK_THAT(alerts->inner, Catch::Contains("Unknown fate: " + lost +
                                              " E0382V00 (A+ Red cells) issued by Nablus Blood "
                                              "Bank to Nablus Hospital"));
  }
  {  // Arabic
    const std::string dom = chromium({"--dump-dom"}, url + "&lang=ar", dir.path(), "ar-bedside");
    INFO(dom);
    CHECK_THAT(html_tag(dom), Catch::Contains("dir=\"rtl\""));
    CHECK(count(dom, "emergency_release") == 1);
    auto title = element_by_id(dom, "h2", "bedside-title");
    REQUIRE(title);
    CHECK(title->inner == "من الوريد إلى الوريد");
    auto card = element_by_id(dom, "li", "bedside-unknown_fate");
    REQUIRE(card);
    CHECK_THAT(card->inner, Catch::Contains("وحدات مصيرها غير معروف"));
    auto alerts = element_by_id(dom, "ol", "alerts");
    REQUIRE(alerts);
    CHECK_THAT(alerts->inner, Catch::Contains("صرف طارئ: " + emergency));
    CHECK_THAT(alerts->inner, Catch::Contains("لم تُسجَّل فصيلة المريض بعد"));
    CHECK_THAT(alerts->inner, Catch::Contains("تفاعل نقل دم في مستشفى نابلس"));
    CHECK_THAT(alerts->inner, Catch::Contains("أذية رئوية حادة مرتبطة بنقل الدم (TRALI) (شديد)"));
    CHECK_THAT(alerts->inner, Catch::Contains("مصير غير معروف: " + lost));
    CHECK_THAT(alerts->inner, Catch::Contains("صُرفت من بنك الدم - نابلس إلى مستشفى نابلس"));
  }
  serve.signal(SIGTERM);
  REQUIRE(serve.wait_for(30));
}
