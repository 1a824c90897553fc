// Report counters: what each applied event adds to the monthly figures of a
// place (docs/reports.md). The ledger keeps them per Kafka partition beside the
// other projections, in the same write batch as the event; a report sums them
// over the facilities of its scope, over partitions (and scale-out peers) and
// over the months of its period, so every counter is additive.
//
//   ReportCounts out;
//   count_event(ref, e, &donation_after, markers_before, out);  // a donation's event
//   sample_days(day_before, day_of(e.at), stock_before_e, out); // once per new day
//
// A counter's key is "<yyyymm>|<place>|<metric>": the month of the event's
// time (UTC), the facility the figure belongs to, and the metric with its
// breakdown, e.g. "202611|GZA-BB|disc|red_cells|expired". The metrics are
// listed in docs/reports.md; durations are kept as histograms
// (duration_bucket) so that medians and percentiles can be read off a sum of
// months and places. Pure: values only, no clock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.h"
#include "events/reference_data.h"
#include "projections/alerts.h"
#include "projections/stock.h"
#include "projections/unit_state.h"

namespace hemoledger {

using ReportCounts = std::map<std::string, std::int64_t>;  // key -> change

// yyyymm of an instant (UTC), e.g. 202611.
int month_of(TimeMs t);
// "yyyymm|place|metric".
std::string report_key(int month, std::string_view place, std::string_view metric);
struct ReportKey {
  int month = 0;
  std::string place, metric;
};
[[nodiscard]] bool parse_report_key(std::string_view key, ReportKey& out);

// The histogram bucket of a duration in whole minutes: exact under 2 hours,
// 5 minutes under a day, an hour under 30 days, a day beyond. The bucket is
// its lower bound, in minutes.
std::int64_t duration_bucket(std::int64_t minutes);

// What an applied event adds. `after`: the donation after a donation event
// (null for others); `markers_before`: its markers before a TestResulted.
void count_event(const ReferenceData& ref, const Event& e, const Donation* after,
                 const std::vector<MarkerState>& markers_before, ReportCounts& out);

// The daily stock sample: available units per facility, category and group
// at the end of each day in [from_day, to_day), as "avail|<dd>|<category>|<group>"
// (dd the day of the month) under that day's month. The ledger calls it when
// a partition's events reach a new day, with the stock before that event: at
// most kMaxSampledDays days are sampled at once (the latest ones).
inline constexpr std::int64_t kMaxSampledDays = 366;
void sample_days(std::int64_t from_day, std::int64_t to_day, const StockTable& stock,
                 ReportCounts& out);

// The report's day pointer of a partition: the latest day of its events. An
// event of day d after pointer p samples [p, d) and moves it to d; returns the
// new pointer.
std::int64_t advance_report_day(std::int64_t pointer, const Event& e, const StockTable& stock,
                                ReportCounts& out);

// The report rows of an alert change, each under the month it counts in:
// (key "<yyyymm>|<seq:020>|<n>", JSON). {"a": "raised" | "ack" | "referred" |
// "resolved" | "cover", "k": kind, "s": severity, "g": governorate, "f":
// facility, "m": minutes from raising (ack, resolved), "how": "cleared" |
// "closed" (resolved), "r": reagent, "from"/"to": the part of a reagent_cover
// alert's life inside that month, in ms (cover)}. Eased and escalated
// (severity) changes have none.
std::vector<std::pair<std::string, std::string>> alert_report_rows(const AlertChange& c);

}  // namespace hemoledger
