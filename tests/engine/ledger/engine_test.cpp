// The engine in-process against librdkafka's mock cluster and RocksDB on disk:
// real Kafka protocol, real storage, the real apply loop.
#include "engine/ledger/engine.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "engine/cli/reference_files.h"
#include "engine/io/clock.h"
#include "engine/ledger/expiry_ticker.h"
#include "engine/queries/queries.h"
#include "events/binary_codec.h"
#include "events/json_codec.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

static const ReferenceData& ref() { return shipped_engine_reference(); }

namespace {

// librdkafka's mock cluster with the engine's topics (3 partitions), its
// configuration and a producer: what every test here starts from.
struct MockKafka {
  std::unique_ptr<MockCluster> cluster;
  KafkaConfig config;
  Result<std::unique_ptr<Producer>> producer = make_error("unset", "not created");
  MockKafka() {
    auto m = MockCluster::start(1, {"hemoledger.events", "hemoledger.rejected"}, 3);
    REQUIRE(m.ok());
    cluster = std::move(*m);
    config.brokers = cluster->bootstrap();
    config.embedded = true;
    producer = Producer::create(config);
    REQUIRE(producer.ok());
  }
};

struct RunningEngine {
  RunningEngine(const KafkaConfig& kafka, const std::string& dir, Producer* producer) {
    EngineOptions opt;
    opt.data_dir = dir;
    opt.kafka = kafka;
    opt.max_batch = 100;
    opt.clock = test_clock().clock();
    auto e = Engine::open(opt, ref(), producer);
    REQUIRE(e.ok());
    engine = std::move(*e);
    thread = std::thread([this] { result = engine->run(stop); });
  }
  ~RunningEngine() { halt(); }
  void halt() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  std::unique_ptr<Engine> engine;
  std::atomic<bool> stop{false};
  Status result;
  std::thread thread;
};

// Reads every message of a topic from the beginning, until `want` arrive.
std::vector<std::string> read_topic(KafkaConfig cfg, const std::string& topic, std::size_t want) {
  cfg.events_topic = topic;
  cfg.group = "reader-" + std::to_string(std::rand());
  auto c = Consumer::create(
      cfg, [](const std::vector<std::int32_t>&) { return std::map<std::int32_t, std::int64_t>(); },
      [](const std::vector<std::int32_t>&) {});
  REQUIRE(c.ok());
  std::vector<std::string> out;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (out.size() < want && std::chrono::steady_clock::now() < end) {
    auto batch = (*c)->poll_batch(100, 200);
    REQUIRE(batch.ok());
    for (auto& r : *batch) out.push_back(r.value);
  }
  return out;
}

}  // namespace

