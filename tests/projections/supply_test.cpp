// The supply picture behind the supply page, the expiring list and the supply
// alerts: what counts as available, which days of demand count, and how
// facilities add up to governorates and the country.
#include "projections/supply.h"

#include <catch2/catch.hpp>

#include "tests/event_builders.h"
#include "tests/test_reference.h"

using namespace hemoledger;
using namespace hemoledger::testing;

TEST_CASE("supply adds available units and the window's demand up to governorate and country",
          "[projections][supply]") {
  const std::int64_t today = day_of(kT0);
  const Category rc = Category::red_cells;
  const AboRh o = AboRh::o_neg;
  const std::map<StockKey, std::int64_t> stock = {
      {{kBank, rc, o, UnitStatus::available}, 10},
      {{kBank, rc, o, UnitStatus::quarantined}, 50},  // not available: does not count
      {{kHospital, rc, o, UnitStatus::available}, 4},
      {{kGazaBank, rc, o, UnitStatus::available}, 6}};
  const std::map<DemandKey, std::int64_t> demand = {
      {{today - 29, kBank, rc, o}, 1000},  // before the 28-day window
      {{today - 28, kBank, rc, o}, 20},    // its first day
      {{today - 1, kHospital, rc, o}, 8},  // its last day
      {{today, kBank, rc, o}, 1000}};      // today, still under way
  const SupplyPicture p = supply_picture(stock, demand, shipped_reference(), kT0, 28);

  const Supply bank = p.facility(kBank, rc, o);
  CHECK(bank.available == 10);
  CHECK(bank.consumed == 20);
  const Supply nablus = p.governorate("NBS", rc, o);
  CHECK(nablus.available == 14);
  CHECK(nablus.consumed == 28);
  CHECK(nablus.daily_demand(28) == 1.0);
  REQUIRE(nablus.days(28));
  CHECK(*nablus.days(28) == 14.0);
  const Supply country = p.national(rc, o);
  CHECK(country.available == 20);
  CHECK(country.consumed == 28);
  const Supply gaza = p.governorate("GZA", rc, o);
  CHECK(gaza.available == 6);
  CHECK_FALSE(gaza.days(28));                                 // no demand: no figure
  CHECK(p.facility(kBank, rc, AboRh::a_pos).available == 0);  // absent reads as empty
}
