#include "projections/indexes.h"

#include <cstdio>

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

}  // namespace

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
