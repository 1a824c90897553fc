// Clock: the one source of "now" for the engine and its tools. Projections
// never read it: they take times from events. The edges that need the
// current instant (the apply loop's stamp on Kafka records, the expiry
// ticker and its clock ticks, HTTP queries, the lab links, the station, the
// demo feed) are given one Clock at start-up and read it here.
//
// Three kinds, one type:
//   Clock()                    the real clock (the default everywhere);
//   Clock::starting_at(t)      reads t now and runs forward in real time: for
//                              tests, and for replaying a past scenario on
//                              purpose (`--clock-start`, docs/reliability.md);
//   Clock::manual(t)           stands still at t until set(): unit tests of
//                              pure time logic (expiry, ticks).
// A started clock keeps a whole number of seconds between itself and the
// wall clock, so processes started a moment apart from one reading of a test's
// clock (a restart, or several scale-out instances) agree to the millisecond.
//
// from_wall() puts an instant read off the wall clock by someone else (a
// Kafka record's timestamp, stamped by the producer) on this clock, so that
// "when it reached hemoledger" and "now" are on the same time line.
//
// Copies share a manual clock's setting. Threading: every member is safe to
// call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "events/time.h"

namespace hemoledger {

class Clock {
 public:
  Clock() = default;

  // A clock that reads `start` now (to the second) and then runs forward in real time.
  [[nodiscard]] static Clock starting_at(TimeMs start) {
    Clock c;
    const TimeMs gap = start - wall_now();
    c.offset_ms_ = (gap >= 0 ? gap + 500 : gap - 500) / 1000 * 1000;
    return c;
  }

  // A clock that stands still at `at` until set() moves it.
  [[nodiscard]] static Clock manual(TimeMs at) {
    Clock c;
    c.manual_ = std::make_shared<std::atomic<TimeMs>>(at);
    return c;
  }

  // "--clock-start": an RFC 3339 instant, or empty for the real clock.
  [[nodiscard]] static Result<Clock> from_option(std::string_view start) {
    if (start.empty()) return Clock();
    auto t = parse_rfc3339(start);
    if (!t) {
      return make_error("bad_clock_start",
                        "The clock start must be an RFC 3339 instant such as "
                        "2031-12-06T08:00:00Z; got \"" +
                            std::string(start) + "\".");
    }
    return starting_at(*t);
  }

  [[nodiscard]] TimeMs now() const { return manual_ ? manual_->load() : wall_now() + offset_ms_; }

  // A wall-clock instant (e.g. a Kafka record timestamp) on this clock; 0 stays 0 (none).
  [[nodiscard]] TimeMs from_wall(TimeMs wall) const {
    if (wall == 0) return 0;
    return manual_ ? wall + (manual_->load() - wall_now()) : wall + offset_ms_;
  }

  // Whether this is the real clock (no start was given).
  [[nodiscard]] bool is_real() const { return !manual_ && offset_ms_ == 0; }

  // Moves a manual clock; a programming error on any other.
  void set(TimeMs at) const {
    if (!manual_) throw std::logic_error("Clock::set on a clock that is not manual");
    manual_->store(at);
  }

 private:
  static TimeMs wall_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  TimeMs offset_ms_ = 0;
  std::shared_ptr<std::atomic<TimeMs>> manual_;
};

}  // namespace hemoledger
