// ExpiryTicker: the engine's own producer of UnitExpired events (and of
// ReagentExpired for reagent lots with stock left past their expiry). Once a unit
// in the bank's hands (quarantined, available, reserved, in transit) passes
// its expiry on the engine's clock, the ticker produces expiry_event() for it to
// the events topic, so expiry goes through Kafka like every other fact and a
// rebuild reproduces it.
//
// Exactly once: the event's id and time depend only on the unit, so the engine
// applies it once however often it is produced (after a restart, or while an
// earlier copy is still in flight); the unit then leaves the expiry index and
// is not produced again. Units issued to a patient are not expired by the
// ticker (they are with the patient).
//
// Threading: run() on its own thread; it only reads the Store (safe while the
// engine writes) and produces through the thread-safe Producer.
#pragma once

#include <atomic>
#include <functional>

#include "engine/io/clock.h"
#include "engine/kafka/kafka.h"
#include "engine/storage/store.h"

namespace hemoledger {

struct ExpiryTickerOptions {
  TimeMs interval_ms = 1000;  // how often to look for expired units
  TimeMs resend_ms = 30000;   // produce again if still not applied after this
  std::size_t max_per_tick = 5000;
  // When no event has moved the alerts' clock for this long, a ClockTicked
  // is produced so that time-driven alerts (expiring soon, overdue recalls)
  // move on in quiet periods too; 0 turns ticks off.
  TimeMs clock_tick_ms = 60000;
  // Scale-out: whether this instance serves the partition of an event key
  // (null: every stored one), and whether it is the one that ticks the clock
  // (null: yes). Only one instance of a group ticks: the owner of partition 0.
  std::function<bool(std::string_view key)> serves_key;
  std::function<bool()> keeps_clock;
};

class ExpiryTicker {
 public:
  ExpiryTicker(const Store& store, Producer& producer, std::string topic, Clock clock,
               ExpiryTickerOptions options = {});
  // One look: produces the due expiries; returns how many were produced.
  [[nodiscard]] Result<std::size_t> tick();
  void run(const std::atomic<bool>& stop);

 private:
  const Store& store_;
  Producer& producer_;
  std::string topic_;
  Clock clock_;
  ExpiryTickerOptions options_;
  std::map<std::string, TimeMs> sent_;  // event id -> when it was last produced
  TimeMs last_tick_ = 0;
};

}  // namespace hemoledger
