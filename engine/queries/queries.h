// Queries: the read side shared by the HTTP API and the command line, so that
// `GET /api/stock` and `hemoledger stock` can never disagree. Each returns
// JSON (nlohmann::json) built from a StockTable or a Store; the command line
// renders the same JSON as text.
//
// Pure over their inputs; safe from any thread given their own inputs.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/queries/query_filters.h"
#include "engine/storage/store.h"
#include "events/reference_data.h"
#include "projections/alerts.h"
#include "projections/stock.h"

namespace hemoledger {

// {"total": N, "by_status": {...}, "governorates": [{"code", "name_en",
//  "name_ar", "total", "facilities": [{"code", "name_en", "name_ar", "kind",
//  "total", "stock": {category: {abo_rh: {status: count}}}}]}]}
nlohmann::json stock_json(const StockTable& stock, const StockFilter& filter,
                          const ReferenceData& ref);

// Finds a donation in whichever partition holds it.
[[nodiscard]] Result<std::optional<Donation>> find_donation(const Store& store,
                                                            std::string_view din);

// The donation with its units and history; with `product`, only that unit
// (and the donation-level history). Null when the product is not found.
nlohmann::json donation_json(const Donation& d, const std::string& product,
                             const ReferenceData& ref);

// A donor's record (every partition stored here merged) and status at `now`:
// {"donor", "as_of", "status": {"deferred", "reason", "until", "din", "test",
//  "text"}, "donations": [...], "deferrals": [...]}; null when unknown.
nlohmann::json donor_json(const DonorRecord& donor, const ReferenceData& ref, TimeMs now);

// {"status": "applied" | "rejected" | ..., ...} or null when the id is unknown.
// Every unit `issuer` issued to a hospital (GET /api/issued): where it is, its
// status, and whether its fate is overdue (still issued fate_hours after the
// issue, at `now`). With `overdue_only`, only those: the units of unknown fate.
[[nodiscard]] Result<nlohmann::json> issued_json(const Store& store, const ReferenceData& ref,
                                                 const std::string& issuer, bool overdue_only,
                                                 TimeMs now, int fate_hours);

[[nodiscard]] Result<nlohmann::json> event_outcome_json(const Store& store,
                                                        std::string_view event_id);

// Available units at `facility` of `category` compatible with a patient of
// group `patient` (projections/compatibility.h), soonest expiry first
// (first-expire-first-out). Units past their expiry at `now` are left out and
// counted under "expired_not_recorded". A patient group of unknown lists every
// available unit of the category.
// Where the pick, supply and expiring queries read available units and
// demand: one store (a single instance, the CLI), or in scale-out the
// national picture assembled by engine/server/api.cpp (docs/scale-out.md).
struct PictureSource {
  std::function<Result<std::vector<AvailableUnit>>(const std::string& facility)> available_at;
  std::function<Result<std::map<DemandKey, std::int64_t>>(std::int64_t from_day,
                                                          std::int64_t to_day)>
      demand_window;
  std::function<Result<std::vector<ReagentLot>>()> reagent_lots;
  std::function<Result<std::map<ReagentUsageKey, std::int64_t>>(std::int64_t from_day,
                                                                std::int64_t to_day)>
      reagent_usage_window;
};
PictureSource store_picture(const Store& store);

[[nodiscard]] Result<nlohmann::json> pick_json(const PictureSource& source,
                                               const ReferenceData& ref,
                                               const std::string& facility, Category category,
                                               AboRh patient, TimeMs now);

// Days of supply per blood group for one category: for the country, each
// governorate and each facility, with the phase (projections/demand.h), from
// supply_picture() (projections/supply.h), as the supply alerts are.
// Demand is averaged over the config's window of whole UTC days before `now`'s day;
// thresholds are the config's.
//   {"as_of", "category", "window_days", "thresholds",
//    "country": {"groups": {"O-": {"available", "daily_demand", "days", "phase"}}},
//    "governorates": [{"code", "name_en", "name_ar", "phase", "groups": {...},
//                      "facilities": [{"code", ..., "groups": {...}}]}]}
// "days" is null when there was no demand in the window.
[[nodiscard]] Result<nlohmann::json> supply_json(const PictureSource& source,
                                                 const StockTable& stock, const ReferenceData& ref,
                                                 Category category, TimeMs now,
                                                 const SupplyConfig& config);

// Available units that expire within the horizon of their category
// (SupplyConfig::expiring_hours_for: 72 h, platelets 24 h), soonest first,
// each with a suggested transfer: the blood bank in the same or a neighbouring
// governorate with the fewest days of supply of that category and group, if
// it is below its Pre-Amber threshold.
[[nodiscard]] Result<nlohmann::json> expiring_json(const PictureSource& source,
                                                   const StockTable& stock,
                                                   const ReferenceData& ref, TimeMs now,
                                                   const SupplyConfig& config);

// {"last_seq": N, "alerts": [alert, ...]} (docs/alerts.md), most severe and
// then newest first; with `since`, {"last_seq": N, "changes": [change, ...]}
// in sequence order. Read from the committed alerts in the Store.
[[nodiscard]] Result<nlohmann::json> alerts_json(const Store& store, const AlertFilter& filter);

// Laboratory reagent stock: governorate -> facility -> reagent -> lot, as of
// `now`. For each facility and reagent: usable quantity (lots in date),
// average daily use over the `window_days` whole days before `now`'s day,
// days of cover (null without use; reagent_cover() in projections/reagents.h,
// the reagent_cover alert's rule too), whether that is below the catalogue's
// min_cover_days, and the lot to use first (first-expire-first-out). Lots
// list quantity, expiry, and whether they are expired (past `now`) or expire
// within the catalogue's expiry_warning_days. Filters: governorate, facility,
// reagent (empty: all).
//   {"as_of", "window_days", "governorates": [{"code", "name_en", "name_ar",
//     "facilities": [{"code", "name_en", "name_ar", "reagents": [{"reagent",
//       "name", "unit", "on_hand", "daily_use", "days_of_cover", "min_cover_days",
//       "below_min_cover", "use_first", "lots": [{"lot", "expires_at",
//       "on_hand", "expired", "expiring_soon"}]}]}]}]}
[[nodiscard]] Result<nlohmann::json> reagents_json(const PictureSource& source,
                                                   const ReferenceData& ref,
                                                   const ReagentFilter& filter, TimeMs now,
                                                   int window_days);

// Totals of a StockTable across partitions, read from a Store.
[[nodiscard]] Result<StockTable> total_stock(const Store& store);

}  // namespace hemoledger
