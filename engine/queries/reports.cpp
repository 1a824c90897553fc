#include "engine/queries/reports.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "projections/supply.h"

namespace hemoledger {

using nlohmann::json;

namespace {

Error bad_report(const std::string& what) { return make_error("bad_report", what); }

int next_month(int m) { return m % 100 == 12 ? (m / 100 + 1) * 100 + 1 : m + 1; }
int prev_month(int m) { return m % 100 == 1 ? (m / 100 - 1) * 100 + 12 : m - 1; }
std::int64_t first_day(int m) {
  return days_from_civil(m / 100, static_cast<unsigned>(m % 100), 1);
}
std::string month_label(int m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", m / 100, m % 100);
  return buf;
}
std::string day_label(std::int64_t day) { return format_rfc3339(day * kDay).substr(0, 10); }

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status parse_period(const std::string& p, ReportRequest& r) {
  const auto fail = [&] {
    return bad_report(
        "period must be a month (2026-11), a quarter (2026-Q4) or a year (2026), not \"" +
        p.substr(0, 20) + "\".");
  };
  if (p.size() < 4 || !digits(p.substr(0, 4))) return fail();
  const int year = std::stoi(p.substr(0, 4));
  if (year < 1990 || year > 2199) return fail();
  if (p.size() == 4) {
    r.first_month = year * 100 + 1;
    r.last_month = year * 100 + 12;
  } else if (p.size() == 7 && p[4] == '-' && p[5] == 'Q' && p[6] >= '1' && p[6] <= '4') {
    const int q = p[6] - '0';
    r.first_month = year * 100 + 3 * q - 2;
    r.last_month = year * 100 + 3 * q;
  } else if (p.size() == 7 && p[4] == '-' && digits(p.substr(5, 2))) {
    const int m = std::stoi(p.substr(5, 2));
    if (m < 1 || m > 12) return fail();
    r.first_month = r.last_month = year * 100 + m;
  } else {
    return fail();
  }
  r.period = p;
  return {};
}

// A place (facility code) belongs to the request's scope.
bool in_scope(const std::string& place, const ReportRequest& r, const ReferenceData& ref) {
  switch (r.kind) {
    case ReportRequest::ScopeKind::country:
      return true;
    case ReportRequest::ScopeKind::facility:
      return place == r.scope;
    case ReportRequest::ScopeKind::governorate: {
      const Facility* f = ref.facility(place);
      return f && f->governorate == r.scope;
    }
  }
  return false;
}

bool alert_in_scope(const std::string& governorate, const std::string& facility,
                    const ReportRequest& r) {
  switch (r.kind) {
    case ReportRequest::ScopeKind::country:
      return true;
    case ReportRequest::ScopeKind::facility:
      return facility == r.scope;
    case ReportRequest::ScopeKind::governorate:
      return governorate == r.scope;
  }
  return false;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto bar = s.find(sep, start);
    out.emplace_back(s.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) return out;
    start = bar + 1;
  }
}

json rate(std::int64_t num, std::int64_t den, double scale) {
  if (den <= 0) return nullptr;
  return std::round(static_cast<double>(num) * scale / static_cast<double>(den) * 100.0) / 100.0;
}

json round2(std::optional<double> v) {
  if (!v) return nullptr;
  return std::round(*v * 100.0) / 100.0;
}

json minutes_figures(const std::map<std::int64_t, std::int64_t>& h) {
  std::int64_t n = 0;
  for (const auto& [b, c] : h) n += c;
  auto q50 = histogram_quantile(h, 0.5), q90 = histogram_quantile(h, 0.9);
  return {{"count", n},
          {"median_minutes", q50 ? json(*q50) : json(nullptr)},
          {"p90_minutes", q90 ? json(*q90) : json(nullptr)}};
}

// The counters of the period (months [first, last]) by metric, summed over places and months.
struct Sums {
  std::map<std::string, std::int64_t> by_metric;
  std::map<std::string, std::map<std::string, std::int64_t>> by_place;  // place -> metric
  std::map<int, std::map<std::string, std::int64_t>> by_month;          // month -> metric
};

Sums sum_counters(const ReportCounts& counters, int first, int last) {
  Sums s;
  for (const auto& [k, n] : counters) {
    ReportKey key;
    if (!parse_report_key(k, key)) continue;
    // Trend lines need no stock samples.
    const bool sample = key.metric.rfind("avail|", 0) == 0;
    if (!sample) s.by_month[key.month][key.metric] += n;
    if (key.month < first || key.month > last) continue;
    s.by_metric[key.metric] += n;
    if (!sample) s.by_place[key.place][key.metric] += n;
  }
  return s;
}

// "prefix|a|b" metrics as {a: {b: n}} or {a: n}.
json breakdown(const std::map<std::string, std::int64_t>& m, const std::string& prefix,
               std::int64_t* total = nullptr) {
  json out = json::object();
  for (const auto& [metric, n] : m) {
    if (metric.rfind(prefix + "|", 0) != 0) continue;
    const auto parts = split(std::string_view(metric).substr(prefix.size() + 1), '|');
    if (parts.size() == 1) {
      out[parts[0]] = out.value(parts[0], std::int64_t{0}) + n;
    } else {
      json& inner = out[parts[0]];
      if (!inner.is_object()) inner = json::object();
      inner[parts[1]] = inner.value(parts[1], std::int64_t{0}) + n;
    }
    if (total) *total += n;
  }
  return out;
}

std::int64_t metric_sum(const std::map<std::string, std::int64_t>& m, const std::string& prefix) {
  std::int64_t n = 0;
  for (const auto& [metric, c] : m) {
    if (metric.rfind(prefix, 0) == 0) n += c;
  }
  return n;
}

json units_figures(const std::map<std::string, std::int64_t>& m) {
  json discarded_total = json::object();
  json discarded = breakdown(m, "disc");
  for (auto& [cat, reasons] : discarded.items()) {
    std::int64_t n = 0;
    for (auto& [reason, c] : reasons.items()) n += c.get<std::int64_t>();
    discarded_total[cat] = n;
  }
  return {{"reserved", breakdown(m, "resv")},     {"issued", breakdown(m, "issue")},
          {"transfused", breakdown(m, "transf")}, {"returned", breakdown(m, "ret")},
          {"expired", breakdown(m, "exp")},       {"discarded", discarded},
          {"discarded_total", discarded_total}};
}

json wastage_figures(const std::map<std::string, std::int64_t>& m) {
  json out = json::object();
  std::set<std::string> cats;
  for (const auto& [metric, n] : m) {
    for (const char* p : {"prod|", "disc|", "exp|"}) {
      if (metric.rfind(p, 0) == 0) cats.insert(split(metric, '|')[1]);
    }
  }
  for (const auto& c : cats) {
    const std::int64_t wasted = metric_sum(m, "disc|" + c + "|") + metric_sum(m, "exp|" + c);
    const std::int64_t produced = metric_sum(m, "prod|" + c);
    out[c] = {
        {"wasted", wasted}, {"produced", produced}, {"rate_percent", rate(wasted, produced, 100)}};
  }
  return out;
}

json tti_markers(const std::map<std::string, std::int64_t>& m, std::int64_t donations) {
  json out = json::object();
  std::set<std::string> tests;
  for (const auto& [metric, n] : m) {
    if (metric.rfind("tti_", 0) == 0) tests.insert(split(metric, '|')[1]);
  }
  for (const auto& t : tests) {
    const std::int64_t rr = metric_sum(m, "tti_rr|" + t), conf = metric_sum(m, "tti_conf|" + t);
    out[t] = {{"repeatedly_reactive", rr},
              {"confirmed", conf},
              {"reactive_per_10000", rate(rr, donations, 10000)},
              {"confirmed_per_10000", rate(conf, donations, 10000)}};
  }
  return out;
}

json tti_figures(const Sums& s, const ReferenceData& ref) {
  const std::int64_t donations = metric_sum(s.by_metric, "don|");
  std::map<std::string, std::map<std::string, std::int64_t>> by_gov;
  for (const auto& [place, metrics] : s.by_place) {
    const Facility* f = ref.facility(place);
    const std::string gov = f ? f->governorate : "unknown";
    for (const auto& [metric, n] : metrics) {
      if (metric.rfind("tti_", 0) == 0 || metric.rfind("don|", 0) == 0) by_gov[gov][metric] += n;
    }
  }
  json govs = json::object();
  for (const auto& [gov, metrics] : by_gov) {
    const std::int64_t d = metric_sum(metrics, "don|");
    govs[gov] = {{"donations", d}, {"markers", tti_markers(metrics, d)}};
  }
  return {{"donations", donations},
          {"markers", tti_markers(s.by_metric, donations)},
          {"governorates", govs}};
}

json release_figures(const std::map<std::string, std::int64_t>& m) {
  std::map<std::int64_t, std::int64_t> h;
  for (const auto& [metric, n] : m) {
    if (metric.rfind("rel|", 0) == 0) h[std::stoll(metric.substr(4))] += n;
  }
  json f = minutes_figures(h);
  auto hours = [](const json& v) {
    return v.is_null() ? json(nullptr) : json(std::round(v.get<double>() / 60.0 * 10.0) / 10.0);
  };
  return {{"released", f["count"]},
          {"median_hours", hours(f["median_minutes"])},
          {"p90_hours", hours(f["p90_minutes"])}};
}

// Days of supply of red cells per group for each completed day of the period.
json supply_figures(const ReportInputs& in, const ReportRequest& req, int window_days) {
  const std::int64_t first = first_day(req.first_month);
  const std::int64_t end =
      std::min(first_day(next_month(req.last_month)), day_of(in.clock));   // completed days
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> available;  // (day, group)
  // The samples, by month and day of month.
  for (const auto& [k, n] : in.counters) {
    ReportKey key;
    if (!parse_report_key(k, key) || key.month < req.first_month || key.month > req.last_month) {
      continue;
    }
    if (key.metric.rfind("avail|", 0) != 0) continue;
    const auto parts = split(key.metric, '|');  // avail, dd, category, group
    if (parts.size() != 4 || parts[2] != "red_cells") continue;
    const std::int64_t day = first_day(key.month) + std::stoll(parts[1]) - 1;
    available[{day, parts[3]}] += n;
  }
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> consumed_on;
  for (const auto& [k, n] : in.demand) {
    if (k.category != Category::red_cells) continue;
    consumed_on[{k.day, std::string(to_string(k.group))}] += n;
  }
  json groups = json::object();
  for (AboRh g : kAllGroups) {
    const std::string name(to_string(g));
    std::optional<double> lo;
    double sum = 0;
    int n = 0;
    std::int64_t window = 0;
    for (std::int64_t d = first - window_days + 1; d < first; ++d) {
      auto it = consumed_on.find({d, name});
      if (it != consumed_on.end()) window += it->second;
    }
    for (std::int64_t d = first; d < end; ++d) {
      if (auto it = consumed_on.find({d, name}); it != consumed_on.end()) window += it->second;
      if (auto it = consumed_on.find({d - window_days, name}); it != consumed_on.end()) {
        window -= it->second;
      }
      auto a = available.find({d, name});
      const auto days = days_of_supply(a == available.end() ? 0 : a->second, window, window_days);
      if (!days) continue;
      lo = lo ? std::min(*lo, *days) : *days;
      sum += *days;
      ++n;
    }
    groups[name] = {{"min", round2(lo)},
                    {"average", n ? round2(sum / n) : json(nullptr)},
                    {"days_with_demand", n}};
  }
  return {{"category", "red_cells"},
          {"window_days", window_days},
          {"days", std::max<std::int64_t>(0, end - first)},
          {"groups", groups}};
}

json reagent_figures(const Sums& s, const ReportInputs& in, const ReportRequest& req) {
  json out = json::object();
  for (const auto& [metric, n] : s.by_metric) {
    const auto parts = split(metric, '|');
    if (parts.size() != 2) continue;
    if (parts[0] == "rg_use") out[parts[1]]["used"] = n;
    if (parts[0] == "rg_exp") out[parts[1]]["lots_expired"] = n;
  }
  // Time below minimum cover: reagent_cover alerts' lives inside the period.
  const TimeMs from = first_day(req.first_month) * kDay;
  const TimeMs to = std::min(first_day(next_month(req.last_month)) * kDay, in.clock);
  std::map<std::string, TimeMs> below;
  for (const auto& text : in.alert_rows) {
    const json r = json::parse(text, nullptr, false);
    if (!r.is_object() || r.value("a", "") != "cover") continue;
    below[r.value("r", "")] += r.value("to", TimeMs{0}) - r.value("from", TimeMs{0});
  }
  for (const auto& a : in.open_alerts) {
    if (a.kind != AlertKind::reagent_cover) continue;
    const TimeMs end = a.follow_up.closed_at ? a.follow_up.closed_at : to;
    const TimeMs lo = std::max(a.raised_at, from), hi = std::min(end, to);
    if (hi > lo) below[a.reagent] += hi - lo;
  }
  for (auto& [reagent, ms] : below) {
    out[reagent]["days_below_min_cover"] = std::round(static_cast<double>(ms) / kDay * 10) / 10;
  }
  for (auto& [reagent, f] : out.items()) {
    for (const char* k : {"used", "lots_expired"}) {
      if (!f.contains(k)) f[k] = 0;
    }
    if (!f.contains("days_below_min_cover")) f["days_below_min_cover"] = 0.0;
  }
  return out;
}

// Emergency releases, transfusion reactions per 1,000 units transfused, and
// units that became of unknown fate (their unknown_fate alert was raised).
json vein_to_vein_figures(const std::map<std::string, std::int64_t>& m, const ReportInputs& in) {
  const std::int64_t reactions = metric_sum(m, "react|");
  const std::int64_t transfused = metric_sum(m, "transf|");
  std::int64_t unknown_fate = 0;
  for (const auto& text : in.alert_rows) {
    const json r = json::parse(text, nullptr, false);
    if (r.is_object() && r.value("a", "") == "raised" && r.value("k", "") == "unknown_fate") {
      ++unknown_fate;
    }
  }
  std::int64_t emergency = 0;
  json by_category = breakdown(m, "emerg", &emergency);
  return {{"available", true},
          {"emergency_releases", {{"total", emergency}, {"by_category", by_category}}},
          {"transfusion_reactions",
           {{"total", reactions},
            {"by_severity", breakdown(m, "react")},
            {"by_category", breakdown(m, "react_cat")},
            {"per_1000_transfused", rate(reactions, transfused, 1000)}}},
          {"units_of_unknown_fate", unknown_fate}};
}

json alert_figures(const ReportInputs& in) {
  json raised = json::object();
  std::int64_t raised_total = 0, referred = 0;
  std::map<std::int64_t, std::int64_t> ack, resolved;
  std::map<std::string, std::map<std::int64_t, std::int64_t>> ack_by_kind, resolved_by_kind;
  for (const auto& text : in.alert_rows) {
    const json r = json::parse(text, nullptr, false);
    if (!r.is_object()) continue;
    const std::string a = r.value("a", ""), kind = r.value("k", "");
    if (a == "raised") {
      json& k = raised[kind];
      if (!k.is_object()) k = json::object();
      const std::string sev = r.value("s", "");
      k[sev] = k.value(sev, std::int64_t{0}) + 1;
      ++raised_total;
    } else if (a == "referred") {
      ++referred;
    } else if (a == "ack") {
      ++ack[r.value("m", std::int64_t{0})];
      ++ack_by_kind[kind][r.value("m", std::int64_t{0})];
    } else if (a == "resolved") {
      ++resolved[r.value("m", std::int64_t{0})];
      ++resolved_by_kind[kind][r.value("m", std::int64_t{0})];
    }
  }
  json by_kind = json::object();
  for (const auto& [kind, h] : ack_by_kind) by_kind[kind]["acknowledged"] = minutes_figures(h);
  for (const auto& [kind, h] : resolved_by_kind) by_kind[kind]["resolved"] = minutes_figures(h);
  return {{"raised", raised},
          {"raised_total", raised_total},
          {"escalated", referred},
          {"acknowledged", minutes_figures(ack)},
          {"resolved", minutes_figures(resolved)},
          {"by_kind", by_kind}};
}

json trend_figures(const Sums& s, const ReportRequest& req) {
  json out = json::array();
  int m = req.last_month;
  for (int i = 1; i < req.trend_months; ++i) m = prev_month(m);
  for (int i = 0; i < std::max(1, req.trend_months); ++i, m = next_month(m)) {
    auto it = s.by_month.find(m);
    static const std::map<std::string, std::int64_t> kNone;
    const auto& metrics = it == s.by_month.end() ? kNone : it->second;
    out.push_back({{"month", month_label(m)},
                   {"donations", metric_sum(metrics, "don|")},
                   {"produced", metric_sum(metrics, "prod|")},
                   {"issued", metric_sum(metrics, "issue|")},
                   {"transfused", metric_sum(metrics, "transf|")},
                   {"wasted", metric_sum(metrics, "disc|") + metric_sum(metrics, "exp|")}});
  }
  return out;
}

json scope_json(const ReportRequest& r, const ReferenceData& ref) {
  json j = {{"kind", r.kind == ReportRequest::ScopeKind::country       ? "country"
                     : r.kind == ReportRequest::ScopeKind::governorate ? "governorate"
                                                                       : "facility"},
            {"code", r.scope}};
  if (const Governorate* g = ref.governorate(r.scope)) {
    j["name_en"] = g->name_en;
    j["name_ar"] = g->name_ar;
  } else if (const Facility* f = ref.facility(r.scope)) {
    j["name_en"] = f->name_en;
    j["name_ar"] = f->name_ar;
    j["governorate"] = f->governorate;
  } else {
    j["name_en"] = "Country";
    j["name_ar"] = "الدولة";
  }
  return j;
}

}  // namespace

