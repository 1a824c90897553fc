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
    const std::string out = engine.scan(
        {"--action", "issue", "--patient-abo-rh", "O-", "--patient", "PAT-7001", "--to", "JEM-HOS"},
        labels("G123426100001", AboRh::o_neg, good_expiry), &rc);
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("OK   G123426100001 E0382V00 issued"));
    CHECK(rc == 0);
    CHECK(engine.unit_json("G123426100001")["unit"]["status"] == "issued");
  }
  SECTION("an expired unit is stopped and nothing is sent") {
    int rc = -1;
    const std::string out = engine.scan(
        {"--action", "issue", "--patient-abo-rh", "O-", "--patient", "PAT-7001", "--to", "JEM-HOS"},
        labels("G123426100002", AboRh::o_neg, old_expiry), &rc);
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("STOP G123426100002 E0382V00"));
    CHECK_THAT(out, Catch::Contains("expired"));
    CHECK(rc == 1);
    CHECK(engine.unit_json("G123426100002")["history"].size() == 3);  // nothing more recorded
  }
  SECTION("a quarantined unit is stopped with the engine's reason") {
    const std::string out = engine.scan(
        {"--action", "issue", "--patient-abo-rh", "O-", "--patient", "PAT-7001", "--to", "JEM-HOS"},
        labels("G123426100003", AboRh::o_neg, good_expiry));
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("STOP G123426100003 E0382V00"));
    CHECK_THAT(out, Catch::Contains("[unit_quarantined]"));
    CHECK(engine.unit_json("G123426100003")["history"].size() == 2);  // nothing recorded
  }
  SECTION("a label whose blood group disagrees with the typing is stopped") {
    const std::string out = engine.scan({"--action", "issue", "--patient-abo-rh", "AB+",
                                         "--patient", "PAT-7001", "--to", "JEM-HOS"},
                                        labels("G123426100004", AboRh::a_pos, good_expiry));
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("STOP G123426100004 E0382V00: the label says A+ but the "
                                      "unit is typed B+"));
    CHECK(engine.unit_json("G123426100004")["unit"]["status"] == "available");
  }
  SECTION("an incompatible patient is stopped") {
    const std::string out = engine.scan(
        {"--action", "issue", "--patient-abo-rh", "O+", "--patient", "PAT-7001", "--to", "JEM-HOS"},
        labels("G123426100004", AboRh::b_pos, good_expiry));
    INFO(out);
    CHECK_THAT(out, Catch::StartsWith("STOP G123426100004 E0382V00: Incompatible"));
    CHECK_THAT(out, Catch::Contains("[incompatible]"));
    CHECK(engine.unit_json("G123426100004")["unit"]["status"] == "available");
  }
  SECTION("labels of two units mixed in one sequence are refused loudly") {
    const std::string out = engine.scan(
        {"--action", "issue", "--patient-abo-rh", "O-", "--patient", "PAT-7001", "--to", "JEM-HOS"},
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
  expect_ok(engine.scan(
      {"--action", "issue", "--patient-abo-rh", "A+", "--patient", "PAT-7001", "--to", "HBN-HOS"},
      labels(din, AboRh::o_pos, expires), nullptr, "HBN-BB"));
  // At the bedside, the hospital checks the patient and records the transfusion.
  const std::string wrong = engine.scan({"--action", "transfuse", "--patient", "PAT-7002"},
                                        labels(din, AboRh::o_pos, expires), nullptr, "HBN-HOS");
  CHECK_THAT(wrong, Catch::Contains("[wrong_patient]"));
  expect_ok(engine.scan({"--action", "transfuse", "--patient", "PAT-7001"},
                        labels(din, AboRh::o_pos, expires), nullptr, "HBN-HOS"));
  CHECK(engine.unit_json(din)["unit"]["status"] == "transfused");
  CHECK(engine.unit_json(din)["unit"]["holder"] == "HBN-HOS");
  CHECK(engine.unit_json(din)["unit"]["issued_by"] == "HBN-BB");

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
                          " --facility JEM-BB --action issue --patient-abo-rh O- --patient PAT-1 "
                          "--to JEM-HOS" +
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

TEST_CASE("the station records emergency releases, the patient's group, thawing and reactions",
          "[station][bedside]") {
  Engine engine;
  engine.unit("G123426300001", AboRh::o_neg, AboRh::o_neg, 2 * kDay, true);
  engine.unit("G123426300002", AboRh::a_neg, AboRh::a_neg, 2 * kDay, true);
  const TimeMs expiry =
      *parse_rfc3339(engine.unit_json("G123426300001")["unit"]["expires_at"].get<std::string>());
  const std::vector<std::string> emergency = {
      "--action", "emergency", "--patient",        "TRAUMA-0007", "--to",
      "JEM-HOS",  "--reason",  "\"major trauma\"", "--approver",  "\"Dr. Rania Haddad\""};
  // Group A red cells are not for an emergency release; group O are.
  const std::string a = engine.scan(emergency, labels("G123426300002", AboRh::a_neg, expiry));
  CHECK_THAT(a, Catch::Contains("[emergency_group]"));
  const std::string o = engine.scan(emergency, labels("G123426300001", AboRh::o_neg, expiry));
  INFO(o);
  CHECK_THAT(o, Catch::StartsWith("OK   G123426300001 E0382V00 issued as an emergency release"));
  CHECK(engine.unit_json("G123426300001")["unit"]["emergency_release"] == true);
  // The patient's group follows; the hospital reports a reaction after the transfusion.
  const std::string typed = engine.scan(
      {"--action", "type-patient", "--patient-abo-rh", "B+", "--patient", "TRAUMA-0007"},
      labels("G123426300001", AboRh::o_neg, expiry));
  CHECK_THAT(typed, Catch::StartsWith("OK"));
  CHECK(engine.unit_json("G123426300001")["unit"]["patient_abo_rh"] == "B+");
  CHECK_THAT(engine.scan({"--action", "transfuse"}, labels("G123426300001", AboRh::o_neg, expiry),
                         nullptr, "JEM-HOS"),
             Catch::StartsWith("OK"));
  const std::vector<std::string> reaction = {
      "--action",       "reaction",
      "--patient",      "TRAUMA-0007",
      "--reaction",     "febrile",
      "--severity",     "non_severe",
      "--imputability", "possible",
      "--onset",        format_rfc3339(test_clock().now())};  // after the issue, before the report
  const std::string r =
      engine.scan(reaction, labels("G123426300001", AboRh::o_neg, expiry), nullptr, "JEM-HOS");
  INFO(r);
  CHECK_THAT(r, Catch::StartsWith("OK   G123426300001 E0382V00 reported with a transfusion "
                                  "reaction"));
  CHECK(engine.unit_json("G123426300001")["reactions"].size() == 1);

  // A station that lacks what its action needs says so before any scan.
  int rc = -1;
  const std::string bare = engine.scan({"--action", "emergency", "--to", "JEM-HOS"}, {}, &rc);
  CHECK(rc == 2);
  CHECK_THAT(bare, Catch::Contains("needs the patient's pseudonymous id"));
}

TEST_CASE("the station thaws frozen plasma and the unit keeps its frozen label",
          "[station][bedside]") {
  Engine engine;
  const std::string din = "G123426300003";
  const TimeMs t0 = test_clock().now() - 2 * kDay;
  EventMaker m(din, t0);
  Event c = m.make(EventType::donation_collected, "JEM-BB", din);
  c.donor = "D-300003";
  c.abo_rh = AboRh::ab_pos;
  engine.post(c);
  engine.post(m.make(EventType::component_produced, "JEM-BB", din, "E2555V00"));
  auto result = [&](const char* test, std::string v) {
    Event t = m.make(EventType::test_resulted, "JEM-LAB", din);
    t.test = test;
    t.result = std::move(v);
    engine.post(t);
  };
  result("abo_rh", "AB+");
  for (const char* s : {"hiv", "hbv", "hcv", "syphilis"}) result(s, "negative");
  engine.post(m.make(EventType::unit_released, "JEM-BB", din, "E2555V00"));
  auto u = get_json(engine.port, "/api/units/" + din + "/E2555V00");
  REQUIRE(u);
  const TimeMs frozen = *parse_rfc3339((*u)["unit"]["expires_at"].get<std::string>());
  const std::vector<std::string> label = {din_label(din), product_label("E2555V00"),
                                          group_label(AboRh::ab_pos), expiry_label(frozen)};
  const std::string out = engine.scan({"--action", "thaw"}, label);
  INFO(out);
  CHECK_THAT(out, Catch::StartsWith("OK   " + din + " E2555V00 thawed"));
  u = get_json(engine.port, "/api/units/" + din + "/E2555V00");
  REQUIRE(u);
  CHECK((*u)["unit"].contains("thawed_at"));
  // The frozen label still says twelve months; the station goes by the record.
  const std::string again = engine.scan({"--action", "thaw"}, label);
  CHECK_THAT(again, Catch::Contains("[already_thawed]"));
}
