// Partition snapshots (engine/scaleout/partition_snapshots.h) between two
// real RocksDB stores on disk, in this process: what is written, what is
// installed, and what is refused and why.
#include "engine/scaleout/partition_snapshots.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "engine/storage/store.h"
#include "tests/engine/scaleout/partition_keys.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
namespace fs = std::filesystem;

namespace {

const StockKey kRed{"NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available};
const StockKey kPlasma{"GZA-BB", Category::plasma, AboRh::a_pos, UnitStatus::available};

// Partition p's state after `events` events: journal, outcomes, stock, offset.
void commit_partition(Store& store, std::int32_t p, std::int64_t events,
                      const std::string& cluster = "cluster-a") {
  Store::Batch b;
  for (std::int64_t i = 0; i < events; ++i) {
    b.put_journal(p, i, "event-" + std::to_string(p) + "-" + std::to_string(i));
    b.put_outcome(p, "id-" + std::to_string(i), R"({"status":"applied"})");
  }
  b.put_stock(p, kRed, events);
  b.put_offset(p, StoredOffset{events, cluster, 0});
  REQUIRE(store.commit(b).ok());
}

struct Stores {
  TempDir dir;
  std::string a_db = dir.path() + "/a-db", b_db = dir.path() + "/b-db";
  std::string shared = dir.path() + "/snapshots", scratch = dir.path() + "/b-incoming";
  SnapshotOptions options() const {
    SnapshotOptions o;
    o.dir = shared;
    o.keep = 2;
    return o;
  }
};

std::vector<std::string> files_of(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ext) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void flip_a_byte(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(f.tellg());
  f.seekg(size / 2);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(size / 2);
  f.write(&c, 1);
}

}  // namespace

TEST_CASE(
    "a partition installed from a snapshot holds exactly its owner's keys, its stale keys gone "
    "and other partitions untouched",
    "[scale-out][snapshots]") {
  Stores s;
  {
    auto a = Store::open(s.a_db);
    REQUIRE(a.ok());
    commit_partition(**a, 1, 40);
    commit_partition(**a, 2, 5);
    auto m = write_partition_snapshot(**a, 1, s.options(), "a", test_clock().now());
    REQUIRE(m.ok());
    CHECK(m->partition == 1);
    CHECK(m->offset == 40);
    CHECK(m->cluster_id == "cluster-a");
    CHECK(m->keys == 82);  // 40 journal entries, 40 outcomes, a stock count, the offset
    CHECK(m->sha256.size() == 64);
    CHECK(fs::exists(snapshot_partition_dir(s.shared, 1) + "/" + m->file));
  }
  {
    auto b = Store::open(s.b_db);
    REQUIRE(b.ok());
    // Stale state of partition 1 (more journal than the snapshot: must go)
    // and partition 2 of b's own.
    commit_partition(**b, 1, 60, "cluster-old");
    Store::Batch extra;
    extra.put_stock(1, kPlasma, 3);
    REQUIRE((*b)->commit(extra).ok());
    commit_partition(**b, 2, 7);
    auto r = install_latest_snapshot(**b, 1, s.shared, "cluster-a", s.scratch);
    INFO(r.reason);
    REQUIRE(r.installed);
    CHECK(r.manifest.offset == 40);
    auto offsets = (*b)->offsets();
    REQUIRE(offsets.ok());
    CHECK(offsets->at(1).next == 40);
    CHECK(offsets->at(1).cluster_id == "cluster-a");
    CHECK(offsets->at(2).next == 7);
    auto stock = (*b)->stock(1);
    REQUIRE(stock.ok());
    CHECK(stock->count(kRed) == 40);
    CHECK(stock->count(kPlasma) == 0);
  }
  const auto a1 = partition_keys(s.a_db, 1), b1 = partition_keys(s.b_db, 1);
  INFO(first_difference(a1, b1));
  CHECK(a1 == b1);
  CHECK(partition_keys(s.b_db, 2).size() == 16);  // b's own partition 2: 7 + 7 + 2
  CHECK(fs::is_empty(s.scratch));                 // the copy was moved into the database
}

TEST_CASE(
    "a damaged, foreign, newer-format or missing snapshot is not installed, says why, and an "
    "older good one is used instead of a damaged newer one",
    "[scale-out][snapshots]") {
  Stores s;
  auto a = Store::open(s.a_db);
  REQUIRE(a.ok());
  auto b = Store::open(s.b_db);
  REQUIRE(b.ok());
  const TimeMs now = test_clock().now();

  SECTION("missing") {
    auto r = install_latest_snapshot(**b, 1, s.shared, "cluster-a", s.scratch);
    CHECK_FALSE(r.installed);
    CHECK_THAT(r.reason, Catch::Contains("no snapshot of partition 1"));
  }
  SECTION("damaged: a byte flipped") {
    commit_partition(**a, 1, 30);
    REQUIRE(write_partition_snapshot(**a, 1, s.options(), "a", now).ok());
    flip_a_byte(files_of(snapshot_partition_dir(s.shared, 1), ".sst").at(0));
    commit_partition(**b, 1, 3);
    auto r = install_latest_snapshot(**b, 1, s.shared, "cluster-a", s.scratch);
    CHECK_FALSE(r.installed);
    CHECK_THAT(r.reason, Catch::Contains("SHA-256 does not match"));
    auto offsets = (*b)->offsets();
    REQUIRE(offsets.ok());
    CHECK(offsets->at(1).next == 3);  // untouched
  }
  SECTION("of another Kafka cluster") {
    commit_partition(**a, 1, 30, "cluster-other");
    REQUIRE(write_partition_snapshot(**a, 1, s.options(), "a", now).ok());
    auto r = install_latest_snapshot(**b, 1, s.shared, "cluster-a", s.scratch);
    CHECK_FALSE(r.installed);
    CHECK_THAT(r.reason, Catch::Contains("Kafka cluster cluster-other"));
  }
  SECTION("of another format version") {
    commit_partition(**a, 1, 30);
    REQUIRE(write_partition_snapshot(**a, 1, s.options(), "a", now).ok());
    const auto path = files_of(snapshot_partition_dir(s.shared, 1), ".json").at(0);
    std::string text = read_file(path);
    const auto at = text.find("\"version\": 1");
    REQUIRE(at != std::string::npos);
    text.replace(at, 12, "\"version\": 99");
    std::ofstream(path, std::ios::trunc) << text;
    auto r = install_latest_snapshot(**b, 1, s.shared, "cluster-a", s.scratch);
    CHECK_FALSE(r.installed);
    CHECK_THAT(r.reason, Catch::Contains("format version 99"));
  }
  SECTION("a damaged newest and a good older one") {
    commit_partition(**a, 1, 30);
    REQUIRE(write_partition_snapshot(**a, 1, s.options(), "a", now).ok());
    commit_partition(**a, 1, 45);
    auto newest = write_partition_snapshot(**a, 1, s.options(), "a", now);
    REQUIRE(newest.ok());
    flip_a_byte(snapshot_partition_dir(s.shared, 1) + "/" + newest->file);
    auto r = install_latest_snapshot(**b, 1, s.shared, "cluster-a", s.scratch);
    INFO(r.reason);
    REQUIRE(r.installed);
    CHECK(r.manifest.offset == 30);
    auto offsets = (*b)->offsets();
    REQUIRE(offsets.ok());
    CHECK(offsets->at(1).next == 30);
  }
}

TEST_CASE("only the newest snapshots of a partition are kept and none is written twice",
          "[scale-out][snapshots]") {
  Stores s;
  auto a = Store::open(s.a_db);
  REQUIRE(a.ok());
  const TimeMs now = test_clock().now();
  for (std::int64_t n : {10, 20, 30}) {
    commit_partition(**a, 4, n);
    REQUIRE(write_partition_snapshot(**a, 4, s.options(), "a", now).ok());
  }
  const std::string pdir = snapshot_partition_dir(s.shared, 4);
  const auto manifests = files_of(pdir, ".json");
  REQUIRE(manifests.size() == 2);  // keep = 2
  CHECK_THAT(manifests[0], Catch::Contains("00000000000000000020-a.json"));
  CHECK_THAT(manifests[1], Catch::Contains("00000000000000000030-a.json"));
  CHECK(files_of(pdir, ".sst").size() == 2);
  auto again = write_partition_snapshot(**a, 4, s.options(), "a", now);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == "snapshot_stale");
  CHECK(files_of(pdir, ".sst").size() == 2);  // and no temporary file left behind
  std::size_t all = 0;
  for (const auto& e : fs::directory_iterator(pdir)) all += e.is_regular_file();
  CHECK(all == 4);
  auto empty = write_partition_snapshot(**a, 5, s.options(), "a", now);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == "partition_empty");
}

