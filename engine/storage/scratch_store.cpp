#include "engine/storage/scratch_store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include <filesystem>
#include <system_error>

#include "engine/storage/store_keys.h"

namespace hemoledger {

// Keys p<ppppp>/<din>: each partition's donations in DIN order.
class ScratchStore::Donations final : public EncodedDonations {
 public:
  Donations(ScratchStore& store, std::int32_t p)
      : store_(store), prefix_(store_keys::part_prefix(p)) {
    write_.disableWAL = true;
    write_.sync = false;
  }

  void put(const std::string& din, std::string_view value) override {
    auto s = store_.db_->Put(write_, key(din), rocksdb::Slice(value.data(), value.size()));
    if (!s.ok()) store_.fail("a replayed donation cannot be written: " + s.ToString());
  }

  std::optional<std::string> get(const std::string& din) const override {
    std::string value;
    auto s = store_.db_->Get(rocksdb::ReadOptions(), key(din), &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) {
      store_.fail("a replayed donation cannot be read: " + s.ToString());
      return std::nullopt;
    }
    return value;
  }

  void erase(const std::string& din) override {
    auto s = store_.db_->Delete(write_, key(din));
    if (!s.ok()) store_.fail("a replayed donation cannot be removed: " + s.ToString());
  }

  std::unique_ptr<Cursor> cursor() const override {
    return std::make_unique<Scan>(store_, prefix_);
  }

 private:
  class Scan final : public Cursor {
   public:
    Scan(ScratchStore& store, const std::string& prefix)
        : store_(store), prefix_(prefix), upper_(prefix) {
      upper_.back() = static_cast<char>(upper_.back() + 1);
      upper_slice_ = rocksdb::Slice(upper_);
      rocksdb::ReadOptions ro;
      ro.iterate_upper_bound = &upper_slice_;
      ro.fill_cache = false;
      it_.reset(store_.db_->NewIterator(ro));
      it_->Seek(prefix_);
      check();
    }
    bool valid() const override { return it_->Valid(); }
    std::string_view din() const override {
      return it_->key().ToStringView().substr(prefix_.size());
    }
    std::string_view value() const override { return it_->value().ToStringView(); }
    void next() override {
      it_->Next();
      check();
    }

   private:
    void check() {
      if (!it_->Valid() && !it_->status().ok()) {
        store_.fail("the replayed donations cannot be read: " + it_->status().ToString());
      }
    }
    ScratchStore& store_;
    std::string prefix_, upper_;
    rocksdb::Slice upper_slice_;
    std::unique_ptr<rocksdb::Iterator> it_;
  };

  std::string key(const std::string& din) const { return prefix_ + din; }

  ScratchStore& store_;
  std::string prefix_;
  rocksdb::WriteOptions write_;
};

Result<std::unique_ptr<ScratchStore>> ScratchStore::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) {
    return make_error("storage_error",
                      "The scratch directory " + dir + " cannot be emptied: " + ec.message());
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  // Written once, read back at most a few times, then thrown away: no
  // compression, a memtable large enough that few files are made, and no
  // compaction.
  options.compression = rocksdb::kNoCompression;
  options.write_buffer_size = 32 << 20;
  options.max_write_buffer_number = 2;
  options.level0_file_num_compaction_trigger = 1 << 20;
  options.level0_slowdown_writes_trigger = 1 << 20;
  options.level0_stop_writes_trigger = 1 << 20;
  options.disable_auto_compactions = true;
  options.max_background_jobs = 1;
  // Most reads are of a donation's first event, not held yet: a Bloom filter
  // answers those without reading the files.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!s.ok()) return store_keys::storage_error(s, "The scratch store " + dir + " cannot be made");
  return std::unique_ptr<ScratchStore>(new ScratchStore(dir, std::move(db)));
}

ScratchStore::ScratchStore(std::string dir, std::unique_ptr<rocksdb::DB> db)
    : dir_(std::move(dir)), db_(std::move(db)) {}

ScratchStore::~ScratchStore() {
  db_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);  // best effort: open() empties it again
}

std::unique_ptr<EncodedDonations> ScratchStore::donations(std::int32_t partition) {
  return std::make_unique<Donations>(*this, partition);
}

Status ScratchStore::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (failure_) return *failure_;
  return {};
}

void ScratchStore::fail(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failure_) failure_ = make_error("storage_error", "Rebuild scratch store: " + what);
}

}  // namespace hemoledger
