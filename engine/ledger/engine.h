// Engine: consumes the events topic, applies each message through the
// projector, and commits journal, rejections, projections and offsets
// together (see Store's atomicity contract).
//
//   auto engine = Engine::open(options, ref, producer.get());
//   engine->run(stop_flag);   // blocks until stop_flag is set or a fatal error
//
// After every batch the alert model (projections/alerts.h) is evaluated with
// the events' clock and its changes go into the same commit, with the batch's
// journal positions, so that a rebuild can reproduce them; committed changes
// are then sent to the alerts topic (at least once). A positive screen with a
// lookback leaves a pending lookback in the batch; the engine then produces
// UnitRecalled for the donor's earlier in-date units to the events topic and
// drops the pending entry once Kafka has them.
//
// Every consumed message ends as exactly one of: applied (journaled), rejected
// with a code and a sentence (stored and forwarded to the rejected topic), or
// a duplicate of an applied event id (stored as a rejection with code
// duplicate_event). State is laid out by Kafka partition.
//
// Threading: run() and apply_records() belong to one thread. The query
// methods (stock, wait_processed, status, metrics) are safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/io/clock.h"
#include "engine/kafka/kafka.h"
#include "engine/ledger/verdict.h"
#include "engine/storage/store.h"
#include "events/reference_data.h"
#include "projections/alerts.h"
#include "projections/partition_replay.h"
#include "projections/projector.h"
#include "projections/stock.h"

namespace hemoledger {

class PartialsView;
class NationalAlerts;

struct EngineOptions {
  std::string data_dir = "hemoledger-data";
  KafkaConfig kafka;
  Rules rules;
  std::size_t max_batch = 5000;  // messages per RocksDB commit, at most
  int batch_wait_ms = 50;        // how long a poll waits for the first message
  // The embedded cluster is new at every start, so offsets stored for an
  // earlier one do not apply; event-id deduplication covers any overlap.
  bool fresh_cluster = false;
  SupplyConfig supply;  // alert thresholds, windows, horizons
  // Scale-out (docs/scale-out.md). With an instance name this engine is one
  // of several in its consumer group: a partition the group gives to another
  // instance is dropped from this store (its state moves by replay from
  // Kafka), a newly assigned one is restored by replaying it from offset 0,
  // and each owned partition's stock and ownership go to the partials topic.
  // Empty: the only instance (nothing is ever dropped, nothing published).
  std::string instance;
  std::string advertised_url;           // this instance's API, for the others
  TimeMs partials_interval_ms = 500;    // a changed partition is published at most this often
  TimeMs owner_heartbeat_ms = 3000;     // ownership is republished this often
  // The one clock (engine/io/clock.h): Kafka record timestamps are put on it
  // (recorded_at, the from_the_future check) and scale-out records are dated by it.
  Clock clock;
};

struct EngineMetrics {
  std::atomic<std::uint64_t> applied{0}, rejected{0}, duplicates{0}, batches{0};
  std::atomic<std::uint64_t> commit_micros_total{0}, commit_micros_last{0};
  // Where the apply loop's time goes besides: reading from Kafka (polls that
  // returned messages), the RocksDB write inside each commit, and handing
  // recalls, alert changes and scale-out records to Kafka between batches.
  std::atomic<std::uint64_t> poll_micros_total{0}, write_micros_total{0}, send_micros_total{0};
  std::atomic<std::uint64_t> alert_units{0};  // available units the alert model holds
  std::atomic<std::uint64_t> forwarded_rejections{0};
  std::atomic<std::uint64_t> alert_changes{0}, alerts_forwarded{0}, recalls_produced{0};
};

struct EngineStatus {
  bool healthy = true;
  std::string instance;  // scale-out only
  std::vector<std::int32_t> serving;                 // scale-out: restored and answered here
  std::map<std::int32_t, std::int64_t> restoring;    // scale-out: partition -> offset to reach
  std::string kafka_problem;    // empty when consumption is fine
  std::string storage_problem;  // empty when commits succeed
  std::map<std::int32_t, std::int64_t> next_offsets;
  std::map<std::int32_t, std::int64_t> lag;
};

// The code of run()'s error when storage works again after a failed write
// but the database stays read-only: the process must start afresh.
inline constexpr char kRestartNeeded[] = "restart_needed";

class Engine {
 public:
  // `producer` forwards rejections to the rejected topic; may be null (then
  // rejections are only stored).
  [[nodiscard]] static Result<std::unique_ptr<Engine>> open(EngineOptions options,
                                                            const ReferenceData& ref,
                                                            Producer* producer);
  ~Engine();

