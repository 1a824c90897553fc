// Demand: units leaving stock for good or to a patient, counted per UTC day,
// facility, component category and ABO/RhD group. It is the numerator of the
// average daily demand and the stock index (days of supply), DOMAIN.md
// "Stock metrics":
//
//   average daily demand = units issued + expired + discarded (wasted) over a
//                          trailing window / its days
//   days of supply       = available units / average daily demand
//
// A unit counts once: on the day it is issued, or expires or is discarded
// after its release (one discarded or expired in quarantine never was
// supply, and is not demand). A transfusion is the consequence and is not counted
// again; a return to stock takes the issue back (on the day). A unit
// issued and later discarded or expired counts once, at its issue.
//
// Pure: deltas are computed from a donation before and after an event, with
// the day taken from the event's time. Thresholds for phases are data
// (SupplyThresholds) with defaults from DOMAIN.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/event.h"
#include "projections/unit_state.h"

namespace hemoledger {

struct DemandKey {
  std::int64_t day = 0;  // days since the Unix epoch (UTC)
  std::string facility;
  Category category = Category::unknown;
  AboRh group = AboRh::unknown;
  auto operator<=>(const DemandKey&) const = default;
};

struct DemandDelta {
  DemandKey key;
  std::int64_t change = 0;
};

std::int64_t day_of(TimeMs t);

// What an event changed in demand, from the donation before (may be null) and
// after it.
std::vector<DemandDelta> demand_diff(const Donation* before, const Donation& after, const Event& e);

// "yyyymmdd|facility|category|group" (the day first, so that a window is a
// key range).
std::string encode_demand_key(const DemandKey& k);
[[nodiscard]] Result<DemandKey> decode_demand_key(std::string_view text);

enum class Phase : std::uint8_t { green = 0, pre_amber = 1, amber = 2, red = 3 };
std::string_view to_string(Phase p);

// Days-of-supply thresholds per category. Below `pre_amber` days the phase is
// Pre-Amber, below `amber` Amber, below `red` Red. DOMAIN.md: red cells target
// about 6 days, Amber under about 2; platelets at least 1 day.
struct SupplyThresholds {
  double pre_amber = 6, amber = 2, red = 1;
};
SupplyThresholds default_thresholds(Category c);

// The phase of `days` of supply; with no demand at all (days absent) Green.
Phase phase_of(std::optional<double> days, const SupplyThresholds& t);

// Days of supply = available / (consumed in the window / window days); absent
// when nothing was consumed in the window.
std::optional<double> days_of_supply(std::int64_t available, std::int64_t consumed,
                                     int window_days);

// The days whose demand (and reagent use) count toward days of supply (and of
// cover) at `now`: the `window_days` whole UTC days before now's day, as the
// half-open range [first, end). Today, still under way, does not count, so a
// figure does not swing with the hour at which it is read.
struct DayWindow {
  std::int64_t first = 0, end = 0;
  bool contains(std::int64_t day) const { return day >= first && day < end; }
};
DayWindow window_before(TimeMs now, int window_days);

// The operator's settings for supply figures and alerts, with DOMAIN.md's
// defaults. Loaded from a JSON file (docs/alerts.md):
//   {"window_days": 28, "recover_factor": 1.25,
//    "thresholds": {"red_cells": {"pre_amber": 6, "amber": 2, "red": 1}, ...},
//    "expiring_hours": {"red_cells": 72, "platelets": 24, ...},
//    "demand_memory_days": 90}
// Every key is optional; an unknown key or category is an error.
struct SupplyConfig {
  int window_days = 28;
  // How long a group's demand is remembered: a group with no stock that had
  // demand within this many days is Red (a stock-out), however long the
  // stock-out lasts. Never shorter than window_days.
  int demand_memory_days = 90;
  // Hysteresis: a phase gets better only once days of supply reach the
  // better phase's threshold times this factor, so that stock hovering at a
  // threshold does not raise and clear alerts in turn.
  double recover_factor = 1.25;
  std::map<Category, SupplyThresholds> thresholds;  // default_thresholds() where absent
  std::map<Category, int> expiring_hours;           // 72 h, platelets 24 h, where absent
  // The bedside alerts (projections/alerts.h): a unit issued to a hospital
  // whose fate is not recorded within fate_hours raises unknown_fate; a
  // transfusion reaction's alert stays open for reaction_review_days.
  int fate_hours = 24;
  int reaction_review_days = 7;

  SupplyThresholds thresholds_for(Category c) const;
  int expiring_hours_for(Category c) const;
};
[[nodiscard]] Result<SupplyConfig> parse_supply_config(std::string_view json_text);

// The phase after `current` given `days` of supply: worse at once, better
// only past the hysteresis margin.
Phase next_phase(Phase current, std::optional<double> days, const SupplyThresholds& t,
                 double recover_factor);

}  // namespace hemoledger
