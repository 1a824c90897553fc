#include "engine/storage/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <cstdio>
#include <tuple>
#include <cstring>

namespace hemoledger {

namespace {

std::string part_prefix(std::int32_t partition) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p%05d/", partition);
  return buf;
}

std::string offset_text(std::int64_t offset) { return decimal20(offset); }

// Keys of the alerts, which span partitions: "g/<kind>" or "g/<kind>/<rest>".
std::string global_key(char kind, std::string_view rest = {}, bool dir = false) {
  std::string k = "g/";
  k += kind;
  if (dir || !rest.empty()) {
    k += '/';
    k.append(rest);
  }
  return k;
}

std::string key(std::int32_t partition, char kind, std::string_view rest = {}) {
  std::string k = part_prefix(partition);
  k += kind;
  if (!rest.empty() || kind == 'a' || kind == 'd' || kind == 'j' || kind == 'n' || kind == 'r' ||
      kind == 'i' || kind == 's' || kind == 'x' || kind == 'k' || kind == 'v' || kind == 'l' ||
      kind == 'g' || kind == 'u' || kind == 'y') {
    k += '/';
    k.append(rest);
  }
  return k;
}

std::string encode_i64(std::int64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff);
  return s;
}

bool decode_i64(std::string_view s, std::int64_t& v) {
  if (s.size() != 8) return false;
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  v = static_cast<std::int64_t>(u);
  return true;
}

Error storage_error(const rocksdb::Status& s, std::string_view what) {
  return make_error("storage_error", std::string(what) + ": " + s.ToString());
}

Error corrupt(std::string what) { return make_error("corrupt_state", std::move(what)); }

bool parse_offset_key(std::string_view suffix, std::int64_t& out) {
  return parse_decimal20(suffix, out);
}

// Testing hook for storage faults (docs/reliability.md): with
// HEMOLEDGER_STORAGE_FAULT=<path>, every write to the database's files fails
// with "No space left on device" while <path> exists, as on a full disk, and
// succeeds again once it is removed. Only the writing side is affected.
class FaultyFile : public rocksdb::WritableFileWrapper {
 public:
  FaultyFile(std::unique_ptr<rocksdb::WritableFile> f, std::string flag)
      : rocksdb::WritableFileWrapper(f.get()), file_(std::move(f)), flag_(std::move(flag)) {}
  rocksdb::Status Append(const rocksdb::Slice& d) override {
    return full() ? no_space() : rocksdb::WritableFileWrapper::Append(d);
  }
  rocksdb::Status Append(const rocksdb::Slice& d, const rocksdb::DataVerificationInfo& v) override {
    return full() ? no_space() : rocksdb::WritableFileWrapper::Append(d, v);
  }
  rocksdb::Status Flush() override { return full() ? no_space() : rocksdb::WritableFileWrapper::Flush(); }
  rocksdb::Status Sync() override { return full() ? no_space() : rocksdb::WritableFileWrapper::Sync(); }
  rocksdb::Status Fsync() override { return full() ? no_space() : rocksdb::WritableFileWrapper::Fsync(); }

 private:
  bool full() const { return std::filesystem::exists(flag_); }
  static rocksdb::Status no_space() {
    return rocksdb::Status::NoSpace("No space left on device (injected by HEMOLEDGER_STORAGE_FAULT)");
  }
  std::unique_ptr<rocksdb::WritableFile> file_;
  std::string flag_;
};

class FaultyEnv : public rocksdb::EnvWrapper {
 public:
  explicit FaultyEnv(std::string flag) : rocksdb::EnvWrapper(rocksdb::Env::Default()), flag_(std::move(flag)) {}
  const char* Name() const override { return "HemoledgerFaultyEnv"; }
  rocksdb::Status NewWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& o) override {
    if (std::filesystem::exists(flag_)) {
      return rocksdb::Status::NoSpace("No space left on device (injected by HEMOLEDGER_STORAGE_FAULT)");
    }
    std::unique_ptr<rocksdb::WritableFile> file;
    auto s = rocksdb::EnvWrapper::NewWritableFile(f, &file, o);
    if (s.ok()) *r = std::make_unique<FaultyFile>(std::move(file), flag_);
    return s;
  }

 private:
  std::string flag_;
};

rocksdb::Env* storage_env() {
  static const char* flag = std::getenv("HEMOLEDGER_STORAGE_FAULT");
  if (!flag || !*flag) return rocksdb::Env::Default();
  static FaultyEnv env(flag);
  return &env;
}

