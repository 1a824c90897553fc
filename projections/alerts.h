// Alerts: what a regional coordinator must be told, as a deterministic
// projection of the event stream.
//
//   AlertModel model(ref, config);
//   model.on_stock(key, change); model.on_demand(key, change);
//   model.on_index(entry, added); model.advance_clock(event_time);
//   for (const AlertChange& c : model.evaluate()) publish(c);
//
// The model keeps, in memory, only what alerts need: available units per
// facility, category and group; demand per day inside the trailing window;
// available units ordered by expiry; open lookback recalls. The engine feeds
// it the same deltas it commits, and evaluates once per committed batch.
//
// Memory (docs/alerts.md, "Memory"): by default the model holds every
// available unit it is told of. bound_units() makes it hold only the units
// that expire by window_end() (the clock plus the longest expiring-soon
// horizon plus kUnitWindowStep): on_index() ignores later ones, and before
// each batch the engine calls widen_units() with the batch's clock, which
// reads the units that enter the window from the committed state (the
// store's expiry index). Expiring-soon alerts look no further than the
// horizon, so a bounded model raises exactly the alerts an unbounded one
// does; `rebuild` replays with an unbounded one and compares.
//
// The clock is the events' own: the latest `at` or `recorded_at` of any
// applied event. Nothing here reads the wall clock, so replaying the journal
// with the same batch boundaries (the engine records them) yields the same
// alerts, in the same order, with the same ids.
//
// Kinds (docs/alerts.md):
//   supply_phase   per governorate, category and blood group: Pre-Amber (info),
//                  Amber (amber), Red (red) from days of supply, with
//                  hysteresis (SupplyConfig::recover_factor); cleared at Green.
//   expiring_soon  per facility, category and group: available units that
//                  expire within the category's horizon (amber), with a
//                  suggested transfer; cleared when none are left.
//   recall         per unit under an open lookback recall (amber), red once
//                  its deadline has passed; cleared when the unit is discarded,
//                  expires or is transfused.
//   reagent_cover  per laboratory and reagent in use: days of cover (usable
//                  quantity / average daily use over the window) under the
//                  catalogue's min_cover_days (amber; red under half of it or
//                  when none is left); cleared past the hysteresis margin.
//   reagent_expiring  per laboratory and lot with stock that expires within
//                  the catalogue's expiry_warning_days (amber).
//   deferred_donor_collected  per donation collected from a deferred donor,
//                  at the collecting bank (red); cleared once no component of
//                  it is left in stock.
//   typing_discrepancy  per donation whose typings disagree (with each other
//                  or the label), at the collecting bank (red); cleared by
//                  TypingResolved.
//   positive_after_release  per donation and holding facility: units that
//                  were released before a marker blocked the donation for
//                  good, listed (red); cleared once none is held.
//   recipient_notification  per recalled unit that was transfused, at the
//                  facility that transfused it, with the patient and the
//                  deadline (amber, red once overdue); cleared by
//                  RecipientNotified.
//   The bedside ('b' index), each per unit, to the holder and the issuing bank:
//   unknown_fate   issued to a hospital, no fate (transfused, returned,
//                  discarded) after SupplyConfig::fate_hours (amber).
//   emergency_release  issued without the patient's group (red) until the group
//                  is recorded; an incompatible group escalates it to the
//                  ministry until a reaction report (or a return) closes it.
//   rhd_exception  RhD-positive red cells or platelets for an RhD-negative
//                  patient, approved (amber), while the unit is issued.
//   transfusion_reaction  per report, to the issuing bank and the ministry:
//                  amber, red when severe, life-threatening or fatal; open for
//                  SupplyConfig::reaction_review_days.
//   haemovigilance_hold  a component held after its sibling's suspected TRALI
//                  or transmission (red), until it is discarded or expires.
//
// Follow-up (docs/alerts.md, "Follow-up"): the events AlertAcknowledged,
// AlertEscalated and AlertClosed (keyed "alerts") are applied with
// follow_up(), which records what they say on the open alert and emits a
// change (acknowledged, referred, closed) at the next evaluate(). A closed
// alert stays out of sight but keeps its key until its condition clears, so
// that a condition that still holds is not raised again at once.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "events/reference_data.h"
#include "projections/demand.h"
#include "projections/indexes.h"
#include "projections/reagents.h"
#include "projections/stock.h"
#include "projections/supply.h"

