// `hemoledger snapshot` (engine/cli/snapshot_command.cpp) on a stopped
// engine's data directory, and serve's snapshot settings
// (engine/cli/serve_options.cpp): what is written and installed, what is
// kept, and what is refused with which code.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/ledger/engine.h"
#include "engine/scaleout/partition_snapshots.h"
#include "events/binary_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/scaleout/partition_keys.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::int32_t kPartitions = 3;

// The binary with `args`, on the tests' clock.
Outcome run_dated(const std::string& args) { return run_binary(args + test_clock().arg()); }

// The JSON that follows the command's lines for people.
json printed_json(const std::string& output) {
  const auto at = output.find("\n[");
  REQUIRE(at != std::string::npos);
  return json::parse(output.substr(at + 1));
}

// Applies `donations` more donations of the known stream through the engine
// on `data` (a stopped engine's directory afterwards), over three partitions.
void fill(const std::string& data, int first, int donations) {
  EngineOptions o;
  o.data_dir = data;
  o.clock = test_clock().clock();
  fs::create_directories(data);
  auto engine = Engine::open(o, shipped_engine_reference(), nullptr);
  INFO((engine.ok() ? "" : engine.error().message));
  REQUIRE(engine.ok());
  auto offsets = (*engine)->store().offsets();
  REQUIRE(offsets.ok());
  std::map<std::int32_t, std::int64_t> next;
  for (const auto& [p, off] : *offsets) next[p] = off.next;
  const KnownStream s = known_stream(first + donations, "snap");
  std::vector<Record> batch;
  for (const Event& e : s.events) {
    if (e.din < din_for(first)) continue;  // applied by an earlier fill
    const auto p = static_cast<std::int32_t>(std::hash<std::string>{}(e.din) % kPartitions);
    batch.push_back(Record{p, next[p]++, e.din, encode_binary(e), test_clock().now()});
  }
  REQUIRE((*engine)->apply_records(batch).ok());
}

std::map<std::int32_t, std::int64_t> stored_offsets(const std::string& data) {
  auto store = Store::open(data + "/db");
  REQUIRE(store.ok());
  auto offsets = (*store)->offsets();
  REQUIRE(offsets.ok());
  std::map<std::int32_t, std::int64_t> out;
  for (const auto& [p, o] : *offsets) out[p] = o.next;
  return out;
}

std::vector<std::string> manifests(const std::string& dir, std::int32_t p) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(snapshot_partition_dir(dir, p))) {
    if (e.path().extension() == ".json") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE(
    "hemoledger snapshot writes each partition of a stopped engine at its committed offset, and "
    "a new store installs exactly that state",
    "[cli][snapshots]") {
  TempDir dir;
  const std::string data = dir.path() + "/data", shared = dir.path() + "/snapshots";
  fill(data, 0, 60);
  const auto offsets = stored_offsets(data);
  REQUIRE(offsets.size() == kPartitions);

  const Outcome o =
      run_dated("snapshot --data-dir " + data + " --snapshot-dir " + shared + " --instance ops");
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  const json written = printed_json(o.output);
  REQUIRE(written.size() == kPartitions);
  for (const auto& m : written) {
    const std::int32_t p = m["partition"];
    CHECK(m["offset"] == offsets.at(p));
    CHECK(m["instance"] == "ops");
    CHECK_THAT(o.output, Catch::Contains("partition " + std::to_string(p) + ": offset " +
                                         std::to_string(offsets.at(p)) + ","));
  }

  fs::create_directories(dir.path() + "/b");
  auto b = Store::open(dir.path() + "/b/db");
  REQUIRE(b.ok());
  for (std::int32_t p = 0; p < kPartitions; ++p) {
    const SnapshotInstall in =
        install_latest_snapshot(**b, p, shared, /*cluster_id=*/"", dir.path() + "/incoming");
    INFO(in.reason);
    REQUIRE(in.installed);
    CHECK(in.manifest.offset == offsets.at(p));
  }
  b->reset();
  for (std::int32_t p = 0; p < kPartitions; ++p) {
    const auto original = partition_keys(data + "/db", p);
    CHECK(original.size() > 50);
    CHECK(partition_keys(dir.path() + "/b/db", p) == original);
  }
}

TEST_CASE(
    "hemoledger snapshot keeps the newest snapshots it is told to, writes none twice and refuses "
    "bad options with their code",
    "[cli][snapshots]") {
  TempDir dir;
  const std::string data = dir.path() + "/data", shared = dir.path() + "/snapshots";
  const std::string base = "snapshot --data-dir " + data + " --snapshot-dir " + shared;
  std::vector<std::map<std::int32_t, std::int64_t>> taken;
  for (int round = 0; round < 3; ++round) {
    fill(data, round * 30, 30);
    taken.push_back(stored_offsets(data));
    const Outcome o = run_dated(base + " --keep 2");
    INFO(o.output);
    REQUIRE(o.exit_code == 0);
  }
  for (std::int32_t p = 0; p < kPartitions; ++p) {
    // The newest two, by offset; the first round's is gone.
    char older[64], newer[64];
    std::snprintf(older, sizeof older, "%020lld-offline.json",
                  static_cast<long long>(taken[1].at(p)));
    std::snprintf(newer, sizeof newer, "%020lld-offline.json",
                  static_cast<long long>(taken[2].at(p)));
    CHECK(manifests(shared, p) == std::vector<std::string>{older, newer});
  }

  const Outcome again = run_dated(base);
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.output, Catch::Contains("[snapshot_stale]"));

  const Outcome keep0 = run_dated(base + " --keep 0");
  CHECK(keep0.exit_code == 2);
  CHECK_THAT(keep0.output, Catch::Contains("--keep must be at least 1.") &&
                               Catch::Contains("[bad_snapshot_option]"));

  const Outcome absent = run_dated(base + " --partition 9");
  CHECK(absent.exit_code == 2);
  CHECK_THAT(absent.output, Catch::Contains("[partition_empty]"));

  const Outcome no_dir = run_dated("snapshot --data-dir " + data);
  CHECK(no_dir.exit_code != 0);
  CHECK_THAT(no_dir.output, Catch::Contains("--snapshot-dir"));
}