std::optional<std::int64_t> histogram_quantile(const std::map<std::int64_t, std::int64_t>& h,
                                               double q) {
  std::int64_t n = 0;
  for (const auto& [b, c] : h) n += c;
  if (n == 0) return std::nullopt;
  const auto rank = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(q * n)));
  std::int64_t seen = 0;
  for (const auto& [b, c] : h) {
    seen += c;
    if (seen >= rank) return b;
  }
  return h.rbegin()->first;
}

Result<ReportRequest> parse_report_request(const std::map<std::string, std::string>& params,
                                           const ReferenceData& ref) {
  ReportRequest r;
  bool have_period = false;
  for (const auto& [k, v] : params) {
    if (k == "period") {
      if (auto s = parse_period(v, r); !s) return s.error();
      have_period = true;
    } else if (k == "scope") {
      r.scope = v.empty() ? "country" : v;
      if (r.scope == "country") {
        r.kind = ReportRequest::ScopeKind::country;
      } else if (ref.governorate(r.scope)) {
        r.kind = ReportRequest::ScopeKind::governorate;
      } else if (ref.facility(r.scope)) {
        r.kind = ReportRequest::ScopeKind::facility;
      } else {
        return bad_report("scope must be country, a governorate code or a facility code, not \"" +
                          v.substr(0, 20) + "\".");
      }
    } else if (k == "trend") {
      if (!digits(v) || v.size() > 2 || std::stoi(v) > 24) {
        return bad_report("trend must be a number of months from 0 to 24.");
      }
      r.trend_months = std::stoi(v);
    } else if (k == "format" || k == "lang" || k == "token") {
      // read by the caller
    } else {
      return bad_report("Unknown parameter \"" + k.substr(0, 20) +
                        "\" (period, scope, trend, format).");
    }
  }
  if (!have_period) return bad_report("period is required, e.g. period=2026-11.");
  return r;
}