namespace hemoledger {

enum class AlertKind : std::uint8_t {
  supply_phase = 1,
  expiring_soon = 2,
  recall = 3,
  reagent_cover = 4,
  reagent_expiring = 5,
  deferred_donor_collected = 6,
  typing_discrepancy = 7,
  positive_after_release = 8,
  recipient_notification = 9,
  unknown_fate = 10,
  emergency_release = 11,
  rhd_exception = 12,
  transfusion_reaction = 13,
  haemovigilance_hold = 14,
};
enum class Severity : std::uint8_t { info = 1, amber = 2, red = 3 };
std::string_view to_string(AlertKind k);
std::string_view to_string(Severity s);
bool parse_alert_kind(std::string_view text, AlertKind& out);
bool parse_severity(std::string_view text, Severity& out);

// What people and the escalation clock did about an alert: facts of the
// follow-up events, never of the routing file.
struct AlertFollowUp {
  TimeMs acknowledged_at = 0;  // 0: not acknowledged
  std::string acknowledged_by, acknowledged_sector;
  std::vector<std::string> escalated_to;  // sectors it was passed to, in order
  TimeMs escalated_at = 0;                // the last escalation
  TimeMs closed_at = 0;                   // 0: not closed by a person
  std::string closed_by, closed_sector, close_note;

  bool operator==(const AlertFollowUp&) const = default;
};

struct Alert {
  std::string id;   // "AL-<seq>", stable for the alert's life
  std::string key;  // dedup key: at most one open alert per key
  AlertKind kind = AlertKind::supply_phase;
  Severity severity = Severity::info;
  std::string governorate, facility;  // facility empty for governorate-wide alerts
  Category category = Category::unknown;
  AboRh group = AboRh::unknown;
  std::string din, product;         // recalls only
  std::string reagent, lot;         // reagent alerts only (lot: reagent_expiring)
  std::vector<std::string> notify;  // other facilities told (the issuing bank), in order
  bool ministry = false;            // the Ministry of Health is told (haemovigilance)
  nlohmann::json figures = nlohmann::json::object();     // what triggered it, latest values
  std::string message;                                   // one English sentence
  TimeMs raised_at = 0, updated_at = 0, cleared_at = 0;  // cleared_at 0: open
  TimeMs severity_at = 0;                                // when it reached its current severity
  AlertFollowUp follow_up;

  bool open() const { return cleared_at == 0 && follow_up.closed_at == 0; }
  bool operator==(const Alert&) const = default;
};

// One step in an alert's life, as published (Kafka alerts topic, webhooks).
struct AlertChange {
  std::uint64_t seq = 0;  // global order of changes, from 1
  // raised | escalated | eased | cleared (by the model; escalated also when
  // an alert of the same severity is taken to the ministry); acknowledged |
  // referred (passed to the next sector up) | closed (by follow-up events)
  std::string action;
  Alert alert;  // as it is after the change
  bool operator==(const AlertChange&) const = default;
};

// JSON forms (docs/alerts.md). `ref` adds the English and Arabic names.
nlohmann::json alert_json(const Alert& a, const ReferenceData& ref);
nlohmann::json change_json(const AlertChange& c, const ReferenceData& ref);
[[nodiscard]] Result<Alert> alert_from_json(const nlohmann::json& j);

// The available units whose expiry lies in (after, upto], read from the
// committed state (Store::available_expiring in the engine).
using AvailableUnitsSource =
    std::function<Result<std::vector<AvailableUnit>>(TimeMs after, TimeMs upto)>;

// How far past the expiring-soon horizon a bounded model reads ahead, so
// that it reads the committed state about once per day of event time rather
// than at every batch. Costs the units expiring in one more day.
inline constexpr TimeMs kUnitWindowStep = kDay;

class AlertModel {
 public:
  AlertModel(const ReferenceData& ref, SupplyConfig config);

  // Inputs.
  void on_stock(const StockKey& key, std::int64_t change);
  void on_demand(const DemandKey& key, std::int64_t change);
  void on_index(const IndexEntry& entry, bool added);  // 'a', 'k' and 'q'; others ignored
  void set_reagent_lot(const ReagentLot& lot);         // the lot as it now is
  void on_reagent_usage(const ReagentUsageKey& key, std::int64_t change);
  // Moves the event clock forward (never back). A bounded model's window
  // must already reach t plus the horizon (widen_units(t, ...) first).
  void advance_clock(TimeMs t);
  // Bounds the units held to those expiring by clock() + horizon +
  // kUnitWindowStep: forgets the later ones and reads the window's units
  // from `committed` (every one, so a start needs no scan of the index).
  // On error nothing changes.
  [[nodiscard]] Status bound_units(const AvailableUnitsSource& committed);
  // Before the inputs of a batch whose clock will be `clock`: if the window
  // no longer covers clock + horizon, reads the units that enter it from
  // `committed` (the state before the batch, to which the batch's on_index
  // changes then apply) and moves window_end(). A no-op for an unbounded
  // model. On error nothing changes.
  [[nodiscard]] Status widen_units(TimeMs clock, const AvailableUnitsSource& committed);
  // An AlertAcknowledged, AlertEscalated or AlertClosed event: recorded on
  // the open alert it names, with a change at the next evaluate(). Refused
  // (nothing changes) with unknown_alert, alert_closed,
  // already_acknowledged or already_escalated.
  [[nodiscard]] Status follow_up(const Event& e);

