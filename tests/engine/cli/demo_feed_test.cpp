#include "engine/cli/demo_feed.h"

#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "events/json_codec.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// What a demo feed produced, as it was handed over.
struct Recorded {
  std::mutex mu;
  std::vector<Event> events;
  std::vector<TimeMs> clock_at_send;  // the feed's clock when each was sent
};

// Runs a feed on `clock` for `seconds` of real time, recording every event.
void run_feed(const Clock& clock, TimeMs start_at, double seconds, Recorded& out) {
  DemoOptions o;
  o.hours_per_second = 24;  // a simulated day a second: catches up a day in one
  o.ticks_per_second = 20;
  o.seed = 42;
  o.start_at = start_at;
  o.clock = clock;
  DemoFeed feed(
      shipped_engine_reference(),
      [&](std::string_view, std::string_view value) -> Status {
        auto e = decode_json(value);
        if (!e) return e.error();
        std::lock_guard lock(out.mu);
        out.events.push_back(std::move(*e));
        out.clock_at_send.push_back(clock.now());
        return {};
      },
      o);
  std::atomic<bool> stop{false};
  std::thread t([&] { feed.run(stop); });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  t.join();
}

}  // namespace

TEST_CASE(
    "the demo feed catches up with its clock, never dates an event after it, and keeps "
    "testing and releasing what it collects once it has caught up",
    "[engine][demo][clock]") {
  // Five years ahead of the wall clock: the feed follows its own clock, not the date.
  const TestClock clock(test_clock().now() + 5 * 365 * kDay);
  const TimeMs start = clock.now() - kDay;
  Recorded r;
  run_feed(clock.clock(), start, 4.0, r);
  REQUIRE(r.events.size() > 100);

  TimeMs caught_up_at = 0;  // the first event within a minute of the clock
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    INFO(to_string(r.events[i].type) << " at " << format_rfc3339(r.events[i].at) << ", clock "
                                     << format_rfc3339(r.clock_at_send[i]));
    CHECK(r.events[i].at >= start);
    CHECK(r.events[i].at <= r.clock_at_send[i]);
    if (caught_up_at == 0 && r.clock_at_send[i] - r.events[i].at < kMinute) {
      caught_up_at = r.clock_at_send[i];
    }
  }
  REQUIRE(caught_up_at != 0);

  // After catching up, time goes on with the clock, and donations collected
  // then are typed, screened and released or discarded within the run.
  std::set<std::string> collected_after, tested, settled;
  TimeMs last_at = 0;
  for (const Event& e : r.events) {
    last_at = std::max(last_at, e.at);
    if (e.type == EventType::donation_collected && e.at >= caught_up_at)
      collected_after.insert(e.din);
    if (e.type == EventType::test_resulted) tested.insert(e.din);
    if (e.type == EventType::unit_released || e.type == EventType::unit_discarded)
      settled.insert(e.din);
  }
  CHECK(last_at > caught_up_at + 1000);  // it did not freeze at the catch-up instant
  REQUIRE(collected_after.size() >= 5);
  int tested_after = 0, settled_after = 0;
  for (const auto& din : collected_after) {
    tested_after += tested.count(din) ? 1 : 0;
    settled_after += settled.count(din) ? 1 : 0;
  }
  // All but those collected in the last moments of the run.
  CHECK(tested_after >= static_cast<int>(collected_after.size()) * 3 / 4);
  CHECK(settled_after >= static_cast<int>(collected_after.size()) * 3 / 4);
}
