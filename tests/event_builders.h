// Builders for events in tests: one valid event of each kind, with the
// shipped reference data's codes, so that a test states only what matters to it.
//
// Every builder returns an event that passes validate_shape(); ids are unique
// within the test binary. Times are offsets from kT0, a fixed instant: tests
// never read the clock.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "events/event.h"
#include "events/time.h"

namespace hemoledger::testing {

// A valid 13-character DIN (facility G1234, year 26, sequence 000017) and a second one.
inline const std::string kDin = "G123426000017";
inline const std::string kOtherDin = "G123426000018";

// Product codes from data/products.csv (description code + collection type + division).
inline const std::string kRedCells = "E0336V00";    // red_cells, 42 days
inline const std::string kPlasma = "E2555V00";      // plasma, 365 days
inline const std::string kPlatelets = "E3045V00";   // platelets, 5 days
inline const std::string kWholeBlood = "E0001V00";  // whole_blood, 35 days
inline const std::string kCryo = "E3586V00";        // cryo, 365 days

// Facilities from data/facilities.csv.
inline const std::string kBank = "NBS-BB";  // Nablus blood bank
inline const std::string kLab = "NBS-LAB";
inline const std::string kHospital = "NBS-HOS";
inline const std::string kWard = "NBS-HOS-ER";  // a ward of NBS-HOS
inline const std::string kGazaBank = "GZA-BB";
inline const std::string kGazaHospital = "GZA-HOS";

// A pseudonymous patient id (never a name) and a second one.
inline const std::string kPatient = "PAT-4411";
inline const std::string kOtherPatient = "PAT-9032";

// 2026-11-22T08:00:00Z, the collection time of most test donations.
inline const TimeMs kT0 = days_from_civil(2026, 11, 22) * kDay + 8 * kHour;

inline std::string next_event_id() {
  static std::atomic<int> n{0};
  return "test-ev-" + std::to_string(++n);
}

// An event of type t with its envelope filled and the DIN set.
inline Event make_event(EventType t, TimeMs at, const std::string& facility = kBank,
                        const std::string& din = kDin) {
  Event e;
  e.id = next_event_id();
  e.type = t;
  e.at = at;
  e.facility = facility;
  e.din = din;
  return e;
}

inline Event donation_collected(TimeMs at, AboRh label = AboRh::unknown,
                                const std::string& din = kDin) {
  Event e = make_event(EventType::donation_collected, at, kBank, din);
  e.donor = "donor-4711";
  e.abo_rh = label;
  e.volume_ml = 450;
  return e;
}

inline Event component_produced(const std::string& product, TimeMs at, TimeMs expires_at = 0,
                                const std::string& facility = kBank) {
  Event e = make_event(EventType::component_produced, at, facility);
  e.product = product;
  e.expires_at = expires_at;
  return e;
}

inline Event test_resulted(const std::string& test, const std::string& result, TimeMs at) {
  Event e = make_event(EventType::test_resulted, at, kLab);
  e.test = test;
  e.result = result;
  return e;
}

// A result with its method (screen, repeat, confirmatory, nat).
inline Event test_resulted(const std::string& test, const std::string& result, TimeMs at,
                           TestMethod method) {
  Event e = test_resulted(test, result, at);
  e.method = method;
  return e;
}

// A screen that is reactive, then reactive again on its first repeat:
// repeatedly reactive (data/tests.csv: 2 repeats), blocked for good.
inline std::vector<Event> repeatedly_reactive(const std::string& test, TimeMs at) {
  return {test_resulted(test, "positive", at, TestMethod::screen),
          test_resulted(test, "positive", at + kMinute, TestMethod::repeat)};
}

// An event about one unit that carries no payload besides DIN and product:
// UnitReleased, TransferReceived, ReservationReleased, UnitReturned,
// UnitTransfused, UnitExpired (and UnitQuarantined without a note).
inline Event unit_event(EventType t, const std::string& product, TimeMs at,
                        const std::string& facility = kBank) {
  Event e = make_event(t, at, facility);
  e.product = product;
  return e;
}

inline Event transfer_dispatched(const std::string& product, const std::string& to, TimeMs at,
                                 const std::string& facility = kBank) {
  Event e = unit_event(EventType::transfer_dispatched, product, at, facility);
  e.to = to;
  return e;
}

inline Event unit_reserved(const std::string& product, TimeMs at, AboRh patient = AboRh::unknown,
                           const std::string& facility = kBank) {
  Event e = unit_event(EventType::unit_reserved, product, at, facility);
  e.patient_abo_rh = patient;
  return e;
}

// An issue by `facility` to kHospital for kPatient, whose group is `patient`
// (unknown: none given, which only an emergency release may do).
inline Event unit_issued(const std::string& product, TimeMs at, AboRh patient = AboRh::unknown,
                         const std::string& facility = kBank) {
  Event e = unit_event(EventType::unit_issued, product, at, facility);
  e.patient_abo_rh = patient;
  e.patient = kPatient;
  e.to = kHospital;
  return e;
}

// An emergency release: issued to kHospital for kPatient with no group, a reason and the approver.
inline Event emergency_issued(const std::string& product, TimeMs at,
                              const std::string& facility = kBank) {
  Event e = unit_issued(product, at, AboRh::unknown, facility);
  e.emergency = true;
  e.reason = "massive haemorrhage, no time to group";
  e.approver = "Dr. Rania Haddad";
  return e;
}

// The transfusion recorded by the hospital that holds the unit.
inline Event unit_transfused(const std::string& product, TimeMs at,
                             const std::string& facility = kHospital) {
  Event e = unit_event(EventType::unit_transfused, product, at, facility);
  e.patient = kPatient;
  return e;
}

// A transfusion reaction reported by `facility` for kPatient, onset an hour before `at`.
inline Event transfusion_reaction(const std::string& product, TimeMs at, ReactionCategory reaction,
                                  ReactionSeverity severity = ReactionSeverity::severe,
                                  const std::string& facility = kHospital) {
  Event e = unit_event(EventType::transfusion_reaction, product, at, facility);
  e.patient = kPatient;
  e.onset_at = at - kHour;
  e.reaction = reaction;
  e.severity = severity;
  e.imputability = Imputability::probable;
  return e;
}

inline Event unit_discarded(const std::string& product, const std::string& reason, TimeMs at,
                            const std::string& facility = kBank) {
  Event e = unit_event(EventType::unit_discarded, product, at, facility);
  e.reason = reason;
  return e;
}

// An event of type t with every field that type allows, envelope included, so
// that a codec round trip exercises all of them. Text fields include UTF-8.
inline Event full_event(EventType t) {
  Event e = make_event(t, kT0 + 1234, kBank);
  e.recorded_at = kT0 + 5678;
  e.actor = "tech-سلمى";
  e.station = "bench 3";
  const auto allowed = [t](Field f) { return field_allowed(t, f); };
  if (!allowed(Field::din)) e.din.clear();
  if (allowed(Field::product)) e.product = kRedCells;
  if (allowed(Field::donor)) e.donor = "donor-4711";
  if (allowed(Field::abo_rh)) e.abo_rh = AboRh::ab_neg;
  if (allowed(Field::expires_at)) e.expires_at = kT0 + 42 * kDay + 7;
  if (allowed(Field::volume_ml)) e.volume_ml = 275;
  if (allowed(Field::to)) e.to = kGazaBank;
  if (allowed(Field::test)) e.test = "hiv";
  if (allowed(Field::result)) e.result = "negative";
  if (allowed(Field::reason)) {
    e.reason = t == EventType::unit_discarded ? "broken_bag" : "ملاحظة: held for review";
  }
  if (allowed(Field::patient_abo_rh)) e.patient_abo_rh = AboRh::b_pos;
  if (allowed(Field::reagent)) e.reagent = "anti-A";
  if (allowed(Field::lot)) e.lot = "LOT-2026-117";
  if (allowed(Field::quantity)) e.quantity = 480;
  if (allowed(Field::patient)) e.patient = kPatient;
  if (allowed(Field::approver)) e.approver = "د. رانيا حداد";
  if (allowed(Field::emergency)) e.emergency = true;
  if (allowed(Field::reaction)) e.reaction = ReactionCategory::trali;
  if (allowed(Field::severity)) e.severity = ReactionSeverity::life_threatening;
  if (allowed(Field::imputability)) e.imputability = Imputability::probable;
  if (allowed(Field::onset_at)) e.onset_at = kT0 + 1000;
  if (allowed(Field::to)) e.to = is_reagent_event(t) ? "GZA-LAB" : kGazaBank;
  if (allowed(Field::method)) e.method = TestMethod::repeat;
  if (allowed(Field::until)) e.until = kT0 + 90 * kDay + 11;
  if (allowed(Field::sex)) e.sex = DonorSex::female;
  if (allowed(Field::approver)) e.approver = "Dr. سلمى 4411";
  if (t == EventType::donor_deferred || t == EventType::deferred_donor_collected) {
    e.reason = "low_haemoglobin";
  }
  return e;
}

inline Event full_event(int type_number) { return full_event(static_cast<EventType>(type_number)); }

// `e` as an older schema `version` wrote it: without the fields that came later
// (version 2 added the reagent fields, version 3 the laboratory and donor
// ones, version 4 the bedside ones and a destination, reason or approver on
// issues and returns).
inline Event as_version(Event e, std::uint16_t version) {
  e.schema_version = version;
  if (version < 3) {
    e.method = TestMethod::unspecified;
    e.until = 0;
    e.sex = DonorSex::unknown;
    e.approver.clear();
  }
  if (version < 4) {
    e.patient.clear();
    if (e.type == EventType::unit_issued) e.approver.clear();
    e.emergency = false;
    e.reaction = ReactionCategory::none;
    e.severity = ReactionSeverity::none;
    e.imputability = Imputability::none;
    e.onset_at = 0;
    if (e.type == EventType::unit_issued || e.type == EventType::unit_returned) e.to.clear();
    if (e.type == EventType::unit_issued) e.reason.clear();
  }
  if (version < 2) {
    e.reagent.clear();
    e.lot.clear();
    e.quantity = 0;
  }
  return e;
}

}  // namespace hemoledger::testing
