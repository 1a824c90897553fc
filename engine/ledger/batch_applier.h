// BatchApplier: one batch of consumed Kafka records turned into one RocksDB
// write batch, the heart of the apply loop (Engine::apply_records).
//
//   BatchApplier a({store, ref, rules, alerts, base_of}, committed_next_offsets);
//   if (auto s = a.apply(records); !s) return s;       // 1-3: admit and apply
//   a.write_projections(stock_before);                  // 4: state into the batch
//   auto changes = a.evaluate_alerts(state, forwarded); // 5: alerts into the batch
//   store.commit(a.batch());                            // the caller commits
//
// Phases, each a function below:
//   1. read   every record decoded up front (a large batch on every core:
//             decoding is pure), and the outcomes of their event ids read in
//             one MultiGet (the idempotence check);
//   2. admit  each record: skipped if its offset is committed; otherwise it
//             ends rejected (undecodable, from the future, wrong key,
//             duplicate id) or goes on;
//   3. apply  a clock tick, a reagent lot's event, a donor's deferral, an
//             alert's follow-up (the alert model) or a donation's event
//             through the projector (and the donor's share of the partition,
//             projections/donors.h); a refusal is a rejection with its
//             reason; every applied event adds its report counters
//             (projections/report_counters.h);
//   4. write  donations, lots, reagent usage, indexes (by difference), demand,
//             report counters and stock into the batch (the stock history, by
//             event time, at the end of phase 3: engine/ledger/stock_history_writer.h);
//   5. alerts the alert model sees the batch's changes and is evaluated once.
// Every record ends exactly once: journaled with an "applied" outcome, or a
// rejection (with an outcome, but for duplicates), all in the one batch. The
// applier reads the Store but never writes it: nothing is durable until the
// caller commits batch(), and a failed commit leaves no trace but the alert
// model, which the caller reloads.
//
// Threading: the apply thread only; one applier per batch. Phases 1 and 4
// decode and encode on helper threads they start and join
// (engine/io/on_cores.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/kafka/kafka.h"
#include "engine/ledger/kafka_gap.h"
#include "engine/ledger/stock_history_writer.h"
#include "engine/storage/store.h"
#include "events/reference_data.h"
#include "projections/alerts.h"
#include "projections/lookback.h"
#include "projections/projector.h"
#include "projections/report_counters.h"
#include "projections/stock.h"

namespace hemoledger {

// A rejection stored in the batch, to forward to the rejected topic once committed.
struct PendingRejection {
  std::int32_t partition;
  std::int64_t offset;  // journal position
  std::string key;
  std::string json;
};

class BatchApplier {
 public:
  struct Context {
    const Store& store;
    const ReferenceData& ref;
    const Rules& rules;
    AlertModel& alerts;
    // The journal position of Kafka offset 0 of a partition (Engine::base_of).
    std::function<Result<std::int64_t>(std::int32_t)> base_of;
    // Scale-out, on the alert leader: the national model, which records and
    // judges the follow-up events instead of `alerts` (null: `alerts`).
    AlertModel* follow_ups = nullptr;
  };

  // `next`: the committed next Kafka offset of each partition.
  BatchApplier(Context context, std::map<std::int32_t, std::int64_t> next);

  // Phases 1 to 3 for every record. An error is a storage failure (nothing
  // may be committed then); rejections are not errors.
  [[nodiscard]] Status apply(const std::vector<Record>& records);

  // Phase 4. `stock_before(p)`: partition p's committed stock. Returns the
  // new stock of every partition the batch changed.
  std::map<std::int32_t, StockTable> write_projections(
      const std::function<StockTable(std::int32_t)>& stock_before);

  // Phase 5, for a single instance (scale-out instances judge no alerts of
  // their own): the changes raised, updated or cleared, with the open alerts,
  // the changes, the batch's journal ends and the alert state in the batch.
  // `prior`: the committed alert state; `forwarded`: the Kafka cursor.
  std::vector<AlertChange> evaluate_alerts(const AlertState& prior, std::uint64_t forwarded);
  // The events' clock moves on to the batch's latest event (every instance).
  void advance_alert_clock();
  // The events' clock as the records applied so far leave it.
  TimeMs clock() const { return clock_; }
  // The alert state once committed (evaluate_alerts() or the prior one).
  const AlertState& alert_state() const { return state_; }

  Store::Batch& batch() { return batch_; }
  const std::map<std::int32_t, std::int64_t>& next() const { return next_; }
  // The journal position reached in each partition the batch touched.
  const std::map<std::int32_t, std::int64_t>& batch_ends() const { return batch_ends_; }
  const std::map<std::int32_t, StockTable>& stock_change() const { return stock_change_; }
  const std::vector<PendingRejection>& rejections() const { return rejections_; }
  const std::vector<PendingLookback>& new_lookbacks() const { return new_lookbacks_; }
  const std::vector<PendingDonorCheck>& new_donor_checks() const { return new_donor_checks_; }
  // Offsets the consumer jumped over (retention deleted them before they were applied).
  const std::vector<KafkaGap>& gaps() const { return gaps_; }
  std::uint64_t applied() const { return n_applied_; }
  std::uint64_t rejected() const { return n_rejected_; }
  std::uint64_t duplicates() const { return n_dup_; }
  // Follow-up events recorded by the follow-up model in this batch.
  std::uint64_t follow_ups() const { return n_follow_ups_; }