// RocksDB's default is an 8 MiB cache with the index blocks outside it, in
// the table readers, which take about 3.6 % of the SST files' size (measured
// on the bench's data: 1.27 MB for 34.8 MB), so about 36 MB at 10M events
// and growing. Here the index blocks are charged to one 64 MiB cache instead,
// partitioned (kTwoLevelIndexSearch): a file's index is cut into 4 KiB
// pieces cached like data blocks, and only its small top level is pinned.
// An unpartitioned index of a 37 MB file is one 1.3 MB block, larger than a
// shard of the cache (64 shards of 1 MiB by default), so it was never kept:
// every point lookup read and decompressed it again (half the apply loop's
// time at 600k events, bench/README.md).
constexpr std::size_t kBlockCacheBytes = 64 << 20;

rocksdb::Options base_options() {
  rocksdb::Options o;
  o.env = storage_env();
  o.create_if_missing = true;
  o.paranoid_checks = true;
  o.compression = rocksdb::kLZ4Compression;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 5;
  // Bloom filters, in the memtables and the SST files (partitioned like the
  // index): nearly every idempotence lookup is for an event id never seen,
  // and a filter answers "not here" without a data block. At 600k events the
  // batch MultiGets took 2.6 s without them and 0.3 s with both.
  o.memtable_prefix_bloom_size_ratio = 0.02;
  o.memtable_whole_key_filtering = true;
  // Memory is bounded by the memtables (write_buffer_size x
  // max_write_buffer_number) and this one block cache (16 shards of 4 MiB).
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(kBlockCacheBytes, 4);
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  t.metadata_block_size = 4096;
  t.cache_index_and_filter_blocks = true;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  t.pin_top_level_index_and_filter = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.partition_filters = true;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

}  // namespace


Store::Batch::Batch() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}
Store::Batch::~Batch() = default;
Store::Batch::Batch(Batch&&) noexcept = default;

void Store::Batch::put_donation(std::int32_t p, std::string_view din, std::string_view encoded) {
  batch_->Put(key(p, 'd', din), encoded);
}
void Store::Batch::put_journal(std::int32_t p, std::int64_t offset, std::string_view ev) {
  batch_->Put(key(p, 'j', offset_text(offset)), ev);
}
void Store::Batch::put_rejection(std::int32_t p, std::int64_t offset, std::string_view json) {
  batch_->Put(key(p, 'r', offset_text(offset)), json);
}
void Store::Batch::put_outcome(std::int32_t p, std::string_view id, std::string_view json) {
  batch_->Put(key(p, 'i', id), json);
}
void Store::Batch::put_stock(std::int32_t p, const StockKey& k, std::int64_t count) {
  if (count == 0) {
    batch_->Delete(key(p, 's', encode_stock_key(k)));
  } else {
    batch_->Put(key(p, 's', encode_stock_key(k)), encode_i64(count));
  }
}
// Format: next (8 bytes), a zero byte, base (8 bytes), cluster id. The first
// format had no base: next, then the cluster id (printable, never a zero byte).
void Store::Batch::put_offset(std::int32_t p, const StoredOffset& o) {
  batch_->Put(key(p, 'o'), encode_i64(o.next) + '\0' + encode_i64(o.base) + o.cluster_id);
}
void Store::Batch::put_demand(std::int32_t p, const DemandKey& k, std::int64_t count) {
  if (count == 0) {
    batch_->Delete(key(p, 'n', encode_demand_key(k)));
  } else {
    batch_->Put(key(p, 'n', encode_demand_key(k)), encode_i64(count));
  }
}
void Store::Batch::put_index(std::int32_t p, const IndexEntry& e) {
  batch_->Put(key(p, e.kind, e.key), e.value);
}
void Store::Batch::delete_index(std::int32_t p, const IndexEntry& e) {
  batch_->Delete(key(p, e.kind, e.key));
}
void Store::Batch::put_forwarded(std::int32_t p, std::int64_t next) {
  batch_->Put(key(p, 'f'), encode_i64(next));
}
void Store::Batch::put_reagent_lot(std::int32_t p, const ReagentLot& lot) {
  batch_->Put(key(p, 'g', reagent_lot_key(lot.reagent, lot.lot)), encode_reagent_lot(lot));
}
void Store::Batch::put_reagent_usage(std::int32_t p, const ReagentUsageKey& k, std::int64_t count) {
  if (count == 0) {
    batch_->Delete(key(p, 'u', encode_usage_key(k)));
  } else {
    batch_->Put(key(p, 'u', encode_usage_key(k)), encode_i64(count));
  }
}
void Store::Batch::put_lookback(const PendingLookback& l) {
  nlohmann::json j = {{"donor", l.donor}, {"test", l.test}, {"facility", l.facility},
                      {"at", l.at}, {"collected_at", l.collected_at}};
  batch_->Put(key(l.partition, 'l', l.din), j.dump());
}
void Store::Batch::delete_lookback(std::int32_t p, std::string_view din) {
  batch_->Delete(key(p, 'l', din));
}
void Store::Batch::put_alert_state(const AlertState& st) {
  batch_->Put(global_key('s'), encode_i64(static_cast<std::int64_t>(st.seq)) + encode_i64(st.clock) +
                                   encode_i64(static_cast<std::int64_t>(st.batch)));
}
void Store::Batch::put_open_alert(std::string_view k, std::string_view json) {
  batch_->Put(global_key('a', k, true), json);
}
void Store::Batch::delete_open_alert(std::string_view k) { batch_->Delete(global_key('a', k, true)); }
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
  for (char kind : {'a', 'd', 'n', 's', 'x', 'k', 'v', 'g', 'u', 'y'}) {
    const std::string k = key(p, kind);
    batch_->DeleteRange(k, k.substr(0, k.size() - 1) + char('/' + 1));
  }
}
void Store::Batch::drop_partition(std::int32_t p) {
  const std::string k = part_prefix(p);  // "p00003/"
  batch_->DeleteRange(k, k.substr(0, k.size() - 1) + char('/' + 1));
}
std::size_t Store::Batch::size_bytes() const { return batch_->GetDataSize(); }

