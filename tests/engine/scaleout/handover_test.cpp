// Handover from a snapshot (docs/scale-out.md) with real parts: a mock
// cluster hosted by this test, `hemoledger serve --instance` processes in one
// consumer group sharing a snapshot directory, each with its own RocksDB,
// and the stores compared byte for byte once the processes stopped.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/scaleout/partition_snapshots.h"
#include "tests/engine/http_support.h"
#include "tests/engine/scaleout/partition_keys.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kPartitions = 4;

// Keys that legitimately differ between two stores of one partition: `f`,
// how far rejections were forwarded to the rejected topic, is stored with the
// commit after the one that forwarded them, so it depends on where each
// instance's batches ended (docs/scale-out.md).
const std::set<char> kInstanceKeys{'f'};

struct Instance {
  std::string data, log;
  int port = free_port();
  std::unique_ptr<Child> process;
};

struct Group : TestKafka {
  Group() : TestKafka(1, kPartitions) {}
  TempDir dir;
  std::string snapshots = dir.path() + "/snapshots";
  std::map<std::string, Instance> instances;

  // An instance of consumer group `group`; with `snapshots_on` it publishes
  // and installs snapshots (a snapshot every `every_events` offsets of a
  // partition, or every hour).
  Instance& start(const std::string& name, const std::string& group, bool snapshots_on,
                  const std::string& every_events = "100") {
    Instance& i = instances[name];
    i.data = dir.path() + "/" + name;
    i.log = dir.path() + "/" + name + ".log";
    std::vector<std::string> args{
        HEMOLEDGER_BINARY, "serve", "--brokers",   kafka.brokers,
        "--data-dir",      i.data,  "--listen",    "127.0.0.1:" + std::to_string(i.port),
        "--group",         group,   "--max-batch", "50",
        "--instance",      name};
    if (snapshots_on) {
      args.insert(args.end(), {"--snapshot-dir", snapshots, "--snapshot-every-events", every_events,
                               "--snapshot-every", "1h"});
    }
    i.process = std::make_unique<Child>(with_clock(args), std::vector<std::string>{}, i.log);
    REQUIRE(wait_for_api(i.port, 30));
    return i;
  }

  void stop(const std::string& name) {
    Instance& i = instances[name];
    i.process->signal(SIGTERM);
    REQUIRE(i.process->wait_for(30));
  }
};

// Waits until the instance serves every partition with nothing left to
// restore and has committed `total` messages with no lag, the same twice a
// second apart. Its /health then.
json settled(const Instance& i, std::int64_t total) {
  std::optional<json> last;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < end) {
    auto h = get_json(i.port, "/health");
    bool done = h && h->contains("scale_out") && (*h)["scale_out"]["restoring"].empty() &&
                (*h)["scale_out"]["serving"].size() == kPartitions;
    std::int64_t committed = 0;
    if (done) {
      for (const auto& [p, v] : (*h)["partitions"].items()) {
        committed += v.value("next_offset", std::int64_t{0});
        if (v.value("lag", std::int64_t{0}) != 0) done = false;
      }
    }
    done = done && committed >= total;
    if (done && last && (*last)["partitions"] == (*h)["partitions"]) return *h;
    last = done ? h : std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(done ? 1000 : 200));
  }
  INFO(read_file(i.log).substr(0, 6000));
  FAIL("the instance did not settle");
  return {};
}

// Every snapshot the directory holds for partition p, newest first.
std::vector<fs::path> snapshot_files(const std::string& dir, int p, const std::string& ext) {
  std::vector<fs::path> out;
  const std::string pdir = snapshot_partition_dir(dir, p);
  if (!fs::exists(pdir)) return out;
  for (const auto& e : fs::directory_iterator(pdir)) {
    if (e.path().extension() == ext && e.path().filename().string()[0] != '.') {
      out.push_back(e.path());
    }
  }
  std::sort(out.rbegin(), out.rend());
  return out;
}

// Waits until every partition has a snapshot at an offset of at least `floor`.
void wait_for_snapshots(const Group& g, std::int64_t floor) {
  REQUIRE(eventually(
      [&] {
        for (int p = 0; p < kPartitions; ++p) {
          auto files = snapshot_files(g.snapshots, p, ".json");
          if (files.empty()) return false;
          auto m = parse_manifest(read_file(files.front().string()));
          if (!m || m->offset < floor) return false;
        }
        return true;
      },
      60));
}

void compare_partitions(const Instance& a, const Instance& b) {
  for (int p = 0; p < kPartitions; ++p) {
    const auto ka = partition_keys(a.data + "/db", p, kInstanceKeys);
    const auto kb = partition_keys(b.data + "/db", p, kInstanceKeys);
    INFO("partition " << p << ": " << first_difference(ka, kb));
    CHECK(ka.size() > 100);
    CHECK(ka == kb);
  }
}

void flip_a_byte(const fs::path& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const auto middle = static_cast<std::streamoff>(f.tellg()) / 2;
  f.seekg(middle);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(middle);
  f.write(&c, 1);
}

}  // namespace

