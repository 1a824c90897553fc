// Event: one immutable fact in a blood unit's life, and the one table that says
// which fields each kind of event carries.
//
// Every event concerns exactly one donation (its 13-character ISBT 128 DIN);
// events about a component also name its 8-character product code, and a unit
// is identified by DIN + product. The Kafka message key is the DIN, so all of a
// donation's events stay in one partition, in order.
//
// Events are plain values. `validate_shape` checks what can be checked without
// state (required fields present, formats right); the safety rules that need
// the unit's history live in projections/projector.h. Encodings: binary_codec.h
// (the engine's own) and json_codec.h (for any Kafka client), documented in
// docs/events.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "events/blood_group.h"
#include "events/haemovigilance.h"
#include "events/result.h"
#include "events/time.h"

namespace hemoledger {

// Written into every encoded event. Version 1 is the first; a reader accepts
// every version up to its own and treats fields that came later as absent.
// 2 adds reagent, lot, quantity; 3 adds method, until, sex and approver and
// the donor and laboratory event types (DonorDeferred to RecipientNotified);
// 4 adds the bedside (patient, emergency, the reaction fields, to on issues
// and returns, approver on issues) and the event types from UnitThawed on.
// The projector holds an event to the rules of the version it was written in
// (projections/projector.h), so an old journal replays unchanged.
inline constexpr std::uint16_t kSchemaVersion = 4;

// Numeric values are serialized: never renumber, only append.
enum class EventType : std::uint8_t {
  donation_collected = 1,
  component_produced = 2,
  test_resulted = 3,
  unit_released = 4,
  unit_quarantined = 5,
  transfer_dispatched = 6,
  transfer_received = 7,
  unit_reserved = 8,
  reservation_released = 9,
  unit_issued = 10,
  unit_returned = 11,
  unit_transfused = 12,
  unit_discarded = 13,
  unit_expired = 14,
  unit_recalled = 15,
  // Laboratory reagent and test-kit lots (projections/reagents.h).
  reagent_received = 16,
  reagent_consumed = 17,
  reagent_transferred = 18,
  reagent_discarded = 19,
  reagent_expired = 20,
  // The engine's clock: time passing with no other event (engine/ledger/expiry_ticker.h).
  clock_ticked = 21,
  // Donors and laboratory truth (schema version 3; docs/events.md).
  donor_deferred = 22,            // keyed "donor:<donor>": a deferral with a reason code
  deferred_donor_collected = 23,  // the engine found a collection from a deferred donor
  typing_resolved = 24,           // a typing discrepancy settled by the laboratory
  recipient_notified = 25,        // a lookback's recipient-notification task done
  // Schema version 4: the bedside.
  unit_thawed = 26,           // frozen plasma or cryo thawed: a short thawed expiry
  patient_typed = 27,         // the patient's group recorded for a unit already issued
  transfusion_reaction = 28,  // haemovigilance: a reaction reported by the holder hospital
};
inline constexpr int kEventTypeCount = 28;
// The first event type of schema versions 3 and 4.
inline constexpr EventType kFirstVersion3Type = EventType::donor_deferred;
inline constexpr EventType kFirstVersion4Type = EventType::unit_thawed;

// Whether events of type t concern a reagent lot (keyed by reagent_key())
// rather than a donation (keyed by its DIN).
bool is_reagent_event(EventType t);

// "DonationCollected", ... as in JSON.
std::string_view to_string(EventType t);
std::optional<EventType> parse_event_type(std::string_view name);

// The payload fields an event may carry besides its envelope.
enum class Field : std::uint32_t {
  din = 1 << 0,
  product = 1 << 1,
  donor = 1 << 2,
  abo_rh = 1 << 3,
  expires_at = 1 << 4,
  volume_ml = 1 << 5,
  to = 1 << 6,
  test = 1 << 7,
  result = 1 << 8,
  reason = 1 << 9,
  patient_abo_rh = 1 << 10,
  reagent = 1 << 11,       // schema version 2
  lot = 1 << 12,           // schema version 2
  quantity = 1 << 13,      // schema version 2
  patient = 1 << 14,       // schema version 4 (1 << 14 to 1 << 19: the bedside)
  emergency = 1 << 15,     // schema version 4
  reaction = 1 << 16,      // schema version 4
  severity = 1 << 17,      // schema version 4
  imputability = 1 << 18,  // schema version 4
  onset_at = 1 << 19,      // schema version 4
  method = 1 << 24,        // schema version 3
  until = 1 << 25,         // schema version 3
  sex = 1 << 26,           // schema version 3
  approver = 1 << 27,      // schema version 3
};
std::string_view to_string(Field f);  // the JSON name
// Whether events of type t must carry f, and whether they may.
bool field_required(EventType t, Field f);
bool field_allowed(EventType t, Field f);

// How a result was obtained (TestResulted.method; docs/events.md): the first
// screening assay, one of its duplicate repeats, a confirmatory assay or a
// nucleic acid test. Unspecified: the projector reads it from the order of
// the results (projections/markers.h). Numeric values are serialized.
enum class TestMethod : std::uint8_t {
  unspecified = 0,
  screen = 1,
  repeat = 2,
  confirmatory = 3,
  nat = 4,
};
std::string_view to_string(TestMethod m);  // "screen", ...; "" for unspecified
std::optional<TestMethod> parse_test_method(std::string_view text);

// The donor's sex as the donor-management system gives it, for the minimum
// interval between donations (data/donor_intervals.csv). Serialized.
enum class DonorSex : std::uint8_t { unknown = 0, male = 1, female = 2 };
std::string_view to_string(DonorSex s);  // "male", "female"; "" for unknown
std::optional<DonorSex> parse_donor_sex(std::string_view text);

struct Event {
  // Envelope.
  std::string id;  // unique, 1-128 printable ASCII; a repeated id is ignored
  EventType type = EventType::donation_collected;
  std::uint16_t schema_version = kSchemaVersion;
  TimeMs at = 0;           // when it happened (UTC)
  TimeMs recorded_at = 0;  // when it entered Kafka; 0 until the engine stamps it
  std::string facility;    // reporting facility code (data/facilities.csv)
  std::string actor;       // who did it (user or system id), optional
  std::string station;     // which bench or device, optional

