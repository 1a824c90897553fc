// Store: hemoledger's RocksDB database, the durable record of everything the
// engine has consumed. It holds, per Kafka partition of the events topic:
//
//   p<ppppp>/d/<din>              Donation aggregate (projections/unit_state.h)
//   p<ppppp>/j/<offset:020>       journal: an accepted event, binary codec
//   p<ppppp>/r/<offset:020>       a rejected message with its reason (JSON)
//   p<ppppp>/i/<event id>         the outcome of an event id (JSON)
//   p<ppppp>/s/<stock key>        partial stock count (int64, little-endian)
//   p<ppppp>/a/<facility>|<expires:020>|<din>|<product>
//                                 index of available units, for first-expire-first-out
//   p<ppppp>/x/<expires:020>|<din>|<product>
//                                 index of units in the bank's hands (quarantined,
//                                 available, reserved, in transit) by expiry
//   p<ppppp>/n/<demand key>       units consumed per day, facility, category, group
//   p<ppppp>/k/<deadline:020>|<din>|<product>   open lookback recalls
//   p<ppppp>/v/<donor>|<din>      donations by pseudonymous donor, for lookback
//   p<ppppp>/l/<din>|<test>       a positive marker whose lookback is still to run
//   p<ppppp>/q/<what>|<din>[|..]  index of what needs attention (laboratory-truth alerts)
//   p<ppppp>/w/<donor>            this partition's share of a donor's record
//   p<ppppp>/c/<din>              a collection whose donor is still to be checked
//   p<ppppp>/g/<reagent>|<lot>    a reagent lot (projections/reagents.h)
//   p<ppppp>/u/<day>|<facility>|<reagent>   reagent quantity used per day
//   p<ppppp>/y/<expires:020>|<reagent>|<lot>  index of lots with stock, by expiry
//   p<ppppp>/m/<yyyymm>|<place>|<metric>   a report counter (int64; projections/report_counters.h)
//   p<ppppp>/t                    the report's day pointer (int64 days since the epoch)
//   p<ppppp>/h/<level><start>|<stock key>   stock changes summed by year, month
//                                 and day of the events' time (stock at an instant)
//   p<ppppp>/h/#                  the journal position the stock history is complete from
//   p<ppppp>/e/<at>|<position:020>  one event's stock changes, by its time
//   p<ppppp>/o                    next offset to consume, the cluster id, and
//                                 the journal position of the cluster's offset 0
//   p<ppppp>/f                    next rejection position to forward to Kafka
//
// Journal and rejection keys are journal positions: the Kafka offset plus the
// partition's base, which moves past everything stored when the engine meets a
// new cluster (the embedded one is new at every start), so that nothing stored
// is ever overwritten.
//
// Alerts span partitions and live under g/ (projections/alerts.h):
//   g/s                           alert sequence and event clock
//   g/a/<dedup key>               an open alert (JSON)
//   g/h/<seq:020>                 every alert change, in order (JSON)
//   g/b/<batch:020>               the journal positions each batch ended at
//   g/f, g/w/<webhook>            how far changes were sent to Kafka, webhooks
//   g/m/<yyyymm>|<seq:020>|<n>    a report row of an alert change (JSON), under
//                                 the month it counts in (engine/ledger/alert_report.h)
//
// Lab messages received by the lab gateway (engine/labs/lab_gateway.h) live under
// m/, outside the partitions (a message may name several donations):
//   m/<channel>|<sender>|<control id>|<digest>   the raw message, when it was
//                                 received, its outcome and the answer (JSON)
//
// Refusals of the API and the lab links (401, 403; engine/security/refusal_log.h)
// live under z/, outside the partitions, one key per refusal:
//   z/<time:020>|<seq:010>        when, who, from where, what, the code and
//                                 the reason (JSON)
//
// Every other key belongs to exactly one partition, so a partition's state can move
// between engine instances as one key range. docs/storage.md describes the
// values.
//
// Atomicity: everything one batch of messages changes (journal entries,
// rejections, outcomes, donations, stock counts and the next offsets) is put
// into one Store::Batch and written by commit() as ONE RocksDB WriteBatch,
// with the WAL on and synced. After a crash at any instant either the whole
// batch is there or none of it, so the stored offsets always match the state:
//
//   Store::Batch b;
//   b.put_journal(p, offset, encode_binary(e));
//   b.put_donation(p, din, encode_donation(d));
//   b.put_offset(p, offset + 1, cluster_id);
//   if (auto s = store.commit(b); !s) { /* nothing was written */ }
//
// Threading: one writer (the engine's apply loop); reads from any thread.
//
// The code: store_keys.h (the key schema and value encoding), store_open.cpp
// (RocksDB options, open), store_batch.cpp (Batch, commit), store.cpp (a
// partition's records), store_indexes.cpp (indexes, reagents), store_global.cpp
// (alerts, lab messages, refusals).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/storage/backups.h"
#include "events/result.h"
#include "projections/demand.h"
#include "projections/donors.h"
#include "projections/indexes.h"
#include "projections/lookback.h"
#include "projections/reagents.h"
#include "projections/stock.h"
#include "projections/stock_history.h"
#include "projections/unit_state.h"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace hemoledger {