Store::Store(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(base_options(), path, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!s.ok()) return storage_error(s, "cannot open the database at " + path);
  std::unique_ptr<Store> store(new Store(std::move(db)));
  store->path_ = path;
  return store;
}

Result<std::unique_ptr<Store>> Store::open_secondary(const std::string& path,
                                                     const std::string& scratch) {
  rocksdb::Options o = base_options();
  o.create_if_missing = false;
  o.max_open_files = -1;  // required for secondary instances
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::OpenAsSecondary(o, path, scratch, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!s.ok()) return storage_error(s, "cannot read the database at " + path);
  s = db->TryCatchUpWithPrimary();
  if (!s.ok()) return storage_error(s, "cannot catch up with the running engine");
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

bool Store::writable() const {
  const std::string probe = path_ + "/.hemoledger-write-probe";
  std::unique_ptr<rocksdb::WritableFile> f;
  rocksdb::Env* env = storage_env();
  bool ok = env->NewWritableFile(probe, &f, rocksdb::EnvOptions()).ok() &&
            f->Append("probe").ok() && f->Sync().ok() && f->Close().ok();
  f.reset();
  env->DeleteFile(probe).PermitUncheckedError();
  return ok;
}

Status Store::recover() {
  auto s = db_->Resume();
  if (!s.ok()) return storage_error(s, "the database cannot resume writing yet");
  return {};
}

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
  return {};
}

Result<std::optional<std::string>> Store::get(const std::string& k) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), k, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return storage_error(s, "read failed");
  return std::optional<std::string>(std::move(value));
}

Status Store::scan(const std::string& prefix, const std::string& start,
                   const std::function<bool(std::string_view, std::string_view)>& visit,
                   bool fill_cache) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = fill_cache;
  std::string upper = prefix;
  upper.back() = static_cast<char>(upper.back() + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(start.empty() ? prefix : start); it->Valid(); it->Next()) {
    const auto k = it->key().ToStringView();
    if (!visit(k.substr(prefix.size()), it->value().ToStringView())) break;
  }
  if (!it->status().ok()) return storage_error(it->status(), "scan failed");
  return {};
}

Result<std::optional<Donation>> Store::donation(std::int32_t p, std::string_view din) const {
  auto v = get(key(p, 'd', din));
  if (!v) return v.error();
  if (!v->has_value()) return std::optional<Donation>();
  auto d = decode_donation(**v);
  if (!d) return d.error();
  return std::optional<Donation>(std::move(d).value());
}

