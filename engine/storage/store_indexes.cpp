// The Store's reads of the secondary indexes (projections/indexes.h) and of the
// reagent lots and their usage.
#include <rocksdb/db.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

#include "engine/storage/store.h"
#include "engine/storage/store_keys.h"

namespace hemoledger {

using namespace store_keys;

Result<std::vector<IndexEntry>> Store::index_in(std::int32_t p) const {
  std::vector<IndexEntry> out;
  for (char kind : {'a', 'x', 'k', 'v', 'b', 'y', 'q'}) {
    auto s = scan(key(p, kind), {}, [&](std::string_view k, std::string_view v) {
      out.push_back({kind, std::string(k), std::string(v)});
      return true;
    });
    if (!s) return s.error();
  }
  return out;
}

Status Store::scan_index_in(
    std::int32_t p,
    const std::function<bool(char, std::string_view, std::string_view)>& visit) const {
  bool more = true;
  for (char kind : {'a', 'x', 'k', 'v', 'b', 'y', 'q'}) {
    auto s = scan(
        key(p, kind), {},
        [&](std::string_view k, std::string_view v) { return more = visit(kind, k, v); },
        /*fill_cache=*/false);
    if (!s) return s;
    if (!more) break;
  }
  return {};
}

Result<std::vector<AvailableUnit>> Store::available_expiring(TimeMs after, TimeMs upto) const {
  std::vector<AvailableUnit> out;
  for (auto p : partitions()) {
    std::vector<std::string> a_keys;  // <holder>|<expires>|<din>|<product>
    std::optional<Error> failure;
    const std::string start = after < 0 ? std::string() : key(p, 'x', offset_text(after) + "~");
    auto s = scan(key(p, 'x'), start, [&](std::string_view k, std::string_view v) {
      auto u = parse_expiring(k, v);
      if (!u) {
        failure = corrupt("An entry of the expiry index is damaged.");
        return false;
      }
      if (u->expires_at > upto && u->expires_at >= 0) return false;  // negative ones sort first
      if (u->expires_at > after && u->expires_at <= upto) {
        a_keys.push_back(u->holder + "|" + std::string(k));
      }
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
    if (a_keys.empty()) continue;
    std::vector<std::string> keys;
    keys.reserve(a_keys.size());
    for (const auto& k : a_keys) keys.push_back(key(p, 'a', k));
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), slices.size(), slices.data(),
                  values.data(), statuses.data());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) continue;  // held, but not available (quarantined, ...)
      if (!statuses[i].ok()) return storage_error(statuses[i], "read failed");
      auto u = parse_available(a_keys[i], values[i].ToStringView());
      if (!u) return corrupt("An entry of the available-units index is damaged.");
      out.push_back(std::move(*u));
    }
  }
  return out;
}