  // Consumes until `stop` is set (then finishes the batch in flight, commits
  // and returns OK) or a fatal Kafka or storage error (returned; nothing of the
  // failed batch was committed, so a restart resumes cleanly).
  [[nodiscard]] Status run(const std::atomic<bool>& stop);

  // Applies and commits one batch of consumed records. Records at offsets
  // already committed are skipped. Their timestamps are on the engine's clock
  // (run() puts what Kafka gives on it with Clock::from_wall).
  [[nodiscard]] Status apply_records(const std::vector<Record>& records);

  // Thread-safe views.
  StockTable stock() const;
  // Waits until the message at (partition, offset) has been committed.
  bool wait_processed(std::int32_t partition, std::int64_t offset, TimeMs timeout_ms) const;
  EngineStatus status() const;
  // The verdict of the message at Kafka (partition, offset) once this engine
  // has committed it; nullopt before (or if it never consumed that partition).
  [[nodiscard]] Result<std::optional<Verdict>> verdict(std::int32_t partition,
                                                       std::int64_t offset) const;
  // Scale-out views (thread-safe). In single-instance mode every partition
  // with state is served.
  bool scale_out() const { return !options_.instance.empty(); }
  const std::string& instance() const { return options_.instance; }
  bool serves(std::int32_t partition) const;
  bool restoring(std::int32_t partition) const;
  // The stock of each served partition and its committed next offset.
  std::map<std::int32_t, StockTable> served_stock(std::map<std::int32_t, std::int64_t>* offsets) const;
  // Scale-out: what the other instances published (null in single mode).
  const PartialsView* partials() const { return view_.get(); }
  // The events topic's partition count (0 until the consumer learned it).
  std::int32_t partition_count() const { return partition_count_.load(); }
  const EngineMetrics& metrics() const { return metrics_; }
  const Store& store() const { return *store_; }
  // For the engine's own sinks (webhook cursors), which commit small batches
  // of their own keys beside the apply loop.
  Store& store() { return *store_; }
  const ReferenceData& reference() const { return ref_; }
  const Rules& rules() const { return options_.rules; }
  const Clock& clock() const { return options_.clock; }
  const SupplyConfig& supply() const { return options_.supply; }
  // The last alert change committed (0: none yet).
  std::uint64_t alert_seq() const;

  // Produces the recalls of pending lookbacks and the committed alert changes
  // not yet sent; run() does this after every batch.
  [[nodiscard]] Status send_pending();

 private:
  Engine(EngineOptions options, const ReferenceData& ref, Producer* producer,
         std::unique_ptr<Store> store);
  [[nodiscard]] Status load();
  [[nodiscard]] Status forward_pending_rejections();
  [[nodiscard]] Status load_alert_model();
  [[nodiscard]] Status run_lookbacks();
  [[nodiscard]] Status forward_alert_changes();
  [[nodiscard]] Result<std::int64_t> base_of(std::int32_t partition);
  std::map<std::int32_t, std::int64_t> start_offsets(const std::vector<std::int32_t>& assigned);
  void on_revoked();
  // Scale-out: restore targets of new partitions, owner and stock records.
  void after_assignment(Consumer& consumer);
  void publish_partials(bool heartbeat);
  [[nodiscard]] Status drop_partitions(const std::set<std::int32_t>& drop);
  void failpoint(std::string_view where);

  EngineOptions options_;
  const ReferenceData& ref_;
  Producer* producer_;
  std::unique_ptr<Store> store_;
  std::string cluster_id_;

  mutable std::mutex mu_;  // guards the fields below
  mutable std::condition_variable processed_cv_;
  std::map<std::int32_t, std::int64_t> next_;  // committed next offsets, this cluster
  std::map<std::int32_t, StockTable> partition_stock_;
  StockTable total_stock_;
  std::map<std::int32_t, std::int64_t> high_watermarks_;
  std::string kafka_problem_, storage_problem_;
  // Scale-out: assigned partitions, those still replaying (-> target offset).
  std::set<std::int32_t> owned_;
  std::map<std::int32_t, std::int64_t> restore_target_;
  std::set<std::int32_t> unrestorable_;
  std::set<std::int32_t> served_before_;  // served when the group last revoked
  bool assignment_changed_ = false;
  std::atomic<std::int32_t> partition_count_{0};
  // Apply thread only: partitions changed since they were last published.
  std::set<std::int32_t> partials_dirty_;
  std::chrono::steady_clock::time_point last_partials_{}, last_heartbeat_{};
  std::unique_ptr<PartialsView> view_;
  std::size_t lookbacks_done_ = 0;        // lookback requests of the view handled
  std::set<std::string> recalls_sent_;    // recall ids produced by this process
  // `tracker` (may be null) counts the recalls produced.
  [[nodiscard]] Status recall_earlier_units(const PendingLookback& l, bool served_only,
                                            const std::shared_ptr<DeliveryTracker>& tracker);
  // Scale-out: the alert leader's national model (null elsewhere).
  std::unique_ptr<NationalAlerts> national_;
  std::uint64_t national_version_ = 0;
  std::chrono::steady_clock::time_point last_national_{};
  [[nodiscard]] Status evaluate_national_alerts();

