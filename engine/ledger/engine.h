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
// drops the pending entry once Kafka has them. A collection likewise leaves a
// donor check: DeferredDonorCollected if the donor was deferred.
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
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/io/clock.h"
#include "engine/io/mutex.h"
#include "engine/kafka/kafka.h"
#include "engine/ledger/kafka_gap.h"
#include "engine/ledger/metrics.h"
#include "engine/ledger/outbox.h"
#include "engine/ledger/replay.h"
#include "engine/ledger/verdict.h"
#include "engine/scaleout/partition_snapshots.h"
#include "engine/storage/store.h"
#include "events/reference_data.h"
#include "projections/alert_routing.h"
#include "projections/alerts.h"
#include "projections/partition_replay.h"
#include "projections/projector.h"
#include "projections/stock.h"

namespace hemoledger {

class PartialsView;
class NationalAlerts;
class BatchApplier;
struct PendingRejection;
struct StockRecord;

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
  // Which sectors receive which alerts (projections/alert_routing.h): the
  // alerts topic carries each change's sectors. Empty: no sectors.
  AlertRouting routing;
  // Scale-out (docs/scale-out.md). With an instance name this engine is one
  // of several in its consumer group: a partition the group gives to another
  // instance is dropped from this store (its state moves by replay from
  // Kafka), a newly assigned one is restored by replaying it from offset 0,
  // and each owned partition's stock and ownership go to the partials topic.
  // Empty: the only instance (nothing is ever dropped, nothing published).
  std::string instance;
  std::string advertised_url;         // this instance's API, for the others
  TimeMs partials_interval_ms = 500;  // a changed partition is published at most this often
  TimeMs owner_heartbeat_ms = 3000;   // ownership is republished this often
  // Partition snapshots (engine/scaleout/partition_snapshots.h): with a
  // directory, every served partition's state is written there when due, and
  // in scale-out a partition assigned without its history is installed from
  // the newest snapshot there and only the tail replayed. No directory: none.
  SnapshotOptions snapshots;
  // The one clock (engine/io/clock.h): Kafka record timestamps are put on it
  // (recorded_at, the from_the_future check) and scale-out records are dated by it.
  Clock clock;
  // A testing hook, set only by the test build of the command
  // (engine/cli/failpoints.h): called with "before_commit" and "after_commit"
  // and the number of batches this process has applied, so that a test can
  // kill the process at an exact point of a commit. Null: no failpoints.
  std::function<void(std::string_view where, std::uint64_t batch)> failpoint;
};

struct EngineStatus {
  bool healthy = true;
  std::string instance;                            // scale-out only
  std::vector<std::int32_t> serving;               // scale-out: restored and answered here
  std::map<std::int32_t, std::int64_t> restoring;  // scale-out: partition -> offset to reach
  std::string kafka_problem;                       // empty when consumption is fine
  std::string storage_problem;                     // empty when commits succeed
  std::map<std::int32_t, std::int64_t> next_offsets;
  std::map<std::int32_t, std::int64_t> lag;
  std::vector<KafkaGap> missing;  // never applied, no longer in Kafka: degraded
  // Scale-out: how each owned partition assigned without its history was
  // restored (from a snapshot, or replayed and why).
  std::map<std::int32_t, SnapshotInstall> restores;
  std::optional<SnapshotStatus> snapshots;  // with a snapshot directory
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
  // The committed stock as one immutable table shared by every reader (no
  // copy), replaced by the apply thread after each batch that changed stock
  // (copy-on-write, swapped in under a short lock before the batch's
  // verdicts are released), with a version that counts those replacements.
  struct StockSnapshot {
    std::shared_ptr<const StockTable> table;
    std::uint64_t version = 0;
  };
  StockSnapshot stock_snapshot() const;
  // Waits up to `timeout_ms` for a snapshot newer than `version`; the current one.
  StockSnapshot wait_stock_snapshot(std::uint64_t version, TimeMs timeout_ms) const;
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
  std::map<std::int32_t, StockTable> served_stock(
      std::map<std::int32_t, std::int64_t>* offsets) const;
  // Scale-out: what the other instances published (null in single mode).
  const PartialsView* partials() const { return view_.get(); }
  // The events topic's partition count (0 until the consumer learned it).
  std::int32_t partition_count() const { return partition_count_.load(); }
  // Scale-out: the partition whose owner is the alert leader, which judges
  // the alerts on the national picture (docs/scale-out.md, "Alerts"); -1
  // while the partition count is not known.
  std::int32_t alert_partition() const;
  // Whether this engine judges the alerts: a single instance always, in
  // scale-out the instance serving alert_partition().
  bool leads_alerts() const;
  const EngineMetrics& metrics() const { return metrics_; }
  const Store& store() const { return *store_; }
  const std::string& data_dir() const { return options_.data_dir; }
  // For the engine's own sinks (webhook cursors), which commit small batches
  // of their own keys beside the apply loop.
  Store& store() { return *store_; }
  const ReferenceData& reference() const { return ref_; }
  const Rules& rules() const { return options_.rules; }
  const Clock& clock() const { return options_.clock; }
  const SupplyConfig& supply() const { return options_.supply; }
  const AlertRouting& routing() const { return options_.routing; }
  // The last alert change committed (0: none yet).
  std::uint64_t alert_seq() const;

