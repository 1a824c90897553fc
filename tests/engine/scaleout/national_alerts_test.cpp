// NationalAlerts (engine/scaleout/national_alerts.h): the alert model of a
// scale-out group, fed with each partition's published record. Pure, so
// tested here with records built by hand and no Kafka.
#include "engine/scaleout/national_alerts.h"

#include <catch2/catch.hpp>

#include "projections/demand.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const std::string kBank = "NBS-BB", kInstance = "a";
const TimeMs kT0 = *parse_rfc3339("2026-11-22T08:00:00Z");

// Partition p's record: `available` O- red cells at kBank, the published
// offset `next_offset`, and (when `demand` is set) 28 such units consumed
// the day before kT0, one a day over the alert window.
StockRecord record(std::int32_t p, std::int64_t available, std::int64_t next_offset,
                   bool demand = false, TimeMs clock = kT0) {
  StockRecord r;
  r.partition = p;
  r.instance = kInstance;
  r.next_offset = next_offset;
  r.published_at = kT0 + next_offset;
  r.clock = clock;
  r.stock.apply(
      StockDelta{{kBank, Category::red_cells, AboRh::o_neg, UnitStatus::available}, available});
  if (demand) r.demand[{day_of(kT0) - 1, kBank, Category::red_cells, AboRh::o_neg}] = 28;
  return r;
}

NationalAlerts model() { return NationalAlerts(shipped_engine_reference(), SupplyConfig{}); }

}  // namespace

TEST_CASE("the national picture sums the stock that every partition publishes",
          "[national][scaleout]") {
  NationalAlerts n = model();
  n.update({{0, record(0, 2, 10, true)}, {1, record(1, 3, 20)}});
  const auto changes = n.evaluate();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].action == "raised");
  CHECK(changes[0].alert.kind == AlertKind::supply_phase);
  CHECK(changes[0].alert.severity == Severity::info);  // 5 days of supply, not 2 or 3
  CHECK(changes[0].alert.figures["days_of_supply"] == 5.0);
}

TEST_CASE("a partition's record seen twice changes nothing", "[national][scaleout]") {
  NationalAlerts n = model();
  const std::map<std::int32_t, StockRecord> records = {{0, record(0, 1, 10, true)}};
  n.update(records);
  const auto raised = n.evaluate();
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].alert.severity == Severity::amber);  // one day of supply

  n.update(records);
  CHECK(n.evaluate().empty());
  REQUIRE(n.model().open().size() == 1);
  CHECK(n.model().open().begin()->second.figures["days_of_supply"] == 1.0);
}

TEST_CASE("a partition's newer record replaces its older one instead of adding to it",
          "[national][scaleout]") {
  NationalAlerts n = model();
  n.update({{0, record(0, 10, 10, true)}});
  CHECK(n.evaluate().empty());  // ten days of supply: nothing to tell

  n.update({{0, record(0, 1, 11, true)}});  // nine units left the partition
  const auto changes = n.evaluate();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].alert.severity == Severity::amber);
  CHECK(changes[0].alert.figures["days_of_supply"] == 1.0);
}

TEST_CASE("the national clock is the latest of the partitions' clocks and never goes back",
          "[national][scaleout]") {
  NationalAlerts n = model();
  n.update({{0, record(0, 10, 10, true, kT0 + kHour)}, {1, record(1, 0, 5, false, kT0)}});
  CHECK(n.model().clock() == kT0 + kHour);
  n.update({{1, record(1, 0, 6, false, kT0 + kMinute)}});  // a partition that lags behind
  CHECK(n.model().clock() == kT0 + kHour);
  n.update({{1, record(1, 0, 7, false, kT0 + 2 * kHour)}});
  CHECK(n.model().clock() == kT0 + 2 * kHour);
}

TEST_CASE("a restored model continues the last leader's alerts without raising them again",
          "[national][scaleout]") {
  NationalAlerts first = model();
  first.update({{0, record(0, 1, 10, true)}});
  REQUIRE(first.evaluate().size() == 1);

  NationalAlerts next = model();
  next.restore(first.model().open(), first.model().seq(), first.model().clock());
  next.update({{0, record(0, 1, 10, true)}});
  CHECK(next.evaluate().empty());
  CHECK(next.model().open().size() == 1);
}
