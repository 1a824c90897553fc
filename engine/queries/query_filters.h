// Query filters: the parameters of GET /api/stock, /api/alerts and
// /api/reagents (and of the matching commands), parsed into filter values.
// Pure: no Store, no sockets, no clock, so that the fuzz target
// fuzz/fuzz_query_filters.cpp runs them on any input. Each refuses an unknown
// parameter or value with bad_filter and a sentence naming it; none throws.
//
//   auto f = parse_stock_filter({{"abo_rh", "O-"}, {"status", "available"}}, ref);
//   if (!f) return send_error(res, 400, f.error());
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "events/reference_data.h"
#include "events/result.h"
#include "projections/alerts.h"
#include "projections/stock.h"

namespace hemoledger {

// Parses the filters of /api/stock (governorate, facility, category, abo_rh,
// status); an unknown value is an error naming the parameter.
[[nodiscard]] Result<StockFilter> parse_stock_filter(
    const std::map<std::string, std::string>& params, const ReferenceData& ref);

// The filters of /api/alerts: status (open, the default; cleared; closed; all),
// kind, severity, governorate, facility, category, abo_rh; since=N lists the
// alert changes after sequence number N instead (for live updates), at most
// `limit` of them. An unknown value is an error naming the parameter.
struct AlertFilter {
  std::string status = "open";
  std::optional<AlertKind> kind;
  std::optional<Severity> severity;
  std::string governorate, facility;
  std::optional<Category> category;
  std::optional<AboRh> group;
  std::optional<std::uint64_t> since;
  std::size_t limit = 1000;
};
[[nodiscard]] Result<AlertFilter> parse_alert_filter(
    const std::map<std::string, std::string>& params, const ReferenceData& ref);

// The filters of /api/reagents: governorate, facility, reagent (empty: all).
struct ReagentFilter {
  std::string governorate, facility, reagent;
};
[[nodiscard]] Result<ReagentFilter> parse_reagent_filter(
    const std::map<std::string, std::string>& params, const ReferenceData& ref);

}  // namespace hemoledger
