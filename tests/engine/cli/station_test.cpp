// Scripted station sessions through standard input against a running engine
// on the embedded Kafka: the real binary, the real API, real ISBT 128 labels.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "connectors/isbt128.h"
#include "engine/io/clock.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

// ISBT 128 label texts, built from the standard's rules.
std::string din_label(const std::string& din) {
  return "=" + din + std::to_string(60 + isbt128::din_check_value(din));
}
std::string group_label(AboRh g) {
  static const std::map<AboRh, std::string> codes = {
      {AboRh::o_pos, "51"}, {AboRh::a_pos, "62"}, {AboRh::b_pos, "73"}, {AboRh::ab_pos, "84"},
      {AboRh::o_neg, "95"}, {AboRh::a_neg, "06"}, {AboRh::b_neg, "17"}, {AboRh::ab_neg, "28"}};
  return "=%" + codes.at(g) + "00";
}
std::string product_label(const std::string& product) { return "=<" + product; }
std::string expiry_label(TimeMs t) {
  const std::string iso = format_rfc3339(t);  // YYYY-MM-DD...
  const int y = std::stoi(iso.substr(0, 4));
  const auto day = days_from_civil(y, std::stoi(iso.substr(5, 2)), std::stoi(iso.substr(8, 2))) -
                   days_from_civil(y, 1, 1) + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "=>%d%02d%03d", (y / 100) % 10, y % 100, static_cast<int>(day));
  return buf;
}

struct Engine {
  TempDir dir;
  int port = free_port();
  std::unique_ptr<Child> serve;
  Engine() {
    serve =
        std::make_unique<Child>(with_clock(std::vector<std::string>{
                                    HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data",
                                    "--listen", "127.0.0.1:" + std::to_string(port)}),
                                std::vector<std::string>{}, dir.path() + "/serve.log");
    REQUIRE(wait_for_api(port, 30));
  }
  void post(const Event& e) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30);
    auto r = c.Post("/api/events", encode_json(e), "application/json");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
  }
  // A donation with a red cell unit at JEM-BB: typed `typed`, labelled
  // `labelled`, collected `age` ago, released unless `release` is false.
  void unit(const std::string& din, AboRh labelled, AboRh typed, TimeMs age, bool release) {
    const TimeMs t0 = test_clock().now() - age;
    EventMaker m(din, t0);
    Event c = m.make(EventType::donation_collected, "JEM-BB", din);
    c.donor = "D-" + din;
    c.abo_rh = labelled;
    post(c);
    post(m.make(EventType::component_produced, "JEM-BB", din, "E0382V00"));
    if (!release) return;
    auto result = [&](const char* test, std::string v) {
      Event t = m.make(EventType::test_resulted, "JEM-LAB", din);
      t.test = test;
      t.result = std::move(v);
      post(t);
    };
    result("abo_rh", std::string(to_string(typed)));
    for (const char* s : {"hiv", "hbv", "hcv", "syphilis"}) result(s, "negative");
    if (labelled == typed) post(m.make(EventType::unit_released, "JEM-BB", din, "E0382V00"));
  }
  json unit_json(const std::string& din) {
    auto j = get_json(port, "/api/units/" + din + "/E0382V00");
    REQUIRE(j);
    return *j;
  }
  // Runs `hemoledger scan` with `lines` as standard input; returns its output.
  std::string scan(const std::vector<std::string>& args, const std::vector<std::string>& lines,
                   int* exit_code = nullptr, const std::string& facility = "JEM-BB") {
    const std::string in = dir.path() + "/scans.txt", out = dir.path() + "/station.out";
    {
      std::ofstream f(in);
      for (const auto& l : lines) f << l << "\r\n";  // keyboard wedges end lines with CR LF
    }
    std::remove(out.c_str());
    std::string cmd = std::string(HEMOLEDGER_BINARY) +
                      " scan --api http://127.0.0.1:" + std::to_string(port) + " --facility " +
                      facility + test_clock().arg();
    for (const auto& a : args) cmd += " " + a;
    cmd += " < " + in + " > " + out + " 2>&1";
    const int rc = std::system(cmd.c_str());
    if (exit_code) *exit_code = WEXITSTATUS(rc);
    std::ifstream f(out);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
};

std::vector<std::string> labels(const std::string& din, AboRh g, TimeMs expires) {
  return {din_label(din), product_label("E0382V00"), group_label(g), expiry_label(expires)};
}

}  // namespace