struct StoredOffset {
  std::int64_t next = 0;   // the next offset to consume
  std::string cluster_id;  // the Kafka cluster the offset belongs to
  std::int64_t base = 0;   // journal position of that cluster's offset 0
};

// The alerts' own state (g/s).
struct AlertState {
  std::uint64_t seq = 0;    // last alert change
  TimeMs clock = 0;         // the event clock
  std::uint64_t batch = 0;  // last batch boundary recorded
};

// What RocksDB holds in memory, in bytes: the memtables (at most
// write_buffer_size x max_write_buffer_number), the block cache (bounded; it
// holds the SST files' index blocks too) and the table readers outside it.
struct StoreMemory {
  std::uint64_t memtables = 0, block_cache = 0, table_readers = 0;
};

// A partition's key range written to one SST file (Store::export_partition).
struct PartitionExport {
  std::uint64_t keys = 0;   // keys in the file
  std::uint64_t bytes = 0;  // the file's size
  StoredOffset offset;      // the partition's stored offset, read in the same snapshot
};

// The secondary indexes ('a', 'x', 'k', 'v', 'b') are defined in projections/indexes.h.

class Store {
 public:
  class Batch {
   public:
    Batch();
    ~Batch();
    Batch(Batch&&) noexcept;
    void put_donation(std::int32_t partition, std::string_view din, std::string_view encoded);
    void delete_donation(std::int32_t partition, std::string_view din);
    void put_journal(std::int32_t partition, std::int64_t offset, std::string_view encoded_event);
    void put_rejection(std::int32_t partition, std::int64_t offset, std::string_view json);
    void put_outcome(std::int32_t partition, std::string_view event_id, std::string_view json);
    void put_stock(std::int32_t partition, const StockKey& key, std::int64_t count);
    void put_offset(std::int32_t partition, const StoredOffset& offset);
    void put_demand(std::int32_t partition, const DemandKey& key, std::int64_t count);
    void put_index(std::int32_t partition, const IndexEntry& entry);
    void delete_index(std::int32_t partition, const IndexEntry& entry);
    void put_forwarded(std::int32_t partition, std::int64_t next_rejection_offset);
    void put_reagent_lot(std::int32_t partition, const ReagentLot& lot);
    // count 0 deletes the key.
    void put_reagent_usage(std::int32_t partition, const ReagentUsageKey& key, std::int64_t count);
    void put_lookback(const PendingLookback& l);
    void delete_lookback(std::int32_t partition, std::string_view din, std::string_view test);
    // This partition's share of a donor's record (projections/donors.h).
    void put_donor(std::int32_t partition, std::string_view donor, std::string_view encoded);
    // A collection whose donor's deferrals are still to be checked.
    void put_donor_check(const PendingDonorCheck& c);
    void delete_donor_check(std::int32_t partition, std::string_view din);
    void put_alert_state(const AlertState& s);
    void put_open_alert(std::string_view key, std::string_view json);
    void delete_open_alert(std::string_view key);
    void put_alert_change(std::uint64_t seq, std::string_view json);
    // The journal positions (next, per partition touched) a batch ended at.
    void put_batch_end(std::uint64_t batch, const std::map<std::int32_t, std::int64_t>& ends);
    void put_alert_cursor(std::string_view sink, std::uint64_t next_seq);
    // Report counters (count 0 deletes the key) and the partition's day pointer.
    void put_report(std::int32_t partition, std::string_view key, std::int64_t count);
    void put_report_day(std::int32_t partition, std::int64_t day);
    // An alert change's report row (key g/m/<key>); and every row, for a rebuild.
    void put_alert_report(std::string_view key, std::string_view json);
    void clear_alert_reports();
    // A lab message and its answer (key m/<id>, docs/storage.md).
    void put_inbound(std::string_view id, std::string_view json);
    // A refused request or connection (key z/<id>, docs/storage.md).
    void put_refusal(std::string_view id, std::string_view json);
    // The stock history (projections/stock_history.h): a bucket's sum (0
    // deletes it), one event's changes, and the journal position the
    // partition's history is complete from.
    void put_history_bucket(std::int32_t partition, std::string_view bucket_key, std::int64_t sum);
    void put_history_event(std::int32_t partition, std::string_view event_key,
                           std::string_view deltas);
    void put_history_since(std::int32_t partition, std::int64_t position);
    // Removes every projection key of a partition (donations, stock); the
    // journal, rejections, outcomes and offsets stay. Used by rebuild.
    void clear_projections(std::int32_t partition);
    // Every key of the partition: journal, rejections, outcomes, projections
    // and offsets (scale-out: the group gave the partition to another instance).
    void drop_partition(std::int32_t partition);
    std::size_t size_bytes() const;
    std::size_t operations() const;  // puts and deletes
    rocksdb::WriteBatch& raw() { return *batch_; }