  // Produces the recalls of pending lookbacks and the committed alert changes
  // not yet sent; run() does this after every batch.
  [[nodiscard]] Status send_pending();

 private:
  Engine(EngineOptions options, const ReferenceData& ref, Producer* producer,
         std::unique_ptr<Store> store);
  [[nodiscard]] Status load();
  bool committed_past(std::int32_t partition, std::int64_t offset) const HL_REQUIRES(mu_);
  // The apply loop's steps (run()).
  struct LoopClock {
    std::chrono::steady_clock::time_point last_watermarks = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_probe = last_watermarks;
  };
  [[nodiscard]] Status restore_offsets();
  std::map<std::int32_t, std::int64_t> committed_offsets() const;
  [[nodiscard]] Result<std::vector<Record>> poll(Consumer& consumer, LoopClock& times);
  [[nodiscard]] Status apply_until_committed(const std::vector<Record>& records,
                                             const std::atomic<bool>& stop, bool& stopped);
  void between_batches(Consumer& consumer, bool idle, LoopClock& times);
  // Single instance: the ranges between the stored offsets and Kafka's low
  // watermarks that Kafka no longer holds (KafkaGap).
  void check_retention(Consumer& consumer);
  void add_gap(const KafkaGap& gap) HL_REQUIRES(mu_);
  [[nodiscard]] Status commit(Store::Batch& batch);
  void after_commit(const BatchApplier& applier, const AlertState& state, std::size_t alert_changes,
                    std::map<std::int32_t, StockTable> new_stock);

  // Apply thread: the total stock with `change` applied, copied outside the
  // lock and swapped in under it (stock_snapshot()).
  void publish_stock(const std::function<void(StockTable&)>& change) HL_EXCLUDES(mu_);
  [[nodiscard]] Status load_alert_model();
  // The available units of the committed state by expiry, for the alert
  // model's window (AlertModel::widen_units).
  AvailableUnitsSource committed_units() const;
  [[nodiscard]] Result<std::int64_t> base_of(std::int32_t partition);
  std::map<std::int32_t, std::int64_t> start_offsets(const std::vector<std::int32_t>& assigned);
  void on_revoked();
  // Scale-out: restore targets of new partitions, owner and stock records.
  void after_assignment(Consumer& consumer);
  void publish_partials(bool heartbeat);
  [[nodiscard]] Status evaluate_national_alerts();
  [[nodiscard]] Status start_leading();
  void publish_alert_state();
  bool add_alert_inputs(StockRecord& r);
  [[nodiscard]] Status drop_partitions(const std::set<std::int32_t>& drop);
  void failpoint(std::string_view where);
  // Handover (engine_handover.cpp): newly assigned partitions without their
  // history installed from snapshots (inside start_offsets), a partition's
  // in-memory state loaded from the store as at a start, and the served
  // partitions told to the snapshot publisher (between batches), and their
  // last snapshots at a clean stop.
  void install_snapshots(const std::vector<std::int32_t>& assigned);
  [[nodiscard]] Status load_partition(std::int32_t partition);
  std::map<std::int32_t, std::int64_t> snapshot_partitions() const HL_EXCLUDES(mu_);
  void feed_snapshots();
  void final_snapshots();

