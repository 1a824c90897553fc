// The Store's reads of a partition's own records: donations, offsets, stock,
// demand, outcomes, journal and rejections. The indexes and reagents are read
// in store_indexes.cpp, the keys outside the partitions in store_global.cpp.
#include "engine/storage/store.h"

#include <rocksdb/db.h>

#include <algorithm>
#include <cstdio>

#include "engine/storage/store_keys.h"

namespace hemoledger {

using namespace store_keys;

Result<std::optional<std::string>> Store::get(const std::string& k) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), k, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return storage_error(s, "read failed");
  return std::optional<std::string>(std::move(value));
}

Status Store::scan(const std::string& prefix, const std::string& start,
                   const std::function<bool(std::string_view, std::string_view)>& visit,
                   bool fill_cache) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = fill_cache;
  std::string upper = prefix;
  upper.back() = static_cast<char>(upper.back() + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(start.empty() ? prefix : start); it->Valid(); it->Next()) {
    const auto k = it->key().ToStringView();
    if (!visit(k.substr(prefix.size()), it->value().ToStringView())) break;
  }
  if (!it->status().ok()) return storage_error(it->status(), "scan failed");
  return {};
}

Result<std::optional<Donation>> Store::donation(std::int32_t p, std::string_view din) const {
  auto v = get(key(p, 'd', din));
  if (!v) return v.error();
  if (!v->has_value()) return std::optional<Donation>();
  auto d = decode_donation(**v);
  if (!d) return d.error();
  return std::optional<Donation>(std::move(d).value());
}

std::vector<std::int32_t> Store::partitions() const {
  std::lock_guard lock(partitions_mutex_);
  if (!partitions_) {
    partitions_.emplace();
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->Seek("p");
    while (it->Valid()) {
      const auto k = it->key().ToStringView();
      int p = 0;
      if (k.size() < 7 || k[0] != 'p' ||
          std::sscanf(std::string(k.substr(1, 5)).c_str(), "%d", &p) != 1)
        break;
      partitions_->insert(p);
      it->Seek(part_prefix(p + 1));
    }
  }
  return {partitions_->begin(), partitions_->end()};
}

Result<std::map<std::int32_t, StoredOffset>> Store::offsets() const {
  std::map<std::int32_t, StoredOffset> out;
  for (auto p : partitions()) {
    auto v = get(key(p, 'o'));
    if (!v) return v.error();
    if (!v->has_value()) continue;
    StoredOffsetValue o;
    if (!decode_stored_offset(**v, o)) {
      return corrupt("The stored offset of partition " + std::to_string(p) + " is damaged.");
    }
    out[p] = StoredOffset{o.next, std::move(o.cluster_id), o.base};
  }
  return out;
}

Result<std::int64_t> Store::forwarded(std::int32_t p) const {
  auto v = get(key(p, 'f'));
  if (!v) return v.error();
  std::int64_t n = 0;
  if (v->has_value() && !decode_i64(**v, n)) return corrupt("A forwarding marker is damaged.");
  return n;
}

Result<StockTable> Store::stock(std::int32_t p) const {
  StockTable t;
  std::optional<Error> failure;
  auto s = scan(key(p, 's'), {}, [&](std::string_view k, std::string_view v) {
    auto sk = decode_stock_key(k);
    std::int64_t n = 0;
    if (!sk || !decode_i64(v, n)) {
      failure = corrupt("A stored stock count of partition " + std::to_string(p) + " is damaged.");
      return false;
    }
    t.apply(StockDelta{*sk, n});
    return true;
  });
  if (!s) return s.error();
  if (failure) return *failure;
  return t;
}

Result<std::int64_t> Store::demand(std::int32_t p, const DemandKey& k) const {
  auto v = get(key(p, 'n', encode_demand_key(k)));
  if (!v) return v.error();
  std::int64_t n = 0;
  if (v->has_value() && !decode_i64(**v, n)) return corrupt("A demand count is damaged.");
  return n;
}

Result<std::map<DemandKey, std::int64_t>> Store::demand_window(
    std::int64_t from_day, std::int64_t to_day, std::optional<std::int32_t> partition) const {
  std::map<DemandKey, std::int64_t> out;
  std::optional<Error> failure;
  char start[32];
  std::snprintf(start, sizeof start, "%08lld",
                static_cast<long long>(std::max<std::int64_t>(0, from_day)));
  std::vector<std::int32_t> parts =
      partition ? std::vector<std::int32_t>{*partition} : partitions();
  for (auto p : parts) {
    const std::string prefix = key(p, 'n');
    auto s = scan(prefix, prefix + start, [&](std::string_view k, std::string_view v) {
      auto dk = decode_demand_key(k);
      std::int64_t n = 0;
      if (!dk || !decode_i64(v, n)) {
        failure = corrupt("A stored demand count is damaged.");
        return false;
      }
      if (dk->day >= to_day) return false;
      out[*dk] += n;
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::optional<std::string>> Store::outcome(std::int32_t p, std::string_view id) const {
  return get(key(p, 'i', id));
}

Result<std::vector<std::optional<std::string>>> Store::outcomes(
    const std::vector<std::pair<std::int32_t, std::string_view>>& ids) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const auto& [p, id] : ids) keys.push_back(key(p, 'i', id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), slices.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return storage_error(statuses[i], "read failed");
    out[i] = values[i].ToString();
  }
  return out;
}

Result<std::optional<std::string>> Store::journal_entry(std::int32_t p, std::int64_t off) const {
  return get(key(p, 'j', offset_text(off)));
}

Result<std::optional<std::string>> Store::rejection(std::int32_t p, std::int64_t off) const {
  return get(key(p, 'r', offset_text(off)));
}

Status Store::scan_journal(std::int32_t p, std::int64_t from, const Visitor& visit) const {
  const std::string prefix = key(p, 'j');
  std::optional<Error> failure;
  auto s = scan(
      prefix, prefix + offset_text(from),
      [&](std::string_view k, std::string_view v) {
        std::int64_t off = 0;
        if (!parse_offset_key(k, off)) {
          failure = corrupt("A journal key of partition " + std::to_string(p) + " is damaged.");
          return false;
        }
        return visit(off, v);
      },
      /*fill_cache=*/false);  // a journal scan is a replay: read once, not worth caching
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

Status Store::scan_rejections(std::int32_t p, std::int64_t from, const Visitor& visit) const {
  const std::string prefix = key(p, 'r');
  return scan(prefix, prefix + offset_text(from), [&](std::string_view k, std::string_view v) {
    std::int64_t off = 0;
    return parse_offset_key(k, off) ? visit(off, v) : true;
  });
}

Status Store::scan_donations(
    std::int32_t p, const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return scan(key(p, 'd'), {}, visit, /*fill_cache=*/false);
}

Result<std::int64_t> Store::log_end(std::int32_t p) const {
  std::int64_t end = 0;
  for (char kind : {'j', 'r'}) {
    const std::string prefix = key(p, kind);
    std::string upper = prefix;
    upper.back() = static_cast<char>(upper.back() + 1);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(upper);
    if (!it->status().ok()) return storage_error(it->status(), "scan failed");
    if (!it->Valid()) continue;
    const auto k = it->key().ToStringView();
    if (k.substr(0, prefix.size()) != prefix) continue;
    std::int64_t off = 0;
    if (!parse_offset_key(k.substr(prefix.size()), off)) {
      return corrupt("A journal key of partition " + std::to_string(p) + " is damaged.");
    }
    end = std::max(end, off + 1);
  }
  return end;
}

}  // namespace hemoledger
