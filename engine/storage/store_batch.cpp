// Store::Batch, the puts and deletes that one commit() writes atomically.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/storage/store.h"
#include "engine/storage/store_keys.h"

namespace hemoledger {

using namespace store_keys;

Store::Batch::Batch() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}
Store::Batch::~Batch() = default;
Store::Batch::Batch(Batch&&) noexcept = default;

std::string Store::Batch::partition_key(std::int32_t p, char kind, std::string_view rest) {
  partitions_written_[p] = true;
  return key(p, kind, rest);
}

void Store::Batch::put_donation(std::int32_t p, std::string_view din, std::string_view encoded) {
  batch_->Put(partition_key(p, 'd', din), encoded);
}
void Store::Batch::delete_donation(std::int32_t p, std::string_view din) {
  batch_->Delete(partition_key(p, 'd', din));
}
void Store::Batch::put_journal(std::int32_t p, std::int64_t offset, std::string_view ev) {
  batch_->Put(partition_key(p, 'j', offset_text(offset)), ev);
}
void Store::Batch::put_rejection(std::int32_t p, std::int64_t offset, std::string_view json) {
  batch_->Put(partition_key(p, 'r', offset_text(offset)), json);
}
void Store::Batch::put_outcome(std::int32_t p, std::string_view id, std::string_view json) {
  batch_->Put(partition_key(p, 'i', id), json);
}
void Store::Batch::put_stock(std::int32_t p, const StockKey& k, std::int64_t count) {
  if (count == 0) {
    batch_->Delete(partition_key(p, 's', encode_stock_key(k)));
  } else {
    batch_->Put(partition_key(p, 's', encode_stock_key(k)), encode_i64(count));
  }
}
// Format: next (8 bytes), a zero byte, base (8 bytes), cluster id. The first
// format had no base: next, then the cluster id (printable, never a zero byte).
void Store::Batch::put_offset(std::int32_t p, const StoredOffset& o) {
  batch_->Put(partition_key(p, 'o'), encode_i64(o.next) + '\0' + encode_i64(o.base) + o.cluster_id);
}
void Store::Batch::put_demand(std::int32_t p, const DemandKey& k, std::int64_t count) {
  if (count == 0) {
    batch_->Delete(partition_key(p, 'n', encode_demand_key(k)));
  } else {
    batch_->Put(partition_key(p, 'n', encode_demand_key(k)), encode_i64(count));
  }
}
void Store::Batch::put_index(std::int32_t p, const IndexEntry& e) {
  batch_->Put(partition_key(p, e.kind, e.key), e.value);
}
void Store::Batch::delete_index(std::int32_t p, const IndexEntry& e) {
  batch_->Delete(partition_key(p, e.kind, e.key));
}
void Store::Batch::put_forwarded(std::int32_t p, std::int64_t next) {
  batch_->Put(partition_key(p, 'f'), encode_i64(next));
}
void Store::Batch::put_reagent_lot(std::int32_t p, const ReagentLot& lot) {
  batch_->Put(partition_key(p, 'g', reagent_lot_key(lot.reagent, lot.lot)),
              encode_reagent_lot(lot));
}
void Store::Batch::put_reagent_usage(std::int32_t p, const ReagentUsageKey& k, std::int64_t count) {
  if (count == 0) {
    batch_->Delete(partition_key(p, 'u', encode_usage_key(k)));
  } else {
    batch_->Put(partition_key(p, 'u', encode_usage_key(k)), encode_i64(count));
  }
}
void Store::Batch::put_lookback(const PendingLookback& l) {
  nlohmann::json j = {{"donor", l.donor},
                      {"test", l.test},
                      {"facility", l.facility},
                      {"at", l.at},
                      {"collected_at", l.collected_at}};
  batch_->Put(partition_key(l.partition, 'l', l.din + "|" + l.test), j.dump());
}
void Store::Batch::delete_lookback(std::int32_t p, std::string_view din, std::string_view test) {
  batch_->Delete(partition_key(p, 'l', din));  // as the first format keyed it
  batch_->Delete(partition_key(p, 'l', std::string(din) + "|" + std::string(test)));
}
void Store::Batch::put_donor(std::int32_t p, std::string_view donor, std::string_view encoded) {
  batch_->Put(partition_key(p, 'w', donor), encoded);
}
void Store::Batch::put_donor_check(const PendingDonorCheck& c) {
  nlohmann::json j = {{"donor", c.donor}, {"facility", c.facility}, {"at", c.at}};
  batch_->Put(partition_key(c.partition, 'c', c.din), j.dump());
}
void Store::Batch::delete_donor_check(std::int32_t p, std::string_view din) {
  batch_->Delete(partition_key(p, 'c', din));
}
void Store::Batch::put_alert_state(const AlertState& st) {
  batch_->Put(global_key('s'), encode_i64(static_cast<std::int64_t>(st.seq)) +
                                   encode_i64(st.clock) +
                                   encode_i64(static_cast<std::int64_t>(st.batch)));
}
void Store::Batch::put_open_alert(std::string_view k, std::string_view json) {
  batch_->Put(global_key('a', k, true), json);
}
void Store::Batch::delete_open_alert(std::string_view k) {
  batch_->Delete(global_key('a', k, true));
}
void Store::Batch::put_alert_change(std::uint64_t seq, std::string_view json) {
  batch_->Put(global_key('h', offset_text(static_cast<std::int64_t>(seq))), json);
}
void Store::Batch::put_batch_end(std::uint64_t batch,
                                 const std::map<std::int32_t, std::int64_t>& ends) {
  std::string v;
  for (const auto& [p, end] : ends) v += encode_i64(p) + encode_i64(end);
  batch_->Put(global_key('b', offset_text(static_cast<std::int64_t>(batch))), v);
}
void Store::Batch::put_alert_cursor(std::string_view sink, std::uint64_t next_seq) {
  batch_->Put(global_key('w', sink, true), encode_i64(static_cast<std::int64_t>(next_seq)));
}
void Store::Batch::put_inbound(std::string_view id, std::string_view json) {
  batch_->Put("m/" + std::string(id), json);
}
void Store::Batch::put_refusal(std::string_view id, std::string_view json) {
  batch_->Put("z/" + std::string(id), json);
}
void Store::Batch::clear_projections(std::int32_t p) {
  for (char kind :
       {'a', 'd', 'n', 's', 'x', 'k', 'v', 'b', 'g', 'u', 'y', 'q', 'w', 'm', 't', 'h', 'e'}) {
    const std::string k = key(p, kind);
    batch_->DeleteRange(k, k.substr(0, k.size() - 1) + char('/' + 1));
  }
}
void Store::Batch::drop_partition(std::int32_t p) {
  partitions_written_[p] = false;
  const std::string k = part_prefix(p);  // "p00003/"
  batch_->DeleteRange(k, k.substr(0, k.size() - 1) + char('/' + 1));
}
std::size_t Store::Batch::size_bytes() const { return batch_->GetDataSize(); }
std::size_t Store::Batch::operations() const { return batch_->Count(); }

