// Partials: how the instances of one consumer group share a national picture
// (docs/scale-out.md).
//
// Every instance publishes, for each events partition it owns, two records to
// the compacted partials topic, into the partials partition of the same
// number (so a partition's records stay in order):
//   owner|<p>  who owns it, whether it is serving or still restoring (and how
//              far), its API address and the events' clock: on assignment and
//              every few seconds;
//   stock|<p>  the partition's partial stock counts and the offset they are
//              exact at: only while serving, never while restoring (so a
//              partition being restored keeps its previous owner's last
//              counts), whenever the partition changed, at most once per
//              publish interval.
//   lookback|<din>|<test>  a positive screen's lookback (store.h's
//              PendingLookback): every instance recalls the donor's earlier
//              units in the partitions it serves (recall ids depend only on the
//              unit, so a recall asked twice is applied once).
// Compaction keeps the latest of each key, so the topic stays small and a new
// instance reads the whole picture from its beginning.
//
// PartialsView reads the whole topic on every instance (TopicReader) and keeps
// the latest record of each kind per partition. national() combines them with
// the partitions this instance serves itself (exact and current) into one
// stock table and says, per partition, how fresh its share of the answer is.
//
// The records and their encoding are in engine/scaleout/partials_codec.h (pure, and
// fuzzed); the view's thread is the only Kafka reader of the topic; its
// snapshot methods are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "engine/kafka/kafka.h"
#include "engine/scaleout/partials_codec.h"

namespace hemoledger {

// One partition's share of a national answer.
struct PartitionFreshness {
  std::int32_t partition = 0;
  std::string source;             // "local" (served here), "partials", or "missing"
  std::string owner;              // the instance that owns it now (may differ from source's)
  std::string counted_from;       // the instance whose counts were used
  bool restoring = false;         // the owner is still replaying it
  std::int64_t next_offset = 0;   // the counts are exact up to here
  std::int64_t owner_offset = 0;  // how far its owner is (last heard)
  TimeMs age_ms = 0;              // since those counts were published (0: local)
};

struct NationalStock {
  StockTable stock;
  std::vector<PartitionFreshness> partitions;
  bool complete = true;  // every partition is counted
  TimeMs oldest_ms = 0;  // the largest age among the partitions counted
};
nlohmann::json freshness_json(const NationalStock& n);

class PartialsView {
 public:
  explicit PartialsView(KafkaConfig config) : config_(std::move(config)) {}
  // Reads the topic until `stop` (its own thread); retries while Kafka is away.
  void run(const std::atomic<bool>& stop);
  // Applies one message as run() does (for tests and the bench).
  void apply(const Record& r);

  std::optional<OwnerRecord> owner(std::int32_t partition) const;
  std::map<std::int32_t, OwnerRecord> owners() const;
  // Combines `local` (partition -> exact table, what this instance serves)
  // with the latest published counts of every other of `partitions`.
  NationalStock national(const std::map<std::int32_t, StockTable>& local,
                         const std::map<std::int32_t, std::int64_t>& local_offsets,
                         std::int32_t partitions, TimeMs now) const;
  std::uint64_t messages() const { return messages_.load(); }
  // Lookback requests from position `from` on (in the order read).
  std::vector<PendingLookback> lookbacks(std::size_t from) const;
  // Every partition's latest record, and a number that grows with each new one.
  std::map<std::int32_t, StockRecord> records(std::uint64_t* version = nullptr) const;
  std::optional<AlertsRecord> alerts() const;

 private:
  KafkaConfig config_;
  mutable std::mutex mu_;
  std::map<std::int32_t, OwnerRecord> owners_;
  std::map<std::int32_t, StockRecord> stock_;
  std::vector<PendingLookback> lookbacks_;
  std::optional<AlertsRecord> alerts_;
  std::uint64_t version_ = 0;
  std::set<std::string> lookback_keys_;
  std::atomic<std::uint64_t> messages_{0};
};

}  // namespace hemoledger
