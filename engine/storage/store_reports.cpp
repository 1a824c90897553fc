// The Store's report keys: per-partition counters (p<ppppp>/m/, p<ppppp>/t)
// and the alert report rows (g/m/). See store.h and docs/storage.md.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <optional>

#include "engine/storage/store.h"
#include "engine/storage/store_keys.h"

namespace hemoledger {

using namespace store_keys;

namespace {

std::string month_text(int month) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06d", month);
  return buf;
}

// The first key text past month `to` (yyyymm; 999999 and beyond: past every month).
std::string past_month(int to) {
  return to >= 999999 ? std::string("999999~") : month_text(to + 1);
}

}  // namespace

void Store::Batch::put_report(std::int32_t p, std::string_view k, std::int64_t count) {
  if (count == 0) {
    batch_->Delete(partition_key(p, 'm', k));
  } else {
    batch_->Put(partition_key(p, 'm', k), encode_i64(count));
  }
}

void Store::Batch::put_report_day(std::int32_t p, std::int64_t day) {
  batch_->Put(partition_key(p, 't'), encode_i64(day));
}

void Store::Batch::put_alert_report(std::string_view k, std::string_view json) {
  batch_->Put(global_key('m', k), json);
}

void Store::Batch::clear_alert_reports() {
  const std::string k = global_key('m', {}, true);  // "g/m/"
  batch_->DeleteRange(k, k.substr(0, k.size() - 1) + char('/' + 1));
}

Result<std::vector<std::int64_t>> Store::report_values(std::int32_t p,
                                                       const std::vector<std::string>& keys) const {
  std::vector<std::string> full;
  full.reserve(keys.size());
  for (const auto& k : keys) full.push_back(key(p, 'm', k));
  std::vector<rocksdb::Slice> slices(full.begin(), full.end());
  std::vector<rocksdb::PinnableSlice> values(full.size());
  std::vector<rocksdb::Status> statuses(full.size());
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), slices.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<std::int64_t> out(full.size(), 0);
  for (std::size_t i = 0; i < full.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return storage_error(statuses[i], "read failed");
    if (!decode_i64(values[i].ToStringView(), out[i])) {
      return corrupt("A stored report counter is damaged.");
    }
  }
  return out;
}

Result<std::int64_t> Store::report_day(std::int32_t p) const {
  auto v = get(key(p, 't'));
  if (!v) return v.error();
  std::int64_t day = 0;
  if (v->has_value() && !decode_i64(**v, day))
    return corrupt("The report's day pointer is damaged.");
  return day;
}

Status Store::scan_report(
    std::int32_t p, int from_month, int to_month,
    const std::function<bool(std::string_view key, std::int64_t value)>& visit) const {
  const std::string prefix = key(p, 'm');
  const std::string end = past_month(to_month);
  std::optional<Error> failure;
  auto s =
      scan(prefix, prefix + month_text(from_month), [&](std::string_view k, std::string_view v) {
        if (k.substr(0, end.size()) >= end) return false;
        std::int64_t n = 0;
        if (!decode_i64(v, n)) {
          failure = corrupt("A stored report counter is damaged.");
          return false;
        }
        return visit(k, n);
      });
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

Status Store::scan_alert_reports(
    int from_month, int to_month,
    const std::function<bool(std::string_view key, std::string_view json)>& visit) const {
  const std::string prefix = global_key('m', {}, true);
  const std::string end = past_month(to_month);
  return scan(prefix, prefix + month_text(from_month), [&](std::string_view k, std::string_view v) {
    if (k.substr(0, end.size()) >= end) return false;
    return visit(k, v);
  });
}

}  // namespace hemoledger