TEST_CASE(
    "a publisher that finishes writes a last snapshot of every served partition that moved since "
    "its newest one, and of no other",
    "[scale-out][snapshots]") {
  Stores s;
  auto a = Store::open(s.a_db);
  REQUIRE(a.ok());
  const TimeMs now = test_clock().now();
  commit_partition(**a, 1, 10);  // never snapshotted
  commit_partition(**a, 2, 20);
  REQUIRE(write_partition_snapshot(**a, 2, s.options(), "a", now).ok());
  commit_partition(**a, 2, 25);  // moved since its snapshot
  commit_partition(**a, 3, 30);
  REQUIRE(write_partition_snapshot(**a, 3, s.options(), "a", now).ok());  // did not move
  const std::map<std::int32_t, std::int64_t> served{{1, 10}, {2, 25}, {3, 30}};

  SnapshotOptions o = s.options();
  o.every_events = 1'000'000;  // none due by itself
  o.every_ms = 100 * kDay;
  SnapshotPublisher publisher(**a, o, "a", test_clock().clock());
  publisher.serving(served);
  publisher.finish(served);

  const auto newest = [&](std::int32_t p) {
    const auto manifests = files_of(snapshot_partition_dir(s.shared, p), ".json");
    REQUIRE_FALSE(manifests.empty());
    auto m = parse_manifest(read_file(manifests.back()));
    REQUIRE(m.ok());
    return m->offset;
  };
  CHECK(newest(1) == 10);
  CHECK(newest(2) == 25);
  CHECK(newest(3) == 30);
  CHECK(files_of(snapshot_partition_dir(s.shared, 3), ".json").size() == 1);  // not written again
  const SnapshotStatus st = publisher.status();
  CHECK(st.published.count(1) == 1);
  CHECK(st.published.count(2) == 1);
  CHECK(st.published.count(3) == 0);
  CHECK(st.problem.empty());

  // The state it wrote is the one a new owner installs, up to the last offset.
  auto b = Store::open(s.b_db);
  REQUIRE(b.ok());
  for (std::int32_t p : {1, 2}) {
    const SnapshotInstall in = install_latest_snapshot(**b, p, s.shared, "cluster-a", s.scratch);
    INFO(in.reason);
    REQUIRE(in.installed);
    CHECK(in.manifest.offset == served.at(p));
  }
}