  // Fixed once open (cluster_id_ once run() has asked Kafka).
  EngineOptions options_;
  const ReferenceData& ref_;
  Producer* producer_;
  std::unique_ptr<Store> store_;
  std::string cluster_id_;
  std::atomic<std::int32_t> partition_count_{0};

  // What is committed, for the query threads and the consumer's callbacks.
  mutable Mutex mu_;
  mutable std::condition_variable_any processed_cv_;              // signalled after every commit
  std::map<std::int32_t, std::int64_t> next_ HL_GUARDED_BY(mu_);  // committed next offsets
  std::map<std::int32_t, std::int64_t> base_ HL_GUARDED_BY(mu_);  // journal position of offset 0
  std::map<std::int32_t, StockTable> partition_stock_ HL_GUARDED_BY(mu_);
  // Written by the apply thread only (publish_stock), read by any.
  std::shared_ptr<const StockTable> total_stock_ HL_GUARDED_BY(mu_) =
      std::make_shared<const StockTable>();
  std::uint64_t stock_version_ HL_GUARDED_BY(mu_) = 0;
  std::map<std::int32_t, std::int64_t> high_watermarks_ HL_GUARDED_BY(mu_);
  std::string kafka_problem_ HL_GUARDED_BY(mu_);
  std::string storage_problem_ HL_GUARDED_BY(mu_);
  std::vector<KafkaGap> missing_ HL_GUARDED_BY(mu_);
  // Scale-out: assigned partitions, those still replaying (-> target offset),
  // and those changed since they were last published.
  std::set<std::int32_t> owned_ HL_GUARDED_BY(mu_);
  std::map<std::int32_t, std::int64_t> restore_target_ HL_GUARDED_BY(mu_);
  std::set<std::int32_t> unrestorable_ HL_GUARDED_BY(mu_);
  std::set<std::int32_t> served_before_ HL_GUARDED_BY(mu_);  // served at the last revocation
  bool assignment_changed_ HL_GUARDED_BY(mu_) = false;
  std::set<std::int32_t> partials_dirty_ HL_GUARDED_BY(mu_);
  std::map<std::int32_t, SnapshotInstall> restores_ HL_GUARDED_BY(mu_);

  // Scale-out, apply thread only: the partials of the others, when this
  // instance last published, and the alert leader's national model (null
  // elsewhere).
  std::unique_ptr<PartialsView> view_;
  std::chrono::steady_clock::time_point last_partials_{}, last_heartbeat_{};
  std::unique_ptr<NationalAlerts> national_;
  std::uint64_t national_version_ = 0;
  std::chrono::steady_clock::time_point last_national_{};

  // The alert model and the outbox: apply thread only (metrics are atomic).
  std::unique_ptr<AlertModel> alerts_;
  AlertState alert_state_;
  EngineMetrics metrics_;
  RejectionOutbox rejections_;
  AlertOutbox alert_outbox_;
  LookbackOutbox lookbacks_;
  DonorCheckOutbox donor_checks_;

  std::uint64_t failpoint_batch_ = 0;  // batches applied by this process, for failpoints

  // Writes snapshots of the served partitions on its own thread (null
  // without a snapshot directory). Last: stopped before the rest goes.
  std::unique_ptr<SnapshotPublisher> snapshots_;
};

}  // namespace hemoledger
