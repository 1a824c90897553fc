// The alert model's bounded window of available units (projections/alerts.h,
// "Memory"): it holds only the units that expire inside the expiring-soon
// window, reads the others from the committed state when the clock brings
// them in, and raises exactly the alerts of a model that holds every unit.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "projections/alerts.h"
#include "projections/indexes.h"
#include "tests/event_builders.h"
#include "tests/test_reference.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

std::string unit_din(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "G1234%02d%06d", 26, i);
  return buf;
}

IndexEntry entry_of(const AvailableUnit& u) {
  return {'a', u.facility + "|" + decimal20(u.expires_at) + "|" + u.din + "|" + u.product,
          std::string(to_string(u.category)) + "|" + std::string(to_string(u.group))};
}

// The committed shelves: the available units a store would list by expiry.
struct Shelves {
  std::map<std::pair<std::string, std::string>, AvailableUnit> units;  // by din, product
  int reads = 0;

  AvailableUnitsSource source() {
    return [this](TimeMs after, TimeMs upto) -> Result<std::vector<AvailableUnit>> {
      ++reads;
      std::vector<AvailableUnit> out;
      for (const auto& [id, u] : units) {
        if (u.expires_at > after && u.expires_at <= upto) out.push_back(u);
      }
      return out;
    };
  }
};

AvailableUnit unit(int i, const std::string& facility, const std::string& product, Category c,
                   AboRh g, TimeMs expires) {
  AvailableUnit u;
  u.facility = facility;
  u.expires_at = expires;
  u.din = unit_din(i);
  u.product = product;
  u.category = c;
  u.group = g;
  return u;
}

// One batch, as the engine runs it: the bounded model's window first (from
// the shelves as committed before the batch), then the batch's changes to
// both models and the shelves, then the clock and one evaluation each.
struct Pair {
  AlertModel all{shipped_reference(), SupplyConfig{}};
  AlertModel bounded{shipped_reference(), SupplyConfig{}};
  Shelves shelves;

  std::vector<AlertChange> batch(TimeMs clock, const std::vector<AvailableUnit>& added,
                                 const std::vector<AvailableUnit>& removed) {
    REQUIRE(bounded.widen_units(clock, shelves.source()).ok());
    for (const auto& u : removed) {
      all.on_index(entry_of(u), false);
      bounded.on_index(entry_of(u), false);
      shelves.units.erase({u.din, u.product});
    }
    for (const auto& u : added) {
      all.on_index(entry_of(u), true);
      bounded.on_index(entry_of(u), true);
      shelves.units[{u.din, u.product}] = u;
    }
    all.advance_clock(clock);
    bounded.advance_clock(clock);
    auto changes = all.evaluate();
    CHECK(bounded.evaluate() == changes);
    return changes;
  }
};

}  // namespace

TEST_CASE("a bounded alert model raises the same alerts while holding only the units near expiry",
          "[projections][alerts][memory]") {
  Pair p;
  p.bounded.advance_clock(kT0);
  p.all.advance_clock(kT0);
  REQUIRE(p.bounded.bound_units(p.shelves.source()).ok());
  const AboRh groups[] = {AboRh::o_pos, AboRh::a_pos, AboRh::b_neg};
  int n = 0, raised = 0;
  std::size_t most_held = 0;
  // Sixty days, a batch every six hours: each batch collects plasma (a year
  // of shelf life) and red cells (42 days, some cut short to ten), and the
  // units whose expiry has passed leave the shelves as the ticker would
  // expire them.
  for (int step = 0; step < 240; ++step) {
    const TimeMs t = kT0 + step * 6 * kHour;
    std::vector<AvailableUnit> added, removed;
    for (int k = 0; k < 12; ++k) {
      const AboRh g = groups[k % 3];
      const std::string bank = k % 2 ? kBank : "JEN-BB";
      added.push_back(unit(++n, bank, kPlasma, Category::plasma, g, t + 365 * kDay));
      added.push_back(unit(++n, bank, kRedCells, Category::red_cells, g,
                           t + (k % 4 == 0 ? 10 : 42) * kDay + k * kMinute));
    }
    for (const auto& [id, u] : p.shelves.units) {
      if (u.expires_at <= t) removed.push_back(u);
    }
    for (const auto& c : p.batch(t, added, removed)) {
      if (c.alert.kind == AlertKind::expiring_soon && c.action == "raised") ++raised;
    }
    // Bounded by the window, whatever the stock on the shelves.
    std::size_t in_window = 0;
    for (const auto& [id, u] : p.shelves.units) {
      if (u.expires_at <= p.bounded.window_end()) ++in_window;
    }
    CHECK(p.bounded.units_held() == in_window);
    CHECK(p.bounded.window_end() <= t + p.bounded.expiring_horizon() + kUnitWindowStep);
    most_held = std::max(most_held, p.bounded.units_held());
  }
  CHECK(raised > 0);
  CHECK(p.all.units_held() == p.shelves.units.size());
  CHECK(p.shelves.units.size() > 2000);  // the stock grew ...
  CHECK(most_held < 400);                // ... the units held did not
  CHECK(p.shelves.reads < 80);           // about once a day of event time, not every batch
}