std::vector<std::int32_t> Store::partitions() const {
  std::vector<std::int32_t> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek("p");
  while (it->Valid()) {
    const auto k = it->key().ToStringView();
    int p = 0;
    if (k.size() < 7 || k[0] != 'p' || std::sscanf(std::string(k.substr(1, 5)).c_str(), "%d", &p) != 1) break;
    out.push_back(p);
    it->Seek(part_prefix(p + 1));
  }
  return out;
}

Result<std::map<std::int32_t, StoredOffset>> Store::offsets() const {
  std::map<std::int32_t, StoredOffset> out;
  for (auto p : partitions()) {
    auto v = get(key(p, 'o'));
    if (!v) return v.error();
    if (!v->has_value()) continue;
    StoredOffset o;
    if (!decode_i64(std::string_view(**v).substr(0, 8), o.next)) {
      return corrupt("The stored offset of partition " + std::to_string(p) + " is damaged.");
    }
    const std::string& raw = **v;
    if (raw.size() >= 17 && raw[8] == '\0') {
      if (!decode_i64(std::string_view(raw).substr(9, 8), o.base)) {
        return corrupt("The stored offset of partition " + std::to_string(p) + " is damaged.");
      }
      o.cluster_id = raw.substr(17);
    } else {
      o.cluster_id = raw.substr(8);
    }
    out[p] = o;
  }
  return out;
}

Result<std::int64_t> Store::forwarded(std::int32_t p) const {
  auto v = get(key(p, 'f'));
  if (!v) return v.error();
  std::int64_t n = 0;
  if (v->has_value() && !decode_i64(**v, n)) return corrupt("A forwarding marker is damaged.");
  return n;
}

Result<StockTable> Store::stock(std::int32_t p) const {
  StockTable t;
  std::optional<Error> failure;
  auto s = scan(key(p, 's'), {}, [&](std::string_view k, std::string_view v) {
    auto sk = decode_stock_key(k);
    std::int64_t n = 0;
    if (!sk || !decode_i64(v, n)) {
      failure = corrupt("A stored stock count of partition " + std::to_string(p) + " is damaged.");
      return false;
    }
    t.apply(StockDelta{*sk, n});
    return true;
  });
  if (!s) return s.error();
  if (failure) return *failure;
  return t;
}

Result<std::int64_t> Store::demand(std::int32_t p, const DemandKey& k) const {
  auto v = get(key(p, 'n', encode_demand_key(k)));
  if (!v) return v.error();
  std::int64_t n = 0;
  if (v->has_value() && !decode_i64(**v, n)) return corrupt("A demand count is damaged.");
  return n;
}

