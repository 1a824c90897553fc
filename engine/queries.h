// Queries: the read side shared by the HTTP API and the command line, so that
// `GET /api/stock` and `hemoledger stock` can never disagree. Each returns
// JSON (nlohmann::json) built from a StockTable or a Store; the command line
// renders the same JSON as text.
//
// Pure over their inputs; safe from any thread given their own inputs.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/store.h"
#include "events/reference_data.h"
#include "projections/stock.h"

namespace hemoledger {

// Parses the filters of /api/stock (governorate, facility, category, abo_rh,
// status); an unknown value is an error naming the parameter.
[[nodiscard]] Result<StockFilter> parse_stock_filter(
    const std::map<std::string, std::string>& params, const ReferenceData& ref);

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

// {"status": "applied" | "rejected" | ..., ...} or null when the id is unknown.
[[nodiscard]] Result<nlohmann::json> event_outcome_json(const Store& store,
                                                        std::string_view event_id);

// Available units at `facility` of `category` compatible with a patient of
// group `patient` (projections/compatibility.h), soonest expiry first
// (first-expire-first-out). Units past their expiry at `now` are left out and
// counted under "expired_not_recorded". A patient group of unknown lists every
// available unit of the category.
[[nodiscard]] Result<nlohmann::json> pick_json(const Store& store, const ReferenceData& ref,
                                               const std::string& facility, Category category,
                                               AboRh patient, TimeMs now);

// Days of supply per blood group for one category: for the country, each
// governorate and each facility, with the phase (projections/demand.h).
// Demand is averaged over the `window_days` whole UTC days before `now`'s day.
//   {"as_of", "category", "window_days", "thresholds",
//    "country": {"groups": {"O-": {"available", "daily_demand", "days", "phase"}}},
//    "governorates": [{"code", "name_en", "name_ar", "phase", "groups": {...},
//                      "facilities": [{"code", ..., "groups": {...}}]}]}
// "days" is null when there was no demand in the window.
[[nodiscard]] Result<nlohmann::json> supply_json(const Store& store, const StockTable& stock,
                                                 const ReferenceData& ref, Category category,
                                                 TimeMs now, int window_days);

// Available units that expire within the horizon of their category (red
// cells, whole blood, plasma and cryo 72 h; platelets 24 h), soonest first,
// each with a suggested transfer: the blood bank in the same or a neighbouring
// governorate with the fewest days of supply of that category and group, if
// it is below its Pre-Amber threshold.
[[nodiscard]] Result<nlohmann::json> expiring_json(const Store& store, const StockTable& stock,
                                                   const ReferenceData& ref, TimeMs now,
                                                   int window_days);

// Totals of a StockTable across partitions, read from a Store.
[[nodiscard]] Result<StockTable> total_stock(const Store& store);

}  // namespace hemoledger
