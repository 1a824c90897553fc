// An Engine in the test's own process, for tests of the rooms above the
// ledger that need a real one behind them (the lab gateway, peers): on a
// TestKafka (support.h) and a fresh directory, with the tests' clock, its run
// loop on a thread of its own. Destroying it stops the loop (the batch in
// flight commits) and joins the thread. produce() sends one event and waits
// until the engine has committed it.
#pragma once

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>

#include "engine/ledger/engine.h"
#include "events/json_codec.h"
#include "tests/engine/support.h"

namespace hemoledger::testing {

class InProcessEngine {
 public:
  // run = false: opened but never consuming, an engine that does not answer.
  explicit InProcessEngine(const TestKafka& kafka, bool run = true) : kafka_(kafka) {
    EngineOptions opt;
    opt.data_dir = dir_.path();
    opt.kafka = kafka.kafka;
    opt.max_batch = 100;
    opt.clock = test_clock().clock();
    auto e = Engine::open(opt, shipped_engine_reference(), kafka.producer.get());
    REQUIRE(e.ok());
    engine_ = std::move(*e);
    if (run) thread_ = std::thread([this] { result_ = engine_->run(stop_); });
  }
  ~InProcessEngine() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  InProcessEngine(const InProcessEngine&) = delete;
  InProcessEngine& operator=(const InProcessEngine&) = delete;

  Engine& engine() { return *engine_; }

  // Produces `e` to the events topic, keyed as the engine expects, and waits
  // (up to a minute) until the engine has committed it.
  Delivery produce(const Event& e) {
    auto d = kafka_.producer->produce_sync(kafka_.kafka.events_topic, event_key(e), encode_json(e),
                                           10000);
    REQUIRE(d.ok());
    REQUIRE(engine_->wait_processed(d->partition, d->offset, 60000));
    return *d;
  }

 private:
  const TestKafka& kafka_;
  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::atomic<bool> stop_{false};
  Status result_;
  std::thread thread_;
};

}  // namespace hemoledger::testing