TEST_CASE("serve refuses snapshot settings out of range before it starts anything",
          "[cli][snapshots]") {
  struct Bad {
    std::string option, code, says;
  };
  for (const Bad& bad :
       {Bad{"--snapshot-every-events 0", "bad_snapshot_option", "--snapshot-every-events"},
        Bad{"--snapshot-every-events -5", "bad_snapshot_option", "at least 1"},
        Bad{"--snapshot-keep 0", "bad_snapshot_option", "--snapshot-keep"},
        Bad{"--snapshot-every soon", "bad_duration", "--snapshot-every:"}}) {
    TempDir dir;
    const Outcome o = run_dated("serve --data-dir " + dir.path() + "/data --snapshot-dir " +
                                dir.path() + "/s " + bad.option);
    INFO(bad.option << ": " << o.output);
    CHECK(o.exit_code == 2);
    CHECK_THAT(o.output, Catch::Contains("[" + bad.code + "]") && Catch::Contains(bad.says));
    CHECK_FALSE(fs::exists(dir.path() + "/data"));
  }
}

TEST_CASE(
    "a serving engine snapshots a partition every --snapshot-every-events offsets and keeps the "
    "newest --snapshot-keep",
    "[cli][snapshots]") {
  TestKafka kafka(1, 1);
  TempDir dir;
  const std::string shared = dir.path() + "/snapshots";
  const int port = free_port();
  Child engine(
      with_clock({HEMOLEDGER_BINARY, "serve", "--brokers", kafka.kafka.brokers, "--data-dir",
                  dir.path() + "/data", "--listen", "127.0.0.1:" + std::to_string(port),
                  "--snapshot-dir", shared, "--snapshot-every-events", "20", "--snapshot-every",
                  "1h", "--snapshot-keep", "2"}),
      {}, dir.path() + "/serve.log");
  REQUIRE(wait_for_api(port, 30));
  const KnownStream stream = known_stream(40, "keep");
  const std::size_t rounds = 4, per_round = stream.events.size() / rounds;
  std::set<std::int64_t> published;
  for (std::size_t r = 0; r < rounds; ++r) {
    const std::size_t to = r + 1 == rounds ? stream.events.size() : (r + 1) * per_round;
    for (std::size_t k = r * per_round; k < to; ++k) {
      REQUIRE(kafka.producer->produce("hemoledger.events", stream.events[k].din,
                                      encode_binary(stream.events[k])));
    }
    REQUIRE(kafka.producer->flush(10000));
    // A snapshot within 20 offsets of the partition's new end (one may be
    // taken before the round's last batch; the rest is not due).
    REQUIRE(eventually(
        [&] {
          auto h = get_json(port, "/health");
          if (!h || !h->contains("snapshots")) return false;
          const json& p0 = (*h)["snapshots"]["published"]["0"];
          if (!p0.is_object()) return false;
          const std::int64_t at = p0["offset"];
          if (at + 20 <= static_cast<std::int64_t>(to)) return false;
          published.insert(at);
          return true;
        },
        30));
  }
  CHECK(published.size() == rounds);
  const auto kept = manifests(shared, 0);
  REQUIRE(kept.size() == 2);
  char newest[64];
  std::snprintf(newest, sizeof newest, "%020lld-", static_cast<long long>(*published.rbegin()));
  CHECK_THAT(kept.back(), Catch::StartsWith(newest));
  engine.signal(SIGTERM);
  REQUIRE(engine.wait_for(30));
  CHECK(manifests(shared, 0).size() == 2);
}