Result<std::map<DemandKey, std::int64_t>> Store::demand_window(
    std::int64_t from_day, std::int64_t to_day, std::optional<std::int32_t> partition) const {
  std::map<DemandKey, std::int64_t> out;
  std::optional<Error> failure;
  char start[32];
  std::snprintf(start, sizeof start, "%08lld",
                static_cast<long long>(std::max<std::int64_t>(0, from_day)));
  std::vector<std::int32_t> parts = partition ? std::vector<std::int32_t>{*partition} : partitions();
  for (auto p : parts) {
    const std::string prefix = key(p, 'n');
    auto s = scan(prefix, prefix + start, [&](std::string_view k, std::string_view v) {
      auto dk = decode_demand_key(k);
      std::int64_t n = 0;
      if (!dk || !decode_i64(v, n)) {
        failure = corrupt("A stored demand count is damaged.");
        return false;
      }
      if (dk->day >= to_day) return false;
      out[*dk] += n;
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::optional<std::string>> Store::outcome(std::int32_t p, std::string_view id) const {
  return get(key(p, 'i', id));
}

Result<std::vector<std::optional<std::string>>> Store::outcomes(
    const std::vector<std::pair<std::int32_t, std::string_view>>& ids) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const auto& [p, id] : ids) keys.push_back(key(p, 'i', id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), slices.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return storage_error(statuses[i], "read failed");
    out[i] = values[i].ToString();
  }
  return out;
}

Result<std::optional<std::string>> Store::journal_entry(std::int32_t p, std::int64_t off) const {
  return get(key(p, 'j', offset_text(off)));
}

Result<std::optional<std::string>> Store::rejection(std::int32_t p, std::int64_t off) const {
  return get(key(p, 'r', offset_text(off)));
}

Status Store::scan_journal(std::int32_t p, std::int64_t from, const Visitor& visit) const {
  const std::string prefix = key(p, 'j');
  std::optional<Error> failure;
  auto s = scan(prefix, prefix + offset_text(from), [&](std::string_view k, std::string_view v) {
    std::int64_t off = 0;
    if (!parse_offset_key(k, off)) {
      failure = corrupt("A journal key of partition " + std::to_string(p) + " is damaged.");
      return false;
    }
    return visit(off, v);
  }, /*fill_cache=*/false);  // a journal scan is a replay: read once, not worth caching
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

Status Store::scan_rejections(std::int32_t p, std::int64_t from, const Visitor& visit) const {
  const std::string prefix = key(p, 'r');
  return scan(prefix, prefix + offset_text(from), [&](std::string_view k, std::string_view v) {
    std::int64_t off = 0;
    return parse_offset_key(k, off) ? visit(off, v) : true;
  });
}

Status Store::scan_donations(
    std::int32_t p,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return scan(key(p, 'd'), {}, visit, /*fill_cache=*/false);
}

Result<std::vector<IndexEntry>> Store::index_in(std::int32_t p) const {
  std::vector<IndexEntry> out;
  for (char kind : {'a', 'x', 'k', 'v', 'y'}) {
    auto s = scan(key(p, kind), {}, [&](std::string_view k, std::string_view v) {
      out.push_back({kind, std::string(k), std::string(v)});
      return true;
    });
    if (!s) return s.error();
  }
  return out;
}

Status Store::scan_index_in(
    std::int32_t p,
    const std::function<bool(char, std::string_view, std::string_view)>& visit) const {
  bool more = true;
  for (char kind : {'a', 'x', 'k', 'v', 'y'}) {
    auto s = scan(key(p, kind), {}, [&](std::string_view k, std::string_view v) {
      return more = visit(kind, k, v);
    }, /*fill_cache=*/false);
    if (!s) return s;
    if (!more) break;
  }
  return {};
}

Result<std::vector<ExpiringUnit>> Store::due_expiries(TimeMs now, std::size_t limit) const {
  std::vector<ExpiringUnit> out;
  std::optional<Error> failure;
  const std::string last = offset_text(now) + "|~";
  for (auto p : partitions()) {
    auto s = scan(key(p, 'x'), {}, [&](std::string_view k, std::string_view v) {
      if (k > last) return false;
      auto u = parse_expiring(k, v);
      if (!u) {
        failure = corrupt("An entry of the expiry index is damaged.");
        return false;
      }
      out.push_back(std::move(*u));
      return out.size() < limit * 4;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  std::sort(out.begin(), out.end(), [](const ExpiringUnit& a, const ExpiringUnit& b) {
    return std::tie(a.expires_at, a.din, a.product) < std::tie(b.expires_at, b.din, b.product);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<std::vector<AvailableUnit>> Store::available_at(std::string_view facility) const {
  std::vector<AvailableUnit> out;
  std::optional<Error> failure;
  for (auto p : partitions()) {
    const std::string prefix = key(p, 'a', std::string(facility) + "|");
    auto s = scan(prefix, {}, [&](std::string_view k, std::string_view v) {
      auto u = parse_available(std::string(facility) + "|" + std::string(k), v);
      if (!u) {
        failure = corrupt("An entry of the available-units index is damaged.");
        return false;
      }
      out.push_back(std::move(*u));
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  std::sort(out.begin(), out.end(), [](const AvailableUnit& a, const AvailableUnit& b) {
    return std::tie(a.expires_at, a.din, a.product) < std::tie(b.expires_at, b.din, b.product);
  });
  return out;
}

Status Store::scan_index(char kind, const std::function<void(const IndexEntry&)>& visit) const {
  for (auto p : partitions()) {
    auto s = scan(key(p, kind), {}, [&](std::string_view k, std::string_view v) {
      visit(IndexEntry{kind, std::string(k), std::string(v)});
      return true;
    });
    if (!s) return s;
  }
  return {};
}

Result<std::vector<std::pair<std::int32_t, DonorDonation>>> Store::donations_of(
    std::string_view donor) const {
  std::vector<std::pair<std::int32_t, DonorDonation>> out;
  std::optional<Error> failure;
  for (auto p : partitions()) {
    const std::string prefix = key(p, 'v', std::string(donor) + "|");
    auto s = scan(prefix, {}, [&](std::string_view k, std::string_view v) {
      auto d = parse_donor_entry(std::string(donor) + "|" + std::string(k), v);
      if (!d) {
        failure = corrupt("An entry of the donor index is damaged.");
        return false;
      }
      if (d->donor == donor) out.emplace_back(p, std::move(*d));
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::vector<PendingLookback>> Store::pending_lookbacks() const {
  std::vector<PendingLookback> out;
  std::optional<Error> failure;
  for (auto p : partitions()) {
    auto s = scan(key(p, 'l'), {}, [&](std::string_view k, std::string_view v) {
      const auto j = nlohmann::json::parse(v, nullptr, false);
      try {
        out.push_back({p, std::string(k), j.at("donor").get<std::string>(),
                       j.at("test").get<std::string>(), j.at("facility").get<std::string>(),
                       j.at("at").get<TimeMs>(), j.at("collected_at").get<TimeMs>()});
      } catch (const nlohmann::json::exception&) {
        failure = corrupt("A pending lookback of partition " + std::to_string(p) + " is damaged.");
        return false;
      }
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::optional<ReagentLot>> Store::reagent_lot(std::int32_t p,
                                                     std::string_view lot_key) const {
  auto v = get(key(p, 'g', lot_key));
  if (!v) return v.error();
  if (!v->has_value()) return std::optional<ReagentLot>();
  auto l = decode_reagent_lot(**v);
  if (!l) return l.error();
  return std::optional<ReagentLot>(std::move(l).value());
}

Result<std::optional<ReagentLot>> Store::reagent_lot_anywhere(std::string_view lot_key) const {
  for (auto p : partitions()) {
    auto l = reagent_lot(p, lot_key);
    if (!l || l->has_value()) return l;
  }
  return std::optional<ReagentLot>();
}

Result<std::vector<ReagentLot>> Store::reagent_lots(std::optional<std::int32_t> partition) const {
  std::vector<ReagentLot> out;
  std::optional<Error> failure;
  std::vector<std::int32_t> parts = partition ? std::vector<std::int32_t>{*partition} : partitions();
  for (auto p : parts) {
    auto s = scan(key(p, 'g'), {}, [&](std::string_view, std::string_view v) {
      auto l = decode_reagent_lot(v);
      if (!l) {
        failure = l.error();
        return false;
      }
      out.push_back(std::move(*l));
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::int64_t> Store::reagent_usage(std::int32_t p, const ReagentUsageKey& k) const {
  auto v = get(key(p, 'u', encode_usage_key(k)));
  if (!v) return v.error();
  std::int64_t n = 0;
  if (v->has_value() && !decode_i64(**v, n)) return corrupt("A reagent usage count is damaged.");
  return n;
}

Result<std::map<ReagentUsageKey, std::int64_t>> Store::reagent_usage_window(
    std::int64_t from_day, std::int64_t to_day, std::optional<std::int32_t> partition) const {
  std::map<ReagentUsageKey, std::int64_t> out;
  std::optional<Error> failure;
  const std::string start = encode_usage_key({std::max<std::int64_t>(0, from_day), "", ""}).substr(0, 8);
  std::vector<std::int32_t> parts = partition ? std::vector<std::int32_t>{*partition} : partitions();
  for (auto p : parts) {
    const std::string prefix = key(p, 'u');
    auto s = scan(prefix, prefix + start, [&](std::string_view k, std::string_view v) {
      auto uk = decode_usage_key(k);
      std::int64_t n = 0;
      if (!uk || !decode_i64(v, n)) {
        failure = corrupt("A stored reagent usage count is damaged.");
        return false;
      }
      if (uk->day >= to_day) return false;
      out[*uk] += n;
      return true;
    });
    if (!s) return s.error();
    if (failure) return *failure;
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Store::due_reagent_expiries(
    TimeMs now, std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string last = offset_text(now) + "|\x7f";
  for (auto p : partitions()) {
    auto s = scan(key(p, 'y'), {}, [&](std::string_view k, std::string_view v) {
      if (k > last) return false;
      const auto bar = k.find('|');
      if (bar == std::string_view::npos) return true;
      out.emplace_back(std::string(k.substr(bar + 1)), std::string(v));
      return out.size() < limit;
    });
    if (!s) return s.error();
  }
  return out;
}

Result<std::int64_t> Store::log_end(std::int32_t p) const {
  std::int64_t end = 0;
  for (char kind : {'j', 'r'}) {
    const std::string prefix = key(p, kind);
    std::string upper = prefix;
    upper.back() = static_cast<char>(upper.back() + 1);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(upper);
    if (!it->status().ok()) return storage_error(it->status(), "scan failed");
    if (!it->Valid()) continue;
    const auto k = it->key().ToStringView();
    if (k.substr(0, prefix.size()) != prefix) continue;
    std::int64_t off = 0;
    if (!parse_offset_key(k.substr(prefix.size()), off)) {
      return corrupt("A journal key of partition " + std::to_string(p) + " is damaged.");
    }
    end = std::max(end, off + 1);
  }
  return end;
}

Result<AlertState> Store::alert_state() const {
  auto v = get(global_key('s'));
  if (!v) return v.error();
  AlertState st;
  if (!v->has_value()) return st;
  std::int64_t seq = 0, batch = 0;
  if ((*v)->size() != 24 || !decode_i64(std::string_view(**v).substr(0, 8), seq) ||
      !decode_i64(std::string_view(**v).substr(8, 8), st.clock) ||
      !decode_i64(std::string_view(**v).substr(16, 8), batch)) {
    return corrupt("The stored alert state is damaged.");
  }
  st.seq = static_cast<std::uint64_t>(seq);
  st.batch = static_cast<std::uint64_t>(batch);
  return st;
}

Result<std::map<std::string, std::string>> Store::open_alerts() const {
  std::map<std::string, std::string> out;
  auto s = scan(global_key('a', {}, true), {}, [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  if (!s) return s.error();
  return out;
}

Status Store::scan_alert_changes(
    std::uint64_t from_seq, const std::function<bool(std::uint64_t, std::string_view)>& visit) const {
  const std::string prefix = global_key('h', {}, true);
  return scan(prefix, prefix + offset_text(static_cast<std::int64_t>(from_seq)),
              [&](std::string_view k, std::string_view v) {
                std::int64_t seq = 0;
                return parse_offset_key(k, seq) ? visit(static_cast<std::uint64_t>(seq), v) : true;
              });
}

Status Store::scan_batch_ends(
    const std::function<bool(std::uint64_t, const std::map<std::int32_t, std::int64_t>&)>& visit)
    const {
  std::optional<Error> failure;
  auto s = scan(global_key('b', {}, true), {}, [&](std::string_view k, std::string_view v) {
    std::int64_t batch = 0;
    std::map<std::int32_t, std::int64_t> ends;
    bool ok = parse_offset_key(k, batch) && v.size() % 16 == 0;
    for (std::size_t i = 0; ok && i < v.size(); i += 16) {
      std::int64_t p = 0, end = 0;
      ok = decode_i64(v.substr(i, 8), p) && decode_i64(v.substr(i + 8, 8), end);
      ends[static_cast<std::int32_t>(p)] = end;
    }
    if (!ok) {
      failure = corrupt("A recorded batch boundary is damaged.");
      return false;
    }
    return visit(static_cast<std::uint64_t>(batch), ends);
  });
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

Result<std::uint64_t> Store::alert_cursor(std::string_view sink) const {
  auto v = get(global_key('w', sink, true));
  if (!v) return v.error();
  std::int64_t n = 0;
  if (v->has_value() && !decode_i64(**v, n)) return corrupt("An alert cursor is damaged.");
  return static_cast<std::uint64_t>(n);
}

StoreMemory Store::memory() const {
  StoreMemory m;
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &m.memtables);
  db_->GetIntProperty("rocksdb.block-cache-usage", &m.block_cache);
  db_->GetIntProperty("rocksdb.estimate-table-readers-mem", &m.table_readers);
  return m;
}

std::uint64_t Store::disk_bytes() const {
  std::uint64_t live = 0;
  db_->GetIntProperty("rocksdb.total-sst-files-size", &live);
  std::uint64_t mem = 0;
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return live + mem;
}

Result<std::optional<std::string>> Store::inbound(std::string_view id) const {
  return get("m/" + std::string(id));
}

Status Store::scan_inbound(
    std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  // scan() bounds by the prefix's last character + 1, so scan all of m/ from
  // the prefix and stop at the first id that does not start with it.
  return scan("m/", "m/" + std::string(prefix), [&](std::string_view id, std::string_view v) {
    if (id.substr(0, prefix.size()) != prefix) return false;
    return visit(id, v);
  });
}

Status Store::scan_refusals(
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return scan("z/", "", visit);
}

}  // namespace hemoledger