TEST_CASE("the station issues a good unit and stops every unsafe one with its reason",
          "[station]") {
  Engine engine;
  const TimeMs now = test_clock().now();
  engine.unit("G123426100001", AboRh::o_neg, AboRh::o_neg, 2 * kDay, true);    // good
  engine.unit("G123426100002", AboRh::o_neg, AboRh::o_neg, 50 * kDay, false);  // expired
  engine.unit("G123426100003", AboRh::o_neg, AboRh::o_neg, 2 * kDay, false);   // quarantined
  engine.unit("G123426100004", AboRh::b_pos, AboRh::b_pos, 2 * kDay, true);    // label will lie
  const json good = engine.unit_json("G123426100001");
  const TimeMs good_expiry = *parse_rfc3339(good["unit"]["expires_at"].get<std::string>());
  const TimeMs old_expiry =
      *parse_rfc3339(engine.unit_json("G123426100002")["unit"]["expires_at"].get<std::string>());
  REQUIRE(old_expiry < now);
  // The engine's expiry ticker records the expiry through Kafka by itself.
  for (int i = 0; i < 100 && engine.unit_json("G123426100002")["unit"]["status"] != "expired";
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(engine.unit_json("G123426100002")["unit"]["status"] == "expired");

  SECTION("the pick list offers compatible units soonest expiry first, never expired ones") {
    auto pick = get_json(engine.port, "/api/pick?facility=JEM-BB&category=red_cells&abo_rh=O-");
    REQUIRE(pick);
    REQUIRE((*pick)["units"].size() == 1);  // B+ is incompatible, the old one expired
    CHECK((*pick)["units"][0]["din"] == "G123426100001");
    CHECK((*pick)["expired_not_recorded"] == 0);  // the ticker recorded it
    auto ab = get_json(engine.port, "/api/pick?facility=JEM-BB&category=red_cells&abo_rh=AB%2B");
    REQUIRE(ab);
    REQUIRE((*ab)["units"].size() == 2);
    CHECK((*ab)["units"][0]["din"] == "G123426100001");  // same expiry: ordered by DIN
    CHECK((*ab)["units"][1]["din"] == "G123426100004");
  }
  SECTION("a correct issue is recorded and confirmed") {
    int rc = -1;
    const std::string out = engine.scan({"--action", "issue", "--patient-abo-rh", "O-"},
                                        labels("G123426100001", AboRh::o_neg, good_expiry), &rc);
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("OK   G123426100001 E0382V00 issued"));
    CHECK(rc == 0);
    CHECK(engine.unit_json("G123426100001")["unit"]["status"] == "issued");
  }
  SECTION("an expired unit is stopped and nothing is sent") {
    int rc = -1;
    const std::string out = engine.scan({"--action", "issue", "--patient-abo-rh", "O-"},
                                        labels("G123426100002", AboRh::o_neg, old_expiry), &rc);
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("STOP G123426100002 E0382V00"));
    CHECK_THAT(out, Catch::Contains("expired"));
    CHECK(rc == 1);
    CHECK(engine.unit_json("G123426100002")["history"].size() == 3);  // nothing more recorded
  }
  SECTION("a quarantined unit is stopped with the engine's reason") {
    const std::string out = engine.scan({"--action", "issue", "--patient-abo-rh", "O-"},
                                        labels("G123426100003", AboRh::o_neg, good_expiry));
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("STOP G123426100003 E0382V00"));
    CHECK_THAT(out, Catch::Contains("[unit_quarantined]"));
    CHECK(engine.unit_json("G123426100003")["history"].size() == 2);  // nothing recorded
  }
  SECTION("a label whose blood group disagrees with the typing is stopped") {
    const std::string out = engine.scan({"--action", "issue", "--patient-abo-rh", "AB+"},
                                        labels("G123426100004", AboRh::a_pos, good_expiry));
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("STOP G123426100004 E0382V00: the label says A+ but the "
                                      "unit is typed B+"));
    CHECK(engine.unit_json("G123426100004")["unit"]["status"] == "available");
  }
  SECTION("an incompatible patient is stopped") {
    const std::string out = engine.scan({"--action", "issue", "--patient-abo-rh", "O+"},
                                        labels("G123426100004", AboRh::b_pos, good_expiry));
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("STOP G123426100004 E0382V00: Incompatible"));
    CHECK_THAT(out, Catch::Contains("[incompatible]"));
    CHECK(engine.unit_json("G123426100004")["unit"]["status"] == "available");
  }
  SECTION("labels of two units mixed in one sequence are refused loudly") {
    const std::string out = engine.scan(
        {"--action", "issue", "--patient-abo-rh", "O-"},
        {din_label("G123426100001"), product_label("E0382V00"), din_label("G123426100003"),
         group_label(AboRh::o_neg), expiry_label(good_expiry)});
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("STOP this label belongs to donation G123426100003 but "
                                      "unit G123426100001 is being assembled"));
    CHECK(engine.unit_json("G123426100001")["unit"]["status"] == "available");
  }
}