   private:
    friend class Store;
    // The key of a partition's entry; notes that the batch puts into it.
    std::string partition_key(std::int32_t partition, char kind, std::string_view rest = {});

    std::unique_ptr<rocksdb::WriteBatch> batch_;
    // Partitions the batch writes into, and those it drops (the last word
    // about a partition wins), for Store's list of partitions.
    std::map<std::int32_t, bool> partitions_written_;
  };

  // Opens (creating if missing) the database for reading and writing.
  [[nodiscard]] static Result<std::unique_ptr<Store>> open(const std::string& path);
  // Opens a running engine's database read-only, as a RocksDB secondary
  // instance that keeps its own small files under `scratch`.
  [[nodiscard]] static Result<std::unique_ptr<Store>> open_secondary(const std::string& path,
                                                                     const std::string& scratch);
  ~Store();

  // Writes the batch atomically, WAL synced. On error nothing was written.
  // Its puts and deletes go to RocksDB in key order (of two on one key the
  // later still wins, so the result is the same): the memtable then inserts
  // each key next to the previous one instead of searching for it.
  [[nodiscard]] Status commit(Batch& batch);
  // After a failed write (a full disk, an I/O error) RocksDB refuses further
  // writes until resumed: tries to resume; an error while the fault lasts.
  [[nodiscard]] Status recover();
  // Whether a file can be written and synced in the database's directory now.
  bool writable() const;