namespace {

// The puts and deletes of a batch, in key order (a stable sort, so that of two
// operations on one key the later still wins). Inserting a batch's keys in
// order lets the memtable's skip list find each position next to the last
// one instead of searching from the top: the engine's batch interleaves
// journal, outcome, donation and index keys, event by event. False if the
// batch holds anything else (a range delete): it is then written as it is.
bool sorted_copy(rocksdb::WriteBatch& batch, rocksdb::WriteBatch& out) {
  struct Op {
    bool put;
    rocksdb::Slice key, value;
  };
  struct Collect : rocksdb::WriteBatch::Handler {
    std::vector<Op> ops;
    bool plain = true;
    rocksdb::Status PutCF(std::uint32_t cf, const rocksdb::Slice& k,
                          const rocksdb::Slice& v) override {
      plain = plain && cf == 0;
      ops.push_back({true, k, v});
      return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteCF(std::uint32_t cf, const rocksdb::Slice& k) override {
      plain = plain && cf == 0;
      ops.push_back({false, k, {}});
      return rocksdb::Status::OK();
    }
    rocksdb::Status SingleDeleteCF(std::uint32_t, const rocksdb::Slice&) override {
      plain = false;
      return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteRangeCF(std::uint32_t, const rocksdb::Slice&,
                                  const rocksdb::Slice&) override {
      plain = false;
      return rocksdb::Status::OK();
    }
    rocksdb::Status MergeCF(std::uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
      plain = false;
      return rocksdb::Status::OK();
    }
    void LogData(const rocksdb::Slice&) override { plain = false; }
  } c;
  if (!batch.Iterate(&c).ok() || !c.plain) return false;
  std::stable_sort(c.ops.begin(), c.ops.end(),
                   [](const Op& a, const Op& b) { return a.key.compare(b.key) < 0; });
  for (const auto& op : c.ops) {
    const auto s = op.put ? out.Put(op.key, op.value) : out.Delete(op.key);
    if (!s.ok()) return false;
  }
  return true;
}

}  // namespace

Status Store::commit(Batch& batch) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::WriteBatch sorted(batch.raw().GetDataSize() + 1024);
  auto s = db_->Write(wo, sorted_copy(batch.raw(), sorted) ? &sorted : &batch.raw());
  if (!s.ok()) return storage_error(s, "the batch could not be written");
  for (const auto& [p, written] : batch.partitions_written_) set_listed(p, written);
  return {};
}

void Store::set_listed(std::int32_t p, bool has_keys) {
  std::lock_guard lock(partitions_mutex_);
  if (!partitions_) return;
  if (has_keys)
    partitions_->insert(p);
  else
    partitions_->erase(p);
}

}  // namespace hemoledger
