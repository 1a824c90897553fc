// Donation: the projected state of one donation and every component made from
// it, with the history of both. This is the aggregate the projector folds
// events into: every event names exactly one DIN, so applying an event reads
// and writes exactly one Donation, and all of a Donation's events arrive in
// one Kafka partition, in order.
//
// Values only; serialization (cereal portable binary, versioned) is declared
// here and used by the engine's store. Not thread-safe to share mutably.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "events/blood_group.h"
#include "events/event.h"
#include "events/reference_data.h"

namespace hemoledger {

// Numeric values are serialized: never renumber.
enum class UnitStatus : std::uint8_t {
  quarantined = 1,
  available = 2,
  reserved = 3,
  in_transit = 4,
  issued = 5,
  transfused = 6,
  discarded = 7,
  expired = 8,
};

std::string_view to_string(UnitStatus s);
bool parse_unit_status(std::string_view text, UnitStatus& out);
// Transfused, discarded and expired units never change again.
bool is_final(UnitStatus s);
// The statuses counted in stock: quarantined, available, reserved, in transit, issued.
bool in_stock(UnitStatus s);
inline constexpr UnitStatus kStockStatuses[] = {UnitStatus::quarantined, UnitStatus::available,
                                                UnitStatus::reserved, UnitStatus::in_transit,
                                                UnitStatus::issued};

struct UnitState {
  std::string product;  // 8-character product code
  Category category = Category::unknown;
  UnitStatus status = UnitStatus::quarantined;
  std::string holder;       // facility that holds the unit (origin while in transit)
  std::string destination;  // set while in transit
  TimeMs produced_at = 0;
  TimeMs expires_at = 0;
  TimeMs issued_at = 0;  // last issue, for the out-of-storage rule on return
  std::int32_t volume_ml = 0;
  AboRh reserved_for = AboRh::unknown;  // patient group of a reservation
  // Never releasable again: a repeatedly reactive or confirmed-positive
  // marker, a collection from a deferred donor, or a lookback recall.
  bool tti_blocked = false;
  bool released = false;  // released at least once (for "positive after release")

  // The bedside (events of schema version 4; donation format 4).
  // The facility that issued the unit while a hospital holds it, kept after
  // the hospital records its fate; cleared when the unit is returned.
  std::string issued_by;
  std::string patient;                   // pseudonymous id: reserved or issued for
  AboRh patient_group = AboRh::unknown;  // at issue, or recorded later (PatientTyped)
  bool emergency = false;                // issued before the patient's group was known
  bool group_incompatible = false;       // the group recorded later does not match the unit
  bool rhd_exception = false;            // RhD-positive for an RhD-negative patient, approved
  bool reaction_reported = false;        // a TransfusionReaction names this unit
  TimeMs thawed_at = 0;                  // 0: frozen, or not a frozen component
  // Held after a suspected TRALI or transmission from a sibling component:
  // never releasable again, like tti_blocked, but for a different reason.
  bool hv_hold = false;

  bool operator==(const UnitState&) const = default;
};

// One result, as the laboratory sent it. Results are kept, never overwritten.
struct TestRecord {
  std::string test;    // test code
  std::string result;  // as sent
  TimeMs at = 0;
  std::string event_id;
  TestMethod method = TestMethod::unspecified;  // as sent
  std::string facility;                         // the laboratory

  bool operator==(const TestRecord&) const = default;
};

// What the whole history of a screen says of the donation (projections/markers.h).
// Numeric values are serialized: never renumber.
enum class MarkerStatus : std::uint8_t {
  not_tested = 0,
  non_reactive = 1,
  initially_reactive = 2,   // reactive or grey-zone; waiting for the repeats
  repeatedly_reactive = 3,  // a repeat was reactive too: blocked for good
  confirmed_positive = 4,   // the confirmatory test was positive: blocked, donor deferred
  not_confirmed = 5,        // repeatedly reactive, confirmatory negative: still blocked
};
std::string_view to_string(MarkerStatus s);

struct MarkerState {
  std::string test;  // the screen's code
  MarkerStatus status = MarkerStatus::not_tested;
  TimeMs since = 0;  // when it reached this status