  // Payload; which fields apply is given by field_allowed().
  std::string din;      // 13 characters, no flags
  std::string product;  // 8 characters: description code, collection type, division
  std::string donor;    // pseudonymous donor id, never a name
  AboRh abo_rh = AboRh::unknown;
  TimeMs expires_at = 0;  // 0 = absent
  std::int32_t volume_ml = 0;
  // Destination facility: of a transfer; of an issue, the hospital (or ward)
  // that receives custody; of a return, the blood bank that takes it back.
  std::string to;
  std::string test;    // test code (data/tests.csv)
  std::string result;  // test result as sent
  std::string reason;  // discard reason code, or a quarantine note
  AboRh patient_abo_rh = AboRh::unknown;
  std::string reagent;        // reagent or test-kit code (data/reagents.csv)
  std::string lot;            // the manufacturer's lot number
  std::int32_t quantity = 0;  // tests (or units of use) received, consumed, moved, discarded
  TestMethod method = TestMethod::unspecified;  // schema version 3: how a result was obtained
  TimeMs until = 0;                             // schema version 3: end of a temporary deferral
  DonorSex sex = DonorSex::unknown;             // schema version 3: the donor's, at collection
  // Schema version 3: who approved an override: the transfusion of a recalled
  // unit, and (version 4) an emergency release or an approved RhD exception.
  std::string approver;
  // Schema version 4.
  std::string patient;     // pseudonymous patient id (the rules of donor ids), never a name
  bool emergency = false;  // an issue released before the patient's group is known
  ReactionCategory reaction = ReactionCategory::none;  // TransfusionReaction
  ReactionSeverity severity = ReactionSeverity::none;
  Imputability imputability = Imputability::none;
  TimeMs onset_at = 0;  // when the reaction began; 0 = absent

