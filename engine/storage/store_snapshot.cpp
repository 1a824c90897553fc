// A partition's key range out of the Store as one SST file, and back in
// (partition snapshots: engine/scaleout/partition_snapshots.h). An SST file
// rather than a RocksDB checkpoint: a checkpoint copies the whole database
// (every partition, the alerts, the lab messages), while a partition's range
// is what moves, and an SST file of sorted keys is what IngestExternalFile
// takes in one step, without a write per key.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>

#include <filesystem>

#include "engine/storage/store.h"
#include "engine/storage/store_keys.h"

namespace hemoledger {

using namespace store_keys;

namespace {

// The first key after every key of the partition: "p00003/" -> "p000030".
std::string upper_bound_of(std::int32_t p) {
  std::string upper = part_prefix(p);
  upper.back() = static_cast<char>('/' + 1);
  return upper;
}

}  // namespace

Result<PartitionExport> Store::export_partition(std::int32_t p, const std::string& path) const {
  const std::string prefix = part_prefix(p);
  const std::string upper = upper_bound_of(p);
  // Released on every path out; reads through it see one committed state.
  rocksdb::ManagedSnapshot snapshot(db_.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  ro.fill_cache = false;  // read once: not worth the queries' cache
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;

  PartitionExport out;
  std::string offset_value;
  auto s = db_->Get(ro, key(p, 'o'), &offset_value);
  if (s.IsNotFound()) {
    return make_error("partition_empty",
                      "Partition " + std::to_string(p) + " has no committed state here.");
  }
  if (!s.ok()) return storage_error(s, "cannot read partition " + std::to_string(p));
  StoredOffsetValue o;
  if (!decode_stored_offset(offset_value, o)) {
    return corrupt("The stored offset of partition " + std::to_string(p) + " is damaged.");
  }
  out.offset = StoredOffset{o.next, std::move(o.cluster_id), o.base};

  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db_->GetOptions());
  s = writer.Open(path);
  if (!s.ok()) return storage_error(s, "cannot write " + path);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    s = writer.Put(it->key(), it->value());
    if (!s.ok()) return storage_error(s, "cannot write " + path);
    ++out.keys;
  }
  if (!it->status().ok()) return storage_error(it->status(), "cannot read the partition");
  rocksdb::ExternalSstFileInfo info;
  s = writer.Finish(&info);
  if (!s.ok()) return storage_error(s, "cannot finish " + path);
  out.bytes = info.file_size;
  return out;
}

Status Store::ingest_partition(std::int32_t p, const std::string& path) {
  const std::string prefix = part_prefix(p);
  const std::string upper = upper_bound_of(p);
  {
    // Every key must be the partition's: a file of another partition would
    // otherwise overwrite that one's state.
    rocksdb::SstFileReader reader(db_->GetOptions());
    auto s = reader.Open(path);
    if (!s.ok()) return storage_error(s, "cannot read " + path);
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    const bool first_ok = it->Valid() && it->key().compare(prefix) >= 0;
    it->SeekToLast();
    const bool last_ok = it->Valid() && it->key().compare(upper) < 0;
    if (!it->status().ok()) return storage_error(it->status(), "cannot read " + path);
    if (!first_ok || !last_ok) {
      return make_error(
          "snapshot_foreign_keys",
          "The snapshot file " + path + " holds keys outside partition " + std::to_string(p) + ".");
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::WriteBatch stale;
  stale.DeleteRange(prefix, upper);
  auto s = db_->Write(wo, &stale);
  if (!s.ok()) return storage_error(s, "cannot clear partition " + std::to_string(p));
  set_listed(p, false);
  rocksdb::IngestExternalFileOptions io;
  io.move_files = true;  // a copy made for this purpose (a link, or a copy across file systems)
  io.write_global_seqno = false;
  io.allow_blocking_flush = true;  // the range deletion above is in the memtable
  s = db_->IngestExternalFile({path}, io);
  if (!s.ok()) return storage_error(s, "cannot ingest " + path);
  set_listed(p, true);
  return {};
}

}  // namespace hemoledger