TEST_CASE("events produced to Kafka become stock, and unsafe or undecodable ones are rejected",
          "[engine][kafka]") {
  TempDir dir;
  MockKafka mk;
  const KafkaConfig& kafka = mk.config;
  auto& producer = mk.producer;
  RunningEngine run(kafka, dir.path(), producer->get());

  EventMaker m("t", test_clock().now() - 10 * kDay);
  const std::string din = din_for(1), bank = "NBS-BB";
  std::vector<std::pair<std::string, std::string>> messages;  // key, value
  Event collected = m.make(EventType::donation_collected, bank, din);
  collected.donor = "D1";
  collected.abo_rh = AboRh::o_neg;
  messages.emplace_back(din, encode_json(collected));  // JSON
  messages.emplace_back(din, encode_binary(m.make(EventType::component_produced, bank, din,
                                                  "E0382V00")));  // binary
  messages.emplace_back(
      din, encode_binary(m.make(EventType::component_produced, bank, din, "E2555V00")));
  for (auto [test, value] :
       std::vector<std::pair<std::string, std::string>>{{"abo", "O"},
                                                        {"rhd", "neg"},
                                                        {"hiv", "negative"},
                                                        {"hbv", "negative"},
                                                        {"hcv", "negative"},
                                                        {"syphilis", "negative"}}) {
    Event t = m.make(EventType::test_resulted, "NBS-LAB", din);
    t.test = test;
    t.result = value;
    messages.emplace_back(din, encode_json(t));
  }
  Event release = m.make(EventType::unit_released, bank, din, "E0382V00");
  messages.emplace_back(din, encode_json(release));
  messages.emplace_back(din, encode_json(release));  // the same id again: ignored
  Event unsafe = m.make(EventType::unit_issued, bank, din, "E2555V00");  // still quarantined
  messages.emplace_back(din, encode_json(unsafe));
  messages.emplace_back(din, "\x01\x02 not an event");
  messages.emplace_back(din, std::string("HL\x01\x01\x01\x00\xff\xff\xff\xff", 10));
  messages.emplace_back(
      din, R"({"id":"x1","type":"UnitTeleported","at":")" + format_rfc3339(m.now()) + R"("})");

  Delivery last;
  for (const auto& [k, v] : messages) {
    auto d = (*producer)->produce_sync("hemoledger.events", k, v, 10000);
    REQUIRE(d.ok());
    last = *d;
  }
  REQUIRE(run.engine->wait_processed(last.partition, last.offset, 60000));

  const StockTable stock = run.engine->stock();
  CHECK(stock.count({bank, Category::red_cells, AboRh::o_neg, UnitStatus::available}) == 1);
  CHECK(stock.count({bank, Category::plasma, AboRh::o_neg, UnitStatus::quarantined}) == 1);
  CHECK(stock.cells().size() == 2);
  CHECK(run.engine->metrics().applied == 10);
  CHECK(run.engine->metrics().duplicates == 1);
  CHECK(run.engine->metrics().rejected == 4);

  auto outcome = event_outcome_json(run.engine->store(), unsafe.id);
  REQUIRE(outcome.ok());
  CHECK((*outcome)["status"] == "rejected");
  CHECK((*outcome)["code"] == "unit_quarantined");
  CHECK_THAT((*outcome)["message"].get<std::string>(), Catch::Contains("quarantined"));

  auto applied = event_outcome_json(run.engine->store(), release.id);
  REQUIRE(applied.ok());
  CHECK((*applied)["status"] == "applied");
  CHECK((*applied)["event"]["type"] == "UnitReleased");

  // Every rejection, undecodable ones included, reaches the rejected topic.
  auto rejected = read_topic(kafka, "hemoledger.rejected", 5);
  std::multiset<std::string> codes;
  for (const auto& r : rejected) codes.insert(json::parse(r)["code"].get<std::string>());
  CHECK(codes == std::multiset<std::string>{"duplicate_event", "unit_quarantined", "malformed_json",
                                            "undecodable", "unknown_type"});

  run.halt();
  REQUIRE(run.result.ok());
  run.engine.reset();
  auto store = Store::open(dir.path() + "/db");
  REQUIRE(store.ok());
  auto report = rebuild(**store, ref(), Rules{}, false);
  REQUIRE(report.ok());
  CHECK(report->equal);
  CHECK(report->events == 10);
}

TEST_CASE("a restarted engine resumes from the offsets stored with its state", "[engine][kafka]") {
  TempDir dir;
  MockKafka mk;
  const KafkaConfig& kafka = mk.config;
  auto& producer = mk.producer;
  const KnownStream stream = known_stream(40, "resume");
  const std::size_t half = stream.events.size() / 2;
  std::map<std::int32_t, std::int64_t> last_offset;  // per partition, of everything produced
  auto produce_range = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      auto d = (*producer)->produce_sync("hemoledger.events", stream.events[i].din,
                                         encode_binary(stream.events[i]), 10000);
      REQUIRE(d.ok());
      last_offset[d->partition] = std::max(last_offset[d->partition], d->offset);
    }
  };
  auto wait_all = [&](const Engine& engine) {
    for (const auto& [p, off] : last_offset) REQUIRE(engine.wait_processed(p, off, 60000));
  };
  {
    produce_range(0, half);
    RunningEngine run(kafka, dir.path(), producer->get());
    wait_all(*run.engine);
  }
  produce_range(half, stream.events.size());
  RunningEngine run(kafka, dir.path(), producer->get());
  wait_all(*run.engine);
  CHECK(run.engine->metrics().applied + run.engine->metrics().rejected <
        stream.events.size());  // the first half was not consumed again
  const StockTable stock = run.engine->stock();
  std::map<StockKey, std::int64_t> actual(stock.cells().begin(), stock.cells().end());
  CHECK(actual == stream.expected);

  // Stock at past instants, replayed from the journal.
  const Store& store = run.engine->store();
  auto before_all = stock_at(store, ref(), Rules{}, stream.events.front().at - 1);
  REQUIRE(before_all.ok());
  CHECK(before_all->cells().empty());
  auto after_all = stock_at(store, ref(), Rules{}, stream.events.back().at);
  REQUIRE(after_all.ok());
  CHECK(*after_all == stock);
  const TimeMs middle = stream.events[half].at;
  std::map<std::string, Donation> state;
  StockTable expected_then;
  for (const Event& e : stream.events) {
    if (e.at > middle) break;
    auto it = state.find(e.din);
    auto applied = apply_event(ref(), Rules{}, it == state.end() ? nullptr : &it->second, e);
    if (!applied) continue;
    for (const auto& d : applied->stock) expected_then.apply(d);
    state[e.din] = applied->after;
  }
  auto then = stock_at(store, ref(), Rules{}, middle);
  REQUIRE(then.ok());
  CHECK(*then == expected_then);
  CHECK_FALSE(*then == stock);
}