  [[nodiscard]] Result<std::optional<Donation>> donation(std::int32_t partition,
                                                         std::string_view din) const;
  // Partitions that have any stored key, ascending.
  std::vector<std::int32_t> partitions() const;
  [[nodiscard]] Result<std::map<std::int32_t, StoredOffset>> offsets() const;
  [[nodiscard]] Result<std::int64_t> forwarded(std::int32_t partition) const;
  [[nodiscard]] Result<StockTable> stock(std::int32_t partition) const;
  [[nodiscard]] Result<std::int64_t> demand(std::int32_t partition, const DemandKey& key) const;
  // Demand counts of days [from_day, to_day) over all partitions (summed), or
  // of one partition when `partition` is given.
  [[nodiscard]] Result<std::map<DemandKey, std::int64_t>> demand_window(
      std::int64_t from_day, std::int64_t to_day,
      std::optional<std::int32_t> partition = std::nullopt) const;
  [[nodiscard]] Result<std::optional<std::string>> outcome(std::int32_t partition,
                                                           std::string_view event_id) const;
  // The outcomes of many event ids at once (one RocksDB MultiGet), in the
  // order asked: what outcome() would return for each.
  [[nodiscard]] Result<std::vector<std::optional<std::string>>> outcomes(
      const std::vector<std::pair<std::int32_t, std::string_view>>& ids) const;
  [[nodiscard]] Result<std::optional<std::string>> journal_entry(std::int32_t partition,
                                                                 std::int64_t offset) const;
  [[nodiscard]] Result<std::optional<std::string>> rejection(std::int32_t partition,
                                                             std::int64_t offset) const;

  // Visits a partition's journal (or rejections) in offset order from `from`;
  // the visitor returns false to stop.
  using Visitor = std::function<bool(std::int64_t offset, std::string_view value)>;
  [[nodiscard]] Status scan_journal(std::int32_t partition, std::int64_t from,
                                    const Visitor& visit) const;
  [[nodiscard]] Status scan_rejections(std::int32_t partition, std::int64_t from,
                                       const Visitor& visit) const;
  // Visits every stored donation of a partition in DIN order.
  [[nodiscard]] Status scan_donations(
      std::int32_t partition,
      const std::function<bool(std::string_view din, std::string_view)>& visit) const;

