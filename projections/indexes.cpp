#include "projections/indexes.h"

#include <algorithm>
#include <cstdio>
#include <map>

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
      out.push_back({'a', u.holder + "|" + unit_key, category + "|" + group});
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
  add_attention(d, group, out);
  return out;
}

std::optional<AvailableUnit> parse_available(std::string_view key, std::string_view value) {
  AvailableUnit u;
  const auto bar = key.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  u.facility = std::string(key.substr(0, bar));
  const auto v = split(value);
  if (!parse_unit_key(key.substr(bar + 1), u.expires_at, u.din, u.product) || v.size() != 2 ||
      !parse_category(v[0], u.category)) {
    return std::nullopt;
  }
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
