// Partition snapshots: how a partition moves to another instance without
// replaying its history (docs/scale-out.md, "Handover from a snapshot").
//
// The owner of a partition periodically writes the partition's whole key
// range (p<ppppp>/, read from one RocksDB snapshot, so one committed batch:
// journal, projections and the offset they cover together) as an SST file,
// with a manifest, into a directory every instance can read (--snapshot-dir:
// shared storage). A new owner that does not hold the partition's history
// installs the newest snapshot that passes every check and replays only the
// tail from Kafka; when none does, it replays from offset 0 and says why.
//
// Layout of the directory (docs/storage.md, "Partition snapshots"):
//
//   DIR/p<ppppp>/<offset:020>-<instance>.sst    the key range (SstFileWriter)
//   DIR/p<ppppp>/<offset:020>-<instance>.json   its manifest (SnapshotManifest)
//   DIR/p<ppppp>/.tmp-<instance>-...            a write in progress
//
// Both files are written under a temporary name, synced and renamed, the SST
// file first, so a manifest always names a complete file; a reader only
// looks at manifests. The newest `keep` snapshots of a partition stay; older
// ones are deleted by the writer after each new one.
//
// Threading: SnapshotPublisher's methods are safe from any thread; it writes
// on a thread of its own. The free functions run on the caller's thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/io/clock.h"
#include "engine/io/mutex.h"
#include "engine/storage/store.h"
#include "events/result.h"

namespace hemoledger {

// The manifest format (and the key layout it carries) this build writes and reads.
inline constexpr int kSnapshotFormatVersion = 1;

struct SnapshotOptions {
  std::string dir;  // shared by every instance of the group; "": no snapshots
  // A served partition gets a new snapshot once it has this many new offsets
  // since its last one...
  std::int64_t every_events = 100'000;
  // ...or, if it has any, once this long has passed on the engine's clock.
  TimeMs every_ms = 10 * kMinute;
  std::uint32_t keep = 3;  // newest snapshots kept per partition (at least 1)
  bool enabled() const { return !dir.empty(); }
};

struct SnapshotManifest {
  int version = kSnapshotFormatVersion;
  std::int32_t partition = 0;
  std::int64_t offset = 0;  // the next offset to consume: the state covers every offset below
  std::int64_t base = 0;    // journal position of the cluster's offset 0
  std::string cluster_id;   // the Kafka cluster the offsets belong to
  int event_schema = 0;     // the newest event schema the writer knew
  std::uint64_t keys = 0, bytes = 0;
  std::string sha256;  // of the SST file, lower-case hex
  std::string file;    // the SST file's name, in the partition's directory
  std::string instance;
  TimeMs taken_at = 0;  // the writer's engine clock
};

std::string manifest_json(const SnapshotManifest& m);
// Error "snapshot_manifest" when the text is not a manifest.
[[nodiscard]] Result<SnapshotManifest> parse_manifest(std::string_view text);

// The directory of a partition's snapshots.
std::string snapshot_partition_dir(const std::string& dir, std::int32_t partition);

// Writes a snapshot of `partition` now and prunes the older ones (keep).
// Error "partition_empty" when the store holds nothing of it; "snapshot_stale"
// when the directory already holds one at the same or a later offset.
[[nodiscard]] Result<SnapshotManifest> write_partition_snapshot(const Store& store,
                                                                std::int32_t partition,
                                                                const SnapshotOptions& options,
                                                                const std::string& instance,
                                                                TimeMs now);

// What a new owner did with a partition it was given without its history.
struct SnapshotInstall {
  bool installed = false;
  SnapshotManifest manifest;  // installed: the snapshot
  std::string reason;         // not installed: why the partition is replayed from 0
};

// Installs the newest snapshot of `partition` that passes every check: its
// manifest (format, partition, Kafka cluster, event schema), then its SHA-256
// on a copy in `scratch` (a directory on the database's file system), then
// Store::ingest_partition. Older snapshots are tried when a newer one fails.
// Nothing installed: `reason` says why (each snapshot tried and its fault);
// the partition's range in the store is then untouched, or empty if the
// ingestion itself failed.
SnapshotInstall install_latest_snapshot(Store& store, std::int32_t partition,
                                        const std::string& dir, const std::string& cluster_id,
                                        const std::string& scratch);

// What the publisher has done, for /health.
struct SnapshotStatus {
  std::map<std::int32_t, SnapshotManifest> published;  // the last one per partition
  std::string problem;                                 // the last failure; "" after a success
};

// The owner's side: a thread that snapshots the partitions it is told are
// served when they are due (SnapshotOptions), and never blocks the caller.
class SnapshotPublisher {
 public:
  SnapshotPublisher(const Store& store, SnapshotOptions options, std::string instance, Clock clock);
  ~SnapshotPublisher();  // finishes the snapshot being written, then stops
  SnapshotPublisher(const SnapshotPublisher&) = delete;
  SnapshotPublisher& operator=(const SnapshotPublisher&) = delete;

  // The partitions served now and their committed next offsets (the apply
  // thread, between batches); partitions not named are no longer tracked.
  void serving(std::map<std::int32_t, std::int64_t> next_offsets);
  // A clean stop (the apply thread, after its last commit): every partition
  // named whose committed state moved past its newest snapshot gets one more,
  // written before this returns (the one being written is finished first),
  // so that its next owner replays no tail. The publisher writes nothing
  // after it. Failures are logged and kept in status().
  void finish(std::map<std::int32_t, std::int64_t> next_offsets);
  SnapshotStatus status() const;

 private:
  struct Track {
    std::int64_t offset = 0;  // of the newest snapshot, or where counting started
    TimeMs at = 0;            // when it was written or counting started
  };
  void run();
  // The partitions due now (worker thread).
  std::vector<std::int32_t> due(const std::map<std::int32_t, std::int64_t>& serving);
  void publish(std::int32_t partition);
  // finish()'s last pass (worker thread).
  void publish_final(const std::map<std::int32_t, std::int64_t>& serving);

  const Store& store_;
  const SnapshotOptions options_;
  const std::string instance_;
  const Clock clock_;

  mutable Mutex mu_;
  std::condition_variable_any wake_;
  bool stop_ HL_GUARDED_BY(mu_) = false;
  bool finishing_ HL_GUARDED_BY(mu_) = false;
  std::map<std::int32_t, std::int64_t> serving_ HL_GUARDED_BY(mu_);
  SnapshotStatus status_ HL_GUARDED_BY(mu_);
  std::map<std::int32_t, Track> tracks_;  // worker thread only
  std::thread worker_;
};

}  // namespace hemoledger
