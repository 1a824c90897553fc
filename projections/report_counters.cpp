#include "projections/report_counters.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "projections/demand.h"
#include "projections/markers.h"

namespace hemoledger {

namespace {

int month_of_day(std::int64_t day) {
  const CivilDate c = civil_from_days(day);
  return c.y * 100 + static_cast<int>(c.m);
}

void add(ReportCounts& out, TimeMs at, std::string_view place, const std::string& metric,
         std::int64_t n = 1) {
  if (place.empty() || n == 0) return;
  out[report_key(month_of(at), place, metric)] += n;
}

std::string cat_of(const Donation& d, const std::string& product) {
  const UnitState* u = d.unit(product);
  return std::string(to_string(u ? u->category : Category::unknown));
}

bool first_release(const Donation& d, const std::string& product) {
  int n = 0;
  for (const auto& h : d.history) {
    if (h.type == EventType::unit_released && h.product == product) ++n;
  }
  return n == 1;
}

// Screening markers that reached repeatedly reactive (or straight to a
// confirmed positive) and confirmed positive with this result.
void count_screening(const Event& e, const Donation& d,
                     const std::vector<MarkerState>& markers_before, ReportCounts& out) {
  for (const auto& m : d.markers) {
    const auto was = std::find_if(markers_before.begin(), markers_before.end(),
                                  [&](const MarkerState& b) { return b.test == m.test; });
    const MarkerStatus before =
        was == markers_before.end() ? MarkerStatus::not_tested : was->status;
    if (blocks_for_good(m.status) && !blocks_for_good(before)) {
      add(out, e.at, d.facility, "tti_rr|" + m.test);
    }
    if (m.status == MarkerStatus::confirmed_positive &&
        before != MarkerStatus::confirmed_positive) {
      add(out, e.at, d.facility, "tti_conf|" + m.test);
    }
  }
}

void count_donation_event(const Event& e, const Donation& d,
                          const std::vector<MarkerState>& markers_before, ReportCounts& out) {
  const std::string& f = e.facility;
  switch (e.type) {
    case EventType::donation_collected: {
      const std::string_view type = to_string(e.donation_type);
      add(out, e.at, f, "don|" + std::string(type.empty() ? "unrecorded" : type));
      return;
    }
    case EventType::component_produced:
      add(out, e.at, f, "prod|" + cat_of(d, e.product));
      return;
    case EventType::test_resulted:
      count_screening(e, d, markers_before, out);
      return;
    case EventType::unit_released:
      if (first_release(d, e.product) && d.collected_at > 0 && e.at >= d.collected_at) {
        const std::int64_t minutes = (e.at - d.collected_at) / kMinute;
        add(out, e.at, f, "rel|" + std::to_string(duration_bucket(minutes)));
      }
      return;
    case EventType::unit_reserved:
      add(out, e.at, f, "resv|" + cat_of(d, e.product));
      return;
    case EventType::unit_issued:
      add(out, e.at, f, "issue|" + cat_of(d, e.product));
      if (e.emergency) add(out, e.at, f, "emerg|" + cat_of(d, e.product));
      return;
    case EventType::transfusion_reaction:
      add(out, e.at, f, "react|" + std::string(to_string(e.severity)));
      add(out, e.at, f, "react_cat|" + std::string(to_string(e.reaction)));
      return;
    case EventType::unit_returned:
      add(out, e.at, f, "ret|" + cat_of(d, e.product));
      return;
    case EventType::unit_transfused:
      add(out, e.at, f, "transf|" + cat_of(d, e.product));
      return;
    case EventType::unit_discarded:
      add(out, e.at, f, "disc|" + cat_of(d, e.product) + "|" + e.reason);
      return;
    case EventType::unit_expired:
      add(out, e.at, f, "exp|" + cat_of(d, e.product));
      return;
    default:
      return;
  }
}

}  // namespace

int month_of(TimeMs t) { return month_of_day(day_of(t)); }

std::string report_key(int month, std::string_view place, std::string_view metric) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06d", month);
  std::string k(buf);
  k += '|';
  k.append(place);
  k += '|';
  k.append(metric);
  return k;
}

bool parse_report_key(std::string_view key, ReportKey& out) {
  if (key.size() < 9 || key[6] != '|') return false;
  int month = 0;
  for (int i = 0; i < 6; ++i) {
    if (key[i] < '0' || key[i] > '9') return false;
    month = month * 10 + (key[i] - '0');
  }
  const auto bar = key.find('|', 7);
  if (bar == std::string_view::npos) return false;
  out.month = month;
  out.place = std::string(key.substr(7, bar - 7));
  out.metric = std::string(key.substr(bar + 1));
  return true;
}

