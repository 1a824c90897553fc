#include "engine/queries/stock_at.h"

#include <string>
#include <unordered_map>

#include "engine/ledger/replay.h"
#include "projections/stock_history.h"

namespace hemoledger {

namespace {

// Sums by the stock key's text; decoded once at the end.
struct CellSums {
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::int64_t, Hash, std::equal_to<>> sums;

  void add(std::string_view cell, std::int64_t n) {
    auto it = sums.find(cell);
    if (it == sums.end()) {
      sums.emplace(std::string(cell), n);
    } else {
      it->second += n;
    }
  }
};

}  // namespace

Result<std::optional<StockTable>> partition_stock_at(const Store& store, std::int32_t p,
                                                     TimeMs at) {
  auto since = store.history_since(p);
  if (!since) return since.error();
  if (!*since || **since != 0) return std::optional<StockTable>();
  const HistoryPlan plan = history_plan(at);
  CellSums cells;
  for (const auto& r : plan.ranges) {
    auto s = store.scan_history_buckets(p, r.level, r.from, r.to,
                                        [&](std::string_view cell, std::int64_t sum) {
                                          cells.add(cell, sum);
                                          return true;
                                        });
    if (!s) return s.error();
  }
  bool damaged = false;
  auto s = store.scan_history_events(
      p, plan.events_from, plan.events_to, [&](std::string_view, std::string_view deltas) {
        damaged = !decode_event_deltas(
            deltas, [&](std::string_view cell, std::int64_t n) { cells.add(cell, n); });
        return !damaged;
      });
  if (!s) return s.error();
  if (damaged) {
    return make_error("corrupt_state",
                      "A stock history entry of partition " + std::to_string(p) + " is damaged.");
  }
  StockTable table;
  for (const auto& [text, n] : cells.sums) {
    if (n == 0) continue;
    auto key = decode_stock_key(text);
    if (!key) return key.error();
    table.apply(StockDelta{std::move(*key), n});
  }
  return std::optional<StockTable>(std::move(table));
}

Result<StockAtAnswer> stock_at_instant(const Store& store, const ReferenceData& ref,
                                       const Rules& rules, TimeMs at,
                                       const std::vector<std::int32_t>& partitions) {
  StockAtAnswer out;
  for (auto p : partitions) {
    auto fast = partition_stock_at(store, p, at);
    if (!fast) return fast.error();
    if (*fast) {
      out.stock.add(**fast);
      continue;
    }
    auto replayed = replay_partition(store, ref, rules, p, at);
    if (!replayed) return replayed.error();
    out.stock.add(replayed->stock);
    out.replayed.push_back(p);
  }
  return out;
}

}  // namespace hemoledger
