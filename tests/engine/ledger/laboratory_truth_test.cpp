// Laboratory truth end to end (issue 18): `hemoledger serve` on its embedded
// Kafka with tokens. A confirmed-positive donor who comes back at another
// governorate's bank is stopped at the station before the needle, and a
// collection recorded anyway is quarantined for good and alerted at that
// bank; an HIV-positive donation recalls a unit transfused at a hospital five
// days earlier and opens a recipient-notification task that its event closes.
// Both end with `rebuild --check`.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "connectors/isbt128.h"
#include "engine/io/clock.h"
#include "engine/ledger/replay.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

struct Serve {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  int port = free_port();
  std::map<std::string, std::string> token;  // by name
  std::unique_ptr<Child> child;

  Serve() {
    token["admin"] = new_token(tokens, "admin", "admin");
    token["nbs-lab"] = new_token(tokens, "nbs-lab", "lab", "NBS-LAB");
    token["hbn-bench"] = new_token(tokens, "hbn-bench", "station", "HBN-BB");
    child = std::make_unique<Child>(
        with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data", "--listen",
                    "127.0.0.1:" + std::to_string(port), "--tokens", tokens}),
        std::vector<std::string>{}, dir.path() + "/serve.log");
    REQUIRE(wait_for_api(port, 30));
  }

  // POSTs an event with a token; the outcome ("applied", or outcome: code).
  std::string post(const Event& e, const std::string& who = "admin") {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30);
    c.set_bearer_token_auth(token.at(who).c_str());
    auto r = c.Post("/api/events", encode_json(e), "application/json");
    if (!r) return "no answer";
    auto j = json::parse(r->body, nullptr, false);
    if (!j.is_object()) return "bad answer";
    if (j.value("outcome", "") != "applied")
      return j.value("outcome", "?") + ": " + j.value("code", "");
    return "applied";
  }
  std::optional<json> get(const std::string& path, int* status = nullptr,
                          const std::string& who = "admin") {
    return get_json(port, path, status, token.at(who));
  }
  std::optional<json> alert(const std::string& kind, const std::string& facility) {
    auto list = get("/api/alerts");
    if (!list) return std::nullopt;
    for (const auto& a : (*list)["alerts"]) {
      if (a["kind"] == kind && a["facility"] == facility) return a;
    }
    return std::nullopt;
  }

  // Stops the engine cleanly and checks that a replay of the journal gives
  // exactly the stored projections, donor records and alerts.
  void stop_and_rebuild_check() {
    child->signal(SIGTERM);
    REQUIRE(child->wait_for(30));
    auto store = Store::open(dir.path() + "/data/db");
    REQUIRE(store.ok());
    auto r = rebuild(**store, shipped_engine_reference(), Rules{}, false);
    REQUIRE(r.ok());
    std::string diffs;
    for (const auto& d : r->differences) diffs += d + "\n";
    INFO(diffs);
    CHECK(r->equal);
  }
};

Event test(EventMaker& m, const std::string& din, const std::string& code,
           const std::string& result, TimeMs at, TestMethod method = TestMethod::unspecified) {
  Event t = m.make(EventType::test_resulted, "NBS-LAB", din);
  t.at = at;
  t.test = code;
  t.result = result;
  t.method = method;
  return t;
}

std::string din_label(const std::string& din) {
  return "=" + din + std::to_string(60 + isbt128::din_check_value(din));
}

}  // namespace

