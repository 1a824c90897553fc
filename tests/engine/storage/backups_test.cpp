// Backups of a Store through RocksDB's BackupEngine (engine/storage/backups.h):
// real RocksDB on disk, in this process.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "engine/storage/store.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const StockKey kCell{"NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available};

void set_count(Store& store, std::int64_t n) {
  Store::Batch b;
  b.put_stock(0, kCell, n);
  b.put_offset(0, StoredOffset{n, "cluster-a", 0});
  REQUIRE(store.commit(b).ok());
}

std::int64_t count_in(const std::string& db) {
  auto store = Store::open(db);
  REQUIRE(store.ok());
  auto t = (*store)->stock(0);
  REQUIRE(t.ok());
  return t->count(kCell);
}

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

}  // namespace

TEST_CASE("backups restore the store as it was when each was taken, sharing unchanged files",
          "[storage][backup]") {
  TempDir dir;
  const std::string backups = dir.path() + "/backups";
  auto store = Store::open(dir.path() + "/db");
  REQUIRE(store.ok());
  set_count(**store, 7);
  auto first = (*store)->backup(backups, R"({"taken_at":"2026-11-20T12:00:00Z"})", 0);
  REQUIRE(first.ok());
  CHECK(first->id == 1);
  CHECK(first->metadata == R"({"taken_at":"2026-11-20T12:00:00Z"})");
  const std::size_t after_first = files_in(backups + "/shared_checksum");
  set_count(**store, 11);
  auto second = (*store)->backup(backups, "{}", 0);
  REQUIRE(second.ok());
  CHECK(second->id == 2);
  // Incremental: the second backup copied only the table file written since.
  CHECK(files_in(backups + "/shared_checksum") == after_first + 1);
  CHECK(second->files > 1);

  auto listed = list_backups(backups);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  auto verified = verify_backups(backups, 0);
  REQUIRE(verified.ok());
  CHECK(verified->size() == 2);

  REQUIRE(restore_backup(backups, 1, dir.path() + "/one/db").ok());
  CHECK(count_in(dir.path() + "/one/db") == 7);
  REQUIRE(restore_backup(backups, 0, dir.path() + "/newest/db").ok());
  CHECK(count_in(dir.path() + "/newest/db") == 11);
}

TEST_CASE("restoring over a database is refused, and a restored directory keeps its offsets",
          "[storage][backup]") {
  TempDir dir;
  const std::string backups = dir.path() + "/backups";
  {
    auto store = Store::open(dir.path() + "/db");
    REQUIRE(store.ok());
    set_count(**store, 3);
    REQUIRE((*store)->backup(backups, "{}", 0).ok());
  }
  auto over = restore_backup(backups, 0, dir.path() + "/db");
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == "restore_target_in_use");
  auto missing = restore_backup(backups, 9, dir.path() + "/other/db");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "no_such_backup");
  REQUIRE(restore_backup(backups, 0, dir.path() + "/other/db").ok());
  auto restored = Store::open(dir.path() + "/other/db");
  REQUIRE(restored.ok());
  auto offsets = (*restored)->offsets();
  REQUIRE(offsets.ok());
  CHECK(offsets->at(0).next == 3);
  CHECK(offsets->at(0).cluster_id == "cluster-a");
}

TEST_CASE("verifying a backup whose file was altered reports it corrupt", "[storage][backup]") {
  TempDir dir;
  const std::string backups = dir.path() + "/backups";
  auto store = Store::open(dir.path() + "/db");
  REQUIRE(store.ok());
  set_count(**store, 5);
  REQUIRE((*store)->backup(backups, "{}", 0).ok());
  std::string table;
  for (const auto& e : std::filesystem::directory_iterator(backups + "/shared_checksum")) {
    if (e.path().extension() == ".sst") table = e.path().string();
  }
  REQUIRE_FALSE(table.empty());
  {
    // Same size, one byte flipped in the middle: only the checksum can tell.
    std::fstream f(table, std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(std::filesystem::file_size(table) / 2);
    f.seekg(middle);
    char c = 0;
    f.get(c);
    f.seekp(middle);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  auto verified = verify_backups(backups, 1);
  REQUIRE_FALSE(verified.ok());
  CHECK(verified.error().code == "backup_corrupt");
}

TEST_CASE("a backup directory keeps only the newest backups it is told to keep",
          "[storage][backup]") {
  TempDir dir;
  const std::string backups = dir.path() + "/backups";
  auto store = Store::open(dir.path() + "/db");
  REQUIRE(store.ok());
  for (int i = 1; i <= 4; ++i) {
    set_count(**store, i);
    REQUIRE((*store)->backup(backups, "{}", 2).ok());
  }
  auto listed = list_backups(backups);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK(listed->front().id == 3);
  CHECK(listed->back().id == 4);
}
