// Laboratory reagents end to end: `hemoledger serve` on its embedded Kafka
// records lots received, used and moved through POST /api/events, refuses a
// use of more than the lab holds, lists stock with days of cover and the lot
// to use first, expires a lot through Kafka once it passes its expiry, and a
// rebuild reproduces the lots exactly.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "engine/io/clock.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

json post(int port, const json& event, int* status = nullptr) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30);
  auto r = c.Post("/api/events", event.dump(), "application/json");
  if (!r) return json{{"outcome", "no answer"}};
  if (status) *status = r->status;
  return json::parse(r->body, nullptr, false);
}

const json* find_reagent(const json& stock, const std::string& facility, const std::string& code) {
  for (const auto& g : stock["governorates"]) {
    for (const auto& f : g["facilities"]) {
      if (f["code"] != facility) continue;
      for (const auto& r : f["reagents"]) {
        if (r["reagent"] == code) return &r;
      }
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a lab's reagent lots are received, used first-expire-first-out, moved and expired",
          "[engine][reagents]") {
  TempDir dir;
  const int port = free_port();
  const std::string data = dir.path() + "/data";
  auto serve = std::make_unique<Child>(
      with_clock(std::vector<std::string>{HEMOLEDGER_BINARY, "serve", "--data-dir", data,
                                          "--listen", "127.0.0.1:" + std::to_string(port)}),
      std::vector<std::string>{}, dir.path() + "/serve.log");
  REQUIRE(wait_for_api(port, 30));

  const TimeMs now = test_clock().now();
  auto at = [](TimeMs t) { return format_rfc3339(t); };
  int n = 0;
  auto ev = [&](const std::string& type, const std::string& lot, TimeMs when) {
    return json{{"id", "rg-" + std::to_string(++n)},
                {"type", type},
                {"at", at(when)},
                {"facility", "NBS-LAB"},
                {"reagent", "anti-A"},
                {"lot", lot}};
  };
  // Two lots of anti-A at Nablus: the later-expiring one arrives first.
  json late = ev("ReagentReceived", "AA-LATE", now - 10 * kDay);
  late["quantity"] = 300;
  late["expires_at"] = at(now + 200 * kDay);
  REQUIRE(post(port, late)["outcome"] == "applied");
  json early = ev("ReagentReceived", "AA-EARLY", now - 10 * kDay);
  early["quantity"] = 100;
  early["expires_at"] = at(now + 20 * kDay);
  REQUIRE(post(port, early)["outcome"] == "applied");
  // 56 tests used over the last week: 2 a day over the 28-day window.
  json used = ev("ReagentConsumed", "AA-EARLY", now - 3 * kDay);
  used["quantity"] = 56;
  used["din"] = "G123426000001";
  used["test"] = "abo";
  REQUIRE(post(port, used)["outcome"] == "applied");
  json moved = ev("ReagentTransferred", "AA-LATE", now - 2 * kDay);
  moved["quantity"] = 100;
  moved["to"] = "GZA-LAB";
  REQUIRE(post(port, moved)["outcome"] == "applied");

  // Using more than the lab holds is refused with a sentence.
  int status = 0;
  json too_much = ev("ReagentConsumed", "AA-EARLY", now - kDay);
  too_much["quantity"] = 45;
  const json refused = post(port, too_much, &status);
  CHECK(status == 422);
  CHECK(refused["code"] == "insufficient_reagent");
  CHECK_THAT(refused["message"].get<std::string>(), Catch::Contains("holds 44"));
  // An unknown reagent, and an unknown lot, too.
  json unknown = ev("ReagentConsumed", "AA-EARLY", now - kDay);
  unknown["reagent"] = "anti-Q";
  unknown["quantity"] = 1;
  CHECK(post(port, unknown)["code"] == "unknown_reagent");
  json no_lot = ev("ReagentConsumed", "NO-SUCH-LOT", now - kDay);
  no_lot["quantity"] = 1;
  CHECK(post(port, no_lot)["code"] == "unknown_lot");

  auto stock = get_json(port, "/api/reagents?facility=NBS-LAB");
  REQUIRE(stock);
  const json* a = find_reagent(*stock, "NBS-LAB", "anti-A");
  REQUIRE(a);
  CHECK((*a)["on_hand"] == 44 + 200);
  CHECK((*a)["daily_use"] == 2.0);
  CHECK((*a)["days_of_cover"] == 122.0);
  CHECK((*a)["below_min_cover"] == false);
  CHECK((*a)["use_first"] == "AA-EARLY");
  REQUIRE((*a)["lots"].size() == 2);
  CHECK((*a)["lots"][0]["lot"] == "AA-EARLY");
  CHECK((*a)["lots"][0]["expiring_soon"] == true);  // 20 days, warning at 30
  auto gaza = get_json(port, "/api/reagents?governorate=GZA");
  REQUIRE(gaza);
  const json* g = find_reagent(*gaza, "GZA-LAB", "anti-A");
  REQUIRE(g);
  CHECK((*g)["on_hand"] == 100);
  CHECK((*g)["days_of_cover"].is_null());  // no use there yet
  get_json(port, "/api/reagents?reagent=anti-Q", &status);
  CHECK(status == 400);

  // The coordinator is told about the lot that expires within its 30-day warning.
  auto alerts = get_json(port, "/api/alerts?kind=reagent_expiring&facility=NBS-LAB");
  REQUIRE(alerts);
  REQUIRE((*alerts)["alerts"].size() == 1);
  CHECK((*alerts)["alerts"][0]["lot"] == "AA-EARLY");
  CHECK((*alerts)["alerts"][0]["figures"]["on_hand"] == 44);

  // A lot that expires in a few seconds is expired by the engine, through Kafka.
  json brief = ev("ReagentReceived", "AA-BRIEF", now - kHour);
  brief["quantity"] = 10;
  brief["expires_at"] = at(test_clock().now() + 3000);
  REQUIRE(post(port, brief)["outcome"] == "applied");
  std::optional<json> outcome;
  for (int i = 0; i < 150; ++i) {
    outcome = get_json(port, "/api/events/reagent-expiry-anti-A-AA-BRIEF");
    if (outcome && (*outcome)["status"] == "applied") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(outcome);
  CHECK((*outcome)["status"] == "applied");
  json late_use = ev("ReagentConsumed", "AA-BRIEF", test_clock().now());
  late_use["quantity"] = 1;
  CHECK(post(port, late_use)["code"] == "reagent_expired");

  serve->signal(SIGTERM);
  REQUIRE(serve->wait_for(30));
  Child check({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", data}, {},
              dir.path() + "/rebuild.log");
  const int rs = check.wait();
  std::ifstream rl(dir.path() + "/rebuild.log");
  std::stringstream log;
  log << rl.rdbuf();
  INFO(log.str());
  CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
  CHECK_THAT(log.str(), Catch::Contains("3 reagent lots"));
}
