#include "projections/indexes.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

namespace hemoledger {

namespace {

constexpr std::size_t kDin = 13, kProduct = 8, kNum = 20;

// "<n:020>|<din>|<product>"
bool parse_unit_key(std::string_view k, TimeMs& n, std::string& din, std::string& product) {
  if (k.size() != kNum + 1 + kDin + 1 + kProduct || k[kNum] != '|' || k[kNum + 1 + kDin] != '|' ||
      !parse_decimal20(k.substr(0, kNum), n)) {
    return false;
  }
  din = std::string(k.substr(kNum + 1, kDin));
  product = std::string(k.substr(kNum + 2 + kDin, kProduct));
  return true;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto bar = s.find('|', start);
    out.push_back(s.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) return out;
    start = bar + 1;
  }
}

using nlohmann::json;

// The 'b' entries of one unit (indexes.h).
void watch_entries(const Donation& d, const UnitState& u, std::vector<IndexEntry>& out) {
  // Most units are on a bank's shelf and watched by none of the concerns
  // below: return before building their JSON (13 % of a rebuild otherwise).
  const bool held = u.hv_hold && !is_final(u.status);
  const bool rhd = u.rhd_exception && u.status == UnitStatus::issued;
  if (u.issued_by.empty() && !held && !rhd) return;
  const std::string unit = d.din + "|" + u.product;
  const json base = {{"holder", u.holder},
                     {"issuer", u.issued_by},
                     {"category", std::string(to_string(u.category))},
                     {"group", std::string(to_string(d.group()))},
                     {"patient", u.patient}};
  const bool out_to_patient = !u.issued_by.empty() && (u.status == UnitStatus::issued ||
                                                       u.status == UnitStatus::transfused);
  if (!u.issued_by.empty() && u.status == UnitStatus::issued) {
    out.push_back({'b', "f|" + decimal20(u.issued_at) + "|" + unit, base.dump()});
  }
  if (!u.issued_by.empty()) {
    json v = base;
    v["status"] = std::string(to_string(u.status));
    v["emergency"] = u.emergency;
    out.push_back({'b', "i|" + u.issued_by + "|" + decimal20(u.issued_at) + "|" + unit, v.dump()});
  }
  if (u.emergency && out_to_patient &&
      (u.patient_group == AboRh::unknown || (u.group_incompatible && !u.reaction_reported))) {
    json v = base;
    v["patient_group"] = std::string(to_string(u.patient_group));
    v["incompatible"] = u.group_incompatible;
    out.push_back({'b', "e|" + unit, v.dump()});
  }
  if (rhd) {
    json v = base;
    v["patient_group"] = std::string(to_string(u.patient_group));
    out.push_back({'b', "r|" + unit, v.dump()});
  }
  if (held) {
    json v = base;
    for (const auto& r : d.reactions) {
      for (const auto& held : r.held) {
        if (held != u.product) continue;
        v["event_id"] = r.event_id;
        v["cause_product"] = r.product;
        v["reaction"] = std::string(to_string(r.category));
      }
    }
    out.push_back({'b', "q|" + unit, v.dump()});
  }
}

void reaction_entry(const Donation& d, const Reaction& r, std::vector<IndexEntry>& out) {
  const UnitState* u = d.unit(r.product);
  const json v = {{"holder", r.reported_by},
                  {"issuer", r.issued_by},
                  {"category", std::string(to_string(u ? u->category : Category::unknown))},
                  {"group", std::string(to_string(d.group()))},
                  {"patient", r.patient},
                  {"reaction", std::string(to_string(r.category))},
                  {"severity", std::string(to_string(r.severity))},
                  {"imputability", std::string(to_string(r.imputability))},
                  {"onset_at", r.onset_at}};
  out.push_back(
      {'b', "h|" + decimal20(r.at) + "|" + d.din + "|" + r.product + "|" + r.event_id, v.dump()});
}

nlohmann::json unit_json(const UnitState& u) {
  return {{"product", u.product},
          {"category", std::string(to_string(u.category))},
          {"status", std::string(to_string(u.status))},
          {"holder", u.holder}};
}

void add_attention(const Donation& d, const std::string& group, std::vector<IndexEntry>& out) {
  using nlohmann::json;
  const auto put = [&](std::string key, const json& value) {
    out.push_back({'q', std::move(key), value.dump()});
  };
  if (d.typing_discrepancy) {
    json units = json::array();
    for (const auto& u : d.units) {
      if (!is_final(u.status)) units.push_back(unit_json(u));
    }
    put("typing|" + d.din, {{"facility", d.facility},
                            {"discrepancy", d.discrepancy},
                            {"group", group},
                            {"units", units}});
  }
  const bool any_in_stock = std::any_of(d.units.begin(), d.units.end(),
                                        [](const UnitState& u) { return !is_final(u.status); });
  if (!d.deferred_reason.empty() && (d.units.empty() || any_in_stock)) {
    put("deferred|" + d.din, {{"facility", d.facility},
                              {"donor", d.donor},
                              {"reason", d.deferred_reason},
                              {"until", d.deferred_until},
                              {"group", group}});
  }
  if (d.tti_positive) {
    json markers = json::array();
    for (const auto& m : d.markers) {
      if (m.status != MarkerStatus::non_reactive && m.status != MarkerStatus::not_tested) {
        markers.push_back(m.test);
      }
    }
    std::map<std::string, json> by_holder;
    for (const auto& u : d.units) {
      if (!u.released || is_final(u.status)) continue;
      auto& units = by_holder[u.holder];
      if (units.is_null()) units = json::array();
      units.push_back(unit_json(u));
    }
    for (const auto& [holder, units] : by_holder) {
      put("positive|" + d.din + "|" + holder,
          {{"facility", holder}, {"markers", markers}, {"group", group}, {"units", units}});
    }
  }
  for (const auto& r : d.recalls) {
    if (!r.notify_open) continue;
    const UnitState* u = d.unit(r.product);
    put("notify|" + d.din + "|" + r.product,
        {{"facility", r.transfused_by},
         {"deadline", r.notify_deadline},
         {"test", r.test},
         {"patient", r.patient},
         {"category", u ? std::string(to_string(u->category)) : "unknown"},
         {"group", group}});
  }
}

}  // namespace