namespace {

// The first month of the trend or the period, whichever is earlier.
int first_month_read(const ReportRequest& req) {
  int trend_first = req.last_month;
  for (int i = 1; i < req.trend_months; ++i) trend_first = prev_month(trend_first);
  return std::min(trend_first, req.first_month);
}

}  // namespace

Result<PartitionReport> partition_report(const Store& store, const ReferenceData& ref,
                                         const ReportRequest& req, int window_days,
                                         std::int32_t p) {
  PartitionReport out;
  auto s = store.scan_report(p, first_month_read(req), req.last_month,
                             [&](std::string_view k, std::int64_t n) {
                               ReportKey key;
                               if (parse_report_key(k, key) && in_scope(key.place, req, ref))
                                 out.counters[std::string(k)] += n;
                               return true;
                             });
  if (!s) return s.error();
  auto day = store.report_day(p);
  if (!day) return day.error();
  out.day = *day;
  auto stock = store.stock(p);
  if (!stock) return stock.error();
  for (const auto& [k, n] : stock->cells()) {
    if (k.status == UnitStatus::available && n != 0 && in_scope(k.facility, req, ref)) {
      out.available.apply(StockDelta{k, n});
    }
  }
  const std::int64_t period_first = first_day(req.first_month);
  const std::int64_t period_end = first_day(next_month(req.last_month));
  auto demand = store.demand_window(period_first - window_days, period_end, p);
  if (!demand) return demand.error();
  for (const auto& [k, n] : *demand) {
    if (in_scope(k.facility, req, ref)) out.demand[k] += n;
  }
  return out;
}

