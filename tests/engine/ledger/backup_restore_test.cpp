// Backups of a running engine and restores from them, with real parts: the
// hemoledger binary, a mock cluster hosted by the test (so Kafka outlives the
// engines), RocksDB on disk, `hemoledger backup` and `restore`.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/kafka/kafka.h"
#include "events/binary_codec.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

std::unique_ptr<Child> serve(const std::string& brokers, const std::string& data, int port,
                             const std::string& log, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{
      HEMOLEDGER_BINARY, "serve", "--brokers", brokers,
      "--data-dir",      data,    "--listen",  "127.0.0.1:" + std::to_string(port),
      "--max-batch",     "50"};
  for (auto& a : extra) args.push_back(std::move(a));
  return std::make_unique<Child>(with_clock(args), std::vector<std::string>{}, log);
}

// A tool's exit status and its standard output (and error) as text.
std::pair<int, std::string> run_tool(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> full{HEMOLEDGER_BINARY};
  full.insert(full.end(), args.begin(), args.end());
  std::remove(log.c_str());
  Child c(full, {}, log);
  const int status = c.wait();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(log)};
}

void stop(Child& engine) {
  engine.signal(SIGTERM);
  REQUIRE(engine.wait_for(30));
  const int status = engine.wait();
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

}  // namespace

TEST_CASE("a backup taken under load restores to the state of an engine that never stopped",
          "[engine][backup]") {
  TempDir dir;
  const std::string live = dir.path() + "/live", restored = dir.path() + "/restored",
                    backups = dir.path() + "/backups", tool_log = dir.path() + "/tool.log";
  TestKafka kafka;
  const KnownStream stream = known_stream(240, "bk");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  std::atomic<int> produce_failures{0};
  std::atomic<std::size_t> produced{0};
  std::thread generator([&] {
    for (std::size_t i = 0; i < stream.events.size(); ++i) {
      const Event& e = stream.events[i];
      if (!kafka.producer->produce("hemoledger.events", e.din,
                                   i % 2 ? encode_json(e) : encode_binary(e))) {
        ++produce_failures;
      }
      produced = i + 1;
      if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(40));
    }
    if (!kafka.producer->flush(10000)) ++produce_failures;
  });

  const int port = free_port();
  auto engine =
      serve(kafka.kafka.brokers, live, port, dir.path() + "/live.log", {"--backup-dir", backups});
  REQUIRE(wait_for_api(port, 30));
  // Under load: some messages applied, more arriving.
  REQUIRE(eventually([&] { return committed_messages(port) > total / 4; }, 60));
  const auto [backup_status, backup_out] =
      run_tool({"backup", "--api", "http://127.0.0.1:" + std::to_string(port)}, tool_log);
  INFO(backup_out);
  REQUIRE(backup_status == 0);
  CHECK_THAT(backup_out, Catch::Contains("\"id\": 1"));
  CHECK(produced.load() < stream.events.size());  // the generator was still producing

  generator.join();
  REQUIRE(produce_failures == 0);
  REQUIRE(eventually([&] { return committed_messages(port) == total; }, 120));
  auto live_stock = get_json(port, "/api/stock");
  REQUIRE(live_stock);
  CHECK(stock_cells_of(*live_stock) == stream.expected);
  stop(*engine);

  const auto [verify_status, verify_out] =
      run_tool({"backup", "--verify", "--backup-dir", backups}, tool_log);
  INFO(verify_out);
  CHECK(verify_status == 0);
  CHECK_THAT(verify_out, Catch::Contains("1 backup(s)"));

  const auto [restore_status, restore_out] =
      run_tool({"restore", "--backup-dir", backups, "--data-dir", restored}, tool_log);
  INFO(restore_out);
  REQUIRE(restore_status == 0);
  // What the backup held: fewer messages than the stream, resumed from there.
  const auto resumed = nlohmann::json::parse(restore_out.substr(restore_out.find('{')));
  std::int64_t in_backup = 0;
  for (const auto& [p, next] : resumed["resumes_at"].items()) in_backup += next.get<std::int64_t>();
  CHECK(in_backup > 0);
  CHECK(in_backup < total);

  // The restored engine consumes what came after the backup from Kafka.
  auto again = serve(kafka.kafka.brokers, restored, port, dir.path() + "/restored.log");
  REQUIRE(wait_for_api(port, 30));
  REQUIRE(eventually([&] { return committed_messages(port) == total; }, 120));
  auto restored_stock = get_json(port, "/api/stock");
  REQUIRE(restored_stock);
  CHECK(stock_cells_of(*restored_stock) == stock_cells_of(*live_stock));
  int status = 0;
  auto health = get_json(port, "/health", &status);
  REQUIRE(health);
  CHECK(status == 200);
  CHECK((*health)["kafka"]["missing"].empty());
  stop(*again);

  // Each accepted event is in the journal once, and the journal replays to the state.
  const auto [rebuild_status, rebuild_out] =
      run_tool({"rebuild", "--check", "--data-dir", restored}, tool_log);
  INFO(rebuild_out);
  CHECK(rebuild_status == 0);
  CHECK_THAT(rebuild_out, Catch::Contains("replayed " + std::to_string(stream.accepted) + " "));
  CHECK_THAT(rebuild_out, Catch::Contains("equals the live state"));
}

