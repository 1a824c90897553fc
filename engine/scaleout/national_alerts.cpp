#include "engine/scaleout/national_alerts.h"

#include <algorithm>
#include <set>

namespace hemoledger {

namespace {

// Calls change(key, new - old) for every key whose count differs.
template <typename Map, typename F>
void diff_counts(const Map& before, const Map& after, F change) {
  for (const auto& [k, n] : after) {
    auto it = before.find(k);
    const std::int64_t old = it == before.end() ? 0 : it->second;
    if (n != old) change(k, n - old);
  }
  for (const auto& [k, n] : before) {
    if (!after.count(k) && n != 0) change(k, -n);
  }
}

}  // namespace

void NationalAlerts::update(const std::map<std::int32_t, StockRecord>& records) {
  TimeMs clock = model_.clock();
  for (const auto& [p, now] : records) {
    const StockRecord empty;
    auto it = fed_.find(p);
    const StockRecord& before = it == fed_.end() ? empty : it->second;
    if (it != fed_.end() && before.next_offset == now.next_offset &&
        before.instance == now.instance && before.published_at == now.published_at) {
      continue;  // the same record
    }
    diff_counts(before.stock.cells(), now.stock.cells(),
                [&](const StockKey& k, std::int64_t d) { model_.on_stock(k, d); });
    diff_counts(before.demand, now.demand,
                [&](const DemandKey& k, std::int64_t d) { model_.on_demand(k, d); });
    diff_counts(before.usage, now.usage,
                [&](const ReagentUsageKey& k, std::int64_t d) { model_.on_reagent_usage(k, d); });
    const std::set<IndexEntry> old_index(before.index.begin(), before.index.end());
    const std::set<IndexEntry> new_index(now.index.begin(), now.index.end());
    for (const auto& e : old_index) {
      if (!new_index.count(e)) model_.on_index(e, false);
    }
    for (const auto& e : new_index) {
      if (!old_index.count(e)) model_.on_index(e, true);
    }
    for (const auto& [key, lot] : before.lots) {
      if (!now.lots.count(key)) {
        ReagentLot gone = lot;  // no stock left in this partition: the model forgets it
        gone.on_hand.clear();
        model_.set_reagent_lot(gone);
      }
    }
    for (const auto& [key, lot] : now.lots) model_.set_reagent_lot(lot);
    clock = std::max(clock, now.clock);
    fed_[p] = now;
  }
  model_.advance_clock(clock);
}

}  // namespace hemoledger