std::int64_t duration_bucket(std::int64_t minutes) {
  if (minutes < 0) return 0;
  if (minutes < 120) return minutes;
  if (minutes < 1440) return minutes - minutes % 5;
  if (minutes < 43200) return minutes - minutes % 60;
  return minutes - minutes % 1440;
}

void count_event(const ReferenceData& ref, const Event& e, const Donation* after,
                 const std::vector<MarkerState>& markers_before, ReportCounts& out) {
  (void)ref;
  if (after) return count_donation_event(e, *after, markers_before, out);
  if (e.type == EventType::reagent_consumed) {
    add(out, e.at, e.facility, "rg_use|" + e.reagent, e.quantity);
  } else if (e.type == EventType::reagent_expired) {
    add(out, e.at, e.facility, "rg_exp|" + e.reagent);
  }
}

void sample_days(std::int64_t from_day, std::int64_t to_day, const StockTable& stock,
                 ReportCounts& out) {
  from_day = std::max(from_day, to_day - kMaxSampledDays);
  std::vector<std::pair<const StockKey*, std::int64_t>> available;
  for (const auto& [k, n] : stock.cells()) {
    if (k.status == UnitStatus::available && n > 0) available.emplace_back(&k, n);
  }
  if (available.empty()) return;
  for (std::int64_t day = from_day; day < to_day; ++day) {
    const CivilDate c = civil_from_days(day);
    const int month = c.y * 100 + static_cast<int>(c.m);
    char dd[4];
    std::snprintf(dd, sizeof dd, "%02u", c.d);
    for (const auto& [k, n] : available) {
      const std::string metric = std::string("avail|") + dd + "|" +
                                 std::string(to_string(k->category)) + "|" +
                                 std::string(to_string(k->group));
      out[report_key(month, k->facility, metric)] += n;
    }
  }
}

std::int64_t advance_report_day(std::int64_t pointer, const Event& e, const StockTable& stock,
                                ReportCounts& out) {
  const std::int64_t day = day_of(e.at);
  if (pointer == 0) return day;
  if (day <= pointer) return pointer;
  sample_days(pointer, day, stock, out);
  return day;
}

namespace {

TimeMs month_start(int month) {
  return days_from_civil(month / 100, static_cast<unsigned>(month % 100), 1) * kDay;
}

int next_month(int month) { return month % 100 == 12 ? (month / 100 + 1) * 100 + 1 : month + 1; }

std::string row_key(int month, std::uint64_t seq, int n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%06d|%020llu|%d", month, static_cast<unsigned long long>(seq), n);
  return buf;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> alert_report_rows(const AlertChange& c) {
  using nlohmann::json;
  const Alert& a = c.alert;
  const AlertFollowUp& f = a.follow_up;
  json base = {{"k", std::string(to_string(a.kind))},
               {"s", std::string(to_string(a.severity))},
               {"g", a.governorate},
               {"f", a.facility}};
  std::vector<std::pair<std::string, std::string>> rows;
  auto add_row = [&](const char* action, TimeMs at, std::optional<TimeMs> since_raised) {
    json j = base;
    j["a"] = action;
    if (since_raised) j["m"] = std::max<TimeMs>(0, *since_raised) / kMinute;
    rows.emplace_back(row_key(month_of(at), c.seq, static_cast<int>(rows.size())), j.dump());
  };
  TimeMs ended = 0;
  if (c.action == "raised") {
    add_row("raised", a.raised_at, std::nullopt);
  } else if (c.action == "acknowledged") {
    add_row("ack", f.acknowledged_at, f.acknowledged_at - a.raised_at);
  } else if (c.action == "referred") {
    add_row("referred", f.escalated_at, std::nullopt);
  } else if (c.action == "closed" || c.action == "cleared") {
    ended = c.action == "closed" ? f.closed_at : a.cleared_at;
    add_row("resolved", ended, ended - a.raised_at);
    rows.back().second = [&] {
      json j = json::parse(rows.back().second);
      j["how"] = c.action;
      return j.dump();
    }();
  }
  if (ended && a.kind == AlertKind::reagent_cover && ended > a.raised_at) {
    for (int m = month_of(a.raised_at); month_start(m) < ended; m = next_month(m)) {
      json j = base;
      j["a"] = "cover";
      j["r"] = a.reagent;
      j["from"] = std::max(a.raised_at, month_start(m));
      j["to"] = std::min(ended, month_start(next_month(m)));
      rows.emplace_back(row_key(m, c.seq, static_cast<int>(rows.size())), j.dump());
    }
  }
  return rows;
}

}  // namespace hemoledger
