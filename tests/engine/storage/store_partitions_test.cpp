// Store::partitions(): the partitions that hold keys, kept in memory once read
// and followed by every commit (engine/storage/store.h). Real RocksDB on disk.
#include <catch2/catch.hpp>

#include "engine/storage/store.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const StockKey kCell{"NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available};

void write_into(Store& store, std::int32_t p) {
  Store::Batch b;
  b.put_stock(p, kCell, 3);
  b.put_offset(p, StoredOffset{1, "cluster-a", 0});
  REQUIRE(store.commit(b).ok());
}

void drop(Store& store, std::int32_t p) {
  Store::Batch b;
  b.drop_partition(p);
  REQUIRE(store.commit(b).ok());
}

using Parts = std::vector<std::int32_t>;

}  // namespace

TEST_CASE("the store lists the partitions written to and forgets a dropped one",
          "[engine][storage]") {
  TempDir dir;
  const std::string db = dir.path() + "/db";
  {
    auto store = Store::open(db);
    REQUIRE(store.ok());
    CHECK((*store)->partitions().empty());
    write_into(**store, 4);
    write_into(**store, 1);
    CHECK((*store)->partitions() == Parts{1, 4});
    drop(**store, 4);
    CHECK((*store)->partitions() == Parts{1});
    write_into(**store, 4);
    write_into(**store, 2);
    drop(**store, 1);
    CHECK((*store)->partitions() == Parts{2, 4});
  }
  auto reopened = Store::open(db);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->partitions() == Parts{2, 4});
}

TEST_CASE("a batch that drops a partition and then writes into it leaves the partition listed",
          "[engine][storage]") {
  TempDir dir;
  auto store = Store::open(dir.path() + "/db");
  REQUIRE(store.ok());
  write_into(**store, 0);
  REQUIRE((*store)->partitions() == Parts{0});
  Store::Batch b;
  b.drop_partition(0);
  b.put_offset(0, StoredOffset{7, "cluster-a", 0});
  REQUIRE((*store)->commit(b).ok());
  CHECK((*store)->partitions() == Parts{0});
  auto offsets = (*store)->offsets();
  REQUIRE(offsets.ok());
  CHECK(offsets->at(0).next == 7);
}
