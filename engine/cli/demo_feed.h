// DemoFeed: a built-in simulation that produces a realistic event stream to
// Kafka (JSON, keyed by DIN) so that a newcomer sees stock change live:
// donations at each governorate's blood bank weighted by population, their
// components, typing and screening (about 1 in 70 donations screens
// positive), release, issue and transfusion by compatible group
// first-expire-first-out (the patient's own group first, then the same RhD),
// returns, expiries, the labs' reagent kits, and now and then an unsafe
// action (issuing a quarantined unit) that the engine must refuse.
// Collections and demand rise and fall by weekday (Friday, the weekly rest
// day, is quiet); donors are voluntary, replacement or autologous.
//
// The feed runs its stores as a national service would, so that what the
// dashboard shows is the occasional genuine shortage, not the simulation's
// neglect:
// - The larger third of the banks are regional hubs; every other bank is
//   supplied by the nearest hub (data/neighbours.csv). A small bank keeps a
//   par level of each group and component its patients need (days of supply
//   above the Pre-Amber threshold's recovery mark, from the demand it sees,
//   at least 2 units) topped up every two simulated hours from its hub (or
//   the hub of its region with most to spare; a hub short itself shares so
//   that both keep the same days of supply), and sends the groups it does
//   not stock and its surplus to the hub. Hubs balance red cells among
//   themselves by days of supply.
// - The largest bank of each region prepares and issues platelets: from a
//   donation when its stock of the group is under par, from every
//   RhD-negative one of a group it stocks; groups too rare to be used
//   within the shelf life are not prepared.
// - A laboratory reorders each reagent when its cover (at the larger of the
//   recent and the expected rate, build-up included) falls near the
//   catalogue's minimum, for weeks of use; a delivery now and then comes
//   late, and a lot now and then is short-dated.
// A mass-casualty surge now and then, and expiries, remain.
//
// Simulated time runs `hours_per_second` faster than the clock, starting 30
// days before the feed starts, until it meets the clock; then it keeps to
// the clock (events are never dated in the future, and time never stands
// still) while the feed keeps its pace of events, with the waits between a
// donation's steps (testing, release, transfusion, transfer) shortened by the
// same factor, so the picture stays alive for hours. The engine's expiry
// ticker expires units past their expiry on the engine's clock, and the feed
// records expiries that fall in simulated time beyond it (the same
// UnitExpired event, counted once). The feed keeps its own model of the
// units it created; it never reads the engine.
// run() blocks until `stop` is set.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

#include "engine/io/clock.h"
#include "engine/kafka/kafka.h"
#include "events/reference_data.h"
#include "projections/demand.h"

namespace hemoledger {

struct DemoOptions {
  double hours_per_second = 1.0;  // simulated hours per real second
  // While simulated time is behind the clock, it runs this fast instead (0:
  // hours_per_second), so that a demo shows weeks of history within seconds.
  double catch_up_hours_per_second = 0;
  double donations_per_hour = 1.2;  // national average; weekdays more, Fridays fewer
  // The shelves start empty: for the first `build_up_days` of simulated time
  // the banks collect `build_up_factor` times as much, as a service would
  // have stocked them before the simulation starts (1: no build-up).
  double build_up_days = 0;
  double build_up_factor = 1;
  double red_cell_demand = 0.85;  // red cells issued per donation, on average
  // Now and then (per simulated hour) a mass-casualty surge at one bank: a
  // burst of group O red cells issued, the occasional shortage.
  double surge_per_hour = 0;
  // Transfers of red cells of one group between hubs, from the most days of
  // supply to the fewest (small banks are kept at par every 2 simulated hours).
  double rebalance_per_hour = 0.05;
  std::uint64_t seed = 0;        // 0 = from the clock
  std::uint64_t max_events = 0;  // 0 = until stopped
  double ticks_per_second = 4;   // 0 = as fast as possible (for load generation)
  // Where simulated time starts (0: 30 days before the clock). It runs
  // ahead until it meets the clock, then keeps to it.
  TimeMs start_at = 0;
  Clock clock;  // the engine's clock (engine/io/clock.h)
  // The engine's supply settings: par levels are set above their Pre-Amber
  // recovery mark (docs/alerts.md).
  SupplyConfig supply;
};

class DemoFeed {
 public:
  // Where each event goes: its key (the DIN) and its JSON. An error is logged
  // and the event is not counted as produced.
  using Sink = std::function<Status(std::string_view key, std::string_view value)>;

  // Produces to `topic` and flushes the producer when run() ends.
  DemoFeed(const ReferenceData& ref, Producer& producer, std::string topic, DemoOptions options);
  // Hands every event to `sink` instead of Kafka (the benchmarks record the
  // stream once and replay it to every consumer).
  DemoFeed(const ReferenceData& ref, Sink sink, DemoOptions options);
  void run(const std::atomic<bool>& stop);
  std::uint64_t produced() const { return produced_; }

 private:
  const ReferenceData& ref_;
  Sink sink_;
  std::function<void()> flush_;
  DemoOptions options_;
  std::atomic<std::uint64_t> produced_{0};
};

}  // namespace hemoledger