  std::map<std::int32_t, std::int64_t> forward_next_;  // next rejection position to forward
  std::map<std::int32_t, std::int64_t> base_;  // journal position of offset 0, this cluster
  // Apply thread only:
  std::unique_ptr<AlertModel> alerts_;
  AlertState alert_state_;
  std::uint64_t alerts_forwarded_ = 0;  // next alert change to send to Kafka
  // Sent and not yet known delivered: changes up to alerts_sending_, and the
  // lookbacks whose recalls (or scale-out requests) are on their way. The
  // apply loop never waits for Kafka: it looks again between batches.
  std::shared_ptr<DeliveryTracker> alerts_delivery_;
  std::uint64_t alerts_sending_ = 0;
  std::shared_ptr<DeliveryTracker> lookbacks_delivery_;
  std::vector<PendingLookback> lookbacks_sending_;
  // A round is due when either holds: the lookbacks committed since the last
  // round, or the stored ones to read (at the start, after a failure, a move).
  std::vector<PendingLookback> lookbacks_new_;
  bool lookbacks_scan_ = true;
  std::vector<std::pair<std::int32_t, std::string>> lookbacks_done_keys_;  // to delete at the next commit
  // Puts the deletion of lookbacks_done_keys_ into `batch`.
  void delete_done_lookbacks(Store::Batch& batch) const;
  std::atomic<std::uint64_t> committed_alert_seq_{0};
  EngineMetrics metrics_;
  std::string failpoint_spec_;
  std::uint64_t failpoint_batch_ = 0;
};

// One partition's journal replayed through the projector in offset order
// (projections/partition_replay.h, the one replay of an event). With `until`,
// events that happened after it are skipped (and an event the projector then
// refuses is skipped too); without, every journaled event must be accepted
// again or the replay fails with "replay_diverged". Reads only that partition;
// rebuild() does not use it (it reads the whole journal once).
using ReplayedPartition = PartitionState;
[[nodiscard]] Result<ReplayedPartition> replay_partition(const Store& store,
                                                         const ReferenceData& ref,
                                                         const Rules& rules, std::int32_t partition,
                                                         std::optional<TimeMs> until);

// Stock as it was at instant `at`: the journal replayed up to it. Costs a
// replay of the whole journal.
[[nodiscard]] Result<StockTable> stock_at(const Store& store, const ReferenceData& ref,
                                          const Rules& rules, TimeMs at);

// Recomputes every projection from the journal, read once: all partitions
// together, batch by recorded batch, feeding the alert model at each recorded
// boundary as the engine did (replay_alerts), then compared (and with `write`
// replaced) partition by partition. With `write` false it only compares; with `write` true it also replaces the stored projections (the
// engine must not be running). `equal` says whether the recomputed state was
// identical to the stored (live) state.
struct RebuildReport {
  std::uint64_t events = 0;
  std::uint64_t donations = 0;
  std::uint64_t reagent_lots = 0;
  bool equal = true;
  std::vector<std::string> differences;  // first few, for people
  double seconds = 0;
};
[[nodiscard]] Result<RebuildReport> rebuild(Store& store, const ReferenceData& ref,
                                            const Rules& rules, bool write,
                                            const SupplyConfig& supply = {});

// The alert changes and open alerts a replay of the journal produces, batch by
// recorded batch (Store::scan_batch_ends), with a fresh alert model: the same
// single pass as rebuild(), which also yields every partition's projections.
struct ReplayedAlerts {
  std::vector<AlertChange> changes;
  std::map<std::string, Alert> open;
  AlertState state;
};
[[nodiscard]] Result<ReplayedAlerts> replay_alerts(const Store& store, const ReferenceData& ref,
                                                   const Rules& rules, const SupplyConfig& supply);

}  // namespace hemoledger