Result<AlertReportPart> alert_report_part(const Store& store, const ReportRequest& req) {
  AlertReportPart out;
  auto state = store.alert_state();
  if (!state) return state.error();
  out.clock = state->clock;
  auto rows = store.scan_alert_reports(
      req.first_month, req.last_month, [&](std::string_view, std::string_view v) {
        const json r = json::parse(v, nullptr, false);
        if (r.is_object() && alert_in_scope(r.value("g", ""), r.value("f", ""), req)) {
          out.rows.emplace_back(v);
        }
        return true;
      });
  if (!rows) return rows.error();
  auto open = store.open_alerts();
  if (!open) return open.error();
  for (const auto& [key, text] : *open) {
    auto a = alert_from_json(json::parse(text, nullptr, false));
    if (a && alert_in_scope(a->governorate, a->facility, req)) out.open.push_back(*a);
  }
  return out;
}

ReportInputs combine_report(const std::map<std::int32_t, PartitionReport>& partitions,
                            const AlertReportPart& alerts, const ReportRequest& req) {
  ReportInputs in;
  in.clock = alerts.clock;
  for (const auto& [p, part] : partitions) {
    for (const auto& [k, n] : part.counters) in.counters[k] += n;
    for (const auto& [k, n] : part.demand) in.demand[k] += n;
    in.clock = std::max(in.clock, part.day * kDay);
  }
  // The days after each partition's last event, up to the clock's day: its stock now.
  const std::int64_t clock_day = day_of(in.clock);
  const std::int64_t period_first = first_day(req.first_month);
  const std::int64_t period_end = first_day(next_month(req.last_month));
  for (const auto& [p, part] : partitions) {
    if (part.day == 0) continue;
    const std::int64_t from = std::max(part.day, period_first);
    const std::int64_t to = std::min(clock_day, period_end);
    if (from >= to) continue;
    ReportCounts fill;
    sample_days(from, to, part.available, fill);
    for (const auto& [k, n] : fill) in.counters[k] += n;
  }
  in.alert_rows = alerts.rows;
  in.open_alerts = alerts.open;
  return in;
}

