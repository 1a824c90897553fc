#include "engine/queries/queries.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "events/binary_codec.h"
#include "events/json_codec.h"
#include "projections/compatibility.h"
#include "projections/demand.h"
#include "projections/projector.h"
#include "projections/supply.h"

namespace hemoledger {

using nlohmann::json;

json stock_json(const StockTable& stock, const StockFilter& filter, const ReferenceData& ref) {
  std::int64_t total = 0;
  json by_status = json::object();
  std::map<std::string, std::map<std::string, json>> tree;  // governorate -> facility -> stock
  std::map<std::string, std::int64_t> gov_total, fac_total;
  for (const auto& [k, n] : stock.select(filter, ref)) {
    const Facility* f = ref.facility(k.facility);
    const std::string gov = f ? f->governorate : "unknown";
    json& cell = tree[gov][k.facility];
    // Thawed plasma and cryo are counted apart: "thawed_plasma", "thawed_cryo".
    const std::string category = (k.thawed ? "thawed_" : "") + std::string(to_string(k.category));
    cell[category][std::string(to_string(k.group))][std::string(to_string(k.status))] = n;
    gov_total[gov] += n;
    fac_total[k.facility] += n;
    total += n;
    const std::string status(to_string(k.status));
    by_status[status] = by_status.value(status, 0) + n;
  }
  json govs = json::array();
  for (const auto& [gov_code, facilities] : tree) {
    const Governorate* g = ref.governorate(gov_code);
    json fac_list = json::array();
    for (const auto& [fac_code, cells] : facilities) {
      const Facility* f = ref.facility(fac_code);
      fac_list.push_back({{"code", fac_code},
                          {"name_en", f ? f->name_en : ""},
                          {"name_ar", f ? f->name_ar : ""},
                          {"kind", f ? std::string(to_string(f->kind)) : ""},
                          {"total", fac_total[fac_code]},
                          {"stock", cells}});
    }
    govs.push_back({{"code", gov_code},
                    {"name_en", g ? g->name_en : ""},
                    {"name_ar", g ? g->name_ar : ""},
                    {"total", gov_total[gov_code]},
                    {"facilities", fac_list}});
  }
  return {{"total", total}, {"by_status", by_status}, {"governorates", govs}};
}

Result<std::optional<Donation>> find_donation(const Store& store, std::string_view din) {
  for (auto p : store.partitions()) {
    auto d = store.donation(p, din);
    if (!d) return d.error();
    if (d->has_value()) return d;
  }
  return std::optional<Donation>();
}

namespace {

json result_json(const TestRecord& t) {
  json j = {{"result", t.result}, {"at", format_rfc3339(t.at)}, {"event_id", t.event_id}};
  if (t.method != TestMethod::unspecified) j["method"] = std::string(to_string(t.method));
  if (!t.facility.empty()) j["lab"] = t.facility;
  return j;
}

// Per test: every result in order ("results"), and the one that decides: for
// a screen that is reactive, its first reactive result (never a later
// negative repeat), with the screen's status; otherwise the latest.
json tests_json(const Donation& d, const ReferenceData& ref) {
  json tests = json::object();
  for (const auto& t : d.tests) {
    json& entry = tests[t.test];
    if (entry.is_null()) entry = {{"results", json::array()}};
    entry["results"].push_back(result_json(t));
  }
  for (auto it = tests.begin(); it != tests.end(); ++it) {
    const json& results = (*it)["results"];
    json decided = results.back();
    const MarkerState* m = d.marker(it.key());
    const TestDef* def = ref.test(it.key());
    if (m && def && m->status != MarkerStatus::non_reactive) {
      (*it)["status"] = std::string(to_string(m->status));
      for (const auto& r : results) {
        ScreenOutcome o;
        if (parse_screen_outcome(r.value("result", ""), o) && o != ScreenOutcome::negative) {
          decided = r;
          break;
        }
      }
    } else if (m) {
      (*it)["status"] = std::string(to_string(m->status));
    }
    for (const auto& [k, v] : decided.items()) (*it)[k] = v;
  }
  return tests;
}

std::string blocked_reason(const Donation& d) {
  if (d.tti_positive)
    return "repeatedly reactive or confirmed-positive screen: never to be released";
  if (!d.deferred_reason.empty()) {
    return "collected from a deferred donor (" + d.deferred_reason + "): never to be released";
  }
  return "recalled by a lookback: never to be released";
}

json recall_json(const Recall& r) {
  json j = {{"test", r.test},
            {"at", format_rfc3339(r.at)},
            {"deadline", format_rfc3339(r.deadline)},
            {"open", r.open}};
  if (r.notify_open || r.notified_at) {
    j["recipient_notification"] = {
        {"transfused_by", r.transfused_by},
        {"deadline", format_rfc3339(r.notify_deadline)},
        {"patient", r.patient.empty() ? json(nullptr) : json(r.patient)},
        {"notified_at", r.notified_at ? json(format_rfc3339(r.notified_at)) : json(nullptr)}};
  }
  return j;
}

}  // namespace

json donation_json(const Donation& d, const std::string& product, const ReferenceData& ref) {
  json units = json::array();
  for (const auto& u : d.units) {
    if (!product.empty() && u.product != product) continue;
    const Product* p = ref.product(u.product);
    json j = {{"product", u.product},
              {"description", p ? p->description : ""},
              {"category", std::string(to_string(u.category))},
              {"status", std::string(to_string(u.status))},
              {"holder", u.holder},
              {"abo_rh", std::string(to_string(d.group()))},
              {"produced_at", format_rfc3339(u.produced_at)},
              {"expires_at", format_rfc3339(u.expires_at)}};
    if (!u.destination.empty()) j["destination"] = u.destination;
    if (u.volume_ml) j["volume_ml"] = u.volume_ml;
    if (u.reserved_for != AboRh::unknown)
      j["reserved_for"] = std::string(to_string(u.reserved_for));
    if (u.tti_blocked) j["blocked"] = blocked_reason(d);
    if (u.hv_hold) j["blocked"] = "haemovigilance hold: a sibling component's reaction";
    if (const Recall* r = d.recall(u.product)) j["recall"] = recall_json(*r);
    if (!u.issued_by.empty()) j["issued_by"] = u.issued_by;
    if (u.issued_at != 0 &&
        (u.status == UnitStatus::issued || u.status == UnitStatus::transfused)) {
      j["issued_at"] = format_rfc3339(u.issued_at);
    }
    if (!u.patient.empty()) j["patient"] = u.patient;
    if (u.patient_group != AboRh::unknown) {
      j["patient_abo_rh"] = std::string(to_string(u.patient_group));
    }
    if (u.emergency) j["emergency_release"] = true;
    if (u.group_incompatible) j["incompatible"] = true;
    if (u.rhd_exception) j["rhd_exception"] = true;
    if (u.thawed_at != 0) j["thawed_at"] = format_rfc3339(u.thawed_at);
    units.push_back(std::move(j));
  }
  if (!product.empty() && units.empty()) return nullptr;
  json tests = tests_json(d, ref);
  json history = json::array();
  for (const auto& h : d.history) {
    if (!product.empty() && !h.product.empty() && h.product != product) continue;
    json j = {{"event_id", h.event_id},
              {"type", std::string(to_string(h.type))},
              {"at", format_rfc3339(h.at)},
              {"facility", h.facility}};
    if (!h.product.empty()) j["product"] = h.product;
    if (!h.detail.empty()) j["detail"] = h.detail;
    history.push_back(std::move(j));
  }
  json reactions = json::array();
  for (const auto& r : d.reactions) {
    if (!product.empty() && r.product != product) continue;
    reactions.push_back({{"event_id", r.event_id},
                         {"product", r.product},
                         {"reported_by", r.reported_by},
                         {"issued_by", r.issued_by},
                         {"patient", r.patient},
                         {"at", format_rfc3339(r.at)},
                         {"onset_at", format_rfc3339(r.onset_at)},
                         {"reaction", std::string(to_string(r.category))},
                         {"severity", std::string(to_string(r.severity))},
                         {"imputability", std::string(to_string(r.imputability))},
                         {"held", r.held}});
  }
  const std::string missing = missing_for_release(ref, d);
  json out = {{"din", d.din},
              {"donor", d.donor},
              {"collected_at", format_rfc3339(d.collected_at)},
              {"collected_by", d.facility},
              {"abo_rh", std::string(to_string(d.group()))},
              {"labelled_abo_rh", std::string(to_string(d.declared))},
              {"screen_positive", d.tti_positive},
              {"typing_discrepancy", d.typing_discrepancy ? json(d.discrepancy) : json(nullptr)},
              {"deferred_donor",
               d.deferred_reason.empty()
                   ? json(nullptr)
                   : json{{"reason", d.deferred_reason},
                          {"until", d.deferred_until ? json(format_rfc3339(d.deferred_until))
                                                     : json(nullptr)}}},
              {"release_waits_for", missing.empty() ? json(nullptr) : json(missing)},
              {"tests", tests},
              {"units", units},
              {"reactions", reactions},
              {"history", history}};
  if (!product.empty()) out["unit"] = units.front();
  return out;
}

Result<json> issued_json(const Store& store, const ReferenceData& ref, const std::string& issuer,
                         bool overdue_only, TimeMs now, int fate_hours) {
  if (!ref.facility(issuer)) return make_error("bad_filter", "Unknown facility " + issuer + ".");
  auto units = store.issued_by(issuer);
  if (!units) return units.error();
  json list = json::array();
  std::int64_t overdue = 0;
  for (const auto& u : *units) {
    const bool late = u.status == "issued" && now > u.issued_at + fate_hours * kHour;
    overdue += late ? 1 : 0;
    if (overdue_only && !late) continue;
    list.push_back({{"din", u.din},
                    {"product", u.product},
                    {"category", std::string(to_string(u.category))},
                    {"abo_rh", std::string(to_string(u.group))},
                    {"issued_at", format_rfc3339(u.issued_at)},
                    {"holder", u.holder},
                    {"patient", u.patient},
                    {"status", u.status},
                    {"emergency_release", u.emergency},
                    {"fate_overdue", late}});
  }
  return json{{"facility", issuer},
              {"as_of", format_rfc3339(now)},
              {"fate_hours", fate_hours},
              {"unknown_fate", overdue},
              {"units", list}};
}

json donor_json(const DonorRecord& donor, const ReferenceData& ref, TimeMs now) {
  if (donor.empty()) return nullptr;
  const DonorStatus s = donor_status(ref, donor, now);
  const auto time_or_null = [](TimeMs t) { return t ? json(format_rfc3339(t)) : json(nullptr); };
  json donations = json::array();
  for (const auto& v : donor.donations) {
    json j = {{"din", v.din}, {"at", format_rfc3339(v.at)}, {"facility", v.facility}};
    if (v.sex != DonorSex::unknown) j["sex"] = std::string(to_string(v.sex));
    if (!v.flagged.empty()) j["collected_while_deferred"] = v.flagged;
    donations.push_back(std::move(j));
  }
  json deferrals = json::array();
  for (const auto& d : donor.deferrals) {
    json j = {{"reason", d.reason},
              {"from", format_rfc3339(d.from)},
              {"until", time_or_null(d.until)},
              {"permanent", d.until == 0},
              {"facility", d.facility},
              {"event_id", d.event_id}};
    if (!d.din.empty()) j["din"] = d.din;
    if (!d.test.empty()) j["test"] = d.test;
    deferrals.push_back(std::move(j));
  }
  return {{"donor", donor.donor},
          {"as_of", format_rfc3339(now)},
          {"status",
           {{"deferred", s.deferred},
            {"reason", s.deferred ? json(s.reason) : json(nullptr)},
            {"until", time_or_null(s.until)},
            {"din", s.din.empty() ? json(nullptr) : json(s.din)},
            {"test", s.test.empty() ? json(nullptr) : json(s.test)},
            {"text", describe(s)}}},
          {"donations", donations},
          {"deferrals", deferrals}};
}

Result<json> event_outcome_json(const Store& store, std::string_view event_id) {
  for (auto p : store.partitions()) {
    auto o = store.outcome(p, event_id);
    if (!o) return o.error();
    if (!o->has_value()) continue;
    json j = json::parse(**o, nullptr, false);
    if (j.is_discarded()) return make_error("corrupt_state", "A stored outcome is damaged.");
    j["id"] = std::string(event_id);
    if (j.value("status", "") == "applied") {
      auto bytes =
          store.journal_entry(j["partition"].get<std::int32_t>(), j["offset"].get<std::int64_t>());
      if (!bytes) return bytes.error();
      if (bytes->has_value()) {
        auto e = decode_binary(**bytes);
        if (e) j["event"] = json::parse(encode_json(*e));
      }
    }
    return j;
  }
  return json(nullptr);
}

PictureSource store_picture(const Store& store) {
  PictureSource s;
  s.available_at = [&store](const std::string& facility) { return store.available_at(facility); };
  s.demand_window = [&store](std::int64_t from, std::int64_t to) {
    return store.demand_window(from, to);
  };
  s.reagent_lots = [&store] { return store.reagent_lots(); };
  s.reagent_usage_window = [&store](std::int64_t from, std::int64_t to) {
    return store.reagent_usage_window(from, to);
  };
  return s;
}

Result<json> pick_json(const PictureSource& source, const ReferenceData& ref,
                       const std::string& facility, Category category, AboRh patient, TimeMs now) {
  if (!ref.facility(facility))
    return make_error("bad_filter", "Unknown facility " + facility + ".");
  auto units = source.available_at(facility);
  if (!units) return units.error();
  json list = json::array();
  int expired = 0;
  for (const auto& u : *units) {
    if (category != Category::unknown && u.category != category) continue;
    if (patient != AboRh::unknown && !check_compatible(u.category, u.group, patient)) continue;
    if (u.expires_at <= now) {
      ++expired;
      continue;
    }
    list.push_back({{"din", u.din},
                    {"product", u.product},
                    {"category", std::string(to_string(u.category))},
                    {"abo_rh", std::string(to_string(u.group))},
                    {"thawed", u.thawed},
                    {"expires_at", format_rfc3339(u.expires_at)},
                    {"hours_left", (u.expires_at - now) / kHour}});
  }
  return json{{"facility", facility},
              {"category", category == Category::unknown ? json(nullptr)
                                                         : json(std::string(to_string(category)))},
              {"patient_abo_rh",
               patient == AboRh::unknown ? json(nullptr) : json(std::string(to_string(patient)))},
              {"units", list},
              {"expired_not_recorded", expired}};
}

namespace {

// Supply of every category from the stock and the demand window at `now`.
Result<SupplyPicture> compute_supply(const PictureSource& source, const StockTable& stock,
                                     const ReferenceData& ref, TimeMs now, int window_days,
                                     int memory_days = 0) {
  const DayWindow window = window_before(now, std::max(window_days, memory_days));
  auto demand = source.demand_window(window.first, window.end);
  if (!demand) return demand.error();
  return supply_picture(stock.cells(), *demand, ref, now, window_days, memory_days);
}

// `m` is one scope's map of the picture, `scope` a code in it ("" for the country).
json groups_json(const std::map<SupplyCell, Supply>& m, const std::string& scope, Category category,
                 int window_days, const SupplyThresholds& t, Phase& worst) {
  json groups = json::object();
  for (AboRh g : kAllGroups) {
    auto it = m.find({scope, category, g});
    const Supply s = it == m.end() ? Supply{} : it->second;
    const auto days = s.days(window_days);
    const Phase p = supply_phase(s, window_days, t);
    worst = std::max(worst, p);
    groups[std::string(to_string(g))] = {
        {"available", s.available},
        {"daily_demand", s.daily_demand(window_days)},
        {"days", days ? json(std::round(*days * 10) / 10) : json(nullptr)},
        {"phase", std::string(to_string(p))}};
    if (stock_out(s)) groups[std::string(to_string(g))]["stock_out"] = true;
  }
  return groups;
}

}  // namespace

Result<json> supply_json(const PictureSource& source, const StockTable& stock,
                         const ReferenceData& ref, Category category, TimeMs now,
                         const SupplyConfig& config) {
  const int window_days = config.window_days;
  auto m = compute_supply(source, stock, ref, now, window_days, config.demand_memory_days);
  if (!m) return m.error();
  const SupplyThresholds t = config.thresholds_for(category);
  Phase country_phase = Phase::green;
  json country = {{"groups", groups_json(m->country, "", category, window_days, t, country_phase)}};
  country["phase"] = std::string(to_string(country_phase));
  json govs = json::array();
  for (const auto& g : ref.governorates()) {
    Phase gov_phase = Phase::green;
    json facilities = json::array();
    for (const auto& f : ref.facilities()) {
      if (f.governorate != g.code || f.kind != FacilityKind::blood_bank) continue;
      Phase fp = Phase::green;
      json fj = {{"code", f.code},
                 {"name_en", f.name_en},
                 {"name_ar", f.name_ar},
                 {"groups", groups_json(m->facilities, f.code, category, window_days, t, fp)}};
      fj["phase"] = std::string(to_string(fp));
      facilities.push_back(std::move(fj));
    }
    json gj = {
        {"code", g.code},
        {"name_en", g.name_en},
        {"name_ar", g.name_ar},
        {"groups", groups_json(m->governorates, g.code, category, window_days, t, gov_phase)},
        {"facilities", facilities}};
    gj["phase"] = std::string(to_string(gov_phase));
    govs.push_back(std::move(gj));
  }
  return json{{"as_of", format_rfc3339(now)},
              {"category", std::string(to_string(category))},
              {"window_days", window_days},
              {"demand_memory_days", config.demand_memory_days},
              {"thresholds", {{"pre_amber", t.pre_amber}, {"amber", t.amber}, {"red", t.red}}},
              {"country", country},
              {"governorates", govs}};
}

Result<json> expiring_json(const PictureSource& source, const StockTable& stock,
                           const ReferenceData& ref, TimeMs now, const SupplyConfig& config) {
  const int window_days = config.window_days;
  std::optional<SupplyPicture> supply;  // computed on first need
  auto supply_of = [&]() -> Result<const SupplyPicture*> {
    if (!supply) {
      auto m = compute_supply(source, stock, ref, now, window_days);
      if (!m) return m.error();
      supply = std::move(*m);
    }
    return &*supply;
  };
  json units = json::array();
  for (const auto& f : ref.facilities()) {
    auto available = source.available_at(f.code);
    if (!available) return available.error();
    for (const auto& u : *available) {
      const TimeMs horizon = config.expiring_hours_for(u.category) * kHour;
      if (u.expires_at <= now) continue;           // expired: the ticker records it
      if (u.expires_at > now + horizon) continue;  // horizons differ by category
      auto m = supply_of();
      if (!m) return m.error();
      const SupplyThresholds t = config.thresholds_for(u.category);
      // The neediest blood bank nearby.
      json suggestion = nullptr;
      std::optional<double> best;
      bool best_has_no_demand = true;
      for (const auto& other : ref.facilities()) {
        if (other.code == f.code || other.kind != FacilityKind::blood_bank) continue;
        if (other.governorate != f.governorate &&
            !ref.are_neighbours(other.governorate, f.governorate)) {
          continue;
        }
        if (!(*m)->facilities.count({other.code, u.category, u.group})) continue;
        const auto days = (*m)->facility(other.code, u.category, u.group).days(window_days);
        if (!days || *days >= t.pre_amber) continue;
        if (best_has_no_demand || *days < *best) {
          best = days;
          best_has_no_demand = false;
          suggestion = {{"to", other.code},
                        {"name_en", other.name_en},
                        {"name_ar", other.name_ar},
                        {"governorate", other.governorate},
                        {"days_of_supply", std::round(*days * 10) / 10},
                        {"phase", std::string(to_string(phase_of(days, t)))}};
        }
      }
      units.push_back({{"din", u.din},
                       {"product", u.product},
                       {"category", std::string(to_string(u.category))},
                       {"abo_rh", std::string(to_string(u.group))},
                       {"facility", f.code},
                       {"governorate", f.governorate},
                       {"expires_at", format_rfc3339(u.expires_at)},
                       {"hours_left", (u.expires_at - now) / kHour},
                       {"suggestion", suggestion}});
    }
  }
  std::sort(units.begin(), units.end(), [](const json& a, const json& b) {
    return a["expires_at"].get<std::string>() < b["expires_at"].get<std::string>();
  });
  return json{{"as_of", format_rfc3339(now)}, {"units", units}};
}

namespace {

bool alert_matches(const json& a, const AlertFilter& f) {
  if (f.status != "all" && a.value("status", "") != f.status) return false;
  if (f.kind && a.value("kind", "") != to_string(*f.kind)) return false;
  if (f.severity && a.value("severity", "") != to_string(*f.severity)) return false;
  if (!f.governorate.empty() && a.value("governorate", "") != f.governorate) return false;
  // A facility sees the alerts about it and those it is told of (the issuing bank).
  if (!f.facility.empty()) {
    const bool about = a["facility"].is_string() && a["facility"] == f.facility;
    bool told = false;
    if (a.contains("notify") && a["notify"].is_array()) {
      for (const auto& n : a["notify"]) told = told || n == f.facility;
    }
    if (!about && !told) return false;
  }
  if (f.category && a.value("category", "") != to_string(*f.category)) return false;
  if (f.group && a.value("abo_rh", "") != to_string(*f.group)) return false;
  return true;
}

}  // namespace

Result<json> alerts_json(const Store& store, const AlertFilter& f) {
  auto state = store.alert_state();
  if (!state) return state.error();
  json out = {{"last_seq", state->seq}};
  if (f.since) {
    AlertFilter any_status = f;
    any_status.status = "all";
    json changes = json::array();
    auto s = store.scan_alert_changes(*f.since + 1, [&](std::uint64_t, std::string_view v) {
      json c = json::parse(v, nullptr, false);
      if (c.is_object() && alert_matches(c["alert"], any_status)) {
        changes.push_back(std::move(c));
      }
      return changes.size() < f.limit;
    });
    if (!s) return s.error();
    out["changes"] = std::move(changes);
    return out;
  }
  std::vector<json> alerts;
  if (f.status == "open") {
    auto open = store.open_alerts();
    if (!open) return open.error();
    for (const auto& [key, text] : *open) alerts.push_back(json::parse(text, nullptr, false));
  } else {
    // Cleared alerts live in the history: the latest change of each alert.
    std::map<std::string, json> latest;
    auto s = store.scan_alert_changes(1, [&](std::uint64_t, std::string_view v) {
      json c = json::parse(v, nullptr, false);
      if (c.is_object() && c["alert"].is_object()) {
        latest[c["alert"].value("id", "")] = std::move(c["alert"]);
      }
      return true;
    });
    if (!s) return s.error();
    for (auto& [id, a] : latest) alerts.push_back(std::move(a));
  }
  std::erase_if(alerts, [&](const json& a) { return !a.is_object() || !alert_matches(a, f); });
  auto rank = [](const json& a) {
    Severity s = Severity::info;
    parse_severity(a.value("severity", ""), s);
    return static_cast<int>(s);
  };
  std::sort(alerts.begin(), alerts.end(), [&](const json& a, const json& b) {
    if (rank(a) != rank(b)) return rank(a) > rank(b);
    return a.value("raised_at", "") > b.value("raised_at", "");
  });
  if (alerts.size() > f.limit) alerts.resize(f.limit);
  out["alerts"] = std::move(alerts);
  return out;
}

Result<json> reagents_json(const PictureSource& source, const ReferenceData& ref,
                           const ReagentFilter& f, TimeMs now, int window_days) {
  auto lots = source.reagent_lots();
  if (!lots) return lots.error();
  const DayWindow window = window_before(now, window_days);
  auto usage = source.reagent_usage_window(window.first, window.end);
  if (!usage) return usage.error();
  const auto cover = reagent_cover(*lots, *usage, now, window_days);
  struct Held {
    std::string lot;
    TimeMs expires_at;
    std::int64_t quantity;
  };
  // facility -> reagent -> lots, soonest expiry first
  std::map<std::string, std::map<std::string, std::vector<Held>>> held;
  for (const auto& lot : *lots) {
    if (!f.reagent.empty() && lot.reagent != f.reagent) continue;
    for (const auto& [facility, q] : lot.on_hand) {
      held[facility][lot.reagent].push_back({lot.lot, lot.expires_at, q});
    }
  }
  for (const auto& [k, c] : cover) held[k.first][k.second];  // used up: still listed
  json govs = json::array();
  for (const auto& g : ref.governorates()) {
    if (!f.governorate.empty() && g.code != f.governorate) continue;
    json facilities = json::array();
    for (const auto& fac : ref.facilities()) {
      if (fac.governorate != g.code || (!f.facility.empty() && fac.code != f.facility)) continue;
      auto hit = held.find(fac.code);
      if (hit == held.end()) continue;
      json reagents = json::array();
      for (auto& [code, list] : hit->second) {
        if (!f.reagent.empty() && code != f.reagent) continue;
        const ReagentDef* def = ref.reagents().find(code);
        std::sort(list.begin(), list.end(), [](const Held& a, const Held& b) {
          return std::tie(a.expires_at, a.lot) < std::tie(b.expires_at, b.lot);
        });
        json use_first = nullptr, lot_list = json::array();
        for (const auto& h : list) {
          const bool expired = h.expires_at <= now;
          const bool soon =
              !expired && def && h.expires_at <= now + def->expiry_warning_days * kDay;
          if (!expired && use_first.is_null()) use_first = h.lot;
          lot_list.push_back({{"lot", h.lot},
                              {"expires_at", format_rfc3339(h.expires_at)},
                              {"on_hand", h.quantity},
                              {"expired", expired},
                              {"expiring_soon", soon}});
        }
        auto cit = cover.find({fac.code, code});
        const ReagentCover c = cit == cover.end() ? ReagentCover{} : cit->second;
        const int min_cover = def ? def->min_cover_days : 0;
        reagents.push_back(
            {{"reagent", code},
             {"name", def ? def->name : code},
             {"unit", def ? def->unit : ""},
             {"on_hand", c.usable},
             {"daily_use", std::round(c.daily_use(window_days) * 100) / 100},
             {"days_of_cover", c.days ? json(std::round(*c.days * 10) / 10) : json(nullptr)},
             {"min_cover_days", min_cover},
             {"below_min_cover", c.below(min_cover)},
             {"use_first", use_first},
             {"lots", lot_list}});
      }
      if (reagents.empty()) continue;
      facilities.push_back({{"code", fac.code},
                            {"name_en", fac.name_en},
                            {"name_ar", fac.name_ar},
                            {"reagents", reagents}});
    }
    if (facilities.empty()) continue;
    govs.push_back({{"code", g.code},
                    {"name_en", g.name_en},
                    {"name_ar", g.name_ar},
                    {"facilities", facilities}});
  }
  return json{{"as_of", format_rfc3339(now)}, {"window_days", window_days}, {"governorates", govs}};
}

Result<StockTable> total_stock(const Store& store) {
  StockTable total;
  for (auto p : store.partitions()) {
    auto t = store.stock(p);
    if (!t) return t.error();
    total.add(*t);
  }
  return total;
}

}  // namespace hemoledger