  // Available units at a facility across all partitions, soonest expiry first.
  [[nodiscard]] Result<std::vector<AvailableUnit>> available_at(std::string_view facility) const;
  // Every unit `issuer` issued to a hospital, across partitions, oldest issue first.
  [[nodiscard]] Result<std::vector<IssuedUnit>> issued_by(std::string_view issuer) const;
  // Every index entry of one partition, in key order.
  [[nodiscard]] Result<std::vector<IndexEntry>> index_in(std::int32_t partition) const;
  // The same, streamed: kind, key and value of each; the visitor returns false to stop.
  [[nodiscard]] Status scan_index_in(
      std::int32_t partition,
      const std::function<bool(char kind, std::string_view key, std::string_view value)>& visit)
      const;
  // Available units, across partitions, whose expiry lies in (after, upto]:
  // the expiry index ('x') read over that range, each unit's available-units
  // entry ('a') fetched with one MultiGet per partition. In no set order.
  // The alert model's window (AlertModel::widen_units) reads it.
  [[nodiscard]] Result<std::vector<AvailableUnit>> available_expiring(TimeMs after,
                                                                      TimeMs upto) const;
  // Units that expire at or before `now`, soonest first, at most `limit`.
  [[nodiscard]] Result<std::vector<ExpiringUnit>> due_expiries(TimeMs now, std::size_t limit) const;
  // Every entry of index `kind` across partitions.
  [[nodiscard]] Status scan_index(char kind,
                                  const std::function<void(const IndexEntry&)>& visit) const;
  // The donor's donations in every partition, with the partition of each.
  [[nodiscard]] Result<std::vector<std::pair<std::int32_t, DonorDonation>>> donations_of(
      std::string_view donor) const;
  [[nodiscard]] Result<std::vector<PendingLookback>> pending_lookbacks() const;
  [[nodiscard]] Result<std::vector<PendingDonorCheck>> pending_donor_checks() const;
  // A partition's share of a donor's record, and the shares of every
  // partition stored here merged (projections/donors.h).
  [[nodiscard]] Result<std::optional<DonorRecord>> donor(std::int32_t partition,
                                                         std::string_view donor) const;
  [[nodiscard]] Result<DonorRecord> donor_everywhere(std::string_view donor) const;
  // Visits every stored donor share of a partition in donor order.
  [[nodiscard]] Status scan_donors(
      std::int32_t partition,
      const std::function<bool(std::string_view donor, std::string_view)>& visit) const;
  [[nodiscard]] Result<std::optional<ReagentLot>> reagent_lot(std::int32_t partition,
                                                              std::string_view lot_key) const;
  // A lot in whichever partition holds it.
  [[nodiscard]] Result<std::optional<ReagentLot>> reagent_lot_anywhere(
      std::string_view lot_key) const;
  // Every stored lot, of one partition or all.
  [[nodiscard]] Result<std::vector<ReagentLot>> reagent_lots(
      std::optional<std::int32_t> partition = std::nullopt) const;
  [[nodiscard]] Result<std::int64_t> reagent_usage(std::int32_t partition,
                                                   const ReagentUsageKey& key) const;
  // Usage on days [from_day, to_day), summed over partitions unless one is given.
  [[nodiscard]] Result<std::map<ReagentUsageKey, std::int64_t>> reagent_usage_window(
      std::int64_t from_day, std::int64_t to_day,
      std::optional<std::int32_t> partition = std::nullopt) const;
  // Lots with stock that expire at or before `now` (index 'y'): lot key and a holder.
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> due_reagent_expiries(
      TimeMs now, std::size_t limit) const;
  // The stock history (projections/stock_history.h). Sums of bucket keys
  // (0 when absent), in the order asked, with one MultiGet.
  [[nodiscard]] Result<std::vector<std::int64_t>> history_buckets(
      std::int32_t partition, const std::vector<std::string>& bucket_keys) const;
  // The journal position the partition's stock history is complete from;
  // nullopt when it is not (a journal written before the history existed:
  // `rebuild` writes it).
  [[nodiscard]] Result<std::optional<std::int64_t>> history_since(std::int32_t partition) const;
  // Visits the buckets of `level` whose start is in [from, to): the stock
  // key's text and the sum.
  [[nodiscard]] Status scan_history_buckets(
      std::int32_t partition, HistoryLevel level, TimeMs from, TimeMs to,
      const std::function<bool(std::string_view cell, std::int64_t sum)>& visit) const;
  // Visits the single events with at in [from, to] (both included), in time
  // order: the event key and its encoded changes.
  [[nodiscard]] Status scan_history_events(
      std::int32_t partition, TimeMs from, TimeMs to,
      const std::function<bool(std::string_view key, std::string_view deltas)>& visit) const;
  // Every bucket of the partition (the bucket key and its sum), for rebuild.
  [[nodiscard]] Status scan_all_history_buckets(
      std::int32_t partition,
      const std::function<bool(std::string_view key, std::int64_t sum)>& visit) const;

  // One past the last journal or rejection position of a partition.
  [[nodiscard]] Result<std::int64_t> log_end(std::int32_t partition) const;

  // Alerts.
  [[nodiscard]] Result<AlertState> alert_state() const;
  [[nodiscard]] Result<std::map<std::string, std::string>> open_alerts() const;  // key -> JSON
  [[nodiscard]] Status scan_alert_changes(
      std::uint64_t from_seq,
      const std::function<bool(std::uint64_t, std::string_view)>& visit) const;
  [[nodiscard]] Status scan_batch_ends(
      const std::function<bool(std::uint64_t, const std::map<std::int32_t, std::int64_t>&)>& visit)
      const;
  [[nodiscard]] Result<std::uint64_t> alert_cursor(std::string_view sink) const;