TEST_CASE(
    "a confirmed-positive donor returning at another governorate's bank is stopped at the "
    "station and quarantined for good if recorded anyway",
    "[engine][laboratory][donors]") {
  Serve s;
  const TimeMs now = test_clock().now();
  EventMaker m("lt", now - 40 * kDay);
  const std::string first = "G123426200001", second = "G123426200002";

  Event c = m.make(EventType::donation_collected, "NBS-BB", first);
  c.at = now - 40 * kDay;
  c.donor = "DNR-7001";
  c.abo_rh = AboRh::o_pos;
  REQUIRE(s.post(c) == "applied");
  for (const auto& t :
       {test(m, first, "hiv", "positive", now - 39 * kDay, TestMethod::screen),
        test(m, first, "hiv", "positive", now - 39 * kDay + kHour, TestMethod::repeat),
        test(m, first, "hiv_confirm", "positive", now - 35 * kDay, TestMethod::confirmatory)}) {
    REQUIRE(s.post(t, "nbs-lab") == "applied");
  }

  // Only lab and admin tokens read donor records.
  int status = 0;
  s.get("/api/donors/DNR-7001", &status, "hbn-bench");
  CHECK(status == 403);
  auto donor = s.get("/api/donors/DNR-7001", &status, "nbs-lab");
  REQUIRE(donor);
  CHECK(status == 200);
  CHECK((*donor)["status"]["deferred"] == true);
  CHECK((*donor)["status"]["reason"] == "confirmed_positive");
  CHECK((*donor)["status"]["until"].is_null());
  REQUIRE((*donor)["deferrals"].size() == 1);
  CHECK((*donor)["deferrals"][0]["test"] == "hiv");
  // The blocked donation keeps every result, and shows the screen as reactive.
  auto unit = s.get("/api/units/" + first);
  REQUIRE(unit);
  CHECK((*unit)["tests"]["hiv"]["result"] == "positive");
  CHECK((*unit)["tests"]["hiv"]["status"] == "confirmed_positive");
  CHECK((*unit)["tests"]["hiv"]["results"].size() == 2);

  // Hebron's station: STOP before the needle, with the reason.
  const std::string in = s.dir.path() + "/scans.txt", out = s.dir.path() + "/station.out";
  {
    std::ofstream f(in);
    f << "donor:DNR-7001\r\n" << din_label(second) << "\r\n";
  }
  const std::string cmd = std::string(HEMOLEDGER_BINARY) +
                          " scan --api http://127.0.0.1:" + std::to_string(s.port) +
                          " --facility HBN-BB --action collect --token " + s.token.at("hbn-bench") +
                          test_clock().arg() + " < " + in + " > " + out + " 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string said = read_file(out);
  INFO(said);
  CHECK(WEXITSTATUS(rc) == 1);
  CHECK(said.find("STOP") == 0);
  CHECK(said.find("deferred permanently") != std::string::npos);
  CHECK(said.find("[donor_deferred]") != std::string::npos);
  s.get("/api/units/" + second, &status);
  CHECK(status == 404);  // nothing was recorded

  // Recorded anyway (the blood is in the bag): accepted, then flagged by the engine.
  Event again = m.make(EventType::donation_collected, "HBN-BB", second);
  again.at = now - kHour;
  again.donor = "DNR-7001";
  REQUIRE(s.post(again, "hbn-bench") == "applied");
  Event bag = m.make(EventType::component_produced, "HBN-BB", second, "E0336V00");
  bag.at = now - 30 * kMinute;
  REQUIRE(s.post(bag, "hbn-bench") == "applied");
  REQUIRE(eventually(
      [&] {
        auto u = s.get("/api/units/" + second);
        return u && (*u)["deferred_donor"].is_object();
      },
      30));
  unit = s.get("/api/units/" + second + "/E0336V00");
  REQUIRE(unit);
  CHECK((*unit)["deferred_donor"]["reason"] == "confirmed_positive");
  CHECK((*unit)["unit"]["status"] == "quarantined");
  CHECK((*unit)["unit"].contains("blocked"));
  Event release = m.make(EventType::unit_released, "HBN-BB", second, "E0336V00");
  release.at = now;
  CHECK(s.post(release, "hbn-bench") == "rejected: deferred_donor");

  // The bank is told.
  std::optional<json> alert;
  REQUIRE(eventually(
      [&] { return (alert = s.alert("deferred_donor_collected", "HBN-BB")).has_value(); }, 30));
  CHECK((*alert)["severity"] == "red");
  CHECK((*alert)["din"] == second);
  donor = s.get("/api/donors/DNR-7001");
  REQUIRE(donor);
  REQUIRE((*donor)["donations"].size() == 2);
  CHECK((*donor)["donations"][1]["collected_while_deferred"] == "confirmed_positive");

  s.stop_and_rebuild_check();
}

