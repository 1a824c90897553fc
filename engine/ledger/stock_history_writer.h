// StockHistoryWriter: the stock history (projections/stock_history.h) of one
// batch, written into that batch's Store::Batch, so that the history commits
// with the events that cause it (docs/storage.md, "Stock at a past instant").
//
//   StockHistoryWriter h;
//   h.record(p, e.at, position, applied->stock, batch);   // per applied event
//   if (auto s = h.write(store, batch_ends, batch); !s) ... // once, before the commit
//
// record() puts the event's own entry into the batch at once and adds its
// changes to the batch's bucket sums; write() reads the committed sums of
// the buckets the batch touched (one MultiGet) and puts the new ones, and
// marks a partition whose first entries this batch writes as complete from
// position 0. Reads the Store, never writes it.
//
// Threading: the apply thread only; one writer per batch.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/storage/store.h"
#include "projections/stock_history.h"

namespace hemoledger {

class StockHistoryWriter {
 public:
  void record(std::int32_t partition, TimeMs at, std::int64_t position,
              const std::vector<StockDelta>& deltas, Store::Batch& batch);

  // `touched`: every partition the batch wrote journal or rejection entries
  // to (BatchApplier::batch_ends()).
  [[nodiscard]] Status write(const Store& store,
                             const std::map<std::int32_t, std::int64_t>& touched,
                             Store::Batch& batch);

 private:
  std::map<std::int32_t, StockHistory> changes_;  // per partition, this batch's bucket changes
};

}  // namespace hemoledger
