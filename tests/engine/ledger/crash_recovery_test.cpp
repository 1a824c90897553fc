// Crash recovery with real parts: the hemoledger binary consuming from a mock
// cluster hosted by this test (so Kafka outlives every engine process), RocksDB
// on disk, SIGKILL inside and between batches and at random moments, under a
// steady stream of events.
#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/kafka/kafka.h"
#include "events/binary_codec.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

bool killed_by_sigkill(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }

}  // namespace

TEST_CASE("an engine killed inside and between batches and restarted counts every event once",
          "[engine][crash]") {
  TempDir dir;
  const std::string data = dir.path() + "/data", log = dir.path() + "/engine.log";
  auto mock = MockCluster::start(1, {"hemoledger.events", "hemoledger.rejected"}, 6);
  REQUIRE(mock.ok());
  KafkaConfig kafka;
  kafka.brokers = (*mock)->bootstrap();
  auto producer = Producer::create(kafka);
  REQUIRE(producer.ok());

  const KnownStream stream = known_stream(240, "crash");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  // The generator: a steady load while engines start, crash and restart.
  std::atomic<int> produce_failures{0};
  std::thread generator([&] {
    for (std::size_t i = 0; i < stream.events.size(); ++i) {
      const Event& e = stream.events[i];
      if (!(*producer)->produce("hemoledger.events", e.din,
                                i % 2 ? encode_json(e) : encode_binary(e))) {
        ++produce_failures;
      }
      if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(40));
    }
    if (!(*producer)->flush(10000)) ++produce_failures;
  });

  const int port = free_port();
  // The test build of the command: the only one with failpoints.
  auto serve = [&](std::vector<std::string> env) {
    return std::make_unique<Child>(
        with_clock(std::vector<std::string>{
            HEMOLEDGER_FAILPOINT_BINARY, "serve", "--brokers", kafka.brokers, "--data-dir", data,
            "--listen", "127.0.0.1:" + std::to_string(port), "--max-batch", "50"}),
        std::move(env), log);
  };

  {
    // Inside a batch: everything applied in memory, nothing written yet.
    auto a = serve({"HEMOLEDGER_FAILPOINT=before_commit:3"});
    REQUIRE(a->wait_for(90));
    CHECK(killed_by_sigkill(a->wait()));
    // Between batches: the batch is written, the process dies before anything else.
    auto b = serve({"HEMOLEDGER_FAILPOINT=after_commit:4"});
    REQUIRE(b->wait_for(90));
    CHECK(killed_by_sigkill(b->wait()));
    // At random moments while consuming.
    std::mt19937 rng(42);
    for (int k = 0; k < 3; ++k) {
      auto c = serve({});
      REQUIRE(wait_for_api(port, 30));
      std::this_thread::sleep_for(std::chrono::milliseconds(3000 + rng() % 3000));
      c->signal(SIGKILL);
      CHECK(killed_by_sigkill(c->wait()));
    }
    generator.join();
    REQUIRE(produce_failures == 0);
    REQUIRE((*producer)->delivery_failures() == 0);

    auto last = serve({});
    REQUIRE(wait_for_api(port, 30));
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (committed_messages(port) < total && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    REQUIRE(committed_messages(port) == total);

    auto stock = get_json(port, "/api/stock");
    REQUIRE(stock);
    CHECK(stock_cells_of(*stock) == stream.expected);

    // The unsafe events of the stream stay rejected with their reason.
    auto rejected = get_json(port, "/api/events/crash-4");
    REQUIRE(rejected);
    CHECK((*rejected)["status"] == "rejected");
    CHECK((*rejected)["code"] == "unit_quarantined");

    last->signal(SIGTERM);
    REQUIRE(last->wait_for(30));
    const int status = last->wait();
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));

    // The journal holds each accepted event exactly once, and replays to the live state.
    const std::string rlog = dir.path() + "/rebuild.log";
    Child rebuild({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", data}, {}, rlog);
    const int rs = rebuild.wait();
    INFO(read_file(rlog));
    CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
    CHECK_THAT(read_file(rlog),
               Catch::Contains("replayed " + std::to_string(stream.accepted) + " events"));
    CHECK_THAT(read_file(rlog), Catch::Contains("equals the live state"));
  }
}