  // Reports (docs/storage.md). The current values of report counters (0 when
  // absent), in the order asked; a partition's day pointer (0: none yet).
  [[nodiscard]] Result<std::vector<std::int64_t>> report_values(
      std::int32_t partition, const std::vector<std::string>& keys) const;
  [[nodiscard]] Result<std::int64_t> report_day(std::int32_t partition) const;
  // Visits the report counters of months [from_month, to_month] (yyyymm) of
  // one partition in key order; the visitor returns false to stop.
  [[nodiscard]] Status scan_report(
      std::int32_t partition, int from_month, int to_month,
      const std::function<bool(std::string_view key, std::int64_t value)>& visit) const;
  // The alert report rows of months [from_month, to_month], in key order.
  [[nodiscard]] Status scan_alert_reports(
      int from_month, int to_month,
      const std::function<bool(std::string_view key, std::string_view json)>& visit) const;

  // Lab messages (m/): the stored JSON of one, or nullopt; and every one whose
  // id starts with `prefix`, in id order (the visitor returns false to stop).
  [[nodiscard]] Result<std::optional<std::string>> inbound(std::string_view id) const;
  [[nodiscard]] Status scan_inbound(
      std::string_view prefix,
      const std::function<bool(std::string_view id, std::string_view json)>& visit) const;

  // Refusals (z/), oldest first (the visitor returns false to stop).
  [[nodiscard]] Status scan_refusals(
      const std::function<bool(std::string_view id, std::string_view json)>& visit) const;

  std::uint64_t disk_bytes() const;
  StoreMemory memory() const;

  // Partition snapshots (engine/scaleout/partition_snapshots.h, store_snapshot.cpp).
  // Writes every key of `partition`, read from one RocksDB snapshot (so one
  // committed batch boundary), to a new SST file at `path`, with the
  // partition's stored offset read in the same snapshot. Error
  // "partition_empty" when the partition has no key or no stored offset.
  // Safe beside the writer, from any thread.
  [[nodiscard]] Result<PartitionExport> export_partition(std::int32_t partition,
                                                         const std::string& path) const;
  // Replaces every key of `partition` with the keys of an SST file written by
  // export_partition: checks that the file holds only keys of that partition
  // ("snapshot_foreign_keys" otherwise), deletes the partition's range (one
  // synced write), then ingests the file, moving it into the database. A crash
  // between the two leaves the partition empty, as if never held. The caller
  // must be the only writer of that partition (the apply thread).
  [[nodiscard]] Status ingest_partition(std::int32_t partition, const std::string& path);

  // Takes a consistent, incremental backup into `dir` (created if missing;
  // engine/storage/backups.h) with `metadata` attached, then keeps only the
  // newest `keep` backups there (0: all). Safe beside the writer, from any
  // thread; backups from this process run one at a time.
  [[nodiscard]] Result<BackupInfo> backup(const std::string& dir, const std::string& metadata,
                                          std::uint32_t keep);

 private:
  explicit Store(std::unique_ptr<rocksdb::DB> db);
  [[nodiscard]] Result<std::optional<std::string>> get(const std::string& key) const;
  // fill_cache false: blocks read for this scan do not enter the block cache
  // (a scan of everything, such as a replay, would only evict what queries use).
  [[nodiscard]] Status scan(const std::string& prefix, const std::string& start,
                            const std::function<bool(std::string_view, std::string_view)>& visit,
                            bool fill_cache = true) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::string path_;  // of a primary instance
  // partitions(), kept current by commit() once read: finding them in the
  // keys walks every tombstone at the start of each partition's range.
  void set_listed(std::int32_t partition, bool has_keys);
  mutable std::mutex partitions_mutex_;
  mutable std::optional<std::set<std::int32_t>> partitions_;
};

}  // namespace hemoledger
