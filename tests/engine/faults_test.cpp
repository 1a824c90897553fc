// Faults the engine must survive (docs/reliability.md), with real parts: the
// hemoledger binary consuming from a mock cluster hosted by this test, so
// that Kafka outlives every engine process and the test controls its faults.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <sstream>

#include "engine/kafka.h"
#include "events/binary_codec.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Rig {
  TempDir dir;
  std::string data = dir.path() + "/data", log = dir.path() + "/engine.log";
  std::unique_ptr<MockCluster> mock;
  std::unique_ptr<Producer> producer;
  KafkaConfig kafka;
  int port = free_port();

  Rig() {
    auto m = MockCluster::start(1, {"hemoledger.events", "hemoledger.rejected", "hemoledger.alerts"}, 6);
    REQUIRE(m.ok());
    mock = std::move(*m);
    kafka.brokers = mock->bootstrap();
    auto p = Producer::create(kafka);
    REQUIRE(p.ok());
    producer = std::move(*p);
  }
  std::unique_ptr<Child> serve() {
    return std::make_unique<Child>(
        std::vector<std::string>{HEMOLEDGER_BINARY, "serve", "--brokers", kafka.brokers,
                                 "--data-dir", data, "--listen",
                                 "127.0.0.1:" + std::to_string(port), "--max-batch", "50"},
        std::vector<std::string>{}, log);
  }
  void produce(const Event& e, std::atomic<int>& failures) {
    if (!producer->produce("hemoledger.events", e.din, encode_binary(e))) ++failures;
  }
  bool wait_committed(std::int64_t total, int seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (committed_messages(port) < total && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return committed_messages(port) == total;
  }
  // The engine stopped: a rebuild from the journal must equal the live state.
  void check_rebuild(int accepted) {
    const std::string rlog = dir.path() + "/rebuild.log";
    Child rebuild({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", data}, {}, rlog);
    const int rs = rebuild.wait();
    INFO(slurp(rlog));
    CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
    CHECK_THAT(slurp(rlog), Catch::Contains("replayed " + std::to_string(accepted) + " events"));
    CHECK_THAT(slurp(rlog), Catch::Contains("equals the live state"));
  }
};

}  // namespace

TEST_CASE("an engine killed at twenty random moments under load loses nothing and counts nothing "
          "twice",
          "[engine][crash][faults]") {
  Rig rig;
  const KnownStream stream = known_stream(400, "loop");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::thread generator([&] {  // a sustained load across all twenty crashes
    for (std::size_t i = 0; i < stream.events.size(); ++i) {
      rig.produce(stream.events[i], failures);
      if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!rig.producer->flush(10000)) ++failures;
    done = true;
  });
  std::mt19937 rng(2026);
  int kills = 0;
  for (; kills < 20; ++kills) {
    auto engine = rig.serve();
    REQUIRE(wait_for_api(rig.port, 30));
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 1300));
    engine->signal(SIGKILL);
    const int st = engine->wait();
    CHECK((WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL));
  }
  generator.join();
  REQUIRE(failures == 0);
  REQUIRE(rig.producer->delivery_failures() == 0);
  INFO("the generator finished " << (done ? "after" : "before") << " the last crash");

  auto last = rig.serve();
  REQUIRE(wait_for_api(rig.port, 30));
  REQUIRE(rig.wait_committed(total, 120));
  auto stock = get_json(rig.port, "/api/stock");
  REQUIRE(stock);
  CHECK(stock_cells_of(*stock) == stream.expected);
  auto m = get_json(rig.port, "/api/events/loop-4");
  REQUIRE(m);
  CHECK((*m)["code"] == "unit_quarantined");  // the unsafe event stays rejected
  last->signal(SIGTERM);
  REQUIRE(last->wait_for(30));
  const int status = last->wait();
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));  // graceful: the batch in flight commits
  rig.check_rebuild(stream.accepted);
}

TEST_CASE("the engine rides out a broker that goes down, slow answers and failed fetches, and "
          "/health says what is wrong while it is wrong",
          "[engine][kafka][faults]") {
  Rig rig;
  const KnownStream stream = known_stream(120, "fault");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  const std::size_t half = stream.events.size() / 2;
  std::atomic<int> failures{0};
  auto engine = rig.serve();
  REQUIRE(wait_for_api(rig.port, 30));
  for (std::size_t i = 0; i < half; ++i) rig.produce(stream.events[i], failures);
  REQUIRE(rig.producer->flush(10000));
  REQUIRE(rig.wait_committed(static_cast<std::int64_t>(half), 60));

  // The broker goes down: the engine says so.
  rig.mock->set_broker_down(1, true);
  bool degraded = false;
  std::string problem;
  for (int i = 0; i < 300 && !degraded; ++i) {
    int status = 0;
    auto h = get_json(rig.port, "/health", &status);
    if (h && status == 503 && (*h)["kafka"]["problem"].is_string()) {
      degraded = true;
      problem = (*h)["kafka"]["problem"].get<std::string>();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(degraded);
  INFO("reported: " << problem);
  CHECK_FALSE(problem.empty());

  // It comes back slow, and the next fetches fail as if a leader moved.
  rig.mock->set_broker_down(1, false);
  rig.mock->set_broker_latency(1, 150);
  rig.mock->fail_next_fetches(5);
  {
    auto p = Producer::create(rig.kafka);
    REQUIRE(p.ok());
    rig.producer = std::move(*p);
  }
  for (std::size_t i = half; i < stream.events.size(); ++i) rig.produce(stream.events[i], failures);
  REQUIRE(rig.producer->flush(30000));
  REQUIRE(failures == 0);
  REQUIRE(rig.wait_committed(total, 120));
  rig.mock->set_broker_latency(1, 0);
  auto stock = get_json(rig.port, "/api/stock");
  REQUIRE(stock);
  CHECK(stock_cells_of(*stock) == stream.expected);
  int status = 0;
  auto h = get_json(rig.port, "/health", &status);
  REQUIRE(h);
  CHECK(status == 200);
  CHECK((*h)["kafka"]["problem"].is_null());
  engine->signal(SIGTERM);
  REQUIRE(engine->wait_for(30));
  rig.check_rebuild(stream.accepted);
}
