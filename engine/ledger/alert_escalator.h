// AlertEscalator: the time-driven half of alert follow-up. A Red alert that
// the sector it is with has not acknowledged within that sector's time
// (projections/alert_routing.h) is passed to the next sector up: the
// escalator produces AlertEscalated to the events topic (key "alerts"), the
// engine applies it like any event, and the alert model records it. So an
// escalation is a fact in the journal, and a rebuild reproduces it, while the
// decision to escalate reads the engine's one Clock (engine/io/clock.h) the
// way the expiry ticker does.
//
// Exactly once: the event's id depends only on the alert and the sector it
// goes to, and its time is the moment the sector's time ran out, so a repeat
// (after a restart, or while the first is in flight) is applied once; an
// acknowledgement that got there first makes the engine refuse it.
//
// Threading: run() on its own thread; it only reads the Store (safe while the
// engine writes) and produces through the thread-safe Producer.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "engine/io/clock.h"
#include "engine/kafka/kafka.h"
#include "engine/storage/store.h"
#include "projections/alert_routing.h"

namespace hemoledger {

struct AlertEscalatorOptions {
  TimeMs interval_ms = 1000;  // how often to look
  TimeMs resend_ms = 30000;   // produce again if still not applied after this
  // Scale-out: whether this instance judges the alerts
  // (Engine::leads_alerts()); null: yes.
  std::function<bool()> leads_alerts;
};

class AlertEscalator {
 public:
  AlertEscalator(const Store& store, const AlertRouting& routing, Producer& producer,
                 std::string topic, Clock clock, AlertEscalatorOptions options = {});
  // One look: produces the escalations that are due; returns how many.
  [[nodiscard]] Result<std::size_t> tick();
  void run(const std::atomic<bool>& stop);

 private:
  const Store& store_;
  const AlertRouting& routing_;
  Producer& producer_;
  std::string topic_;
  Clock clock_;
  AlertEscalatorOptions options_;
  std::map<std::string, TimeMs> sent_;  // event id -> when it was last produced
};

}  // namespace hemoledger
