// Faults the engine must survive (docs/reliability.md), with real parts: the
// hemoledger binary consuming from a mock cluster hosted by this test, so
// that Kafka outlives every engine process and the test controls its faults.
#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/kafka/kafka.h"
#include "engine/storage/store.h"
#include "events/binary_codec.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

struct Rig : TestKafka {
  TempDir dir;
  std::string data = dir.path() + "/data", log = dir.path() + "/engine.log";
  int port = free_port();

  std::unique_ptr<Child> serve(std::vector<std::string> env = {}) {
    return std::make_unique<Child>(
        with_clock(std::vector<std::string>{
            HEMOLEDGER_BINARY, "serve", "--brokers", kafka.brokers, "--data-dir", data, "--listen",
            "127.0.0.1:" + std::to_string(port), "--max-batch", "50"}),
        std::move(env), log);
  }
  void produce(const Event& e, std::atomic<int>& failures) {
    if (!producer->produce("hemoledger.events", e.din, encode_binary(e))) ++failures;
  }
  bool wait_committed(std::int64_t total, int seconds) {
    eventually([&] { return committed_messages(port) >= total; }, seconds);
    return committed_messages(port) == total;
  }
  // The engine stopped: a rebuild from the journal must equal the live state.
  void check_rebuild(int accepted) {
    const std::string rlog = dir.path() + "/rebuild.log";
    Child rebuild({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", data}, {}, rlog);
    const int rs = rebuild.wait();
    INFO(read_file(rlog));
    CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
    CHECK_THAT(read_file(rlog),
               Catch::Contains("replayed " + std::to_string(accepted) + " events"));
    CHECK_THAT(read_file(rlog), Catch::Contains("equals the live state"));
  }
};

}  // namespace

TEST_CASE(
    "an engine killed at twenty random moments under load loses nothing and counts nothing "
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

TEST_CASE(
    "the engine rides out a broker that goes down, slow answers and failed fetches, and "
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

TEST_CASE(
    "a full disk stops consumption without committing, says why, and consumption resumes "
    "when space returns",
    "[engine][storage][faults]") {
  Rig rig;
  const KnownStream stream = known_stream(60, "disk");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  const std::size_t half = stream.events.size() / 2;
  const std::string full = rig.dir.path() + "/disk-is-full";
  std::atomic<int> failures{0};
  auto engine = rig.serve({"HEMOLEDGER_STORAGE_FAULT=" + full});
  REQUIRE(wait_for_api(rig.port, 30));
  for (std::size_t i = 0; i < half; ++i) rig.produce(stream.events[i], failures);
  REQUIRE(rig.producer->flush(10000));
  REQUIRE(rig.wait_committed(static_cast<std::int64_t>(half), 60));

  std::ofstream(full) << "full\n";  // from now on every write fails, as on a full disk
  for (std::size_t i = half; i < stream.events.size(); ++i) rig.produce(stream.events[i], failures);
  REQUIRE(rig.producer->flush(10000));
  std::optional<nlohmann::json> health;
  bool reported = false;
  for (int i = 0; i < 150 && !reported; ++i) {
    int status = 0;
    health = get_json(rig.port, "/health", &status);
    reported = health && status == 503 && (*health)["storage"]["problem"].is_string();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(reported);
  CHECK_THAT((*health)["storage"]["problem"].get<std::string>(), Catch::Contains("space"));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(committed_messages(rig.port) == static_cast<std::int64_t>(half));  // nothing committed

  std::filesystem::remove(full);  // space again
  if (!rig.wait_committed(total, 60)) {
    const std::string log = read_file(rig.log);
    FAIL("not resumed; the engine's log ends: " << log.substr(log.size() > 3000 ? log.size() - 3000
                                                                                : 0));
  }
  int status = 0;
  health = get_json(rig.port, "/health", &status);
  REQUIRE(health);
  CHECK(status == 200);
  CHECK((*health)["storage"]["problem"].is_null());
  auto stock = get_json(rig.port, "/api/stock");
  REQUIRE(stock);
  CHECK(stock_cells_of(*stock) == stream.expected);
  engine->signal(SIGTERM);
  REQUIRE(engine->wait_for(30));
  CHECK(failures == 0);
  rig.check_rebuild(stream.accepted);
}

TEST_CASE("a corrupted journal entry is detected by a rebuild, not skipped",
          "[engine][storage][faults]") {
  Rig rig;
  const KnownStream stream = known_stream(10, "rot");
  std::atomic<int> failures{0};
  auto engine = rig.serve();
  REQUIRE(wait_for_api(rig.port, 30));
  for (const auto& e : stream.events) rig.produce(e, failures);
  REQUIRE(rig.producer->flush(10000));
  REQUIRE(rig.wait_committed(static_cast<std::int64_t>(stream.events.size()), 60));
  engine->signal(SIGTERM);
  REQUIRE(engine->wait_for(30));
  {
    auto store = Store::open(rig.data + "/db");
    REQUIRE(store.ok());
    bool damaged = false;
    for (auto p : (*store)->partitions()) {
      auto s = (*store)->scan_journal(p, 0, [&](std::int64_t pos, std::string_view) {
        Store::Batch b;
        b.put_journal(p, pos, "HL\x01 bit rot");
        damaged = (*store)->commit(b).ok();
        return false;
      });
      REQUIRE(s.ok());
      if (damaged) break;
    }
    REQUIRE(damaged);
  }
  const std::string rlog = rig.dir.path() + "/rebuild.log";
  Child rebuild({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", rig.data}, {}, rlog);
  const int rs = rebuild.wait();
  INFO(read_file(rlog));
  CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) != 0));
  CHECK_THAT(read_file(rlog), Catch::Contains("cannot be read"));
}