 private:
  using DinKey = std::pair<std::int32_t, std::string>;  // (partition, din or lot key)

  // One record in its journal position, with what phase 1 read for it.
  struct Admitted {
    const Record& record;
    std::int64_t pos;
    std::size_t index;
  };

  [[nodiscard]] Status read_ahead(const std::vector<Record>& records);
  void decode_all(const std::vector<Record>& records);
  // Batches with at least this many records to decode decode on every core.
  static constexpr std::size_t kDecodeOnCoresFrom = 256;
  void write_donations();
  // Batches that touched at least this many donations encode them on every core.
  static constexpr std::size_t kEncodeOnCoresFrom = 128;
  [[nodiscard]] Status apply_one(const Record& r, std::size_t index);
  // The event if it may be applied; nullopt when rejected here (or on a storage error).
  [[nodiscard]] Result<std::optional<Event>> admit(const Admitted& a);
  [[nodiscard]] Result<bool> is_duplicate(const Admitted& a, const Event& e);
  void reject(const Admitted& a, const Error& err, const Event* e);
  // `warnings`: the projector's, kept in the event's outcome (GET /api/events/{id}).
  void record_applied(const Admitted& a, const Event& e,
                      const std::vector<std::string>& warnings = {});
  void apply_tick(const Admitted& a, const Event& e);
  void apply_follow_up(const Admitted& a, const Event& e);
  // Reports: the partition's day pointer moves with each applied event (a
  // new day samples the stock first); each donation or lot event adds its counters.
  [[nodiscard]] Status sample_report_day(std::int32_t p, const Event& e);
  void take_report_day(std::int32_t p);
  [[nodiscard]] Status read_report_values();
  void write_report();
  [[nodiscard]] Status apply_reagent(const Admitted& a, const Event& e);
  [[nodiscard]] Status apply_donation(const Admitted& a, const Event& e);
  [[nodiscard]] Status count_demand(std::int32_t partition, const DemandDelta& delta);
  [[nodiscard]] Status apply_donor(const Admitted& a, const Event& e);
  // The partition's share of a donor, loaded once per batch.
  [[nodiscard]] Result<DonorRecord*> donor_share(std::int32_t p, const std::string& donor);
  void note_lookbacks(const Admitted& a, const Event& e, const Donation& d,
                      const std::vector<MarkerState>& markers_before);
  void note_donor_check(const Admitted& a, const Event& e, const Donation& d);
  void update_index(std::int32_t p, const std::vector<IndexEntry>& before,
                    const std::vector<IndexEntry>& after);

  Context ctx_;
  Store::Batch batch_;
  std::map<std::int32_t, std::int64_t> next_;
  std::map<std::int32_t, std::int64_t> batch_ends_;  // journal positions reached
  std::vector<KafkaGap> gaps_;
  TimeMs clock_;  // the events' clock

  // Phase 1: each record decoded, and the prior outcome of its event id.
  std::vector<std::optional<Result<Event>>> predecoded_;
  std::vector<std::optional<std::string>> prior_outcomes_;
  std::vector<bool> prior_read_;

  // Phase 3: donations and reagent lots changed, with their index entries
  // before the batch (indexes change by difference), and what follows.
  std::map<DinKey, Donation> touched_;
  std::map<DinKey, std::vector<IndexEntry>> index_before_;
  std::map<DinKey, ReagentLot> touched_lots_;
  std::map<DinKey, std::vector<IndexEntry>> lot_index_before_;
  std::map<std::int32_t, std::set<std::string>> applied_ids_;
  std::map<std::int32_t, StockTable> stock_change_;
  StockHistoryWriter history_;  // the stock changes by event time (stock at an instant)
  std::map<std::pair<std::int32_t, DemandKey>, std::int64_t> demand_;       // new absolute counts
  std::vector<DemandDelta> demand_deltas_;                                  // for the alert model
  std::map<std::pair<std::int32_t, ReagentUsageKey>, std::int64_t> usage_;  // absolute counts
  std::vector<ReagentUsage> usage_deltas_;                                  // for the alert model
  std::vector<PendingLookback> new_lookbacks_;       // positive markers to look back from
  std::vector<PendingDonorCheck> new_donor_checks_;  // collections whose donor to check
  std::map<DinKey, DonorRecord> touched_donors_;     // (partition, donor) -> its share
  std::map<std::int32_t, std::int64_t> report_day_;  // day pointer per partition touched
  std::map<std::int32_t, ReportCounts> report_;      // counter changes, then new values
  ReportCounts pending_samples_;                     // of the event being applied
  std::int64_t pending_day_ = 0;
  std::vector<PendingRejection> rejections_;
  std::uint64_t n_applied_ = 0, n_rejected_ = 0, n_dup_ = 0, n_follow_ups_ = 0;
  AlertState state_;
};

}  // namespace hemoledger
