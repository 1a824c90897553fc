// Stock at a past instant (GET /api/stock?at=, `hemoledger stock --at`),
// summed from the stock history the engine commits with every batch
// (projections/stock_history.h): a few stored sums per partition and the
// single events of the instant's day, whatever the length of the history.
//
//   auto past = stock_at_instant(store, ref, rules, at, store.partitions());
//   if (past) stock_json(past->stock, filter, ref);
//
// A partition whose history is not complete (a journal written before the
// history existed, until `hemoledger rebuild` writes it) is replayed from its
// journal instead (engine/ledger/replay.h stock_at), and named in `replayed`.
//
// Pure over the Store it reads; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/storage/store.h"
#include "events/reference_data.h"
#include "projections/projector.h"
#include "projections/stock.h"

namespace hemoledger {

// Partition p's stock at `at` from its history; nullopt when its history is
// not complete.
[[nodiscard]] Result<std::optional<StockTable>> partition_stock_at(const Store& store,
                                                                   std::int32_t partition,
                                                                   TimeMs at);

struct StockAtAnswer {
  StockTable stock;                    // summed over the partitions asked
  std::vector<std::int32_t> replayed;  // partitions answered by a replay of their journal
};
[[nodiscard]] Result<StockAtAnswer> stock_at_instant(const Store& store, const ReferenceData& ref,
                                                     const Rules& rules, TimeMs at,
                                                     const std::vector<std::int32_t>& partitions);

}  // namespace hemoledger
