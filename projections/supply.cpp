#include "projections/supply.h"

#include <algorithm>

namespace hemoledger {

namespace {

Supply find_or_empty(const std::map<SupplyCell, Supply>& m, const SupplyCell& cell) {
  auto it = m.find(cell);
  return it == m.end() ? Supply{} : it->second;
}

}  // namespace

Supply SupplyPicture::facility(const std::string& code, Category c, AboRh g) const {
  return find_or_empty(facilities, {code, c, g});
}

Supply SupplyPicture::governorate(const std::string& code, Category c, AboRh g) const {
  return find_or_empty(governorates, {code, c, g});
}

Supply SupplyPicture::national(Category c, AboRh g) const {
  return find_or_empty(country, {"", c, g});
}

SupplyPicture supply_picture(const std::map<StockKey, std::int64_t>& stock,
                             const std::map<DemandKey, std::int64_t>& demand,
                             const ReferenceData& ref, TimeMs now, int window_days,
                             int memory_days) {
  SupplyPicture p;
  auto cells = [&](const std::string& facility, Category c, AboRh g) {
    const Facility* f = ref.facility(facility);
    const std::string gov = f ? f->governorate : std::string("unknown");
    return std::tuple<Supply&, Supply&, Supply&>(
        p.facilities[{facility, c, g}], p.governorates[{gov, c, g}], p.country[{"", c, g}]);
  };
  for (const auto& [k, n] : stock) {
    if (k.status != UnitStatus::available) continue;
    auto [f, g, c] = cells(k.facility, k.category, k.group);
    f.available += n;
    g.available += n;
    c.available += n;
  }
  const DayWindow window = window_before(now, window_days);
  const DayWindow memory = window_before(now, std::max(window_days, memory_days));
  for (const auto& [k, n] : demand) {
    if (!memory.contains(k.day)) continue;
    auto [f, g, c] = cells(k.facility, k.category, k.group);
    f.remembered += n;
    g.remembered += n;
    c.remembered += n;
    if (!window.contains(k.day)) continue;
    f.consumed += n;
    g.consumed += n;
    c.consumed += n;
  }
  return p;
}

Phase supply_phase(const Supply& s, int window_days, const SupplyThresholds& t) {
  return stock_out(s) ? Phase::red : phase_of(s.days(window_days), t);
}

}  // namespace hemoledger
