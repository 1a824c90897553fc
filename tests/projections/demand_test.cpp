#include "projections/demand.h"

#include <catch2/catch.hpp>

#include "tests/projections/ledger.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

std::vector<DemandDelta> demand_of(Ledger& l, const Event& e) { return l.accept(e).demand; }

}  // namespace

TEST_CASE("an issued unit counts once as demand, on its day, at the issuing bank",
          "[projections][demand]") {
  Ledger l;
  collect_test_release(l, AboRh::o_neg, {kRedCells, kPlasma});
  const TimeMs t = kT0 + 2 * kDay;
  auto d = demand_of(l, unit_issued(kRedCells, t, AboRh::o_neg));
  REQUIRE(d.size() == 1);
  CHECK(d[0].key == DemandKey{day_of(t), kBank, Category::red_cells, AboRh::o_neg});
  CHECK(d[0].change == 1);
  // Transfusion is the consequence: not counted again.
  CHECK(demand_of(l, unit_transfused(kRedCells, t + kHour)).empty());
}

TEST_CASE("a unit returned by the hospital takes the demand back at the issuing bank",
          "[projections][demand][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_neg, {kRedCells});
  const TimeMs t = kT0 + 2 * kDay;
  demand_of(l, unit_issued(kRedCells, t, AboRh::o_neg));
  auto back =
      demand_of(l, unit_event(EventType::unit_returned, kRedCells, t + 10 * kMinute, kHospital));
  REQUIRE(back.size() == 1);
  CHECK(back[0].key == DemandKey{day_of(t), kBank, Category::red_cells, AboRh::o_neg});
  CHECK(back[0].change == -1);
}

TEST_CASE("expired and discarded units count as demand, a return takes the issue back",
          "[projections][demand]") {
  Ledger l;
  collect_test_release(l, AboRh::a_pos, {kRedCells, kPlasma, kPlatelets});
  const TimeMs t = kT0 + kDay;
  auto discarded = demand_of(l, unit_discarded(kPlasma, "broken_bag", t));
  REQUIRE(discarded.size() == 1);
  CHECK(discarded[0].key.category == Category::plasma);
  CHECK(discarded[0].change == 1);

  const TimeMs platelets_expiry = l.unit(kPlatelets).expires_at;
  auto expired = demand_of(l, unit_event(EventType::unit_expired, kPlatelets, platelets_expiry));
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].key.day == day_of(platelets_expiry));

  demand_of(l, unit_issued(kRedCells, t, AboRh::a_pos));
  auto returned = demand_of(l, unit_event(EventType::unit_returned, kRedCells, t + 10 * kMinute));
  REQUIRE(returned.size() == 1);
  CHECK(returned[0].key.day == day_of(t));
  CHECK(returned[0].change == -1);
}

TEST_CASE("quarantine, release and transfers are not demand", "[projections][demand]") {
  Ledger l;
  collect_and_test(l, AboRh::b_pos, AboRh::b_pos, {kRedCells});
  CHECK(demand_of(l, unit_event(EventType::unit_released, kRedCells, kT0 + 3 * kHour)).empty());
  CHECK(demand_of(l, transfer_dispatched(kRedCells, kGazaBank, kT0 + 4 * kHour)).empty());
  CHECK(
      demand_of(l, unit_event(EventType::transfer_received, kRedCells, kT0 + 5 * kHour, kGazaBank))
          .empty());
}

TEST_CASE("phases follow the days of supply against the thresholds", "[projections][demand]") {
  const SupplyThresholds red_cells = default_thresholds(Category::red_cells);
  CHECK(phase_of(std::nullopt, red_cells) == Phase::green);  // no demand at all
  CHECK(phase_of(6.0, red_cells) == Phase::green);
  CHECK(phase_of(5.9, red_cells) == Phase::pre_amber);
  CHECK(phase_of(1.99, red_cells) == Phase::amber);
  CHECK(phase_of(0.5, red_cells) == Phase::red);
  CHECK(phase_of(0.0, red_cells) == Phase::red);
  CHECK(default_thresholds(Category::platelets).red == 1);
}

TEST_CASE("a demand key round-trips and sorts by day first", "[projections][demand]") {
  const DemandKey k{20500, "NBS-BB", Category::platelets, AboRh::ab_neg};
  auto back = decode_demand_key(encode_demand_key(k));
  REQUIRE(back.ok());
  CHECK(*back == k);
  CHECK(encode_demand_key({20499, "ZZZ-BB", Category::cryo, AboRh::o_pos}) <
        encode_demand_key({20500, "AAA-BB", Category::cryo, AboRh::o_pos}));
  CHECK_FALSE(decode_demand_key("not a key").ok());
}

TEST_CASE("a unit discarded or expired before its release is not demand", "[projections][demand]") {
  Ledger l;
  collect_and_test(l, AboRh::b_neg, AboRh::b_neg, {kRedCells, kPlasma});
  CHECK(demand_of(l, unit_discarded(kRedCells, "tti_positive", kT0 + 3 * kHour)).empty());
  const TimeMs plasma_expiry = l.unit(kPlasma).expires_at;
  CHECK(demand_of(l, unit_event(EventType::unit_expired, kPlasma, plasma_expiry)).empty());
  CHECK(l.unit(kRedCells).status == UnitStatus::discarded);
  CHECK(l.unit(kPlasma).status == UnitStatus::expired);
}
