// Opening the Store: RocksDB's options, the storage-fault testing hook, and
// what the engine asks of the database as a whole (writability, memory, size).
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include <cstdlib>
#include <filesystem>

#include "engine/storage/store.h"
#include "engine/storage/store_keys.h"

namespace hemoledger {

using namespace store_keys;

namespace {

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
  rocksdb::Status Flush() override {
    return full() ? no_space() : rocksdb::WritableFileWrapper::Flush();
  }
  rocksdb::Status Sync() override {
    return full() ? no_space() : rocksdb::WritableFileWrapper::Sync();
  }
  rocksdb::Status Fsync() override {
    return full() ? no_space() : rocksdb::WritableFileWrapper::Fsync();
  }

 private:
  bool full() const { return std::filesystem::exists(flag_); }
  static rocksdb::Status no_space() {
    return rocksdb::Status::NoSpace(
        "No space left on device (injected by HEMOLEDGER_STORAGE_FAULT)");
  }
  std::unique_ptr<rocksdb::WritableFile> file_;
  std::string flag_;
};

class FaultyEnv : public rocksdb::EnvWrapper {
 public:
  explicit FaultyEnv(std::string flag)
      : rocksdb::EnvWrapper(rocksdb::Env::Default()), flag_(std::move(flag)) {}
  const char* Name() const override { return "HemoledgerFaultyEnv"; }
  rocksdb::Status NewWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& o) override {
    if (std::filesystem::exists(flag_)) {
      return rocksdb::Status::NoSpace(
          "No space left on device (injected by HEMOLEDGER_STORAGE_FAULT)");
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

}  // namespace hemoledger