TEST_CASE(
    "an HIV-positive donation recalls a unit transfused at a hospital five days earlier and "
    "opens a notification task that its event closes",
    "[engine][laboratory][lookback]") {
  Serve s;
  const TimeMs now = test_clock().now();
  EventMaker m("lb", now - 20 * kDay);
  const std::string first = "G123426300001", second = "G123426300002";
  const std::string rc = "E0336V00";

  // The donor gave at Nablus twelve days ago; the red cells went to Nablus
  // Hospital and were transfused there five days ago.
  Event c = m.make(EventType::donation_collected, "NBS-BB", first);
  c.at = now - 12 * kDay;
  c.donor = "DNR-8001";
  c.abo_rh = AboRh::a_pos;
  std::vector<Event> life = {c};
  Event p = m.make(EventType::component_produced, "NBS-BB", first, rc);
  p.at = now - 12 * kDay + kHour;
  life.push_back(p);
  for (const auto& [code, result] :
       std::vector<std::pair<std::string, std::string>>{{"abo_rh", "A+"},
                                                        {"hiv", "negative"},
                                                        {"hbv", "negative"},
                                                        {"hcv", "negative"},
                                                        {"syphilis", "negative"}}) {
    life.push_back(test(m, first, code, result, now - 12 * kDay + 2 * kHour));
  }
  auto at = [&](Event e, TimeMs t) {
    e.at = t;
    return e;
  };
  life.push_back(
      at(m.make(EventType::unit_released, "NBS-BB", first, rc), now - 12 * kDay + 3 * kHour));
  // Issued by the bank to the hospital, which takes custody and transfuses it.
  Event issue = m.make(EventType::unit_issued, "NBS-BB", first, rc);
  issue.to = "NBS-HOS";
  issue.patient = "PT-5521";
  issue.patient_abo_rh = AboRh::a_pos;
  life.push_back(at(issue, now - 5 * kDay - kHour));
  Event transfused = m.make(EventType::unit_transfused, "NBS-HOS", first, rc);
  transfused.patient = "PT-5521";
  life.push_back(at(transfused, now - 5 * kDay));
  for (const auto& e : life) REQUIRE(s.post(e) == "applied");

  // Today the donor's new donation at Jenin is repeatedly reactive for HIV.
  Event d2 = m.make(EventType::donation_collected, "JEN-BB", second);
  d2.at = now - kDay;
  d2.donor = "DNR-8001";
  REQUIRE(s.post(d2) == "applied");
  const TimeMs positive_at = now - kHour;
  REQUIRE(s.post(test(m, second, "hiv", "positive", positive_at, TestMethod::screen)) == "applied");
  REQUIRE(s.post(test(m, second, "hiv", "positive", positive_at + kMinute, TestMethod::repeat)) ==
          "applied");

  // The engine recalls the transfused unit through Kafka: a notification task
  // at the hospital that transfused it, with its deadline.
  std::optional<json> task;
  REQUIRE(eventually(
      [&] { return (task = s.alert("recipient_notification", "NBS-HOS")).has_value(); }, 30));
  CHECK((*task)["din"] == first);
  CHECK((*task)["product"] == rc);
  CHECK((*task)["severity"] == "amber");
  const TimeMs deadline = positive_at + kMinute + Rules{}.notify_recipient_within;
  CHECK((*task)["figures"]["deadline"] == format_rfc3339(deadline));
  CHECK((*task)["figures"]["test"] == "hiv");
  CHECK((*task)["figures"]["patient"] == "PT-5521");  // the recipient to trace
  auto unit = s.get("/api/units/" + first + "/" + rc);
  REQUIRE(unit);
  CHECK((*unit)["unit"]["status"] == "transfused");
  CHECK((*unit)["unit"]["recall"]["recipient_notification"]["transfused_by"] == "NBS-HOS");

  // The hospital records the notification: the task closes.
  Event done = m.make(EventType::recipient_notified, "NBS-HOS", first, rc);
  done.at = now;
  done.reason = "physician informed, recipient called in for testing";
  REQUIRE(s.post(done) == "applied");
  REQUIRE(eventually([&] { return !s.alert("recipient_notification", "NBS-HOS"); }, 30));

  s.stop_and_rebuild_check();
}