Result<ReportInputs> report_inputs(const Store& store, const ReferenceData& ref,
                                   const ReportRequest& req, int window_days) {
  std::map<std::int32_t, PartitionReport> parts;
  for (auto p : store.partitions()) {
    auto part = partition_report(store, ref, req, window_days, p);
    if (!part) return part.error();
    parts.emplace(p, std::move(*part));
  }
  auto alerts = alert_report_part(store, req);
  if (!alerts) return alerts.error();
  return combine_report(parts, *alerts, req);
}

json report_json(const ReportInputs& in, const ReportRequest& req, const ReferenceData& ref,
                 int window_days) {
  const Sums s = sum_counters(in.counters, req.first_month, req.last_month);
  const std::int64_t period_end = first_day(next_month(req.last_month));
  std::int64_t donations = 0, produced = 0;
  json by_type = breakdown(s.by_metric, "don", &donations);
  for (const char* t : {"voluntary", "replacement", "autologous", "unrecorded"}) {
    if (!by_type.contains(t)) by_type[t] = 0;
  }
  json by_category = breakdown(s.by_metric, "prod", &produced);
  const std::int64_t reserved = metric_sum(s.by_metric, "resv|");
  const std::int64_t transfused = metric_sum(s.by_metric, "transf|");
  json months = json::array();
  for (int m = req.first_month; m <= req.last_month; m = next_month(m))
    months.push_back(month_label(m));
  return {
      {"period", req.period},
      {"from", day_label(first_day(req.first_month))},
      {"to", day_label(period_end - 1)},
      {"months", months},
      {"scope", scope_json(req, ref)},
      {"as_of", in.clock ? json(format_rfc3339(in.clock)) : json(nullptr)},
      {"complete", day_of(in.clock) >= period_end},
      {"donations", {{"total", donations}, {"by_type", by_type}}},
      {"components_produced", {{"total", produced}, {"by_category", by_category}}},
      {"units", units_figures(s.by_metric)},
      {"wastage", wastage_figures(s.by_metric)},
      {"reserved_to_transfused",
       {{"reserved", reserved},
        {"transfused", transfused},
        {"ratio", rate(reserved, transfused, 1)}}},
      {"tti", tti_figures(s, ref)},
      {"collection_to_release", release_figures(s.by_metric)},
      {"days_of_supply", supply_figures(in, req, window_days)},
      {"vein_to_vein", vein_to_vein_figures(s.by_metric, in)},
      {"reagents", reagent_figures(s, in, req)},
      {"alerts", alert_figures(in)},
      {"trend", trend_figures(s, req)},
  };
}

namespace {

void flatten(const json& j, const std::string& path, std::string& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, path.empty() ? k : path + "." + k, out);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      const json& v = j[i];
      // Arrays of records (trend) use their month as the name.
      const std::string name =
          v.is_object() && v.contains("month") ? v["month"].get<std::string>() : std::to_string(i);
      flatten(v, path + "." + name, out);
    }
  } else {
    std::string value = j.is_string() ? j.get<std::string>() : j.is_null() ? "" : j.dump();
    const bool quote = value.find_first_of(",\"\n") != std::string::npos;
    if (quote) {
      std::string q = "\"";
      for (char c : value) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      value = q + "\"";
    }
    out += path + "," + value + "\n";
  }
}

}  // namespace

std::string report_csv(const json& report) {
  std::string out = "figure,value\n";
  for (const auto& [k, v] : report.items()) {
    if (k == "trend" && v.is_array()) {
      for (const auto& row : v) {
        for (const auto& [field, value] : row.items()) {
          if (field != "month")
            out += "trend." + row["month"].get<std::string>() + "." + field + "," + value.dump() +
                   "\n";
        }
      }
      continue;
    }
    if (k == "months") continue;
    flatten(v, k, out);
  }
  return out;
}

}  // namespace hemoledger