  // Compares the inputs with the open alerts at the current clock and returns
  // the changes, already applied to open().
  std::vector<AlertChange> evaluate();

  // Persisted state: restore() before feeding inputs when resuming.
  void restore(std::map<std::string, Alert> open, std::uint64_t seq, TimeMs clock);
  const std::map<std::string, Alert>& open() const { return open_; }
  // Keys whose open alert the last evaluate() raised, changed (figures too)
  // or cleared: what the engine must write.
  const std::set<std::string>& dirty() const { return dirty_; }
  // Available units it holds for expiring-soon alerts: those on the shelves,
  // or with bound_units() only those expiring by window_end().
  std::size_t units_held() const { return available_units_.size(); }
  // The latest expiry of the units held (bounded), or the largest TimeMs.
  TimeMs window_end() const { return window_end_; }
  // The longest expiring-soon horizon of any category, in ms.
  TimeMs expiring_horizon() const;
  std::uint64_t seq() const { return seq_; }
  TimeMs clock() const { return clock_; }
  // The first day whose demand the model still needs, for loading it.
  std::int64_t first_needed_day() const;
  const SupplyConfig& config() const { return config_; }

 private:
  using Cell = std::tuple<std::string, Category, AboRh>;  // facility, category, group
  void change(std::vector<AlertChange>& out, const std::string& key, std::optional<Alert> wanted);
  std::string governorate_of(const std::string& facility) const;
  // evaluate(), one alert kind each: adds the alerts that hold now to `wanted`
  // (by key; a key left at nullopt is cleared).
  using Wanted = std::map<std::string, std::optional<Alert>>;
  void want_supply_phases(const SupplyPicture& supply, Wanted& wanted) const;
  void want_expiring_soon(const SupplyPicture& supply, Wanted& wanted) const;
  void want_recalls(Wanted& wanted) const;
  void want_reagent_expiring(Wanted& wanted) const;
  void want_reagent_cover(Wanted& wanted) const;
  void want_deferred_donors(Wanted& wanted) const;
  void want_typing_discrepancies(Wanted& wanted) const;
  void want_positive_after_release(Wanted& wanted) const;
  void want_recipient_notifications(Wanted& wanted) const;
  // The 'q' entries whose key starts with `what` + "|".
  std::vector<Attention> attention(std::string_view what) const;
  void want_bedside(Wanted& wanted) const;
  Alert bedside_alert(const Watch& w, AlertKind kind) const;
  void hold(AvailableUnit u);  // an available unit inside the window

  const ReferenceData& ref_;
  SupplyConfig config_;
  std::map<StockKey, std::int64_t> available_;  // status available only
  std::map<DemandKey, std::int64_t> demand_;    // by day first: old days go from the front
  std::set<std::tuple<TimeMs, std::string, std::string>> expiring_order_;  // expires, din, product
  std::map<std::pair<std::string, std::string>, AvailableUnit> available_units_;
  std::map<std::pair<std::string, std::string>, OpenRecall> recalls_;
  std::map<std::string, Watch> watches_;          // 'b' entries by key
  std::map<std::string, std::string> attention_;  // 'q' entries, key -> JSON
  std::map<std::string, ReagentLot> lots_;        // by reagent_lot_key(), only lots with stock
  std::map<ReagentUsageKey, std::int64_t> reagent_usage_;  // by day first
  std::map<std::string, Alert> open_;                      // by key
  std::set<std::string> dirty_;
  std::vector<AlertChange> follow_ups_;  // since the last evaluate(), seq not yet given
  std::set<std::string> follow_up_keys_;
  std::uint64_t seq_ = 0;
  TimeMs clock_ = 0;
  TimeMs window_end_ = std::numeric_limits<TimeMs>::max();  // units held: expiring by it
};

}  // namespace hemoledger
