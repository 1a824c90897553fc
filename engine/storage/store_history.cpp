// The Store's stock history (projections/stock_history.h): bucket sums under
// p<ppppp>/h/, single events under p<ppppp>/e/, and the marker p<ppppp>/h/#
// that says from which journal position the history is complete.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "engine/storage/store.h"
#include "engine/storage/store_keys.h"

namespace hemoledger {

using namespace store_keys;

namespace {
constexpr char kSince[] = "#";  // sorts before every level letter
}  // namespace

void Store::Batch::put_history_bucket(std::int32_t p, std::string_view bucket_key,
                                      std::int64_t sum) {
  if (sum == 0) {
    batch_->Delete(partition_key(p, 'h', bucket_key));
  } else {
    batch_->Put(partition_key(p, 'h', bucket_key), encode_i64(sum));
  }
}

void Store::Batch::put_history_event(std::int32_t p, std::string_view event_key,
                                     std::string_view deltas) {
  batch_->Put(partition_key(p, 'e', event_key), deltas);
}

void Store::Batch::put_history_since(std::int32_t p, std::int64_t position) {
  batch_->Put(partition_key(p, 'h', kSince), encode_i64(position));
}

Result<std::vector<std::int64_t>> Store::history_buckets(
    std::int32_t p, const std::vector<std::string>& bucket_keys) const {
  std::vector<std::string> keys;
  keys.reserve(bucket_keys.size());
  for (const auto& k : bucket_keys) keys.push_back(key(p, 'h', k));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), slices.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<std::int64_t> out(keys.size(), 0);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return storage_error(statuses[i], "read failed");
    if (!decode_i64(values[i].ToStringView(), out[i])) {
      return corrupt("A stock history sum of partition " + std::to_string(p) + " is damaged.");
    }
  }
  return out;
}

Result<std::optional<std::int64_t>> Store::history_since(std::int32_t p) const {
  auto v = get(key(p, 'h', kSince));
  if (!v) return v.error();
  if (!v->has_value()) return std::optional<std::int64_t>();
  std::int64_t since = 0;
  if (!decode_i64(**v, since)) {
    return corrupt("The stock history marker of partition " + std::to_string(p) + " is damaged.");
  }
  return std::optional<std::int64_t>(since);
}

Status Store::scan_history_buckets(
    std::int32_t p, HistoryLevel level, TimeMs from, TimeMs to,
    const std::function<bool(std::string_view cell, std::int64_t sum)>& visit) const {
  if (from >= to) return {};
  const std::string prefix = key(p, 'h', std::string(1, static_cast<char>(level)));
  const std::string end = time_key(to);
  std::optional<Error> failure;
  auto s = scan(prefix, prefix + time_key(from), [&](std::string_view k, std::string_view v) {
    if (k.substr(0, end.size()) >= end) return false;
    std::int64_t sum = 0;
    const std::string_view cell = bucket_cell(k);
    if (cell.empty() || !decode_i64(v, sum)) {
      failure = corrupt("A stock history sum of partition " + std::to_string(p) + " is damaged.");
      return false;
    }
    return visit(cell, sum);
  });
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

Status Store::scan_history_events(
    std::int32_t p, TimeMs from, TimeMs to,
    const std::function<bool(std::string_view key, std::string_view deltas)>& visit) const {
  if (from > to) return {};
  const std::string prefix = key(p, 'e');
  const std::string last = time_key(to);
  return scan(prefix, prefix + time_key(from), [&](std::string_view k, std::string_view v) {
    if (k.substr(0, last.size()) > last) return false;
    return visit(k, v);
  });
}

Status Store::scan_all_history_buckets(
    std::int32_t p,
    const std::function<bool(std::string_view key, std::int64_t sum)>& visit) const {
  std::optional<Error> failure;
  auto s = scan(key(p, 'h'), {}, [&](std::string_view k, std::string_view v) {
    if (k == kSince) return true;
    std::int64_t sum = 0;
    if (!decode_i64(v, sum)) {
      failure = corrupt("A stock history sum of partition " + std::to_string(p) + " is damaged.");
      return false;
    }
    return visit(k, sum);
  });
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

}  // namespace hemoledger