TEST_CASE(
    "an HIV result after an HBsAg result of the same donation brings the running recall's "
    "deadline forward to 72 hours",
    "[engine][laboratory][lookback]") {
  Serve s;
  const TimeMs now = test_clock().now();
  EventMaker m("ur", now - 20 * kDay);
  const std::string first = "G123426400001", second = "G123426400002";
  const std::string plasma = "E2555V00";

  // The donor's plasma from ten days ago is on the shelf at Nablus.
  Event c = m.make(EventType::donation_collected, "NBS-BB", first);
  c.at = now - 10 * kDay;
  c.donor = "DNR-9101";
  REQUIRE(s.post(c) == "applied");
  Event p = m.make(EventType::component_produced, "NBS-BB", first, plasma);
  p.at = now - 10 * kDay + kHour;
  REQUIRE(s.post(p) == "applied");
  for (const auto& [code, result] :
       std::vector<std::pair<std::string, std::string>>{{"abo_rh", "O+"},
                                                        {"hiv", "negative"},
                                                        {"hbv", "negative"},
                                                        {"hcv", "negative"},
                                                        {"syphilis", "negative"}}) {
    REQUIRE(s.post(test(m, first, code, result, now - 10 * kDay + 2 * kHour)) == "applied");
  }
  Event r = m.make(EventType::unit_released, "NBS-BB", first, plasma);
  r.at = now - 10 * kDay + 3 * kHour;
  REQUIRE(s.post(r) == "applied");

  Event d2 = m.make(EventType::donation_collected, "NBS-BB", second);
  d2.at = now - kDay;
  d2.donor = "DNR-9101";
  REQUIRE(s.post(d2) == "applied");
  auto deadline = [&]() -> std::string {
    auto u = s.get("/api/units/" + first + "/" + plasma);
    if (!u || !(*u)["unit"].contains("recall")) return "";
    return (*u)["unit"]["recall"]["deadline"].get<std::string>();
  };

  // HBsAg repeatedly reactive: a 7-day recall.
  const TimeMs hbv_at = now - 3 * kHour;
  REQUIRE(s.post(test(m, second, "hbv", "positive", hbv_at, TestMethod::screen)) == "applied");
  REQUIRE(s.post(test(m, second, "hbv", "positive", hbv_at + kMinute, TestMethod::repeat)) ==
          "applied");
  const std::string seven_days = format_rfc3339(hbv_at + kMinute + 168 * kHour);
  REQUIRE(eventually([&] { return deadline() == seven_days; }, 30));

  // Then HIV repeatedly reactive on the same donation: 72 hours from its result.
  const TimeMs hiv_at = now - kHour;
  REQUIRE(s.post(test(m, second, "hiv", "positive", hiv_at, TestMethod::screen)) == "applied");
  REQUIRE(s.post(test(m, second, "hiv", "positive", hiv_at + kMinute, TestMethod::repeat)) ==
          "applied");
  const std::string three_days = format_rfc3339(hiv_at + kMinute + 72 * kHour);
  REQUIRE(eventually([&] { return deadline() == three_days; }, 30));
  auto u = s.get("/api/units/" + first + "/" + plasma);
  REQUIRE(u);
  CHECK((*u)["unit"]["recall"]["test"] == "hiv");
  CHECK((*u)["unit"]["status"] == "quarantined");

  s.stop_and_rebuild_check();
}