TEST_CASE("the engine expires a unit through Kafka once its expiry has passed, exactly once",
          "[engine][kafka][expiry]") {
  TempDir dir;
  MockKafka mk;
  const KafkaConfig& kafka = mk.config;
  auto& producer = mk.producer;
  RunningEngine run(kafka, dir.path(), producer->get());

  const TimeMs t0 = test_clock().now() - 10 * kDay;
  EventMaker m("exp", t0);
  const std::string din = din_for(7);
  Event c = m.make(EventType::donation_collected, "NBS-BB", din);
  c.donor = "D7";
  Delivery last;
  auto send = [&](const Event& e) {
    auto d = (*producer)->produce_sync("hemoledger.events", e.din, encode_binary(e), 10000);
    REQUIRE(d.ok());
    last = *d;
  };
  send(c);
  Event platelets = m.make(EventType::component_produced, "NBS-BB", din, "E3045V00");
  platelets.expires_at = t0 + 2 * kDay;
  send(platelets);
  send(m.make(EventType::component_produced, "NBS-BB", din, "E2555V00"));  // a year
  REQUIRE(run.engine->wait_processed(last.partition, last.offset, 30000));

  const Clock clock = Clock::manual(t0 + kDay);  // a synthetic clock
  ExpiryTicker ticker(run.engine->store(), **producer, "hemoledger.events", clock);
  auto n = ticker.tick();
  REQUIRE(n.ok());
  CHECK(*n == 0);  // nothing has expired yet

  clock.set(t0 + 3 * kDay);
  n = ticker.tick();
  REQUIRE(n.ok());
  CHECK(*n == 1);
  auto status_of = [&](const std::string& product) {
    auto d = find_donation(run.engine->store(), din);
    REQUIRE(d.ok());
    REQUIRE(d->has_value());
    return (*d)->unit(product)->status;
  };
  for (int i = 0; i < 300 && status_of("E3045V00") != UnitStatus::expired; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(status_of("E3045V00") == UnitStatus::expired);
  CHECK(status_of("E2555V00") == UnitStatus::quarantined);
  auto outcome = event_outcome_json(run.engine->store(), "expiry-" + din + "-E3045V00");
  REQUIRE(outcome.ok());
  CHECK((*outcome)["status"] == "applied");
  CHECK((*outcome)["event"]["at"] == format_rfc3339(t0 + 2 * kDay));

  // A ticker after a restart finds nothing left to expire; and a copy of the
  // event produced again (as if in flight during a crash) changes nothing.
  ExpiryTicker after_restart(run.engine->store(), **producer, "hemoledger.events", clock);
  n = after_restart.tick();
  REQUIRE(n.ok());
  CHECK(*n == 0);
  send(expiry_event(din, "E3045V00", "NBS-BB", t0 + 2 * kDay));
  REQUIRE(run.engine->wait_processed(last.partition, last.offset, 30000));
  CHECK(run.engine->metrics().duplicates == 1);
  CHECK(run.engine->stock().count(
            {"NBS-BB", Category::platelets, AboRh::unknown, UnitStatus::quarantined}) == 0);
}

TEST_CASE(
    "a quiet engine ticks its clock through Kafka, so an expiring-soon alert appears without "
    "other events",
    "[engine][kafka][alerts]") {
  TempDir dir;
  MockKafka mk;
  auto& producer = mk.producer;
  EngineOptions opt;
  opt.data_dir = dir.path();
  opt.kafka = mk.config;
  opt.max_batch = 100;
  opt.supply.expiring_hours[Category::platelets] = 1;  // alert within the hour
  opt.clock = test_clock().clock();
  auto e = Engine::open(opt, ref(), producer->get());
  REQUIRE(e.ok());
  std::unique_ptr<Engine> engine = std::move(*e);
  std::atomic<bool> stop{false};
  std::thread run([&] { REQUIRE(engine->run(stop).ok()); });

  // Platelets that expire in one hour and six seconds: not yet within the hour.
  const TimeMs now = test_clock().now();
  EventMaker m("tick", now - kDay);
  const std::string din = din_for(4242);
  Event c = m.make(EventType::donation_collected, "NBS-BB", din);
  c.donor = "D4242";
  c.abo_rh = AboRh::a_pos;
  Event p = m.make(EventType::component_produced, "NBS-BB", din, "E3045V00");
  p.expires_at = now + kHour + 6000;
  std::vector<Event> events = {c, p};
  for (const auto& [test, result] :
       std::vector<std::pair<std::string, std::string>>{{"abo_rh", "A+"},
                                                        {"hiv", "negative"},
                                                        {"hbv", "negative"},
                                                        {"hcv", "negative"},
                                                        {"syphilis", "negative"}}) {
    Event t = m.make(EventType::test_resulted, "NBS-LAB", din);
    t.test = test;
    t.result = result;
    events.push_back(t);
  }
  events.push_back(m.make(EventType::unit_released, "NBS-BB", din, "E3045V00"));
  Delivery last;
  for (const auto& ev : events) {
    auto d = (*producer)->produce_sync("hemoledger.events", ev.din, encode_binary(ev), 10000);
    REQUIRE(d.ok());
    last = *d;
  }
  REQUIRE(engine->wait_processed(last.partition, last.offset, 30000));
  auto expiring_alerts = [&] {
    AlertFilter f;
    f.kind = AlertKind::expiring_soon;
    auto j = alerts_json(engine->store(), f);
    REQUIRE(j.ok());
    return (*j)["alerts"].size();
  };
  CHECK(expiring_alerts() == 0);

  // Nothing else happens; the ticker's clock tick moves the alerts' clock on.
  ExpiryTickerOptions o;
  o.clock_tick_ms = 2000;
  ExpiryTicker ticker(engine->store(), **producer, "hemoledger.events", test_clock().clock(), o);
  bool raised = false;
  for (int i = 0; i < 200 && !raised; ++i) {
    REQUIRE(ticker.tick().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    raised = expiring_alerts() == 1;
  }
  if (!raised) {
    auto t = event_outcome_json(engine->store(), clock_tick_event(test_clock().now()).id);
    auto st = engine->store().alert_state();
    FAIL("tick outcome: " << (t.ok() ? t->dump() : t.error().message) << " alert clock "
                          << (st.ok() ? format_rfc3339(st->clock) : "?") << " now "
                          << format_rfc3339(test_clock().now()) << " expires "
                          << format_rfc3339(p.expires_at));
  }
  // A tick from outside dated far ahead of Kafka's own time is refused.
  Event future = clock_tick_event(test_clock().now() + 10 * kMinute);
  auto d = (*producer)->produce_sync("hemoledger.events", "clock", encode_binary(future), 10000);
  REQUIRE(d.ok());
  REQUIRE(engine->wait_processed(d->partition, d->offset, 30000));
  auto outcome = event_outcome_json(engine->store(), future.id);
  REQUIRE(outcome.ok());
  CHECK((*outcome)["code"] == "implausible_tick");
  stop = true;
  run.join();
}