TEST_CASE("units far from expiry are read in when the clock brings them into the window",
          "[projections][alerts][memory]") {
  Shelves shelves;
  for (int i = 0; i < 1000; ++i) {
    auto u = unit(i, kBank, kPlasma, Category::plasma, AboRh::a_pos, kT0 + 300 * kDay);
    shelves.units[{u.din, u.product}] = u;
  }
  for (int i = 1000; i < 1003; ++i) {
    auto u = unit(i, kBank, kRedCells, Category::red_cells, AboRh::o_neg, kT0 + 10 * kDay);
    shelves.units[{u.din, u.product}] = u;
  }
  AlertModel model(shipped_reference(), SupplyConfig{});
  model.advance_clock(kT0);
  REQUIRE(model.bound_units(shelves.source()).ok());
  CHECK(model.units_held() == 0);
  // A unit added far from expiry is not held either.
  model.on_index(
      entry_of(unit(2000, kBank, kRedCells, Category::red_cells, AboRh::o_neg, kT0 + 40 * kDay)),
      true);
  CHECK(model.units_held() == 0);
  CHECK(model.evaluate().empty());

  // Eight days on, the three red cells are two days from expiry.
  const TimeMs later = kT0 + 8 * kDay;
  REQUIRE(model.widen_units(later, shelves.source()).ok());
  model.advance_clock(later);
  CHECK(model.units_held() == 3);
  const auto changes = model.evaluate();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].action == "raised");
  CHECK(changes[0].alert.kind == AlertKind::expiring_soon);
  CHECK(changes[0].alert.facility == kBank);
  CHECK(changes[0].alert.group == AboRh::o_neg);
  CHECK(changes[0].alert.figures["units"] == 3);
}

TEST_CASE("a bounded model whose committed state cannot be read changes nothing",
          "[projections][alerts][memory]") {
  Shelves shelves;
  auto u = unit(1, kBank, kRedCells, Category::red_cells, AboRh::o_neg, kT0 + 10 * kDay);
  shelves.units[{u.din, u.product}] = u;
  AlertModel model(shipped_reference(), SupplyConfig{});
  model.advance_clock(kT0);
  REQUIRE(model.bound_units(shelves.source()).ok());
  const TimeMs end = model.window_end();
  AvailableUnitsSource broken = [](TimeMs, TimeMs) -> Result<std::vector<AvailableUnit>> {
    return make_error("storage_error", "read failed");
  };
  CHECK_FALSE(model.widen_units(kT0 + 8 * kDay, broken).ok());
  CHECK(model.window_end() == end);
  CHECK(model.units_held() == 0);
  // An unbounded model never reads.
  AlertModel all(shipped_reference(), SupplyConfig{});
  CHECK(all.widen_units(kT0 + 8 * kDay, broken).ok());
}
