// Supply: available units and demand over the window, per facility, per
// governorate and for the country, and days of supply from them. The one
// aggregation behind GET /api/supply and /api/expiring and the supply_phase
// and expiring_soon alerts, so that the page and the alert tell a coordinator
// the same days of supply from the same stock, demand and `now`.
//
//   const SupplyPicture p = supply_picture(stock.cells(), demand, ref, now, window_days);
//   const Supply& s = p.governorate("NBS", Category::red_cells, AboRh::o_neg);
//   std::optional<double> days = s.days(window_days);
//
// Pure; nothing here reads a store or the wall clock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "events/reference_data.h"
#include "projections/demand.h"
#include "projections/stock.h"

namespace hemoledger {

struct Supply {
  std::int64_t available = 0;   // units available now
  std::int64_t consumed = 0;    // demand on the days of window_before(now, window_days)
  std::int64_t remembered = 0;  // demand on the days of window_before(now, memory_days)

  // days_of_supply(available, consumed, window_days): absent without demand.
  std::optional<double> days(int window_days) const {
    return days_of_supply(available, consumed, window_days);
  }
  double daily_demand(int window_days) const { return static_cast<double>(consumed) / window_days; }
};

using SupplyCell = std::tuple<std::string, Category, AboRh>;  // scope, category, group

// Supply by facility, by governorate (the facility's, "unknown" for a facility
// the reference data does not know) and for the country (scope ""). A cell is
// present when it has available units or demand in the window; a missing one
// reads as empty.
struct SupplyPicture {
  std::map<SupplyCell, Supply> facilities, governorates, country;

  Supply facility(const std::string& code, Category c, AboRh g) const;
  Supply governorate(const std::string& code, Category c, AboRh g) const;
  Supply national(Category c, AboRh g) const;
};

// From stock cells (only UnitStatus::available counts) and demand per day
// (days outside window_before(now, window_days), today's included, are
// ignored for `consumed`, and outside window_before(now, memory_days) for
// `remembered`; 0: the window). A cell with remembered demand is present.
SupplyPicture supply_picture(const std::map<StockKey, std::int64_t>& stock,
                             const std::map<DemandKey, std::int64_t>& demand,
                             const ReferenceData& ref, TimeMs now, int window_days,
                             int memory_days = 0);

// Whether a cell is out of stock while its group is still in demand: nothing
// available and demand within the memory. Such a cell is Red however long
// the stock-out lasts (its own demand leaving the window changes nothing).
inline bool stock_out(const Supply& s) { return s.available <= 0 && s.remembered > 0; }

// The phase of a cell: Red on a stock-out, else phase_of(days of supply).
Phase supply_phase(const Supply& s, int window_days, const SupplyThresholds& t);

}  // namespace hemoledger
