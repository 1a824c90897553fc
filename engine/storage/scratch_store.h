// ScratchStore: a throwaway RocksDB where a rebuild keeps the replayed
// donations it holds encoded (projections/replayed_donations.h), so that
// `rebuild`'s memory does not grow with the history. It lives in its own
// directory, made empty by open() and removed with everything in it when the
// ScratchStore is destroyed; nothing in it outlives the rebuild, so it writes
// without a write-ahead log and without syncing.
//
//   auto scratch = ScratchStore::open(data_dir + "/rebuild-scratch");
//   ReplayedDonations ds(1024, (*scratch)->donations(partition));
//   ... replay ...
//   if (auto s = (*scratch)->status(); !s) { /* the replay cannot be trusted */ }
//
// A failed write or read is remembered (status()) and the caller must then
// discard what it replayed. The views of different partitions may be used
// from different threads at once; one view is not thread-safe. The
// ScratchStore must outlive its views.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "events/result.h"
#include "projections/replayed_donations.h"

namespace rocksdb {
class DB;
}

namespace hemoledger {

class ScratchStore {
 public:
  // Removes whatever is at `dir` (a scratch left by an interrupted run) and
  // opens an empty store there.
  [[nodiscard]] static Result<std::unique_ptr<ScratchStore>> open(const std::string& dir);
  ~ScratchStore();
  ScratchStore(const ScratchStore&) = delete;
  ScratchStore& operator=(const ScratchStore&) = delete;

  // Partition `partition`'s encoded donations, kept here.
  std::unique_ptr<EncodedDonations> donations(std::int32_t partition);

  // The first read or write that failed, or ok.
  [[nodiscard]] Status status() const;

 private:
  class Donations;
  ScratchStore(std::string dir, std::unique_ptr<rocksdb::DB> db);
  void fail(const std::string& what);

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  mutable std::mutex mu_;
  std::optional<Error> failure_;  // guarded by mu_
};

}  // namespace hemoledger
