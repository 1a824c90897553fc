#include "engine/ledger/stock_history_writer.h"

namespace hemoledger {

void StockHistoryWriter::record(std::int32_t p, TimeMs at, std::int64_t position,
                                const std::vector<StockDelta>& deltas, Store::Batch& batch) {
  if (deltas.empty()) return;
  changes_[p].record(at, position, deltas);
  batch.put_history_event(p, history_event_key(at, position), encode_event_deltas(deltas));
}

Status StockHistoryWriter::write(const Store& store,
                                 const std::map<std::int32_t, std::int64_t>& touched,
                                 Store::Batch& batch) {
  for (const auto& [p, end] : touched) {
    auto since = store.history_since(p);
    if (!since) return since.error();
    if (*since) continue;
    // Nothing of this partition is stored yet: its history starts with this
    // batch, complete. A journal written before the history existed stays
    // unmarked (queries replay it) until `rebuild` writes its history.
    auto log_end = store.log_end(p);
    if (!log_end) return log_end.error();
    if (*log_end == 0) batch.put_history_since(p, 0);
  }
  for (const auto& [p, history] : changes_) {
    const auto changes = history.bucket_sums();
    std::vector<std::string> keys;
    keys.reserve(changes.size());
    for (const auto& [k, change] : changes) keys.push_back(k);
    auto sums = store.history_buckets(p, keys);
    if (!sums) return sums.error();
    for (std::size_t i = 0; i < changes.size(); ++i) {
      batch.put_history_bucket(p, changes[i].first, (*sums)[i] + changes[i].second);
    }
  }
  return {};
}

}  // namespace hemoledger
