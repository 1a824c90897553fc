// Reports: a period's performance figures for the country, a governorate or a
// facility, read from the report counters and alert report rows the ledger
// keeps (projections/report_counters.h), so that a closed period gives the
// same figures whenever and wherever it is asked for (docs/reports.md defines
// every figure). `GET /api/reports`, `hemoledger report` and the printable
// report page (/report) all go through report_json().
//
//   auto req = parse_report_request({{"period", "2026-11"}, {"scope", "GZA"}}, ref);
//   auto in = report_inputs(store, ref, *req, supply.window_days);
//   json figures = report_json(*in, *req, ref, supply);
//   std::string csv = report_csv(figures);
//
// Periods: a month "2026-11", a quarter "2026-Q4" or a year "2026" (sums of
// months). Scope: "country", a governorate code or a facility code. Time is
// the events' own: a period is complete once the events' clock has passed
// its last day; nothing reads the wall clock.
//
// Cost: one range scan per partition over the period's months (and the
// trend's), the demand of the period's days plus the window, and the alert
// rows of those months. Thread-safe given its inputs.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/storage/store.h"
#include "events/reference_data.h"
#include "projections/demand.h"
#include "projections/report_counters.h"
#include "projections/stock.h"

namespace hemoledger {

struct ReportRequest {
  std::string period;                   // as asked: "2026-11", "2026-Q4", "2026"
  int first_month = 0, last_month = 0;  // yyyymm, inclusive
  std::string scope = "country";        // "country", a governorate or a facility code
  enum class ScopeKind { country, governorate, facility } kind = ScopeKind::country;
  int trend_months = 6;  // months of trend lines, ending with the period's last
};

// period= and scope= (and trend=, 0-24 months); bad_report naming the parameter otherwise.
[[nodiscard]] Result<ReportRequest> parse_report_request(
    const std::map<std::string, std::string>& params, const ReferenceData& ref);

// What a report is computed from, additive over partitions and instances.
struct ReportInputs {
  ReportCounts counters;                     // months of the trend and the period, places in scope
  std::map<DemandKey, std::int64_t> demand;  // the period's days and the window before
  std::vector<std::string> alert_rows;       // JSON rows of the months, in scope
  std::vector<Alert> open_alerts;            // open and closed-but-held alerts, in scope
  TimeMs clock = 0;                          // the events' clock
};

// What one partition adds to a report, read where the partition is served:
// its counters of the trend's and the period's months in scope, its day
// pointer, its available stock now in scope (the sample of every day after
// its last event: nothing changed it since) and its demand of the period's
// days and the window before. In scale-out a peer sends this for the
// partitions it serves (engine/queries/peers.h).
struct PartitionReport {
  ReportCounts counters;
  std::int64_t day = 0;  // the partition's report day pointer (0: no event yet)
  StockTable available;  // available units now, places in scope
  std::map<DemandKey, std::int64_t> demand;
};
[[nodiscard]] Result<PartitionReport> partition_report(const Store& store, const ReferenceData& ref,
                                                       const ReportRequest& req, int window_days,
                                                       std::int32_t partition);

// What the alerts add, read where they are judged (the alert leader in
// scale-out): the alert report rows of the period's months in scope, the open
// and closed-but-held alerts in scope, and the alert model's clock.
struct AlertReportPart {
  std::vector<std::string> rows;
  std::vector<Alert> open;
  TimeMs clock = 0;
};
[[nodiscard]] Result<AlertReportPart> alert_report_part(const Store& store,
                                                        const ReportRequest& req);

// The inputs of a report from every partition's part and the alerts' part:
// counters and demand summed, the clock the latest of the alerts' clock and
// the partitions' days, and each partition's days after its last event up
// to that clock sampled from its available stock. The same parts give the
// same inputs whichever instance combines them.
ReportInputs combine_report(const std::map<std::int32_t, PartitionReport>& partitions,
                            const AlertReportPart& alerts, const ReportRequest& req);

// A Store's report: every partition it holds and its alerts, combined.
[[nodiscard]] Result<ReportInputs> report_inputs(const Store& store, const ReferenceData& ref,
                                                 const ReportRequest& req, int window_days);

// The figures (docs/reports.md, "JSON").
nlohmann::json report_json(const ReportInputs& in, const ReportRequest& req,
                           const ReferenceData& ref, int window_days);

// The same figures as CSV: "figure,value" per line, the figure a dotted path
// ("units.discarded.red_cells.expired"), in the JSON's order.
std::string report_csv(const nlohmann::json& report);

// The value at rank ceil(q * n) of a histogram (bucket -> count), nearest-rank;
// nullopt when empty.
std::optional<std::int64_t> histogram_quantile(const std::map<std::int64_t, std::int64_t>& h,
                                               double q);

}  // namespace hemoledger