  bool operator==(const Event&) const = default;
};

// Checks fields against the per-type table and their formats. Does not know
// facilities, products or tests: the projector checks those against reference
// data. Times (at, and expires_at and recorded_at when set) must lie in
// [kEarliestPlausibleTime, kLatestPlausibleTime), else "implausible_time":
// no blood bank record predates ISBT 128 and none is dated two centuries
// ahead, and both codecs can write every instant in that range.
[[nodiscard]] Status validate_shape(const Event& e);

// Codes of validate_shape() that callers steer by (a connector reports them
// as its sender's data error, connectors/sender_text.h): free text that is not
// UTF-8, and actor, station, test, result or reason over its length limit.
inline constexpr char kInvalidText[] = "invalid_text";
inline constexpr char kFieldTooLong[] = "field_too_long";

inline constexpr TimeMs kEarliestPlausibleTime = 631'152'000'000;  // 1990-01-01T00:00:00Z
inline constexpr TimeMs kLatestPlausibleTime = 7'258'118'400'000;  // 2200-01-01T00:00:00Z

// How far `at` may lie after the moment the event entered Kafka.
inline constexpr TimeMs kMaxFutureSkew = 24 * kHour;

// An event that claims to have happened more than kMaxFutureSkew after
// `recorded_at` (the Kafka record timestamp, which is journaled, so replay
// gives the same answer) is refused with "from_the_future": a clock that is
// wrong by a day or more would otherwise date releases and expiries ahead.
// Pure: the caller passes the timestamp, nothing here reads a clock. Also
// refuses a recorded_at outside the plausible range (implausible_time); the
// engine calls it where it stamps recorded_at, before the projector.
[[nodiscard]] Status check_plausible_time(const Event& e, TimeMs recorded_at);

// The UnitExpired event for a unit, whoever emits it. Its id and time depend
// only on the unit ("expiry-<din>-<product>", at = expires_at), so an expiry
// emitted twice (after a restart, or by two emitters) is applied once, and a
// replay reproduces it exactly.
Event expiry_event(const std::string& din, const std::string& product, const std::string& holder,
                   TimeMs expires_at);

// The UnitRecalled event of a lookback: a positive `test` of donation
// `trigger_din` (at `at`) recalls unit din/product of the same donor's earlier
// donation. Its id depends only on the unit ("recall-<din>-<product>"), so a
// unit is recalled once however many positives or restarts ask for it.
Event recall_event(const std::string& din, const std::string& product, const std::string& facility,
                   const std::string& test, const std::string& trigger_din, TimeMs at);

// The DeferredDonorCollected event for donation `din` of `donor`, collected at
// `facility` at `at` while the donor was deferred for `reason` (until `until`,
// 0: permanently). Its id depends only on the DIN ("deferred-<din>"): found
// twice, applied once.
Event deferred_collection_event(const std::string& din, const std::string& donor,
                                const std::string& facility, const std::string& reason,
                                TimeMs until, TimeMs at);

// Whether events of type t concern a donor rather than a donation (DonorDeferred).
bool is_donor_event(EventType t);

// The Kafka message key of an event: the DIN for donation events,
// "reagent:<reagent>:<lot>" for reagent events, so that every event of one
// donation, or of one reagent lot, stays in one partition, in order; "clock"
// for ClockTicked; "donor:<donor>" for DonorDeferred.
std::string event_key(const Event& e);

// The engine's ClockTicked event for the second that contains `now`: id
// "tick-<unix seconds>", at = the start of that second, facility "hemoledger".
// A tick changes no unit; it moves the alerts' event clock in quiet periods
// (expiring units, overdue recalls) through Kafka, so a replay sees it too.
// Its id depends only on the second: produced twice, applied once.
Event clock_tick_event(TimeMs now);

// Format checks shared by codecs, the projector and connectors.
bool is_din(std::string_view s);  // αppppyynnnnnn
// A donor or patient id that cannot be a person's name: 1-64 of A-Z a-z 0-9
// - _ . : /, at least one digit. Donor and patient identity never enter the
// event stream.
bool is_pseudonymous_id(std::string_view s);
bool is_product_code(std::string_view s);  // αooootds
bool is_discard_reason(std::string_view s);
std::string_view discard_reasons_text();  // "expired, tti_positive, ..." for messages
// Deferral reason codes of DonorDeferred (and of the deferrals the engine
// derives: confirmed_positive, repeatedly_reactive, donation_interval).
bool is_deferral_reason(std::string_view s);
std::string_view deferral_reasons_text();

}  // namespace hemoledger
