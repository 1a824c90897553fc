// The projector: the blood-safety state machine, as one pure function.
//
//   Result<Applied> r = apply_event(ref, rules, before, event);
//   if (!r) reject(event, r.error());     // code + sentence, nothing changed
//   else    store(r->after, r->stock);    // the new Donation and stock deltas
//
// `before` is the Donation the event's DIN names, or null if none was
// collected. The function reads nothing else: no clock (times come from the
// event), no storage, no Kafka. Replaying the same events therefore always
// yields the same states and the same rejections.
//
// The rules (DOMAIN.md "Safety rules") and their rejection codes, each with a
// test in tests/projections/projector_test.cpp:
//   - the facility, destination, product and test must be in reference data
//     (unknown_facility, unknown_destination, unknown_product, unknown_test,
//     invalid_result);
//   - a DIN is collected once (duplicate_donation); other events need it
//     (unknown_donation) and cannot precede it (before_collection);
//   - a component never outlives its donation's limit: collection day plus the
//     product's shelf life (component_outlives_donation); once per product
//     (duplicate_component);
//   - components are quarantined from production; a release needs ABO and RhD
//     typed, every mandatory screen non-reactive and no screen initially
//     reactive (untested), no typing discrepancy (blood_group_mismatch), no
//     screen that blocks for good (tti_positive) and a donor who was not
//     deferred at collection (deferred_donor);
//   - results are kept as a history, never overwritten; a screen's status is
//     derived from all of its results (projections/markers.h): initially
//     reactive takes the components back into quarantine, repeatedly
//     reactive or confirmed positive takes every component of the DIN out of
//     stock for good; a confirmatory method belongs to a confirmatory test
//     only (invalid_method);
//   - a typing that disagrees with an earlier typing or the label holds every
//     component until TypingResolved (no_discrepancy when none is open);
//   - DeferredDonorCollected blocks every component for good
//     (donor_mismatch, already_flagged);
//   - only the holder acts on a unit (not_holder), only the destination
//     receives a transfer (not_destination), and only a unit in the right
//     status may move (unit_<status>, e.g. unit_quarantined, unit_issued);
//   - an expired unit cannot be released, reserved, issued, dispatched or
//     returned (unit_expired); UnitExpired is accepted only once it has
//     (not_yet_expired);
//   - a reservation or issue with a patient group must be compatible
//     (incompatible);
//   - red cells and whole blood out of storage for more than Rules::
//     max_out_of_storage cannot return to stock (out_of_storage_too_long);
//   - transfused, discarded and expired are final (unit_transfused, ...);
//   - a lookback recall (UnitRecalled, emitted by the engine when the donor's
//     later donation screens positive) needs a test with lookback hours
//     (not_a_lookback_test), comes once per unit (already_recalled), blocks the
//     unit for good and quarantines it if it is on the shelf; a recalled unit
//     is never released (recalled). The recall stays open, with its deadline,
//     until the unit is discarded, expires or is transfused; it may come from
//     any facility (the service's own lookback), unlike the holder's events.
//     A more urgent marker brings an open recall's deadline forward. A
//     recalled issued unit is transfused only with an approver (recalled);
//     a recall of a transfused unit, or such an override, opens a
//     recipient-notification task that RecipientNotified closes
//     (no_notification_task).
//
// The bedside (events of schema version 4; an older event is held to the
// rules of its version, so an old journal replays unchanged):
//   - each kind of facility records only what it does (facility_role;
//     events/facility_roles.h); a hospital acts for its wards;
//   - an issue names the hospital or ward that receives custody
//     (missing_destination, not_a_hospital) and the patient (missing_patient,
//     wrong_patient against a reservation); from then on the hospital holds
//     the unit and records its transfusion (patient checked: wrong_patient),
//     return (to a blood bank: not_a_blood_bank; the bank taking it back may
//     record it) or discard; the issuing bank is kept in issued_by;
//   - every issue checks the patient's group; none is refused
//     (missing_patient_group) unless it is an emergency release of group O red
//     cells or group AB plasma (emergency_group; group A too with
//     Rules::emergency_group_a_plasma) with reason and approver
//     (missing_approval; emergency_with_group when a group is given); RhD-
//     positive red cells, whole blood or platelets for an RhD-negative patient
//     need an approver and reason (else incompatible); platelets with
//     ABO-incompatible plasma are accepted with a warning;
//   - PatientTyped records the patient's group after the issue (not_issued),
//     flagging an incompatible unit rather than refusing the fact;
//   - UnitThawed sets the thawed expiry from the product catalogue (not_frozen,
//     already_thawed, thawed_expiry); frozen plasma or cryo out of the freezer
//     longer than Rules::max_out_of_storage never returns to frozen stock
//     (thawed_no_refreeze), and a thawed unit returns thawed;
//   - TransfusionReaction, by the holder hospital of a unit issued or
//     transfused (not_transfused, invalid_onset, wrong_patient), is kept with
//     the donation; a suspected TRALI, bacterial or viral transmission holds
//     every sibling that is not final (quarantined if on a shelf, never
//     released again: haemovigilance_hold).
#pragma once

#include <vector>

#include "events/event.h"
#include "events/reference_data.h"
#include "projections/demand.h"
#include "projections/stock.h"
#include "projections/unit_state.h"

namespace hemoledger {

struct Rules {
  // Red cells and whole blood returned later than this after issue are
  // discarded, not restocked; frozen plasma and cryo out of the freezer
  // longer than this never go back to frozen stock. Default: 30 minutes
  // (DOMAIN.md).
  TimeMs max_out_of_storage = 30 * kMinute;
  // Emergency release of group A plasma as well as AB (some protocols).
  // Default: AB only.
  bool emergency_group_a_plasma = false;
  // A lookback's recipient-notification task (a recalled unit that was
  // transfused) is due this long after it opens. Default: 12 weeks.
  TimeMs notify_recipient_within = 84 * kDay;
};

struct Applied {
  Donation after;
  std::vector<StockDelta> stock;    // what the event changed in stock
  std::vector<DemandDelta> demand;  // and in demand (projections/demand.h)
  // Accepted, but a technician should know: "<code>: <sentence>"
  // (plasma_incompatible_platelets).
  std::vector<std::string> warnings;
};

[[nodiscard]] Result<Applied> apply_event(const ReferenceData& ref, const Rules& rules,
                                          const Donation* before, const Event& e);

// The same rules for a caller that keeps each Donation and folds events into
// it (a replay of the journal, projections/partition_replay.h): `state` is the
// donation when `exists`, otherwise ignored, and on success holds the new
// state, exactly what apply_event's `after` would be. Cheaper because the
// history is moved, not copied. On a rejection `state` is unchanged.
struct Changes {
  std::vector<StockDelta> stock;
  std::vector<DemandDelta> demand;
  std::vector<std::string> warnings;
};
[[nodiscard]] Result<Changes> apply_event_in_place(const ReferenceData& ref, const Rules& rules,
                                                   Donation& state, bool exists, const Event& e);

// What a release of this donation's components still waits for ("ABO typing,
// hiv screen"); empty when nothing is missing. Shared with the API so that a
// technician sees the same list the rule uses.
std::string missing_for_release(const ReferenceData& ref, const Donation& d);

}  // namespace hemoledger
