// The apply loop's outbox: what a committed batch leaves to send to Kafka,
// at least once, without the loop ever waiting for Kafka.
//
//   RejectionOutbox  rejections, to the rejected topic; the next position to
//                    forward per partition is stored with every commit.
//   AlertOutbox      committed alert changes, to the alerts topic; the cursor
//                    moves once Kafka has acknowledged them all (each change
//                    carries its seq, so a reader can drop the repeats a
//                    restart may send).
//   LookbackOutbox   markers with a lookback: UnitRecalled for the donor's
//                    earlier units that are in date and in stock or issued,
//                    or already transfused (recall ids are per unit, so
//                    running a lookback twice recalls each unit once; a more
//                    urgent marker recalls again, per test, to bring an open
//                    recall's deadline forward), or,
//                    in a scale-out group, a request to every instance on
//                    the partials topic; a lookback's record is deleted with
//                    the next commit once Kafka has its recalls.
//   DonorCheckOutbox collections: DeferredDonorCollected when the donor's
//                    record (every partition stored here) says the donor was
//                    deferred at the collection's time; the check's record is
//                    deleted with the next commit once done.
//
// Each send() looks at the last round first: settled and delivered moves the
// cursor, failed sends again. A null producer sends nothing.
// Threading: the apply thread only (the AlertOutbox's committed seq may be
// read from any thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/kafka/kafka.h"
#include "engine/storage/store.h"
#include "projections/alert_routing.h"
#include "projections/alerts.h"
#include "projections/lookback.h"

namespace hemoledger {

class PartialsView;
struct EngineMetrics;
struct PendingRejection;

class RejectionOutbox {
 public:
  RejectionOutbox(Store& store, Producer* producer, std::string topic, EngineMetrics& metrics);
  // The stored positions, at start-up.
  [[nodiscard]] Status load();
  // Every partition's next position to forward, into the batch being committed.
  void put_cursors(Store::Batch& batch) const;
  // After a commit: the batch's rejections (at least once; a failure leaves
  // them to forward_stored()).
  void forward(const std::vector<PendingRejection>& rejections);
  // At start-up: what an earlier process stored and did not forward (of one
  // partition only when given: one installed from a snapshot).
  [[nodiscard]] Status forward_stored(std::optional<std::int32_t> only = std::nullopt);
  // Scale-out: partitions given to another instance leave the cursors.
  void drop(const std::set<std::int32_t>& partitions);
  // Scale-out: a partition installed from a snapshot forwards from where its
  // previous owner had (its stored cursor).
  void adopt(std::int32_t partition, std::int64_t next) { next_[partition] = next; }

 private:
  Store& store_;
  Producer* producer_;
  std::string topic_;
  EngineMetrics& metrics_;
  std::map<std::int32_t, std::int64_t> next_;  // next rejection position to forward
};

class AlertOutbox {
 public:
  // `routing` (may be null): each change goes out with its sectors.
  AlertOutbox(const Store& store, Producer* producer, std::string topic, EngineMetrics& metrics,
              const AlertRouting* routing = nullptr);
  // The stored cursor, at start-up.
  [[nodiscard]] Status load();
  // The next change to send, stored with every commit of alert changes.
  std::uint64_t cursor() const { return forwarded_; }
  // A new alert leader: the changes before `seq` were the last leader's to send.
  void skip_to(std::uint64_t seq) { forwarded_ = std::max(forwarded_, seq); }
  // The last change committed (0: none yet); thread-safe.
  std::uint64_t committed() const { return committed_.load(); }
  void set_committed(std::uint64_t seq) { committed_ = seq; }
  // Sends the committed changes not yet sent (at most 10,000 a round).
  [[nodiscard]] Status send();

 private:
  const Store& store_;
  Producer* producer_;
  std::string topic_;
  EngineMetrics& metrics_;
  const AlertRouting* routing_;
  std::uint64_t forwarded_ = 1;  // next change to send
  std::atomic<std::uint64_t> committed_{0};
  // Sent and not yet known delivered: changes up to sending_.
  std::shared_ptr<DeliveryTracker> delivery_;
  std::uint64_t sending_ = 0;
};

class LookbackOutbox {
 public:
  // `view`: the partials of a scale-out group (null for a single instance);
  // `serves(p)`: whether this instance serves partition p.
  LookbackOutbox(const Store& store, const ReferenceData& ref, Producer* producer,
                 const KafkaConfig& kafka, const PartialsView* view,
                 std::function<bool(std::int32_t)> serves, EngineMetrics& metrics);
  // After a commit: the lookbacks it recorded, and the records it deleted.
  void committed(const std::vector<PendingLookback>& fresh);
  // The records of lookbacks done, deleted in the batch being committed.
  void put_deletions(Store::Batch& batch) const;
  bool has_deletions() const { return !done_keys_.empty(); }
  // Scale-out: new partitions were restored; answer every request again.
  void answer_requests_again() { requests_done_ = 0; }
  // The next round reads the stored lookbacks (some were dropped with their partitions).
  void rescan() { scan_ = true; }
  [[nodiscard]] Status send();

 private:
  [[nodiscard]] Status answer_requests();
  // Whether the last round is settled; a failure asks for a full round.
  [[nodiscard]] Status settle_last_round(bool& settled);
  [[nodiscard]] Status recall_earlier_units(const PendingLookback& l, bool served_only,
                                            const std::shared_ptr<DeliveryTracker>& tracker);

  const Store& store_;
  const ReferenceData& ref_;
  Producer* producer_;
  const KafkaConfig& kafka_;
  const PartialsView* view_;
  std::function<bool(std::int32_t)> serves_;
  EngineMetrics& metrics_;
  std::size_t requests_done_ = 0;       // lookback requests of the view handled
  std::set<std::string> recalls_sent_;  // recall ids produced by this process
  std::shared_ptr<DeliveryTracker> delivery_;
  std::vector<PendingLookback> sending_;
  // A round is due when either holds: the lookbacks committed since the last
  // round, or the stored ones to read (at the start, after a failure, a move).
  std::vector<PendingLookback> new_;
  bool scan_ = true;
  // (partition, din, test) of lookbacks done, to delete at the next commit.
  std::vector<std::tuple<std::int32_t, std::string, std::string>> done_keys_;
};

class DonorCheckOutbox {
 public:
  DonorCheckOutbox(const Store& store, const ReferenceData& ref, Producer* producer,
                   std::string events_topic);
  // After a commit: the checks it recorded (and the records it deleted).
  void committed(const std::vector<PendingDonorCheck>& fresh);
  void put_deletions(Store::Batch& batch) const;
  bool has_deletions() const { return !done_.empty(); }
  void rescan() { scan_ = true; }
  [[nodiscard]] Status send();

 private:
  const Store& store_;
  const ReferenceData& ref_;
  Producer* producer_;
  std::string topic_;
  std::shared_ptr<DeliveryTracker> delivery_;
  std::vector<PendingDonorCheck> sending_, new_;
  bool scan_ = true;
  std::vector<std::pair<std::int32_t, std::string>> done_;  // to delete at the next commit
};

// The alert model's evaluation in a batch: the open alerts that changed,
// the changes with their report rows, the state and the outbox's cursor.
void put_alert_outcome(Store::Batch& batch, const AlertModel& model,
                       const std::vector<AlertChange>& changes, const AlertState& state,
                       std::uint64_t cursor, const ReferenceData& ref);

}  // namespace hemoledger