TEST_CASE("a technician runs a unit's whole life from the station, to transfusion or discard",
          "[station]") {
  Engine engine;
  const TimeMs expires = test_clock().now() + 30 * kDay;
  const std::string din = "G123426200001", other = "G123426200002";
  auto expect_ok = [&](const std::string& out) {
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("OK"));
    CHECK(out.find("STOP") == std::string::npos);
  };
  expect_ok(engine.scan({"--action", "collect"},
                        {din_label(din), group_label(AboRh::o_pos), "donor:DNR-9"}));
  expect_ok(engine.scan({"--action", "collect"}, {"donor:DNR-10", din_label(other)}));
  expect_ok(engine.scan({"--action", "receive"}, labels(din, AboRh::o_pos, expires)));
  expect_ok(engine.scan({"--action", "receive"}, labels(other, AboRh::o_pos, expires)));

  // A label cannot be released before the laboratory has typed and screened it.
  const std::string early =
      engine.scan({"--action", "release"}, labels(din, AboRh::o_pos, expires));
  CHECK_THAT(early, Catch::Contains("[untested]"));

  EventMaker lab("lab", test_clock().now() - kMinute);
  auto result = [&](const char* test, const char* value) {
    Event t = lab.make(EventType::test_resulted, "JEM-LAB", din);
    t.at = test_clock().now();
    t.test = test;
    t.result = value;
    engine.post(t);
  };
  result("abo_rh", "O+");
  for (const char* s : {"hiv", "hbv", "hcv", "syphilis"}) result(s, "negative");

  expect_ok(engine.scan({"--action", "release"}, labels(din, AboRh::o_pos, expires)));
  expect_ok(
      engine.scan({"--action", "dispatch", "--to", "HBN-BB"}, labels(din, AboRh::o_pos, expires)));
  expect_ok(engine.scan({"--action", "receive-transfer"}, labels(din, AboRh::o_pos, expires),
                        nullptr, "HBN-BB"));
  expect_ok(engine.scan({"--action", "issue", "--patient-abo-rh", "A+"},
                        labels(din, AboRh::o_pos, expires), nullptr, "HBN-BB"));
  expect_ok(engine.scan({"--action", "transfuse"}, labels(din, AboRh::o_pos, expires), nullptr,
                        "HBN-BB"));
  CHECK(engine.unit_json(din)["unit"]["status"] == "transfused");
  CHECK(engine.unit_json(din)["unit"]["holder"] == "HBN-BB");

  expect_ok(engine.scan({"--action", "discard", "--reason", "broken_bag"},
                        labels(other, AboRh::o_pos, expires)));
  CHECK(engine.unit_json(other)["unit"]["status"] == "discarded");
}

TEST_CASE("a station that cannot reach the engine says so and reports no success", "[station]") {
  TempDir dir;
  const std::string in = dir.path() + "/scans.txt", out = dir.path() + "/out.txt";
  {
    std::ofstream f(in);
    for (const auto& l : labels("G123426100001", AboRh::o_neg, test_clock().now() + kDay)) {
      f << l << "\n";
    }
  }
  const std::string cmd = std::string(HEMOLEDGER_BINARY) +
                          " scan --api http://127.0.0.1:" + std::to_string(free_port()) +
                          " --facility JEM-BB --action issue --patient-abo-rh O-" +
                          test_clock().arg() + " < " + in + " > " + out + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream f(out);
  std::stringstream s;
  s << f.rdbuf();
  INFO(s.str());
  CHECK(WEXITSTATUS(rc) == 1);
  CHECK_THAT(s.str(), Catch::StartsWith("STOP G123426100001 E0382V00: the engine at"));
  CHECK_THAT(s.str(), Catch::Contains("cannot be reached; nothing was recorded"));
  CHECK(s.str().find("OK") == std::string::npos);
}