std::optional<Attention> parse_attention(std::string_view key, std::string_view value) {
  const auto parts = split(key);
  if (parts.size() < 2) return std::nullopt;
  Attention a{std::string(parts[0]),
              std::string(parts[1]),
              parts.size() > 2 ? std::string(parts[2]) : std::string(),
              {}};
  a.data = nlohmann::json::parse(value, nullptr, false);
  if (!a.data.is_object()) return std::nullopt;
  return a;
}

std::string decimal20(std::int64_t v) {
  if (v < 0) {  // rare: as printf's %020lld does
    char buf[32];
    std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(v));
    return buf;
  }
  std::string out(kNum, '0');
  auto u = static_cast<std::uint64_t>(v);
  for (std::size_t i = kNum; u != 0; u /= 10) out[--i] = static_cast<char>('0' + u % 10);
  return out;
}

bool parse_decimal20(std::string_view text, std::int64_t& out) {
  if (text.size() != kNum) return false;
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

std::vector<IndexEntry> index_entries(const Donation& d) {
  std::vector<IndexEntry> out;
  out.reserve(2 * d.units.size() + d.recalls.size() + 1);
  const std::string group(to_string(d.group()));
  for (const auto& u : d.units) {
    std::string unit_key = decimal20(u.expires_at);
    unit_key.reserve(kNum + 2 + d.din.size() + u.product.size());
    unit_key += '|';
    unit_key += d.din;
    unit_key += '|';
    unit_key += u.product;
    const std::string category(to_string(u.category));
    if (u.status == UnitStatus::available) {
      out.push_back({'a', u.holder + "|" + unit_key,
                     category + "|" + group + (u.thawed_at != 0 ? "|thawed" : "")});
    }
    if (u.status == UnitStatus::quarantined || u.status == UnitStatus::available ||
        u.status == UnitStatus::reserved || u.status == UnitStatus::in_transit) {
      out.push_back({'x', unit_key, u.holder});
    }
  }
  for (const auto& r : d.recalls) {
    if (!r.open) continue;
    const UnitState* u = d.unit(r.product);
    if (!u) continue;
    out.push_back(
        {'k', decimal20(r.deadline) + "|" + d.din + "|" + r.product,
         u->holder + "|" + std::string(to_string(u->category)) + "|" + group + "|" + r.test});
  }
  if (!d.donor.empty()) out.push_back({'v', d.donor + "|" + d.din, decimal20(d.collected_at)});
  for (const auto& u : d.units) watch_entries(d, u, out);
  for (const auto& r : d.reactions) reaction_entry(d, r, out);
  add_attention(d, group, out);
  return out;
}

std::optional<AvailableUnit> parse_available(std::string_view key, std::string_view value) {
  AvailableUnit u;
  const auto bar = key.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  u.facility = std::string(key.substr(0, bar));
  const auto v = split(value);
  if (!parse_unit_key(key.substr(bar + 1), u.expires_at, u.din, u.product) || v.size() < 2 ||
      v.size() > 3 || (v.size() == 3 && v[2] != "thawed") || !parse_category(v[0], u.category)) {
    return std::nullopt;
  }
  u.thawed = v.size() == 3;
  u.group = parse_abo_rh(v[1]).value_or(AboRh::unknown);
  return u;
}

std::optional<ExpiringUnit> parse_expiring(std::string_view key, std::string_view value) {
  ExpiringUnit u;
  if (!parse_unit_key(key, u.expires_at, u.din, u.product)) return std::nullopt;
  u.holder = std::string(value);
  return u;
}

std::optional<OpenRecall> parse_recall(std::string_view key, std::string_view value) {
  OpenRecall r;
  const auto v = split(value);
  if (!parse_unit_key(key, r.deadline, r.din, r.product) || v.size() != 4 ||
      !parse_category(v[1], r.category)) {
    return std::nullopt;
  }
  r.holder = std::string(v[0]);
  r.group = parse_abo_rh(v[2]).value_or(AboRh::unknown);
  r.test = std::string(v[3]);
  return r;
}

std::optional<Watch> parse_watch(std::string_view key, std::string_view value) {
  const auto parts = split(key);
  if (parts.empty() || parts[0].size() != 1) return std::nullopt;
  Watch w;
  w.concern = parts[0][0];
  const bool timed = w.concern == 'f' || w.concern == 'h';
  const std::size_t expected = w.concern == 'h' ? 5 : timed ? 4 : 3;
  if (parts.size() != expected ||
      std::string_view("ferqh").find(w.concern) == std::string_view::npos ||
      (timed && !parse_decimal20(parts[1], w.at))) {
    return std::nullopt;
  }
  w.din = std::string(parts[timed ? 2 : 1]);
  w.product = std::string(parts[timed ? 3 : 2]);
  if (w.concern == 'h') w.event_id = std::string(parts[4]);
  const json v = json::parse(value, nullptr, false);
  if (!v.is_object()) return std::nullopt;
  try {
    w.holder = v.value("holder", "");
    w.issuer = v.value("issuer", "");
    if (!parse_category(v.value("category", ""), w.category)) w.category = Category::unknown;
    w.group = parse_abo_rh(v.value("group", "")).value_or(AboRh::unknown);
    w.patient = v.value("patient", "");
    w.patient_group = parse_abo_rh(v.value("patient_group", "")).value_or(AboRh::unknown);
    w.incompatible = v.value("incompatible", false);
    if (v.contains("event_id")) w.event_id = v.value("event_id", "");
    w.cause_product = v.value("cause_product", "");
    parse_reaction_category(v.value("reaction", ""), w.reaction);
    parse_reaction_severity(v.value("severity", ""), w.severity);
    parse_imputability(v.value("imputability", ""), w.imputability);
    w.onset_at = v.value("onset_at", TimeMs{0});
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return w;
}

std::optional<IssuedUnit> parse_issued(std::string_view key, std::string_view value) {
  const auto parts = split(key);
  IssuedUnit u;
  if (parts.size() != 5 || parts[0] != "i" || !parse_decimal20(parts[2], u.issued_at)) {
    return std::nullopt;
  }
  u.issuer = std::string(parts[1]);
  u.din = std::string(parts[3]);
  u.product = std::string(parts[4]);
  const json v = json::parse(value, nullptr, false);
  if (!v.is_object()) return std::nullopt;
  try {
    u.holder = v.value("holder", "");
    u.status = v.value("status", "");
    u.patient = v.value("patient", "");
    if (!parse_category(v.value("category", ""), u.category)) u.category = Category::unknown;
    u.group = parse_abo_rh(v.value("group", "")).value_or(AboRh::unknown);
    u.emergency = v.value("emergency", false);
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return u;
}

std::optional<DonorDonation> parse_donor_entry(std::string_view key, std::string_view value) {
  DonorDonation d;
  if (key.size() < kDin + 2 || key[key.size() - kDin - 1] != '|' ||
      !parse_decimal20(value, d.collected_at)) {
    return std::nullopt;
  }
  d.donor = std::string(key.substr(0, key.size() - kDin - 1));
  d.din = std::string(key.substr(key.size() - kDin));
  return d;
}

}  // namespace hemoledger
