// DeliveryTracker against librdkafka's mock cluster: the engine moves its
// alert and lookback cursors only when a tracker settles without failure.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "engine/kafka/kafka.h"
#include "tests/engine/support.h"

using namespace hemoledger;

namespace {

bool settles_within(const DeliveryTracker& t, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!t.settled()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

TEST_CASE("a delivery tracker settles without failure once Kafka has every message",
          "[kafka][delivery]") {
  testing::TestKafka k;
  auto tracker = std::make_shared<DeliveryTracker>();
  for (int i = 0; i < 50; ++i) {
    REQUIRE(k.producer->produce("hemoledger.alerts", "key-" + std::to_string(i), "{}", tracker));
  }
  REQUIRE(settles_within(*tracker, std::chrono::seconds(20)));
  CHECK_FALSE(tracker->failed());
  CHECK(k.producer->delivery_failures() == 0);
}

TEST_CASE("a delivery tracker reports a failure when Kafka refuses one of its messages",
          "[kafka][delivery]") {
  testing::TestKafka k;
  // Connected and idle first, so that the refused request is this message's.
  REQUIRE(k.producer->produce_sync("hemoledger.alerts", "warm", "{}", 10000));
  k.mock->fail_next_produces(1);
  auto tracker = std::make_shared<DeliveryTracker>();
  REQUIRE(k.producer->produce_to("hemoledger.alerts", 0, "refused", "{}", tracker));
  REQUIRE(settles_within(*tracker, std::chrono::seconds(20)));
  CHECK(tracker->failed());
  CHECK(k.producer->delivery_failures() == 1);
}

TEST_CASE("a tracker with nothing produced is settled at once", "[kafka][delivery]") {
  const DeliveryTracker t;
  CHECK(t.settled());
  CHECK_FALSE(t.failed());
}
