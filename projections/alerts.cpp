#include "projections/alerts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iterator>
#include <limits>
#include <stdexcept>

namespace hemoledger {

using nlohmann::json;

namespace {

constexpr std::array<AlertKind, 14> kKinds = {AlertKind::supply_phase,
                                              AlertKind::expiring_soon,
                                              AlertKind::recall,
                                              AlertKind::reagent_cover,
                                              AlertKind::reagent_expiring,
                                              AlertKind::deferred_donor_collected,
                                              AlertKind::typing_discrepancy,
                                              AlertKind::positive_after_release,
                                              AlertKind::recipient_notification,
                                              AlertKind::unknown_fate,
                                              AlertKind::emergency_release,
                                              AlertKind::rhd_exception,
                                              AlertKind::transfusion_reaction,
                                              AlertKind::haemovigilance_hold};
constexpr std::array<Severity, 3> kSeverities = {Severity::info, Severity::amber, Severity::red};

// Rounded to `scale` (10: one decimal), as the nearest double to the decimal.
double round_to(double v, double scale) { return std::round(v * scale) / scale; }

Phase phase_of_severity(Severity s) {
  switch (s) {
    case Severity::info:
      return Phase::pre_amber;
    case Severity::amber:
      return Phase::amber;
    case Severity::red:
      return Phase::red;
  }
  return Phase::green;
}

Severity severity_of_phase(Phase p) {
  return p == Phase::red ? Severity::red : p == Phase::amber ? Severity::amber : Severity::info;
}

std::string phase_title(Phase p) {
  switch (p) {
    case Phase::green:
      return "Green";
    case Phase::pre_amber:
      return "Pre-Amber";
    case Phase::amber:
      return "Amber";
    case Phase::red:
      return "Red";
  }
  return "";
}

std::string what(Category c, AboRh g) {
  std::string cat(to_string(c));
  std::replace(cat.begin(), cat.end(), '_', ' ');
  return std::string(to_string(g)) + " " + cat;
}

std::string one_decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::string_view to_string(AlertKind k) {
  switch (k) {
    case AlertKind::supply_phase:
      return "supply_phase";
    case AlertKind::expiring_soon:
      return "expiring_soon";
    case AlertKind::recall:
      return "recall";
    case AlertKind::reagent_cover:
      return "reagent_cover";
    case AlertKind::reagent_expiring:
      return "reagent_expiring";
    case AlertKind::deferred_donor_collected:
      return "deferred_donor_collected";
    case AlertKind::typing_discrepancy:
      return "typing_discrepancy";
    case AlertKind::positive_after_release:
      return "positive_after_release";
    case AlertKind::recipient_notification:
      return "recipient_notification";
    case AlertKind::unknown_fate:
      return "unknown_fate";
    case AlertKind::emergency_release:
      return "emergency_release";
    case AlertKind::rhd_exception:
      return "rhd_exception";
    case AlertKind::transfusion_reaction:
      return "transfusion_reaction";
    case AlertKind::haemovigilance_hold:
      return "haemovigilance_hold";
  }
  return "unknown";
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::info:
      return "info";
    case Severity::amber:
      return "amber";
    case Severity::red:
      return "red";
  }
  return "unknown";
}

bool parse_alert_kind(std::string_view text, AlertKind& out) {
  for (AlertKind k : kKinds) {
    if (to_string(k) == text) {
      out = k;
      return true;
    }
  }
  return false;
}

bool parse_severity(std::string_view text, Severity& out) {
  for (Severity s : kSeverities) {
    if (to_string(s) == text) {
      out = s;
      return true;
    }
  }
  return false;
}

json alert_json(const Alert& a, const ReferenceData& ref) {
  json j = {{"id", a.id},
            {"key", a.key},
            {"kind", std::string(to_string(a.kind))},
            {"severity", std::string(to_string(a.severity))},
            {"status", a.cleared_at            ? "cleared"
                       : a.follow_up.closed_at ? "closed"
                                               : "open"},
            {"governorate", a.governorate},
            {"facility", a.facility.empty() ? json(nullptr) : json(a.facility)},
            {"category", std::string(to_string(a.category))},
            {"abo_rh", std::string(to_string(a.group))},
            {"figures", a.figures},
            {"message", a.message},
            {"raised_at", format_rfc3339(a.raised_at)},
            {"updated_at", format_rfc3339(a.updated_at)},
            {"cleared_at", a.cleared_at ? json(format_rfc3339(a.cleared_at)) : json(nullptr)},
            {"severity_at", a.severity_at ? json(format_rfc3339(a.severity_at)) : json(nullptr)}};
  const AlertFollowUp& f = a.follow_up;
  j["acknowledged"] = f.acknowledged_at ? json{{"at", format_rfc3339(f.acknowledged_at)},
                                               {"by", f.acknowledged_by},
                                               {"sector", f.acknowledged_sector}}
                                        : json(nullptr);
  j["escalated_to"] = f.escalated_to;
  j["escalated_at"] = f.escalated_at ? json(format_rfc3339(f.escalated_at)) : json(nullptr);
  j["closed"] = f.closed_at ? json{{"at", format_rfc3339(f.closed_at)},
                                   {"by", f.closed_by},
                                   {"sector", f.closed_sector},
                                   {"note", f.close_note}}
                            : json(nullptr);
  if (!a.din.empty()) {
    j["din"] = a.din;
    j["product"] = a.product;
  }
  if (!a.reagent.empty()) {
    j["reagent"] = a.reagent;
    if (!a.lot.empty()) j["lot"] = a.lot;
  }
  if (!a.notify.empty()) j["notify"] = a.notify;
  if (a.ministry) j["ministry"] = true;
  if (const Governorate* g = ref.governorate(a.governorate)) {
    j["governorate_name_en"] = g->name_en;
    j["governorate_name_ar"] = g->name_ar;
  }
  if (const Facility* f = ref.facility(a.facility)) {
    j["facility_name_en"] = f->name_en;
    j["facility_name_ar"] = f->name_ar;
  }
  return j;
}

json change_json(const AlertChange& c, const ReferenceData& ref) {
  return {{"seq", c.seq}, {"action", c.action}, {"alert", alert_json(c.alert, ref)}};
}

Result<Alert> alert_from_json(const json& j) {
  Alert a;
  auto bad = [] { return make_error("corrupt_state", "A stored alert is damaged."); };
  try {
    a.id = j.at("id").get<std::string>();
    a.key = j.at("key").get<std::string>();
    if (!parse_alert_kind(j.at("kind").get<std::string>(), a.kind) ||
        !parse_severity(j.at("severity").get<std::string>(), a.severity)) {
      return bad();
    }
    a.governorate = j.at("governorate").get<std::string>();
    a.facility = j.at("facility").is_null() ? "" : j.at("facility").get<std::string>();
    if (!parse_category(j.at("category").get<std::string>(), a.category) &&
        j.at("category").get<std::string>() != "unknown") {
      return bad();
    }
    a.group = parse_abo_rh(j.at("abo_rh").get<std::string>()).value_or(AboRh::unknown);
    a.din = j.value("din", "");
    a.product = j.value("product", "");
    a.reagent = j.value("reagent", "");
    a.lot = j.value("lot", "");
    if (j.contains("notify")) a.notify = j.at("notify").get<std::vector<std::string>>();
    a.ministry = j.value("ministry", false);
    a.figures = j.at("figures");
    a.message = j.at("message").get<std::string>();
    auto time = [&](const char* k, TimeMs& out) {
      if (j.at(k).is_null()) return true;
      auto t = parse_rfc3339(j.at(k).get<std::string>());
      if (!t) return false;
      out = *t;
      return true;
    };
    if (!time("raised_at", a.raised_at) || !time("updated_at", a.updated_at) ||
        !time("cleared_at", a.cleared_at)) {
      return bad();
    }
    // Follow-up keys came later: an alert stored before them has none.
    auto opt_time = [&](const json& o, const char* k, TimeMs& out) {
      if (!o.contains(k) || o.at(k).is_null()) return true;
      auto t = parse_rfc3339(o.at(k).get<std::string>());
      if (!t) return false;
      out = *t;
      return true;
    };
    AlertFollowUp& f = a.follow_up;
    if (!opt_time(j, "severity_at", a.severity_at) ||
        !opt_time(j, "escalated_at", f.escalated_at)) {
      return bad();
    }
    if (j.contains("acknowledged") && j.at("acknowledged").is_object()) {
      const json& k = j.at("acknowledged");
      if (!opt_time(k, "at", f.acknowledged_at)) return bad();
      f.acknowledged_by = k.value("by", "");
      f.acknowledged_sector = k.value("sector", "");
    }
    if (j.contains("escalated_to") && j.at("escalated_to").is_array()) {
      f.escalated_to = j.at("escalated_to").get<std::vector<std::string>>();
    }
    if (j.contains("closed") && j.at("closed").is_object()) {
      const json& k = j.at("closed");
      if (!opt_time(k, "at", f.closed_at)) return bad();
      f.closed_by = k.value("by", "");
      f.closed_sector = k.value("sector", "");
      f.close_note = k.value("note", "");
    }
  } catch (const json::exception&) {
    return bad();
  }
  return a;
}

AlertModel::AlertModel(const ReferenceData& ref, SupplyConfig config)
    : ref_(ref), config_(std::move(config)) {}

std::string AlertModel::governorate_of(const std::string& facility) const {
  const Facility* f = ref_.facility(facility);
  return f ? f->governorate : std::string("unknown");
}

void AlertModel::on_stock(const StockKey& key, std::int64_t change) {
  if (key.status != UnitStatus::available || change == 0) return;
  if ((available_[key] += change) == 0) available_.erase(key);
}

void AlertModel::on_demand(const DemandKey& key, std::int64_t change) {
  if (key.day < first_needed_day() || change == 0) return;
  if ((demand_[key] += change) == 0) demand_.erase(key);
}

void AlertModel::on_index(const IndexEntry& entry, bool added) {
  if (entry.kind == 'a') {
    auto u = parse_available(entry.key, entry.value);
    if (!u) return;
    const auto id = std::make_pair(u->din, u->product);
    if (added && u->expires_at > window_end_) return;  // beyond the window: read when it gets there
    if (added) {
      hold(std::move(*u));
    } else {
      expiring_order_.erase({u->expires_at, u->din, u->product});
      available_units_.erase(id);
    }
  } else if (entry.kind == 'q') {
    if (added)
      attention_[entry.key] = entry.value;
    else
      attention_.erase(entry.key);
  } else if (entry.kind == 'k') {
    auto r = parse_recall(entry.key, entry.value);
    if (!r) return;
    const auto id = std::make_pair(r->din, r->product);
    if (added)
      recalls_[id] = std::move(*r);
    else
      recalls_.erase(id);
  } else if (entry.kind == 'b') {
    if (!added) {
      watches_.erase(entry.key);
    } else if (auto w = parse_watch(entry.key, entry.value)) {
      watches_[entry.key] = std::move(*w);
    }
  }
}

void AlertModel::set_reagent_lot(const ReagentLot& lot) {
  const std::string key = reagent_lot_key(lot.reagent, lot.lot);
  if (lot.expired || lot.on_hand.empty())
    lots_.erase(key);
  else
    lots_[key] = lot;
}

void AlertModel::on_reagent_usage(const ReagentUsageKey& key, std::int64_t change) {
  if (key.day < first_needed_day() || change == 0) return;
  if ((reagent_usage_[key] += change) == 0) reagent_usage_.erase(key);
}

void AlertModel::advance_clock(TimeMs t) { clock_ = std::max(clock_, t); }

TimeMs AlertModel::expiring_horizon() const {
  int hours = 0;
  for (Category c : {Category::whole_blood, Category::red_cells, Category::platelets,
                     Category::plasma, Category::cryo}) {
    hours = std::max(hours, config_.expiring_hours_for(c));
  }
  return hours * kHour;
}

Status AlertModel::bound_units(const AvailableUnitsSource& committed) {
  const TimeMs end = clock_ + expiring_horizon() + kUnitWindowStep;
  auto units = committed(std::numeric_limits<TimeMs>::min(), end);
  if (!units) return units.error();
  window_end_ = end;
  while (!expiring_order_.empty() && std::get<0>(*expiring_order_.rbegin()) > end) {
    const auto& [expires, din, product] = *expiring_order_.rbegin();
    available_units_.erase({din, product});
    expiring_order_.erase(std::prev(expiring_order_.end()));
  }
  for (auto& u : *units) hold(std::move(u));
  return {};
}

Status AlertModel::widen_units(TimeMs clock, const AvailableUnitsSource& committed) {
  const TimeMs needed = std::max(clock, clock_) + expiring_horizon();
  if (needed <= window_end_) return {};
  const TimeMs end = needed + kUnitWindowStep;
  auto units = committed(window_end_, end);
  if (!units) return units.error();
  window_end_ = end;
  for (auto& u : *units) hold(std::move(u));
  return {};
}

void AlertModel::hold(AvailableUnit u) {
  expiring_order_.emplace(u.expires_at, u.din, u.product);
  auto id = std::make_pair(u.din, u.product);
  available_units_[std::move(id)] = std::move(u);
}

std::int64_t AlertModel::first_needed_day() const {
  return window_before(clock_, std::max(config_.window_days, config_.demand_memory_days)).first;
}

void AlertModel::restore(std::map<std::string, Alert> open, std::uint64_t seq, TimeMs clock) {
  open_ = std::move(open);
  seq_ = seq;
  clock_ = clock;
  follow_ups_.clear();
  follow_up_keys_.clear();
}

Status AlertModel::follow_up(const Event& e) {
  auto it = std::find_if(open_.begin(), open_.end(),
                         [&](const auto& kv) { return kv.second.id == e.alert; });
  if (it == open_.end()) {
    return make_error("unknown_alert",
                      "No open alert " + e.alert + "; it may have cleared already.");
  }
  Alert& a = it->second;
  AlertFollowUp& f = a.follow_up;
  if (f.closed_at) {
    return make_error("alert_closed", "Alert " + e.alert + " was closed by " + f.closed_by + ".");
  }
  std::string action;
  if (e.type == EventType::alert_acknowledged) {
    if (f.acknowledged_at) {
      return make_error("already_acknowledged", "Alert " + e.alert + " was acknowledged by " +
                                                    f.acknowledged_by + " already.");
    }
    f.acknowledged_at = e.at;
    f.acknowledged_by = e.actor;
    f.acknowledged_sector = e.sector;
    action = "acknowledged";
  } else if (e.type == EventType::alert_escalated) {
    if (f.acknowledged_at) {
      return make_error("already_acknowledged", "Alert " + e.alert +
                                                    " was acknowledged before it was due to "
                                                    "escalate.");
    }
    if (std::find(f.escalated_to.begin(), f.escalated_to.end(), e.to) != f.escalated_to.end()) {
      return make_error("already_escalated",
                        "Alert " + e.alert + " was passed to " + e.to + " already.");
    }
    f.escalated_to.push_back(e.to);
    f.escalated_at = e.at;
    action = "referred";
  } else if (e.type == EventType::alert_closed) {
    f.closed_at = e.at;
    f.closed_by = e.actor;
    f.closed_sector = e.sector;
    f.close_note = e.reason;
    action = "closed";
  } else {
    return make_error("unexpected_event", "Not an alert follow-up event.");
  }
  a.updated_at = std::max(a.updated_at, e.at);
  follow_ups_.push_back({0, action, a});
  follow_up_keys_.insert(it->first);
  return {};
}

void AlertModel::change(std::vector<AlertChange>& out, const std::string& key,
                        std::optional<Alert> wanted) {
  auto it = open_.find(key);
  if (!wanted) {
    if (it == open_.end()) return;
    Alert a = std::move(it->second);
    open_.erase(it);
    dirty_.insert(key);
    // A closed alert was answered already: its condition ends quietly.
    if (a.follow_up.closed_at) return;
    a.cleared_at = clock_;
    a.updated_at = clock_;
    out.push_back({++seq_, "cleared", std::move(a)});
    return;
  }
  Alert& w = *wanted;
  w.key = key;
  if (it == open_.end()) {
    w.raised_at = w.updated_at = w.severity_at = clock_;
    w.id = "AL-" + std::to_string(seq_ + 1);
    out.push_back({++seq_, "raised", w});
    open_.emplace(key, std::move(w));
    dirty_.insert(key);
    return;
  }
  Alert& a = it->second;
  if (a.severity == w.severity && a.figures == w.figures && a.message == w.message &&
      a.ministry == w.ministry && a.notify == w.notify) {
    return;
  }
  const bool to_ministry = w.ministry && !a.ministry;
  const bool severity_changed = a.severity != w.severity || to_ministry;
  const std::string action = w.severity > a.severity || to_ministry ? "escalated" : "eased";
  w.id = a.id;
  w.raised_at = a.raised_at;
  w.updated_at = clock_;
  w.severity_at = severity_changed ? clock_ : a.severity_at;
  w.follow_up = std::move(a.follow_up);
  a = std::move(w);
  dirty_.insert(key);
  // Figures alone move quietly; a change of severity is news (but not of a
  // closed alert, which people have answered).
  if (severity_changed && !a.follow_up.closed_at) out.push_back({++seq_, action, a});
}

std::vector<AlertChange> AlertModel::evaluate() {
  std::vector<AlertChange> out;
  dirty_ = std::move(follow_up_keys_);
  follow_up_keys_.clear();
  // The follow-up events of the batch first, in the order they were applied.
  for (auto& c : follow_ups_) {
    c.seq = ++seq_;
    out.push_back(std::move(c));
  }
  follow_ups_.clear();
  Wanted wanted;
  for (const auto& [key, a] : open_) wanted[key] = std::nullopt;  // cleared unless still true

  while (!demand_.empty() && demand_.begin()->first.day < first_needed_day()) {
    demand_.erase(demand_.begin());
  }
  const SupplyPicture supply = supply_picture(available_, demand_, ref_, clock_,
                                              config_.window_days, config_.demand_memory_days);
  want_supply_phases(supply, wanted);
  want_expiring_soon(supply, wanted);
  want_recalls(wanted);
  while (!reagent_usage_.empty() && reagent_usage_.begin()->first.day < first_needed_day()) {
    reagent_usage_.erase(reagent_usage_.begin());
  }
  want_reagent_expiring(wanted);
  want_reagent_cover(wanted);
  want_deferred_donors(wanted);
  want_typing_discrepancies(wanted);
  want_positive_after_release(wanted);
  want_recipient_notifications(wanted);
  want_bedside(wanted);

  for (auto& [key, a] : wanted) change(out, key, std::move(a));
  return out;
}

// Phases per governorate, category and group.
void AlertModel::want_supply_phases(const SupplyPicture& supply, Wanted& wanted) const {
  const int window = config_.window_days;
  std::set<SupplyCell> phase_cells;
  for (const auto& [cell, s] : supply.governorates) {
    if (s.consumed > 0 || stock_out(s)) phase_cells.insert(cell);
  }
  for (const auto& [key, a] : open_) {
    if (a.kind == AlertKind::supply_phase) phase_cells.insert({a.governorate, a.category, a.group});
  }
  for (const auto& cell : phase_cells) {
    const auto& [gov, category, group] = cell;
    if (category == Category::unknown || group == AboRh::unknown) continue;
    const std::string key = "supply_phase|" + gov + "|" + std::string(to_string(category)) + "|" +
                            std::string(to_string(group));
    const Supply s = supply.governorate(gov, category, group);
    const auto days = s.days(window);
    const auto t = config_.thresholds_for(category);
    auto open = open_.find(key);
    const Phase current =
        open == open_.end() ? Phase::green : phase_of_severity(open->second.severity);
    // A stock-out of a group still in demand is Red, however long it lasts.
    const bool out = stock_out(s);
    const Phase next = out ? Phase::red : next_phase(current, days, t, config_.recover_factor);
    if (next == Phase::green) continue;  // stays in `wanted` as nullopt: cleared
    Alert a;
    a.kind = AlertKind::supply_phase;
    a.severity = severity_of_phase(next);
    a.governorate = gov;
    a.category = category;
    a.group = group;
    a.figures = {{"phase", std::string(to_string(next))},
                 {"available", s.available},
                 {"daily_demand", round_to(s.daily_demand(window), 100)},
                 {"days_of_supply", days ? json(round_to(*days, 10)) : json(nullptr)},
                 {"window_days", window},
                 {"stock_out", out},
                 {"demand_memory_days", config_.demand_memory_days},
                 {"thresholds", {{"pre_amber", t.pre_amber}, {"amber", t.amber}, {"red", t.red}}}};
    const Governorate* g = ref_.governorate(gov);
    a.message =
        what(category, group) + " in " + (g ? g->name_en : gov) + ": " +
        (out && !days ? std::string("out of stock, with demand in the last ") +
                            std::to_string(config_.demand_memory_days) + " days"
                      : (days ? one_decimal(*days) : std::string("0")) + " days of supply") +
        " (" + phase_title(next) + ").";
    wanted[key] = std::move(a);
  }
}

namespace {

// Where expiring units could go: the neediest blood bank nearby, the one with
// the fewest days of supply below Pre-Amber. `suggestion` is null if none is.
struct Suggestion {
  json suggestion = nullptr;
  std::optional<double> best;  // its days of supply
};

Suggestion neediest_nearby(const ReferenceData& ref, const SupplyPicture& supply,
                           const std::string& facility, const std::string& gov, Category category,
                           AboRh group, const SupplyThresholds& t, int window) {
  Suggestion out;
  for (const auto& other : ref.facilities()) {
    if (other.code == facility || other.kind != FacilityKind::blood_bank) continue;
    if (other.governorate != gov && !ref.are_neighbours(other.governorate, gov)) continue;
    if (!supply.facilities.count({other.code, category, group})) continue;
    const auto days = supply.facility(other.code, category, group).days(window);
    if (!days || *days >= t.pre_amber || (out.best && *days >= *out.best)) continue;
    out.best = days;
    out.suggestion = {{"to", other.code},
                      {"governorate", other.governorate},
                      {"days_of_supply", round_to(*days, 10)},
                      {"phase", std::string(to_string(phase_of(days, t)))}};
  }
  return out;
}

}  // namespace

// Units expiring soon, per facility, category and group.
void AlertModel::want_expiring_soon(const SupplyPicture& supply, Wanted& wanted) const {
  const TimeMs horizon = expiring_horizon();
  if (clock_ + horizon > window_end_) {
    // A caller bug (widen_units skipped): alerts would silently miss units.
    throw std::logic_error("alert model: clock moved past its window of available units");
  }
  struct Expiring {
    std::int64_t units = 0;
    TimeMs soonest = 0;
  };
  std::map<Cell, Expiring> expiring;
  for (auto it = expiring_order_.upper_bound({clock_, "\x7f", "\x7f"});
       it != expiring_order_.end() && std::get<0>(*it) <= clock_ + horizon; ++it) {
    const AvailableUnit& u = available_units_.at({std::get<1>(*it), std::get<2>(*it)});
    if (u.expires_at <= clock_ ||
        u.expires_at > clock_ + config_.expiring_hours_for(u.category) * kHour) {
      continue;
    }
    Expiring& e = expiring[{u.facility, u.category, u.group}];
    if (e.units++ == 0) e.soonest = u.expires_at;
  }
  for (const auto& [cell, e] : expiring) {
    const auto& [facility, category, group] = cell;
    const std::string gov = governorate_of(facility);
    const auto [suggestion, best] =
        neediest_nearby(ref_, supply, facility, gov, category, group,
                        config_.thresholds_for(category), config_.window_days);
    const int hours = config_.expiring_hours_for(category);
    Alert a;
    a.kind = AlertKind::expiring_soon;
    a.severity = Severity::amber;
    a.governorate = gov;
    a.facility = facility;
    a.category = category;
    a.group = group;
    a.figures = {{"units", e.units},
                 {"soonest_expires_at", format_rfc3339(e.soonest)},
                 {"horizon_hours", hours},
                 {"suggestion", suggestion}};
    const Facility* f = ref_.facility(facility);
    a.message = std::to_string(e.units) + " " + what(category, group) + " unit" +
                (e.units == 1 ? "" : "s") + " at " + (f ? f->name_en : facility) +
                " expire within " + std::to_string(hours) + " h (first at " +
                format_rfc3339(e.soonest) + ")";
    if (best) {
      const std::string to_code = suggestion["to"].get<std::string>();
      const Facility* to = ref_.facility(to_code);
      a.message += "; suggested transfer to " + (to ? to->name_en : to_code) + " (" +
                   one_decimal(*best) + " days of supply)";
    }
    a.message += ".";
    wanted["expiring_soon|" + facility + "|" + std::string(to_string(category)) + "|" +
           std::string(to_string(group))] = std::move(a);
  }
}

// Open lookback recalls; overdue ones are red.
void AlertModel::want_recalls(Wanted& wanted) const {
  for (const auto& [id, r] : recalls_) {
    const bool overdue = clock_ > r.deadline;
    Alert a;
    a.kind = AlertKind::recall;
    a.severity = overdue ? Severity::red : Severity::amber;
    a.governorate = governorate_of(r.holder);
    a.facility = r.holder;
    a.category = r.category;
    a.group = r.group;
    a.din = r.din;
    a.product = r.product;
    a.figures = {{"deadline", format_rfc3339(r.deadline)}, {"overdue", overdue}, {"test", r.test}};
    const Facility* f = ref_.facility(r.holder);
    a.message = std::string(overdue ? "OVERDUE recall: unit " : "Recall: unit ") + r.din + " " +
                r.product + " (" + what(r.category, r.group) + ") held by " +
                (f ? f->name_en : r.holder) + " must be retrieved and discarded by " +
                format_rfc3339(r.deadline) + ": the donor later screened positive for " + r.test +
                ".";
    wanted["recall|" + r.din + "|" + r.product] = std::move(a);
  }
}

// Laboratory reagent lots expiring soon, per facility holding some.
void AlertModel::want_reagent_expiring(Wanted& wanted) const {
  for (const auto& [key, lot] : lots_) {
    const ReagentDef* def = ref_.reagents().find(lot.reagent);
    for (const auto& [facility, q] : lot.on_hand) {
      if (!def || lot.expires_at <= clock_ ||
          lot.expires_at > clock_ + def->expiry_warning_days * kDay) {
        continue;
      }
      Alert a;
      a.kind = AlertKind::reagent_expiring;
      a.severity = Severity::amber;
      a.governorate = governorate_of(facility);
      a.facility = facility;
      a.reagent = lot.reagent;
      a.lot = lot.lot;
      a.figures = {{"on_hand", q},
                   {"unit", def->unit},
                   {"expires_at", format_rfc3339(lot.expires_at)},
                   {"warning_days", def->expiry_warning_days}};
      const Facility* f = ref_.facility(facility);
      a.message = "Lot " + lot.lot + " of " + def->name + " at " + (f ? f->name_en : facility) +
                  " (" + std::to_string(q) + " " + def->unit + ") expires on " +
                  format_rfc3339(lot.expires_at) + ".";
      wanted["reagent_expiring|" + facility + "|" + lot.reagent + "|" + lot.lot] = std::move(a);
    }
  }
}

// Laboratory reagents: days of cover per facility and reagent.
void AlertModel::want_reagent_cover(Wanted& wanted) const {
  const int window = config_.window_days;
  // The lots by reference (std::views::values does not build with clang 14
  // and libstdc++ 12, the fuzz build).
  std::vector<std::reference_wrapper<const ReagentLot>> held;
  held.reserve(lots_.size());
  for (const auto& [key, lot] : lots_) held.emplace_back(lot);
  for (const auto& [cell, c] : reagent_cover(held, reagent_usage_, clock_, window)) {
    const auto& [facility, reagent] = cell;
    const ReagentDef* def = ref_.reagents().find(reagent);
    if (!def || !c.days || def->min_cover_days <= 0) continue;
    const std::string key = "reagent_cover|" + facility + "|" + reagent;
    const std::int64_t have = c.usable;
    const double cover = *c.days;
    const double min = def->min_cover_days;
    auto open = open_.find(key);
    // Hysteresis as for supply: once raised, it clears only past the margin.
    const double clear_at = open == open_.end() ? min : min * config_.recover_factor;
    if (cover >= clear_at) continue;
    Alert a;
    a.kind = AlertKind::reagent_cover;
    a.severity = have == 0 || cover < min / 2 ? Severity::red : Severity::amber;
    a.governorate = governorate_of(facility);
    a.facility = facility;
    a.reagent = reagent;
    a.figures = {{"on_hand", have},
                 {"unit", def->unit},
                 {"daily_use", round_to(c.daily_use(window), 100)},
                 {"days_of_cover", round_to(cover, 10)},
                 {"min_cover_days", def->min_cover_days},
                 {"window_days", window}};
    const Facility* f = ref_.facility(facility);
    a.message = def->name + " at " + (f ? f->name_en : facility) + ": " + one_decimal(cover) +
                " days of cover left (" + std::to_string(have) + " " + def->unit +
                "), under the minimum of " + std::to_string(def->min_cover_days) + " days.";
    wanted[key] = std::move(a);
  }
}

std::vector<Attention> AlertModel::attention(std::string_view what) const {
  std::vector<Attention> out;
  const std::string prefix = std::string(what) + "|";
  for (auto it = attention_.lower_bound(prefix);
       it != attention_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (auto a = parse_attention(it->first, it->second)) out.push_back(std::move(*a));
  }
  return out;
}

namespace {

std::string facility_name(const ReferenceData& ref, const std::string& code) {
  const Facility* f = ref.facility(code);
  return f ? f->name_en : code;
}

// "E0336V00 (red cells, issued), ..." for a 'q' entry's units.
std::string units_text(const json& units) {
  std::string text;
  for (const auto& u : units) {
    std::string cat = u.value("category", "");
    std::replace(cat.begin(), cat.end(), '_', ' ');
    text += (text.empty() ? "" : ", ") + u.value("product", "") + " (" + cat + ", " +
            u.value("status", "") + ")";
  }
  return text;
}

// The alert's common part from a 'q' entry: kind, severity, where, which donation.
Alert attention_alert(AlertKind kind, Severity severity, const Attention& q,
                      const std::string& governorate) {
  Alert a;
  a.kind = kind;
  a.severity = severity;
  a.facility = q.data.value("facility", "");
  a.governorate = governorate;
  a.group = parse_abo_rh(q.data.value("group", "")).value_or(AboRh::unknown);
  a.din = q.din;
  return a;
}

}  // namespace

// A collection from a deferred donor: the bank is told; the components are
// blocked for good and must be discarded.
void AlertModel::want_deferred_donors(Wanted& wanted) const {
  for (const auto& q : attention("deferred")) {
    Alert a = attention_alert(AlertKind::deferred_donor_collected, Severity::red, q,
                              governorate_of(q.data.value("facility", "")));
    const auto until = q.data.value("until", TimeMs{0});
    a.figures = {{"donor", q.data.value("donor", "")},
                 {"reason", q.data.value("reason", "")},
                 {"until", until ? json(format_rfc3339(until)) : json(nullptr)}};
    a.message = "Donation " + q.din + " at " + facility_name(ref_, a.facility) +
                " was collected from donor " + q.data.value("donor", "") + ", who is deferred (" +
                q.data.value("reason", "") + (until ? ", until " + format_rfc3339(until) : "") +
                "): every component is quarantined for good and must be discarded.";
    wanted["deferred_donor_collected|" + q.din] = std::move(a);
  }
}

// Typings that disagree: every component is held until the laboratory resolves it.
void AlertModel::want_typing_discrepancies(Wanted& wanted) const {
  for (const auto& q : attention("typing")) {
    Alert a = attention_alert(AlertKind::typing_discrepancy, Severity::red, q,
                              governorate_of(q.data.value("facility", "")));
    a.figures = {{"discrepancy", q.data.value("discrepancy", "")},
                 {"units", q.data.value("units", json::array())}};
    a.message = "Typing discrepancy on donation " + q.din + " (" + q.data.value("discrepancy", "") +
                "): every component is held until the laboratory resolves it.";
    wanted["typing_discrepancy|" + q.din] = std::move(a);
  }
}

// A marker that blocked a donation after some of its units were released:
// every facility still holding one is told which.
void AlertModel::want_positive_after_release(Wanted& wanted) const {
  for (const auto& q : attention("positive")) {
    Alert a = attention_alert(AlertKind::positive_after_release, Severity::red, q,
                              governorate_of(q.rest));
    const json units = q.data.value("units", json::array());
    std::string markers;
    for (const auto& m : q.data.value("markers", json::array())) {
      markers += (markers.empty() ? "" : ", ") + m.get<std::string>();
    }
    a.figures = {{"markers", q.data.value("markers", json::array())}, {"units", units}};
    a.message = "Donation " + q.din + " is blocked for good (" + markers +
                ") after release: " + facility_name(ref_, q.rest) + " holds " + units_text(units) +
                "; quarantine and return or discard them now.";
    wanted["positive_after_release|" + q.din + "|" + q.rest] = std::move(a);
  }
}

// A recalled unit that reached a patient: the transfusing facility must
// trace and notify the recipient by the deadline.
void AlertModel::want_recipient_notifications(Wanted& wanted) const {
  for (const auto& q : attention("notify")) {
    const auto deadline = q.data.value("deadline", TimeMs{0});
    const bool overdue = clock_ > deadline;
    Alert a = attention_alert(AlertKind::recipient_notification,
                              overdue ? Severity::red : Severity::amber, q,
                              governorate_of(q.data.value("facility", "")));
    a.product = q.rest;
    parse_category(q.data.value("category", ""), a.category);
    const std::string patient = q.data.value("patient", "");
    a.figures = {{"deadline", format_rfc3339(deadline)},
                 {"overdue", overdue},
                 {"test", q.data.value("test", "")},
                 {"patient", patient.empty() ? json(nullptr) : json(patient)}};
    a.message = std::string(overdue ? "OVERDUE: " : "") + "the recipient of unit " + q.din + " " +
                q.rest + (patient.empty() ? "" : " (patient " + patient + ")") +
                ", transfused at " + facility_name(ref_, a.facility) + ", must be notified by " +
                format_rfc3339(deadline) + ": the donor later tested positive for " +
                q.data.value("test", "") + ".";
    wanted["recipient_notification|" + q.din + "|" + q.rest] = std::move(a);
  }
}

namespace {

json or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

// The common part of a bedside alert: the unit, its holder and the bank that
// issued it (told too).
Alert AlertModel::bedside_alert(const Watch& w, AlertKind kind) const {
  Alert a;
  a.kind = kind;
  a.severity = Severity::amber;
  a.governorate = governorate_of(w.holder);
  a.facility = w.holder;
  a.category = w.category;
  a.group = w.group;
  a.din = w.din;
  a.product = w.product;
  if (!w.issuer.empty() && w.issuer != w.holder) a.notify.push_back(w.issuer);
  a.figures = {{"issuer", or_null(w.issuer)}, {"patient", or_null(w.patient)}};
  return a;
}

// Units issued to hospitals and their fate, emergency releases, RhD
// exceptions, reactions and the components they hold.
void AlertModel::want_bedside(Wanted& wanted) const {
  for (const auto& [key, w] : watches_) {
    const std::string unit = w.din + " " + w.product + " (" + what(w.category, w.group) + ")";
    const std::string holder = facility_name(ref_, w.holder);
    const std::string issuer = facility_name(ref_, w.issuer);
    switch (w.concern) {
      case 'f': {
        const TimeMs deadline = w.at + config_.fate_hours * kHour;
        if (clock_ <= deadline) break;
        Alert a = bedside_alert(w, AlertKind::unknown_fate);
        a.figures["issued_at"] = format_rfc3339(w.at);
        a.figures["deadline"] = format_rfc3339(deadline);
        a.figures["fate_hours"] = config_.fate_hours;
        a.message = "Unknown fate: unit " + unit + " issued by " + issuer + " to " + holder +
                    " at " + format_rfc3339(w.at) + " has no recorded transfusion, return or " +
                    "discard after " + std::to_string(config_.fate_hours) + " h.";
        wanted["unknown_fate|" + w.din + "|" + w.product] = std::move(a);
        break;
      }
      case 'e': {
        Alert a = bedside_alert(w, AlertKind::emergency_release);
        a.severity = Severity::red;
        a.ministry = w.incompatible;
        a.figures["patient_group"] = w.patient_group == AboRh::unknown
                                         ? json(nullptr)
                                         : json(std::string(to_string(w.patient_group)));
        a.figures["incompatible"] = w.incompatible;
        a.message = w.incompatible
                        ? "INCOMPATIBLE emergency release: unit " + unit + " given at " + holder +
                              " to a " + std::string(to_string(w.patient_group)) +
                              " patient; report the outcome (transfusion reaction) at once."
                        : "Emergency release: unit " + unit + " issued by " + issuer + " to " +
                              holder + " before the patient's group was known; record the " +
                              "patient's group.";
        wanted["emergency_release|" + w.din + "|" + w.product] = std::move(a);
        break;
      }
      case 'r': {
        Alert a = bedside_alert(w, AlertKind::rhd_exception);
        a.figures["patient_group"] = std::string(to_string(w.patient_group));
        a.message = "RhD exception: unit " + unit + " issued by " + issuer + " to " + holder +
                    " for a " + std::string(to_string(w.patient_group)) +
                    " patient with approval; anti-D follow-up may be needed.";
        wanted["rhd_exception|" + w.din + "|" + w.product] = std::move(a);
        break;
      }
      case 'h': {
        const TimeMs until = w.at + config_.reaction_review_days * kDay;
        if (clock_ > until) break;
        Alert a = bedside_alert(w, AlertKind::transfusion_reaction);
        a.severity = is_serious(w.severity) ? Severity::red : Severity::amber;
        a.ministry = true;
        a.figures["reaction"] = std::string(to_string(w.reaction));
        a.figures["severity"] = std::string(to_string(w.severity));
        a.figures["imputability"] = std::string(to_string(w.imputability));
        a.figures["onset_at"] = format_rfc3339(w.onset_at);
        a.figures["reported_at"] = format_rfc3339(w.at);
        a.figures["review_until"] = format_rfc3339(until);
        a.figures["event_id"] = w.event_id;
        a.message = "Transfusion reaction at " + holder + ": " + std::string(label(w.severity)) +
                    " " + std::string(label(w.reaction)) + " (imputability " +
                    std::string(to_string(w.imputability)) + ") after unit " + unit +
                    " issued by " + issuer + ".";
        wanted["transfusion_reaction|" + w.event_id] = std::move(a);
        break;
      }
      case 'q': {
        Alert a = bedside_alert(w, AlertKind::haemovigilance_hold);
        a.severity = Severity::red;
        a.figures["reaction"] = std::string(to_string(w.reaction));
        a.figures["cause_product"] = w.cause_product;
        a.figures["event_id"] = w.event_id;
        a.message = "Haemovigilance hold: unit " + unit + " held by " + holder +
                    " must not be used: component " + w.cause_product +
                    " of the same donation is suspected of " + std::string(label(w.reaction)) +
                    ". Quarantine it and await the investigation.";
        wanted["haemovigilance_hold|" + w.din + "|" + w.product] = std::move(a);
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace hemoledger
