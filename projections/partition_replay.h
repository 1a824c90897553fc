// PartitionReplay: one partition's projections folded from its journal, event
// by event, in place: the donations, stock, demand, reagent lots and their
// usage and donor shares. It is the one place where a replay applies an event (rebuild, the
// alert replay, stock at an instant), through the same projector functions as
// the engine's apply loop, and it can feed the alert model what each recorded
// batch changed, exactly as the engine fed it when it committed that batch:
//
//   PartitionReplay r(ref, rules, /*feeds_alerts=*/true);
//   for (const Event& e : events_of_the_batch) {
//     if (auto s = r.apply(e); !s) { /* the projector refused e: nothing changed */ }
//   }
//   model.advance_clock(r.feed(model));  // then model.evaluate()
//
// Pure (no storage, no clock); values only, not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "events/event.h"
#include "events/reference_data.h"
#include "projections/alerts.h"
#include "projections/demand.h"
#include "projections/donors.h"
#include "projections/indexes.h"
#include "projections/projector.h"
#include "projections/reagents.h"
#include "projections/replayed_donations.h"
#include "projections/report_counters.h"
#include "projections/stock.h"
#include "projections/stock_history.h"
#include "projections/unit_state.h"

namespace hemoledger {

// A partition's replayed state.
struct PartitionState {
  ReplayedDonations donations;  // by DIN, the cold ones encoded
  StockTable stock;
  std::map<DemandKey, std::int64_t> demand;       // non-zero counts
  std::map<std::string, ReagentLot> lots;         // by reagent_lot_key()
  std::map<ReagentUsageKey, std::int64_t> usage;  // non-zero counts
  std::map<std::string, DonorRecord> donors;      // this partition's donor shares
  ReportCounts report;                            // non-zero report counters
  std::int64_t report_day = 0;                    // the report's day pointer
  StockHistory history;      // the stock changes by event time, of events applied with a position
  std::uint64_t events = 0;  // applied, clock ticks included
};

class PartitionReplay {
 public:
  // With `feeds_alerts`, remembers what the events applied since the last
  // feed() changed (a little work per event and per donation touched).
  // With `keep_history_events`, the stock history keeps every event's entry
  // and the bucket sums (to be written by a rebuild), not only the events'
  // digest (enough to compare: engine/ledger/replay.cpp).
  PartitionReplay(const ReferenceData& ref, const Rules& rules, bool feeds_alerts = false,
                  bool keep_history_events = false);

  // Applies one journaled event. On an error (the projector refuses it: code
  // and sentence as in the apply loop) nothing changed. With the event's
  // journal `position` (>= 0), its stock changes also go into the stock
  // history (projections/stock_history.h), as the engine recorded them.
  [[nodiscard]] Status apply(const Event& e, std::int64_t position = -1);

  // Gives `model` what the events applied since the last feed() changed, as
  // the engine does for a committed batch: each touched lot as it now is and
  // its index difference, usage, each touched donation's index difference,
  // the net stock change and demand, and the alert follow-up events in order.
  // Returns the latest `at` or `recorded_at` of those events (0: none), for
  // AlertModel::advance_clock.
  TimeMs feed(AlertModel& model);
  // Follow-up events the model refused in feed() (a live engine accepted
  // every journaled one, so a rebuild reports these as differences).
  std::uint64_t refused_follow_ups() const { return refused_follow_ups_; }

  const PartitionState& state() const { return state_; }
  PartitionState& state() { return state_; }

 private:
  [[nodiscard]] Status apply_unsampled(const Event& e, std::int64_t position);

  const ReferenceData& ref_;
  Rules rules_;
  bool feeds_alerts_;
  PartitionState state_;
  // Since the last feed(), when feeding alerts: index entries before.
  std::unordered_map<std::string, std::vector<IndexEntry>> donation_index_before_;
  std::map<std::string, std::vector<IndexEntry>> lot_index_before_;
  StockTable stock_change_;
  std::vector<DemandDelta> demand_changes_;
  std::vector<ReagentUsage> usage_changes_;
  std::vector<Event> follow_ups_;
  std::uint64_t refused_follow_ups_ = 0;
  TimeMs clock_ = 0;
};

}  // namespace hemoledger