TEST_CASE(
    "after a restore, /health names the Kafka offsets that retention removed before they were "
    "applied",
    "[engine][backup]") {
  TempDir dir;
  const std::string live = dir.path() + "/live", restored = dir.path() + "/restored",
                    backups = dir.path() + "/backups", tool_log = dir.path() + "/tool.log";
  TestKafka kafka(1, 1);  // one partition: every message lands in partition 0
  const KnownStream stream = known_stream(8, "gap");
  const std::size_t half = stream.events.size() / 2;
  auto produce = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      const Event& e = stream.events[i];
      REQUIRE(kafka.producer->produce_sync("hemoledger.events", e.din, encode_json(e), 10000));
    }
  };
  produce(0, half);

  const int port = free_port();
  auto engine =
      serve(kafka.kafka.brokers, live, port, dir.path() + "/live.log", {"--backup-dir", backups});
  REQUIRE(wait_for_api(port, 30));
  REQUIRE(
      eventually([&] { return committed_messages(port) >= static_cast<std::int64_t>(half); }, 60));
  REQUIRE(
      run_tool({"backup", "--api", "http://127.0.0.1:" + std::to_string(port)}, tool_log).first ==
      0);
  stop(*engine);
  // A backup of the first half; the second half follows, then enough data for
  // the mock broker's retention (5 MiB a partition) to drop the oldest messages.
  produce(half, stream.events.size());
  const std::string filler(900 * 1000, 'x');
  for (int i = 0; i < 8; ++i) {
    REQUIRE(kafka.producer->produce_sync("hemoledger.events", "filler", filler, 10000));
  }
  // Kafka's first remaining offset, read from the partition's beginning.
  auto reader = TopicReader::create(kafka.kafka, "hemoledger.events", 10000);
  REQUIRE(reader);
  std::int64_t low = -1;
  REQUIRE(eventually([&] {
    auto got = (*reader)->poll_batch(1, 500);
    if (got && !got->empty()) low = got->front().offset;
    return low >= 0;
  }));
  REQUIRE(low > static_cast<std::int64_t>(stream.events.size()));  // both halves are gone

  REQUIRE(run_tool({"restore", "--backup-dir", backups, "--data-dir", restored}, tool_log).first ==
          0);
  auto again = serve(kafka.kafka.brokers, restored, port, dir.path() + "/restored.log");
  REQUIRE(wait_for_api(port, 30));
  int status = 0;
  std::optional<nlohmann::json> health;
  REQUIRE(eventually(
      [&] {
        health = get_json(port, "/health", &status);
        return health && !(*health)["kafka"]["missing"].empty();
      },
      30));
  INFO(health->dump());
  CHECK(status == 503);
  CHECK((*health)["status"] == "degraded");
  const auto& gap = (*health)["kafka"]["missing"][0];
  CHECK(gap["partition"] == 0);
  CHECK(gap["from"] == static_cast<std::int64_t>(half));
  CHECK(gap["to"] == low - 1);
  CHECK_THAT((*health)["kafka"]["problem"].get<std::string>(),
             Catch::Contains("partition 0 offsets " + std::to_string(half) + ".." +
                             std::to_string(low - 1)));
  auto metrics = get_text(port, "/metrics");
  CHECK_THAT(metrics, Catch::Contains("hemoledger_kafka_missing_messages " +
                                      std::to_string(low - static_cast<std::int64_t>(half))));
  stop(*again);
}