Result<std::vector<ExpiringUnit>> Store::due_expiries(TimeMs now, std::size_t limit) const {
  std::vector<ExpiringUnit> out;
  std::optional<Error> failure;
  const std::string last = offset_text(now) + "|~";
  for (auto p : partitions()) {
    auto s = scan(key(p, 'x'), {}, [&](std::string_view k, std::string_view v) {
      if (k > last) return false;
      auto u = parse_expiring(k, v);
      if (!u) {
        failure = corrupt("An entry of the expiry index is damaged.");
        return false;
      }
      out.push_back(std::move(*u));
      return out.size() < limit * 4;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  std::sort(out.begin(), out.end(), [](const ExpiringUnit& a, const ExpiringUnit& b) {
    return std::tie(a.expires_at, a.din, a.product) < std::tie(b.expires_at, b.din, b.product);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<std::vector<AvailableUnit>> Store::available_at(std::string_view facility) const {
  std::vector<AvailableUnit> out;
  std::optional<Error> failure;
  for (auto p : partitions()) {
    const std::string prefix = key(p, 'a', std::string(facility) + "|");
    auto s = scan(prefix, {}, [&](std::string_view k, std::string_view v) {
      auto u = parse_available(std::string(facility) + "|" + std::string(k), v);
      if (!u) {
        failure = corrupt("An entry of the available-units index is damaged.");
        return false;
      }
      out.push_back(std::move(*u));
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  std::sort(out.begin(), out.end(), [](const AvailableUnit& a, const AvailableUnit& b) {
    return std::tie(a.expires_at, a.din, a.product) < std::tie(b.expires_at, b.din, b.product);
  });
  return out;
}

Result<std::vector<IssuedUnit>> Store::issued_by(std::string_view issuer) const {
  std::vector<IssuedUnit> out;
  std::optional<Error> failure;
  const std::string head = "i|" + std::string(issuer) + "|";
  for (auto p : partitions()) {
    auto s = scan(key(p, 'b', head), {}, [&](std::string_view k, std::string_view v) {
      auto u = parse_issued(head + std::string(k), v);
      if (!u) {
        failure = corrupt("An entry of the issued-units index is damaged.");
        return false;
      }
      out.push_back(std::move(*u));
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  std::sort(out.begin(), out.end(), [](const IssuedUnit& a, const IssuedUnit& b) {
    return std::tie(a.issued_at, a.din, a.product) < std::tie(b.issued_at, b.din, b.product);
  });
  return out;
}

Status Store::scan_index(char kind, const std::function<void(const IndexEntry&)>& visit) const {
  for (auto p : partitions()) {
    auto s = scan(key(p, kind), {}, [&](std::string_view k, std::string_view v) {
      visit(IndexEntry{kind, std::string(k), std::string(v)});
      return true;
    });
    if (!s) return s;
  }
  return {};
}

Result<std::vector<std::pair<std::int32_t, DonorDonation>>> Store::donations_of(
    std::string_view donor) const {
  std::vector<std::pair<std::int32_t, DonorDonation>> out;
  std::optional<Error> failure;
  for (auto p : partitions()) {
    const std::string prefix = key(p, 'v', std::string(donor) + "|");
    auto s = scan(prefix, {}, [&](std::string_view k, std::string_view v) {
      auto d = parse_donor_entry(std::string(donor) + "|" + std::string(k), v);
      if (!d) {
        failure = corrupt("An entry of the donor index is damaged.");
        return false;
      }
      if (d->donor == donor) out.emplace_back(p, std::move(*d));
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::vector<PendingLookback>> Store::pending_lookbacks() const {
  std::vector<PendingLookback> out;
  std::optional<Error> failure;
  for (auto p : partitions()) {
    auto s = scan(key(p, 'l'), {}, [&](std::string_view k, std::string_view v) {
      const auto j = nlohmann::json::parse(v, nullptr, false);
      try {
        out.push_back({p, std::string(k.substr(0, k.find('|'))), j.at("donor").get<std::string>(),
                       j.at("test").get<std::string>(), j.at("facility").get<std::string>(),
                       j.at("at").get<TimeMs>(), j.at("collected_at").get<TimeMs>()});
      } catch (const nlohmann::json::exception&) {
        failure = corrupt("A pending lookback of partition " + std::to_string(p) + " is damaged.");
        return false;
      }
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::vector<PendingDonorCheck>> Store::pending_donor_checks() const {
  std::vector<PendingDonorCheck> out;
  std::optional<Error> failure;
  for (auto p : partitions()) {
    auto s = scan(key(p, 'c'), {}, [&](std::string_view k, std::string_view v) {
      const auto j = nlohmann::json::parse(v, nullptr, false);
      try {
        out.push_back({p, std::string(k), j.at("donor").get<std::string>(),
                       j.at("facility").get<std::string>(), j.at("at").get<TimeMs>()});
      } catch (const nlohmann::json::exception&) {
        failure =
            corrupt("A pending donor check of partition " + std::to_string(p) + " is damaged.");
        return false;
      }
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::optional<DonorRecord>> Store::donor(std::int32_t p, std::string_view donor) const {
  auto v = get(key(p, 'w', donor));
  if (!v) return v.error();
  if (!v->has_value()) return std::optional<DonorRecord>();
  auto d = decode_donor(**v);
  if (!d) return d.error();
  return std::optional<DonorRecord>(std::move(d).value());
}

Result<DonorRecord> Store::donor_everywhere(std::string_view donor) const {
  std::vector<DonorRecord> shares;
  for (auto p : partitions()) {
    auto d = this->donor(p, donor);
    if (!d) return d.error();
    if (d->has_value()) shares.push_back(std::move(**d));
  }
  return merge_donor(shares);
}

Status Store::scan_donors(
    std::int32_t p, const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return scan(key(p, 'w'), {}, visit, /*fill_cache=*/false);
}

Result<std::optional<ReagentLot>> Store::reagent_lot(std::int32_t p,
                                                     std::string_view lot_key) const {
  auto v = get(key(p, 'g', lot_key));
  if (!v) return v.error();
  if (!v->has_value()) return std::optional<ReagentLot>();
  auto l = decode_reagent_lot(**v);
  if (!l) return l.error();
  return std::optional<ReagentLot>(std::move(l).value());
}

Result<std::optional<ReagentLot>> Store::reagent_lot_anywhere(std::string_view lot_key) const {
  for (auto p : partitions()) {
    auto l = reagent_lot(p, lot_key);
    if (!l || l->has_value()) return l;
  }
  return std::optional<ReagentLot>();
}

Result<std::vector<ReagentLot>> Store::reagent_lots(std::optional<std::int32_t> partition) const {
  std::vector<ReagentLot> out;
  std::optional<Error> failure;
  std::vector<std::int32_t> parts =
      partition ? std::vector<std::int32_t>{*partition} : partitions();
  for (auto p : parts) {
    auto s = scan(key(p, 'g'), {}, [&](std::string_view, std::string_view v) {
      auto l = decode_reagent_lot(v);
      if (!l) {
        failure = l.error();
        return false;
      }
      out.push_back(std::move(*l));
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::int64_t> Store::reagent_usage(std::int32_t p, const ReagentUsageKey& k) const {
  auto v = get(key(p, 'u', encode_usage_key(k)));
  if (!v) return v.error();
  std::int64_t n = 0;
  if (v->has_value() && !decode_i64(**v, n)) return corrupt("A reagent usage count is damaged.");
  return n;
}

Result<std::map<ReagentUsageKey, std::int64_t>> Store::reagent_usage_window(
    std::int64_t from_day, std::int64_t to_day, std::optional<std::int32_t> partition) const {
  std::map<ReagentUsageKey, std::int64_t> out;
  std::optional<Error> failure;
  const std::string start =
      encode_usage_key({std::max<std::int64_t>(0, from_day), "", ""}).substr(0, 8);
  std::vector<std::int32_t> parts =
      partition ? std::vector<std::int32_t>{*partition} : partitions();
  for (auto p : parts) {
    const std::string prefix = key(p, 'u');
    auto s = scan(prefix, prefix + start, [&](std::string_view k, std::string_view v) {
      auto uk = decode_usage_key(k);
      std::int64_t n = 0;
      if (!uk || !decode_i64(v, n)) {
        failure = corrupt("A stored reagent usage count is damaged.");
        return false;
      }
      if (uk->day >= to_day) return false;
      out[*uk] += n;
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Store::due_reagent_expiries(
    TimeMs now, std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string last = offset_text(now) + "|\x7f";
  for (auto p : partitions()) {
    auto s = scan(key(p, 'y'), {}, [&](std::string_view k, std::string_view v) {
      if (k > last) return false;
      const auto bar = k.find('|');
      if (bar == std::string_view::npos) return true;
      out.emplace_back(std::string(k.substr(bar + 1)), std::string(v));
      return out.size() < limit;
    });
    if (!s) return s.error();
  }
  return out;
}

}  // namespace hemoledger