  bool operator==(const MarkerState&) const = default;
};

struct HistoryEntry {
  std::string event_id;
  EventType type = EventType::donation_collected;
  TimeMs at = 0;
  std::string facility;
  std::string product;  // empty for events about the whole donation
  std::string detail;   // e.g. "hiv: negative", "to GZA-BB", a discard reason

  bool operator==(const HistoryEntry&) const = default;
};

// A lookback recall of one unit (DOMAIN.md "Lookback"): a positive screen of
// the same donor's later donation. Open until the unit reaches a final status
// (discarded, expired, or transfused before it could be retrieved); overdue
// once the event clock passes the deadline while it is open.
struct Recall {
  std::string product;
  std::string test;         // the positive screen
  std::string event_id;     // the UnitRecalled event
  TimeMs at = 0;            // when the positive result was recorded
  TimeMs deadline = 0;      // at + the test's lookback_hours
  std::string status_then;  // the unit's status when the recall arrived
  bool open = false;
  // A recall of a unit already transfused (or transfused despite the recall,
  // with an approver's override): the recipient must be traced and notified
  // by notify_deadline by the facility that transfused it. Open until
  // RecipientNotified.
  bool notify_open = false;
  TimeMs notify_deadline = 0;
  std::string transfused_by;  // the facility that transfused the unit
  std::string patient;        // the recipient's pseudonym, when the transfusion names one
  TimeMs notified_at = 0;

  bool operator==(const Recall&) const = default;
};

// A transfusion reaction report (TransfusionReaction), kept with the donation
// so that the unit's history shows it and the donation's other components can
// be held.
struct Reaction {
  std::string product;
  std::string event_id;
  std::string reported_by;  // the hospital (or ward) that reported it
  std::string issued_by;    // the blood bank that issued the unit
  std::string patient;      // pseudonymous
  TimeMs at = 0;            // when it was reported
  TimeMs onset_at = 0;
  ReactionCategory category = ReactionCategory::none;
  ReactionSeverity severity = ReactionSeverity::none;
  Imputability imputability = Imputability::none;
  std::vector<std::string> held;  // sibling products it quarantined

  bool operator==(const Reaction&) const = default;
};

struct Donation {
  std::string din;
  std::string donor;     // pseudonymous id
  std::string facility;  // where it was collected
  TimeMs collected_at = 0;
  std::int32_t volume_ml = 0;
  AboRh declared = AboRh::unknown;  // group given at collection (the label)
  Abo typed_abo = Abo::unknown;
  RhD typed_rhd = RhD::unknown;
  // A marker blocks every component for good (repeatedly reactive, not
  // confirmed or confirmed positive).
  bool tti_positive = false;
  std::vector<TestRecord> tests;     // every result, in the order they came
  std::vector<MarkerState> markers;  // each screen with results, by first result
  // Typing: a typing that disagrees with an earlier one or with the label
  // holds every component until TypingResolved. typed_abo and typed_rhd keep
  // the first typing meanwhile.
  bool typing_discrepancy = false;
  std::string discrepancy;  // "labelled A+, typed B+", for people
  // Collected from a deferred donor (DeferredDonorCollected): blocked for good.
  std::string deferred_reason;
  TimeMs deferred_until = 0;     // 0: permanent
  std::vector<UnitState> units;  // components, in production order
  std::vector<HistoryEntry> history;
  std::vector<Recall> recalls;      // at most one per unit
  std::vector<Reaction> reactions;  // in the order reported

  // The group counted in stock: typed when both ABO and RhD are typed,
  // otherwise the declared group, otherwise unknown; the declared group while
  // a typing discrepancy is open.
  AboRh group() const;
  const UnitState* unit(std::string_view product) const;
  UnitState* unit(std::string_view product);
  // The latest result of a test (the whole history is `tests`).
  const TestRecord* test(std::string_view code) const;
  const MarkerState* marker(std::string_view code) const;
  const Recall* recall(std::string_view product) const;
  Recall* recall(std::string_view product);

  bool operator==(const Donation&) const = default;
};

// cereal portable binary with a leading format version; decode never throws.
std::string encode_donation(const Donation& d);
[[nodiscard]] Result<Donation> decode_donation(std::string_view bytes);

}  // namespace hemoledger