TEST_CASE(
    "a partition handed over from a snapshot equals its replay from offset 0 byte for byte, "
    "and the tail after the snapshot is applied exactly once",
    "[engine][scale-out][snapshots]") {
  Group g;
  const KnownStream stream = known_stream(240, "ho");
  const std::size_t half = 2 * stream.events.size() / 3;
  const auto total = static_cast<std::int64_t>(stream.events.size());

  // a owns every partition and publishes snapshots of them.
  g.start("a", "national", true);
  g.produce(stream.events, 0, half);
  settled(g.instances["a"], static_cast<std::int64_t>(half));
  wait_for_snapshots(g, 100);
  g.instances["a"].process->signal(SIGKILL);  // dies: its partitions move
  g.instances["a"].process->wait();

  // More events while nobody serves them: the tail b replays after the snapshot.
  g.produce(stream.events, half, stream.events.size());
  g.start("b", "national", true);
  const json health = settled(g.instances["b"], total);
  for (int p = 0; p < kPartitions; ++p) {
    const json& part = health["partitions"][std::to_string(p)];
    INFO("partition " << p << ": " << part.dump());
    CHECK(part.value("restore", "") == "snapshot");
    const auto from = part.value("restore_offset", std::int64_t{0});
    CHECK(from >= 100);
    CHECK(from < part.value("next_offset", std::int64_t{0}));  // a tail was replayed
  }
  CHECK_THAT(read_file(g.instances["b"].log), Catch::Contains("installed from"));

  // No event lost, none counted twice: the generator's own totals.
  auto stock = get_json(g.instances["b"].port, "/api/stock");
  REQUIRE(stock);
  CHECK(stock_cells_of(*stock) == stream.expected);

  // The reference: the same partitions replayed from offset 0 by an
  // instance of its own group without snapshots, which says so.
  g.start("ref", "reference", false);
  const json ref_health = settled(g.instances["ref"], total);
  CHECK(ref_health["partitions"]["0"].value("restore", "") == "replay");
  CHECK_THAT(ref_health["partitions"]["0"].value("restore_reason", ""),
             Catch::Contains("snapshots are off"));
  g.stop("b");
  g.stop("ref");
  compare_partitions(g.instances["ref"], g.instances["b"]);

  // And b's own journal replays to its live state, snapshot history included.
  const std::string rlog = g.dir.path() + "/rebuild-b.log";
  Child rebuild({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", g.instances["b"].data}, {},
                rlog);
  const int rs = rebuild.wait();
  INFO(read_file(rlog));
  CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
  CHECK_THAT(read_file(rlog), Catch::Contains("equals the live state"));
}

TEST_CASE(
    "a damaged, missing or newer-format snapshot makes the new owner replay that partition from "
    "offset 0, and /health says why",
    "[engine][scale-out][snapshots]") {
  Group g;
  const KnownStream stream = known_stream(200, "hf");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  g.start("a", "national", true);
  g.produce(stream.events);
  settled(g.instances["a"], total);
  wait_for_snapshots(g, 100);
  g.stop("a");

  for (const auto& sst : snapshot_files(g.snapshots, 0, ".sst")) flip_a_byte(sst);
  fs::remove_all(snapshot_partition_dir(g.snapshots, 1));
  for (const auto& manifest : snapshot_files(g.snapshots, 2, ".json")) {
    std::string text = read_file(manifest.string());
    const auto at = text.find("\"version\": 1");
    REQUIRE(at != std::string::npos);
    text.replace(at, 12, "\"version\": 2");
    std::ofstream(manifest, std::ios::trunc) << text;
  }

  g.start("b", "national", true);
  const json health = settled(g.instances["b"], total);
  const json& parts = health["partitions"];
  INFO(parts.dump());
  CHECK(parts["0"].value("restore", "") == "replay");
  CHECK_THAT(parts["0"].value("restore_reason", ""), Catch::Contains("SHA-256 does not match"));
  CHECK(parts["1"].value("restore", "") == "replay");
  CHECK_THAT(parts["1"].value("restore_reason", ""), Catch::Contains("no snapshot of partition 1"));
  CHECK(parts["2"].value("restore", "") == "replay");
  CHECK_THAT(parts["2"].value("restore_reason", ""), Catch::Contains("format version 2"));
  CHECK(parts["3"].value("restore", "") == "snapshot");
  CHECK(health["status"] == "ok");  // a replay is slower, not wrong

  auto stock = get_json(g.instances["b"].port, "/api/stock");
  REQUIRE(stock);
  CHECK(stock_cells_of(*stock) == stream.expected);
  g.stop("b");
  compare_partitions(g.instances["a"], g.instances["b"]);  // the previous owner's, exactly
}

TEST_CASE(
    "after a clean shutdown every partition has a snapshot at its last committed offset, so the "
    "next owner replays no tail",
    "[engine][scale-out][snapshots]") {
  Group g;
  const KnownStream stream = known_stream(120, "hc");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  // Snapshots far apart: none is due while a runs.
  g.start("a", "national", true, "1000000");
  g.produce(stream.events);
  const json before = settled(g.instances["a"], total);
  g.stop("a");  // SIGTERM
  CHECK_THAT(read_file(g.instances["a"].log), Catch::Contains("last snapshots"));
  for (int p = 0; p < kPartitions; ++p) {
    const auto files = snapshot_files(g.snapshots, p, ".json");
    REQUIRE(files.size() == 1);
    auto m = parse_manifest(read_file(files.front().string()));
    REQUIRE(m.ok());
    CHECK(m->offset == before["partitions"][std::to_string(p)]["next_offset"]);
  }

  g.start("b", "national", true, "1000000");
  const json health = settled(g.instances["b"], total);
  for (int p = 0; p < kPartitions; ++p) {
    const json& part = health["partitions"][std::to_string(p)];
    INFO("partition " << p << ": " << part.dump());
    CHECK(part.value("restore", "") == "snapshot");
    CHECK(part.value("restore_offset", std::int64_t{-1}) ==
          part.value("next_offset", std::int64_t{-2}));  // the tail was empty
  }
  auto stock = get_json(g.instances["b"].port, "/api/stock");
  REQUIRE(stock);
  CHECK(stock_cells_of(*stock) == stream.expected);
  g.stop("b");
  compare_partitions(g.instances["a"], g.instances["b"]);
}
