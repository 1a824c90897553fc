#include "projections/projector.h"

#include "events/facility_roles.h"
#include "projections/compatibility.h"
#include "projections/markers.h"

namespace hemoledger {

namespace {

Error reject(std::string code, std::string message) {
  return make_error(std::move(code), std::move(message));
}

std::string unit_name(const Event& e) { return "Unit " + e.din + " " + e.product; }

// "unit_<status>", with a sentence saying why the action cannot happen.
Error wrong_status(const Event& e, const UnitState& u, std::string_view action) {
  std::string why;
  switch (u.status) {
    case UnitStatus::quarantined:
      why = u.tti_blocked ? " is quarantined after a positive screen" : " is quarantined";
      break;
    case UnitStatus::available:
      why = " is available, not in the state this needs";
      break;
    case UnitStatus::reserved:
      why = " is reserved for a patient";
      break;
    case UnitStatus::in_transit:
      why = " is in transit to " + u.destination;
      break;
    case UnitStatus::issued:
      why = " has been issued";
      break;
    case UnitStatus::transfused:
      why = " has been transfused";
      break;
    case UnitStatus::discarded:
      why = " has been discarded";
      break;
    case UnitStatus::expired:
      why = " has expired";
      break;
  }
  return reject("unit_" + std::string(to_string(u.status)),
                unit_name(e) + why + "; it cannot be " + std::string(action) + ".");
}

// The rules an event is held to are those of the schema version it was
// written in: a journal from before version 4 replays unchanged.
bool bedside_rules(const Event& e) { return e.schema_version >= 4; }

// Whether e's facility acts for the unit's holder: it is the holder, or (from
// schema version 4) the hospital whose ward holds it.
bool acts_for_holder(const ReferenceData& ref, const Event& e, const UnitState& u) {
  if (u.holder == e.facility) return true;
  const Facility* site = ref.site_of(u.holder);
  return bedside_rules(e) && site && site->code == e.facility;
}

Status require_holder(const ReferenceData& ref, const Event& e, const UnitState& u) {
  if (acts_for_holder(ref, e, u)) return {};
  if (!u.issued_by.empty() && u.issued_by == e.facility) {
    return reject("not_holder", unit_name(e) + " was issued to " + u.holder +
                                    ", which holds it now; only " + u.holder +
                                    " records what happens to it.");
  }
  return reject("not_holder",
                unit_name(e) + " is held by " + u.holder + ", not " + e.facility + ".");
}

Status require_in_date(const Event& e, const UnitState& u, std::string_view action) {
  if (e.at >= u.expires_at) {
    return reject("unit_expired", unit_name(e) + " expired at " + format_rfc3339(u.expires_at) +
                                      "; it cannot be " + std::string(action) + ".");
  }
  return {};
}

Status require_status(const Event& e, const UnitState& u, std::initializer_list<UnitStatus> ok,
                      std::string_view action) {
  for (UnitStatus s : ok) {
    if (u.status == s) return {};
  }
  return wrong_status(e, u, action);
}

Status check_patient(const Donation& d, const UnitState& u, AboRh patient) {
  if (patient == AboRh::unknown) return {};
  return check_compatible(u.category, d.group(), patient);
}

// The pseudonymous patient on an event must be the one the unit is for.
Status require_patient(const Event& e, const UnitState& u, std::string_view action) {
  if (e.patient.empty() || u.patient.empty() || e.patient == u.patient) return {};
  return reject("wrong_patient", unit_name(e) + " is for patient " + u.patient + ", not " +
                                     e.patient + "; it must not be " + std::string(action) +
                                     ". Check the patient's identity.");
}

// Takes every component on the shelf or reserved back into quarantine; with
// `for_good`, no component of the donation may ever be released again.
void hold_units(Donation& d, bool for_good) {
  for (auto& u : d.units) {
    if (for_good) u.tti_blocked = true;
    if (u.status == UnitStatus::available || u.status == UnitStatus::reserved) {
      u.status = UnitStatus::quarantined;
      u.reserved_for = AboRh::unknown;
    }
  }
}

std::string rhd_text(RhD r) {
  return r == RhD::positive ? "pos" : r == RhD::negative ? "neg" : "?";
}

// A typing (ABO, RhD, or both; unknown parts absent) against the earlier
// typing and the label: the first typing stays the donation's until a
// discrepancy is resolved; a disagreement holds every component.
void apply_typing(Donation& d, Abo abo, RhD rhd, std::string& detail) {
  std::string conflict;
  const auto note = [&](std::string what) { conflict += (conflict.empty() ? "" : "; ") + what; };
  if (abo != Abo::unknown && d.typed_abo != Abo::unknown && abo != d.typed_abo) {
    note("typed ABO " + std::string(to_string(d.typed_abo)) + ", then " +
         std::string(to_string(abo)));
  }
  if (rhd != RhD::unknown && d.typed_rhd != RhD::unknown && rhd != d.typed_rhd) {
    note("typed RhD " + rhd_text(d.typed_rhd) + ", then " + rhd_text(rhd));
  }
  if (d.declared != AboRh::unknown && ((abo != Abo::unknown && abo != abo_of(d.declared)) ||
                                       (rhd != RhD::unknown && rhd != rhd_of(d.declared)))) {
    note("labelled " + std::string(to_string(d.declared)) + ", typed " +
         (abo != Abo::unknown ? std::string(to_string(abo)) : "") +
         (rhd != RhD::unknown ? " RhD " + rhd_text(rhd) : ""));
  }
  if (d.typed_abo == Abo::unknown) d.typed_abo = abo;
  if (d.typed_rhd == RhD::unknown) d.typed_rhd = rhd;
  if (conflict.empty()) return;
  detail += " (typing discrepancy: " + conflict + "; components held)";
  if (d.typing_discrepancy) return;
  d.typing_discrepancy = true;
  d.discrepancy = conflict;
  hold_units(d, false);
}

// The screens a result answers, each re-derived from the whole history; a
// marker that blocks for good blocks every component, one initially
// reactive takes them back to quarantine until its repeats are in.
void apply_markers(const ReferenceData& ref, Donation& d, const Event& e, std::string& detail) {
  for (const TestDef* screen : screens_answered_by(ref, e.test)) {
    const MarkerStatus now = marker_status(ref, *screen, d.tests);
    auto it = std::find_if(d.markers.begin(), d.markers.end(),
                           [&](const MarkerState& m) { return m.test == screen->code; });
    if (it == d.markers.end()) {
      if (now == MarkerStatus::not_tested) continue;
      it = d.markers.insert(d.markers.end(), MarkerState{screen->code, now, e.at});
    } else if (it->status != now) {
      it->status = now;
      it->since = e.at;
    }
    if (now != MarkerStatus::non_reactive) {
      detail += " (" + screen->code + " " + std::string(to_string(now)) + ")";
    }
    if (blocks_for_good(now)) {
      d.tti_positive = true;
      hold_units(d, true);
    } else if (now == MarkerStatus::initially_reactive) {
      hold_units(d, false);
    }
  }
}

Status check_method(const TestDef& t, const Event& e) {
  const bool confirmatory = t.kind == TestKind::confirmatory;
  if (e.method == TestMethod::unspecified ||
      (e.method == TestMethod::confirmatory) == confirmatory) {
    return {};
  }
  return reject("invalid_method",
                confirmatory ? t.name + " is a confirmatory test; its method is confirmatory."
                             : "A confirmatory result is recorded under its own test code (" +
                                   (t.confirmed_by.empty() ? std::string("none for ") + t.code
                                                           : t.confirmed_by) +
                                   "), not under " + t.code + ".");
}

// Applies a test result to the donation. Every result is kept, in order; the
// typing and the markers are derived from the whole history.
Status apply_test(const ReferenceData& ref, Donation& d, const Event& e, std::string& detail) {
  const TestDef* t = ref.test(e.test);
  if (!t) return reject("unknown_test", "The test '" + e.test + "' is not in the test catalogue.");
  const auto invalid = [&](std::string_view expected) {
    return reject("invalid_result", "'" + e.result + "' is not a result of " + t->name +
                                        "; expected " + std::string(expected) + ".");
  };
  if (auto s = check_method(*t, e); !s) return s;
  Abo abo = Abo::unknown;
  RhD rhd = RhD::unknown;
  switch (t->kind) {
    case TestKind::abo: {
      auto a = parse_abo(e.result);
      if (!a) return invalid("O, A, B or AB");
      abo = *a;
      break;
    }
    case TestKind::rhd: {
      auto r = parse_rhd(e.result);
      if (!r) return invalid("pos or neg");
      rhd = *r;
      break;
    }
    case TestKind::abo_rh: {
      auto g = parse_abo_rh(e.result);
      if (!g) return invalid("O+, O-, A+, A-, B+, B-, AB+ or AB-");
      abo = abo_of(*g);
      rhd = rhd_of(*g);
      break;
    }
    case TestKind::screen:
    case TestKind::confirmatory: {
      ScreenOutcome o;
      if (!parse_screen_outcome(e.result, o)) return invalid("negative, positive or indeterminate");
      break;
    }
    case TestKind::info:
      break;
  }
  d.tests.push_back(TestRecord{e.test, e.result, e.at, e.id, e.method, e.facility});
  detail = e.test + ": " + e.result;
  if (e.method != TestMethod::unspecified) detail += " (" + std::string(to_string(e.method)) + ")";
  if (abo != Abo::unknown || rhd != RhD::unknown) apply_typing(d, abo, rhd, detail);
  apply_markers(ref, d, e, detail);
  return {};
}

// TypingResolved: the laboratory settles a typing discrepancy. The resolved
// group becomes the typing and the label's group (the components must be
// relabelled if it changed); they stay in quarantine until released again.
Status resolve_typing(Donation& d, const Event& e, std::string& detail) {
  if (!d.typing_discrepancy) {
    return reject("no_discrepancy", "Donation " + e.din + " has no typing discrepancy to resolve.");
  }
  const bool relabel = d.declared != AboRh::unknown && d.declared != e.abo_rh;
  detail = "typing resolved as " + std::string(to_string(e.abo_rh)) + " (was: " + d.discrepancy +
           ")" + (relabel ? "; relabel every component" : "");
  d.typed_abo = abo_of(e.abo_rh);
  d.typed_rhd = rhd_of(e.abo_rh);
  d.declared = e.abo_rh;
  d.typing_discrepancy = false;
  d.discrepancy.clear();
  return {};
}

// DeferredDonorCollected: the engine found that the donor was deferred when
// this donation was collected. The blood is in the bag, but no component of
// it may ever be released.
Status flag_deferred_collection(Donation& d, const Event& e, std::string& detail) {
  if (e.donor != d.donor) {
    return reject("donor_mismatch", "Donation " + e.din + " was collected from donor " + d.donor +
                                        ", not " + e.donor + ".");
  }
  if (!d.deferred_reason.empty()) {
    return reject("already_flagged",
                  "Donation " + e.din + " is already flagged as collected from a deferred donor.");
  }
  d.deferred_reason = e.reason;
  d.deferred_until = e.until;
  hold_units(d, true);
  detail = "collected from a donor deferred (" + e.reason + ")" +
           (e.until ? " until " + format_rfc3339(e.until) : std::string(" permanently")) +
           ": every component quarantined for good";
  return {};
}

// One function per event type that acts on a unit `u` of donation `d`. Each
// runs its checks in a fixed order: the first that fails decides the reason code.

Status release_unit(const ReferenceData& ref, const Donation& d, UnitState& u, const Event& e) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (u.tti_blocked && !d.deferred_reason.empty() && !d.tti_positive) {
    return reject("deferred_donor", unit_name(e) + " was collected from a donor deferred (" +
                                        d.deferred_reason + "); it must never be released.");
  }
  if (u.tti_blocked && d.recall(e.product) && !d.tti_positive) {
    return reject("recalled", unit_name(e) +
                                  " was recalled by a lookback (the donor later screened "
                                  "positive); it must never be released.");
  }
  if (u.tti_blocked) {
    return reject("tti_positive", unit_name(e) +
                                      " comes from a donation with a repeatedly reactive or "
                                      "confirmed-positive screen; it must never be released.");
  }
  if (u.hv_hold) {
    return reject("haemovigilance_hold",
                  unit_name(e) +
                      " is held because another component of the donation is suspected of "
                      "causing a transfusion reaction; it must never be released.");
  }
  if (auto s = require_status(e, u, {UnitStatus::quarantined}, "released"); !s) return s;
  if (auto s = require_in_date(e, u, "released"); !s) return s;
  if (auto missing = missing_for_release(ref, d); !missing.empty()) {
    return reject("untested", unit_name(e) + " cannot be released: waiting for " + missing + ".");
  }
  const AboRh typed = combine(d.typed_abo, d.typed_rhd);
  const bool label = d.declared != AboRh::unknown && typed != d.declared;
  if (d.typing_discrepancy || label) {
    return reject("blood_group_mismatch",
                  unit_name(e) +
                      (label ? " was labelled " + std::string(to_string(d.declared)) +
                                   " but typed " + std::string(to_string(typed))
                             : " has typings that disagree (" + d.discrepancy + ")") +
                      "; it cannot be released until the laboratory resolves the discrepancy "
                      "(TypingResolved).");
  }
  u.status = UnitStatus::available;
  u.released = true;
  return {};
}

Status quarantine_unit(const ReferenceData& ref, UnitState& u, const Event& e,
                       std::string& detail) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::available, UnitStatus::reserved}, "quarantined");
      !s) {
    return s;
  }
  u.status = UnitStatus::quarantined;
  u.reserved_for = AboRh::unknown;
  detail = e.reason;
  return {};
}

Status dispatch_transfer(const ReferenceData& ref, UnitState& u, const Event& e,
                         std::string& detail) {
  if (!ref.facility(e.to)) {
    return reject("unknown_destination", "The destination " + e.to + " is not a known facility.");
  }
  if (e.to == e.facility) {
    return reject("same_facility",
                  "A transfer must go to another facility than " + e.facility + ".");
  }
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::available}, "dispatched"); !s) return s;
  if (auto s = require_in_date(e, u, "dispatched"); !s) return s;
  u.status = UnitStatus::in_transit;
  u.destination = e.to;
  detail = "to " + e.to;
  return {};
}

Status receive_transfer(UnitState& u, const Event& e, std::string& detail) {
  if (auto s = require_status(e, u, {UnitStatus::in_transit}, "received"); !s) return s;
  if (u.destination != e.facility) {
    return reject("not_destination", unit_name(e) + " is in transit to " + u.destination +
                                         ", not to " + e.facility + ".");
  }
  detail = "from " + u.holder;
  u.holder = e.facility;
  u.destination.clear();
  u.status = u.tti_blocked || u.hv_hold ? UnitStatus::quarantined : UnitStatus::available;
  return {};
}

Status reserve_unit(const ReferenceData& ref, const Donation& d, UnitState& u, const Event& e,
                    std::string& detail) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::available}, "reserved"); !s) return s;
  if (auto s = require_in_date(e, u, "reserved"); !s) return s;
  if (auto s = check_patient(d, u, e.patient_abo_rh); !s) return s;
  u.status = UnitStatus::reserved;
  u.reserved_for = e.patient_abo_rh;
  u.patient = e.patient;
  if (e.patient_abo_rh != AboRh::unknown) {
    detail = "for a " + std::string(to_string(e.patient_abo_rh)) + " patient";
  }
  if (!e.patient.empty()) detail += (detail.empty() ? "for " : " ") + e.patient;
  return {};
}

Status release_reservation(const ReferenceData& ref, UnitState& u, const Event& e) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::reserved}, "unreserved"); !s) return s;
  u.status = UnitStatus::available;
  u.reserved_for = AboRh::unknown;
  u.patient.clear();
  return {};
}

// An issue written before schema version 4: the bank stays the holder and a
// missing patient group is not checked (the rules those journals were written
// under).
Status issue_unit_legacy(const ReferenceData& ref, const Donation& d, UnitState& u, const Event& e,
                         std::string& detail) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::available, UnitStatus::reserved}, "issued"); !s) {
    return s;
  }
  if (auto s = require_in_date(e, u, "issued"); !s) return s;
  // The patient named at issue, else the one the unit was reserved for.
  const AboRh patient = e.patient_abo_rh != AboRh::unknown ? e.patient_abo_rh : u.reserved_for;
  if (auto s = check_patient(d, u, patient); !s) return s;
  u.status = UnitStatus::issued;
  u.issued_at = e.at;
  u.reserved_for = AboRh::unknown;
  if (patient != AboRh::unknown) {
    detail = "for a " + std::string(to_string(patient)) + " patient";
  }
  return {};
}

// Where an issue sends the unit: `to`, a hospital or one of its wards; or,
// with no `to`, the issuing facility itself when it is also a hospital.
Result<std::string> issue_destination(const ReferenceData& ref, const Event& e) {
  if (e.to.empty()) {
    const Facility* self = ref.facility(e.facility);
    if (self && self->is(FacilityKind::hospital)) return e.facility;
    return reject("missing_destination", "An issue must name the hospital or ward that receives " +
                                             unit_name(e) + " (to); custody passes to it.");
  }
  const Facility* to = ref.facility(e.to);
  if (!to) {
    return reject("unknown_destination", "The destination " + e.to + " is not a known facility.");
  }
  if (!to->is(FacilityKind::hospital)) {
    return reject("not_a_hospital", "Units are issued to a hospital or one of its wards; " + e.to +
                                        " is not a hospital.");
  }
  return e.to;
}

// An issue without the patient's group: only an emergency release of group O
// red cells or group AB plasma or cryo (A too where Rules allow it), with the
// reason and the approver.
Status check_emergency(const Rules& rules, const Donation& d, const UnitState& u, const Event& e) {
  if (!e.emergency) {
    return reject("missing_patient_group",
                  unit_name(e) +
                      " cannot be issued without the patient's ABO/RhD group; give the group, "
                      "or record an emergency release (group O red cells or group AB plasma) "
                      "with a reason and the approver.");
  }
  const Abo donor = abo_of(d.group());
  const bool red = u.category == Category::red_cells;
  const bool plasma = u.category == Category::plasma || u.category == Category::cryo;
  const bool ok =
      (red && donor == Abo::o) ||
      (plasma && (donor == Abo::ab || (rules.emergency_group_a_plasma && donor == Abo::a)));
  if (!ok) {
    std::string cat(to_string(u.category));
    for (char& c : cat) c = c == '_' ? ' ' : c;
    return reject("emergency_group",
                  "An emergency release is for group O red cells or group " +
                      std::string(rules.emergency_group_a_plasma ? "AB or A" : "AB") + " plasma; " +
                      unit_name(e) + " is " + std::string(to_string(d.group())) + " " + cat + ".");
  }
  if (e.reason.empty() || e.approver.empty()) {
    return reject("missing_approval",
                  "An emergency release needs the reason and the name of the approving "
                  "physician (reason, approver).");
  }
  return {};
}

// The patient's group against the unit: compatible; RhD-positive for an
// RhD-negative patient with an approval (an alert follows); platelets with
// ABO-incompatible plasma, with a warning.
Status check_issue_match(const Donation& d, UnitState& u, const Event& e, AboRh patient,
                         std::vector<std::string>& warnings) {
  const std::string groups = groups_text(u.category, d.group(), patient);
  switch (match(u.category, d.group(), patient)) {
    case Match::compatible:
      return {};
    case Match::incompatible:
      return reject("incompatible", "Incompatible: " + groups + ".");
    case Match::rhd_needs_approval:
      if (e.approver.empty() || e.reason.empty()) {
        return reject("incompatible",
                      "Incompatible: " + groups +
                          ". RhD-positive units for an RhD-negative patient need an approval "
                          "(approver and reason).");
      }
      u.rhd_exception = true;
      return {};
    case Match::plasma_warning:
      warnings.push_back("plasma_incompatible_platelets: the plasma of " + groups +
                         " is ABO-incompatible with the patient; give it only if no better "
                         "platelets are available.");
      return {};
  }
  return {};
}

Status issue_unit(const ReferenceData& ref, const Rules& rules, const Donation& d, UnitState& u,
                  const Event& e, std::string& detail, std::vector<std::string>& warnings) {
  if (!bedside_rules(e)) return issue_unit_legacy(ref, d, u, e, detail);
  // Already gone to a patient: that is the reason, whoever holds it now.
  if (u.status == UnitStatus::issued || u.status == UnitStatus::transfused) {
    return wrong_status(e, u, "issued");
  }
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::available, UnitStatus::reserved}, "issued"); !s) {
    return s;
  }
  if (auto s = require_in_date(e, u, "issued"); !s) return s;
  auto to = issue_destination(ref, e);
  if (!to) return to.error();
  if (e.patient.empty() && u.patient.empty()) {
    return reject("missing_patient", unit_name(e) +
                                         " cannot be issued without the patient's pseudonymous id "
                                         "(patient).");
  }
  if (auto s = require_patient(e, u, "issued"); !s) return s;
  const AboRh patient = e.patient_abo_rh != AboRh::unknown ? e.patient_abo_rh : u.reserved_for;
  UnitState next = u;
  next.rhd_exception = false;
  if (patient == AboRh::unknown) {
    if (auto s = check_emergency(rules, d, u, e); !s) return s;
  } else if (e.emergency) {
    return reject("emergency_with_group",
                  "An emergency release is for a patient whose group is not known yet; this "
                  "issue gives the group, so record it as a normal issue.");
  } else if (auto s = check_issue_match(d, next, e, patient, warnings); !s) {
    return s;
  }
  next.status = UnitStatus::issued;
  next.issued_at = e.at;
  next.reserved_for = AboRh::unknown;
  next.patient = e.patient.empty() ? u.patient : e.patient;
  next.patient_group = patient;
  next.emergency = e.emergency;
  next.group_incompatible = false;
  next.issued_by = e.facility;
  next.holder = *to;
  u = std::move(next);
  detail = "to " + *to + " for " + u.patient;
  if (patient != AboRh::unknown) detail += " (" + std::string(to_string(patient)) + ")";
  if (u.emergency) detail += ", EMERGENCY release approved by " + e.approver + ": " + e.reason;
  if (u.rhd_exception) detail += ", RhD exception approved by " + e.approver + ": " + e.reason;
  return {};
}

// Where a returned unit goes: `to`, else the facility recording the return
// when it is a blood bank taking the unit back, else the bank that issued it.
Result<std::string> return_destination(const ReferenceData& ref, const Event& e,
                                       const UnitState& u) {
  const Facility* self = ref.facility(e.facility);
  const bool self_bank = self && self->is(FacilityKind::blood_bank);
  std::string to = !e.to.empty()                      ? e.to
                   : self_bank || u.issued_by.empty() ? e.facility
                                                      : u.issued_by;
  const Facility* dest = ref.facility(to);
  if (!dest) {
    return reject("unknown_destination", "The destination " + to + " is not a known facility.");
  }
  if (!dest->is(FacilityKind::blood_bank)) {
    return reject("not_a_blood_bank", unit_name(e) +
                                          " can only be returned to a blood bank that "
                                          "may store it; " +
                                          to + " is not a blood bank.");
  }
  if (!acts_for_holder(ref, e, u) && to != e.facility) {
    return reject("not_destination", unit_name(e) + " is returned to " + to + ", not to " +
                                         e.facility + "; " + to + " records it.");
  }
  return to;
}

Status return_unit(const ReferenceData& ref, const Rules& rules, UnitState& u, const Event& e,
                   std::string& detail) {
  // The holder returns it; from version 4, also the bank that takes it back.
  const bool taking_back = bedside_rules(e) && !u.issued_by.empty() &&
                           (e.facility == u.issued_by || (!e.to.empty() && e.facility == e.to));
  if (!taking_back) {
    if (auto s = require_holder(ref, e, u); !s) return s;
  }
  if (auto s = require_status(e, u, {UnitStatus::issued}, "returned"); !s) return s;
  if (auto s = require_in_date(e, u, "returned to stock"); !s) return s;
  if ((u.category == Category::red_cells || u.category == Category::whole_blood) &&
      e.at - u.issued_at > rules.max_out_of_storage) {
    return reject("out_of_storage_too_long",
                  unit_name(e) + " was out of controlled storage for more than " +
                      std::to_string(rules.max_out_of_storage / kMinute) +
                      " minutes; it must be discarded, not returned to stock.");
  }
  std::string to = u.holder;
  if (bedside_rules(e)) {
    const Product* p = ref.product(u.product);
    if (p && p->frozen() && u.thawed_at == 0 && e.at - u.issued_at > rules.max_out_of_storage) {
      return reject("thawed_no_refreeze",
                    unit_name(e) + " was out of the freezer for more than " +
                        std::to_string(rules.max_out_of_storage / kMinute) +
                        " minutes and may have thawed; it must never go back to frozen stock. "
                        "Record its thawing and return it as thawed, or discard it.");
    }
    auto dest = return_destination(ref, e, u);
    if (!dest) return dest.error();
    to = *dest;
  }
  if (to != u.holder) detail = "from " + u.holder + " to " + to;
  if (u.thawed_at != 0) detail += (detail.empty() ? "" : ", ") + std::string("thawed");
  u.holder = to;
  u.status = u.tti_blocked || u.hv_hold ? UnitStatus::quarantined : UnitStatus::available;
  u.issued_by.clear();
  u.patient.clear();
  u.patient_group = AboRh::unknown;
  u.emergency = false;
  u.group_incompatible = false;
  u.rhd_exception = false;
  return {};
}

// A recipient-notification task for a unit that reached a patient despite a
// lookback: the transfusing facility must trace and notify the recipient.
void open_notification(const Rules& rules, Recall& r, const UnitState& u, const Event& e) {
  r.notify_open = true;
  r.notify_deadline = e.at + rules.notify_recipient_within;
  r.transfused_by = u.holder;
  r.patient = e.type == EventType::unit_transfused && !e.patient.empty() ? e.patient : u.patient;
}

Status transfuse_unit(const ReferenceData& ref, const Rules& rules, Donation& d, UnitState& u,
                      const Event& e, std::string& detail) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::issued}, "recorded as transfused"); !s) {
    return s;
  }
  if (auto s = require_patient(e, u, "transfused"); !s) return s;
  Recall* r = d.recall(e.product);
  if (r && r->open) {
    if (e.approver.empty()) {
      return reject("recalled",
                    unit_name(e) + " is under a lookback recall (" + r->test +
                        "); it must be returned, not transfused. A transfusion that already "
                        "happened is recorded only with an override naming its approver.");
    }
    open_notification(rules, *r, u, e);
    detail = "override approved by " + e.approver +
             (e.reason.empty() ? std::string() : " (" + e.reason + ")") +
             "; the recipient must be notified by " + format_rfc3339(r->notify_deadline);
  }
  u.status = UnitStatus::transfused;
  if (!e.patient.empty() && u.patient.empty()) u.patient = e.patient;
  if (!u.patient.empty()) detail = "to " + u.patient + (detail.empty() ? "" : "; " + detail);
  if (u.hv_hold) detail += " (despite a haemovigilance hold)";
  return {};
}

Status discard_unit(const ReferenceData& ref, UnitState& u, const Event& e, std::string& detail) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (is_final(u.status)) return wrong_status(e, u, "discarded");
  u.status = UnitStatus::discarded;
  u.destination.clear();
  detail = e.reason;
  return {};
}

Status expire_unit(const ReferenceData& ref, UnitState& u, const Event& e) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (is_final(u.status)) return wrong_status(e, u, "expired");
  if (e.at < u.expires_at) {
    return reject("not_yet_expired",
                  unit_name(e) + " does not expire until " + format_rfc3339(u.expires_at) + ".");
  }
  u.status = UnitStatus::expired;
  u.destination.clear();
  return {};
}

// A lookback recall: a unit still in the bank's hands is blocked until it is
// retrieved; one already gone is recorded so that its recipient is followed up.
Status recall_unit(const ReferenceData& ref, const Rules& rules, Donation& d, UnitState& u,
                   const Event& e, std::string& detail) {
  const TestDef* t = ref.test(e.test);
  if (!t || t->lookback_hours <= 0) {
    return reject("not_a_lookback_test",
                  "The test '" + e.test + "' does not trigger a lookback recall.");
  }
  const TimeMs deadline = e.at + t->lookback_hours * kHour;
  if (Recall* old = d.recall(e.product)) {
    // A later, more urgent marker brings a running recall's deadline forward.
    if (!old->open || deadline >= old->deadline) {
      return reject("already_recalled", unit_name(e) + " has already been recalled.");
    }
    detail = "recall deadline brought forward from " + format_rfc3339(old->deadline) + " to " +
             format_rfc3339(deadline) + " (" + e.test + " lookback)";
    old->deadline = deadline;
    old->test = e.test;
    return {};
  }
  Recall r;
  r.product = e.product;
  r.test = e.test;
  r.event_id = e.id;
  r.at = e.at;
  r.deadline = deadline;
  r.status_then = std::string(to_string(u.status));
  r.open = !is_final(u.status);
  if (r.open) {
    u.tti_blocked = true;
    if (u.status == UnitStatus::available || u.status == UnitStatus::reserved) {
      u.status = UnitStatus::quarantined;
      u.reserved_for = AboRh::unknown;
    }
    detail = "recalled (" + e.test + " lookback), to be retrieved by " + format_rfc3339(r.deadline);
  } else if (u.status == UnitStatus::transfused) {
    open_notification(rules, r, u, e);
    detail = "recall (" + e.test + " lookback) of a unit transfused at " + u.holder +
             ": the recipient must be notified by " + format_rfc3339(r.notify_deadline);
  } else {
    detail = "recall (" + e.test + " lookback) after the unit was already " + r.status_then;
  }
  d.recalls.push_back(std::move(r));
  return {};
}

// Thawing frozen plasma or cryo: the thawed expiry replaces the frozen one
// (the product's thawed_hours, or an earlier or local-policy expiry given on
// the event up to thawed_max_hours), never beyond the frozen expiry.
Status thaw_unit(const ReferenceData& ref, UnitState& u, const Event& e, std::string& detail) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  const Product* p = ref.product(u.product);
  if (!p || !p->frozen()) {
    return reject("not_frozen", unit_name(e) + " is " + std::string(to_string(u.category)) +
                                    "; only frozen plasma and cryoprecipitate are thawed.");
  }
  if (u.thawed_at != 0) {
    return reject("already_thawed",
                  unit_name(e) + " was already thawed at " + format_rfc3339(u.thawed_at) + ".");
  }
  if (auto s = require_status(
          e, u, {UnitStatus::available, UnitStatus::reserved, UnitStatus::issued}, "thawed");
      !s) {
    return s;
  }
  if (auto s = require_in_date(e, u, "thawed"); !s) return s;
  const TimeMs longest = e.at + p->thawed_max_hours * kHour;
  if (e.expires_at != 0 && (e.expires_at <= e.at || e.expires_at > longest)) {
    return reject("thawed_expiry",
                  "A thawed " + std::string(to_string(u.category)) +
                      " unit may be used for up to " + std::to_string(p->thawed_max_hours) +
                      " hours after thawing (until " + format_rfc3339(longest) +
                      "); the expiry given is " + format_rfc3339(e.expires_at) + ".");
  }
  const TimeMs thawed_expiry = e.expires_at != 0 ? e.expires_at : e.at + p->thawed_hours * kHour;
  u.thawed_at = e.at;
  u.expires_at = std::min(u.expires_at, thawed_expiry);
  detail = "thawed, use by " + format_rfc3339(u.expires_at);
  return {};
}

// The patient's group recorded after the unit went out (an emergency release,
// or a check at the bedside). An incompatible unit is a fact to escalate, not
// an event to refuse.
Status type_patient(const ReferenceData& ref, const Donation& d, UnitState& u, const Event& e,
                    std::string& detail) {
  // The hospital holding it, the bank that issued it, or a laboratory that typed the patient.
  const Facility* f = ref.facility(e.facility);
  if (!acts_for_holder(ref, e, u) && e.facility != u.issued_by &&
      !(f && f->is(FacilityKind::laboratory))) {
    return reject("not_holder", unit_name(e) + " is held by " + u.holder + " and was issued by " +
                                    (u.issued_by.empty() ? u.holder : u.issued_by) +
                                    "; the patient's group is recorded by one of them or by a "
                                    "laboratory, not " +
                                    e.facility + ".");
  }
  if (u.issued_by.empty() ||
      (u.status != UnitStatus::issued && u.status != UnitStatus::transfused)) {
    return reject("not_issued", unit_name(e) +
                                    " is not issued to a patient; record the patient's group "
                                    "on the reservation or the issue.");
  }
  if (auto s = require_patient(e, u, "recorded for this patient"); !s) return s;
  u.patient_group = e.patient_abo_rh;
  const Match m = match(u.category, d.group(), e.patient_abo_rh);
  u.group_incompatible =
      m == Match::incompatible || (m == Match::rhd_needs_approval && !u.rhd_exception);
  detail = "patient " + std::string(to_string(e.patient_abo_rh));
  if (u.group_incompatible) {
    detail += ": INCOMPATIBLE with " + std::string(to_string(d.group())) + " " +
              std::string(to_string(u.category));
  }
  return {};
}

// A transfusion reaction, reported by the hospital that holds the unit. A
// suspected TRALI or transmission holds every other component of the donation
// that has not reached a final state, wherever it is.
Status report_reaction(const ReferenceData& ref, Donation& d, UnitState& u, const Event& e,
                       std::string& detail) {
  if (auto s = require_holder(ref, e, u); !s) return s;
  if (u.issued_by.empty() ||
      (u.status != UnitStatus::issued && u.status != UnitStatus::transfused)) {
    return reject("not_transfused", unit_name(e) +
                                        " was not given to a patient; a reaction is reported "
                                        "for a unit issued or transfused.");
  }
  if (auto s = require_patient(e, u, "reported for this patient"); !s) return s;
  if (e.onset_at < u.issued_at) {
    return reject("invalid_onset", "The reaction's onset is dated before " + unit_name(e) +
                                       " was issued; check the onset time.");
  }
  Reaction r{e.product,  e.id,       e.facility, u.issued_by,    e.patient, e.at,
             e.onset_at, e.reaction, e.severity, e.imputability, {}};
  if (quarantines_siblings(e.reaction)) {
    for (auto& sib : d.units) {
      if (sib.product == e.product || is_final(sib.status)) continue;
      sib.hv_hold = true;
      if (sib.status == UnitStatus::available || sib.status == UnitStatus::reserved) {
        sib.status = UnitStatus::quarantined;
        sib.reserved_for = AboRh::unknown;
        sib.patient.clear();
      }
      r.held.push_back(sib.product);
    }
  }
  u.reaction_reported = true;
  detail = "reaction: " + std::string(label(e.reaction)) + ", " + std::string(label(e.severity)) +
           ", imputability " + std::string(to_string(e.imputability)) + ", onset " +
           format_rfc3339(e.onset_at);
  if (!r.held.empty()) {
    detail += "; held the donation's other components:";
    for (const auto& p : r.held) detail += " " + p;
  }
  d.reactions.push_back(std::move(r));
  return {};
}

// RecipientNotified: the recipient of a recalled unit was traced and told.
Status notify_recipient(Donation& d, const Event& e, std::string& detail) {
  Recall* r = d.recall(e.product);
  if (!r || !r->notify_open) {
    return reject("no_notification_task",
                  "No recipient notification is open for " + unit_name(e) + ".");
  }
  r->notify_open = false;
  r->notified_at = e.at;
  detail = "recipient notified" + (e.reason.empty() ? std::string() : ": " + e.reason);
  return {};
}

Status act_on_unit(const ReferenceData& ref, const Rules& rules, Donation& d, UnitState& u,
                   const Event& e, std::string& detail, std::vector<std::string>& warnings) {
  switch (e.type) {
    case EventType::unit_released:
      return release_unit(ref, d, u, e);
    case EventType::unit_quarantined:
      return quarantine_unit(ref, u, e, detail);
    case EventType::transfer_dispatched:
      return dispatch_transfer(ref, u, e, detail);
    case EventType::transfer_received:
      return receive_transfer(u, e, detail);
    case EventType::unit_reserved:
      return reserve_unit(ref, d, u, e, detail);
    case EventType::reservation_released:
      return release_reservation(ref, u, e);
    case EventType::unit_issued:
      return issue_unit(ref, rules, d, u, e, detail, warnings);
    case EventType::unit_returned:
      return return_unit(ref, rules, u, e, detail);
    case EventType::unit_transfused:
      return transfuse_unit(ref, rules, d, u, e, detail);
    case EventType::unit_discarded:
      return discard_unit(ref, u, e, detail);
    case EventType::unit_expired:
      return expire_unit(ref, u, e);
    case EventType::unit_recalled:
      return recall_unit(ref, rules, d, u, e, detail);
    case EventType::unit_thawed:
      return thaw_unit(ref, u, e, detail);
    case EventType::patient_typed:
      return type_patient(ref, d, u, e, detail);
    case EventType::transfusion_reaction:
      return report_reaction(ref, d, u, e, detail);
    case EventType::recipient_notified:
      return notify_recipient(d, e, detail);
    default:
      return reject("unknown_type", "This event type does not act on a unit.");
  }
}

Status apply_unit_event(const ReferenceData& ref, const Rules& rules, Donation& d, const Event& e,
                        std::string& detail, std::vector<std::string>& warnings) {
  UnitState* u = d.unit(e.product);
  if (!u) {
    return reject("unknown_unit",
                  "No component " + e.product + " has been produced from donation " + e.din + ".");
  }
  if (auto s = act_on_unit(ref, rules, d, *u, e, detail, warnings); !s) return s;
  // A recall is done once the unit can no longer reach a patient (or did).
  if (Recall* r = d.recall(e.product); r && r->open && is_final(u->status)) {
    r->open = false;
    if (u->status == UnitStatus::transfused) detail += " (despite an open lookback recall)";
  }
  return {};
}

}  // namespace

std::string missing_for_release(const ReferenceData& ref, const Donation& d) {
  std::string missing;
  const auto add = [&](const std::string& what) {
    missing += (missing.empty() ? "" : ", ") + what;
  };
  if (d.typed_abo == Abo::unknown) add("ABO typing");
  if (d.typed_rhd == RhD::unknown) add("RhD typing");
  for (const auto& t : ref.tests()) {
    if (t.kind != TestKind::screen) continue;
    const MarkerState* m = d.marker(t.code);
    const MarkerStatus s = m ? m->status : MarkerStatus::not_tested;
    if (s == MarkerStatus::initially_reactive) {
      add("the " + std::to_string(t.repeats) + " repeats of the reactive " + t.code + " screen");
    } else if (t.mandatory && s == MarkerStatus::not_tested) {
      add("a " + t.code + " screen");
    } else if (blocks_for_good(s)) {
      add("a non-reactive " + t.code + " screen");
    }
  }
  return missing;
}

namespace {

// What apply_event checks before it needs the donation's new state: the shape,
// the facility, and whether the event may meet this donation at all.
Status precheck(const ReferenceData& ref, const Donation* before, const Event& e) {
  if (auto s = validate_shape(e); !s) return s;
  const Facility* f = ref.facility(e.facility);
  if (!f) {
    return reject("unknown_facility", "The facility " + e.facility + " is not a known facility.");
  }
  if (bedside_rules(e)) {
    if (auto s = check_facility_may(*f, e.type); !s) return s;
  }
  if (e.type == EventType::donation_collected) {
    if (before) {
      return reject("duplicate_donation",
                    "Donation " + e.din + " was already collected at " + before->facility + ".");
    }
    return {};
  }
  if (!before) return reject("unknown_donation", "No donation " + e.din + " has been collected.");
  if (e.at < before->collected_at) {
    return reject("before_collection",
                  "The event is dated before donation " + e.din + " was collected.");
  }
  return {};
}

// The rules, once prechecked: folds `e` into `d`, which holds a copy of
// `before` (its history aside: no rule reads it) or, for a collection, nothing.
// `detail` is the history entry's detail.
Status fold(const ReferenceData& ref, const Rules& rules, Donation& d, const Event& e,
            std::string& detail, std::vector<std::string>& warnings) {
  if (e.type == EventType::donation_collected) {
    d.din = e.din;
    d.donor = e.donor;
    d.facility = e.facility;
    d.collected_at = e.at;
    d.volume_ml = e.volume_ml;
    d.declared = e.abo_rh;
    if (e.abo_rh != AboRh::unknown) detail = "labelled " + std::string(to_string(e.abo_rh));
    return {};
  }
  if (e.type == EventType::component_produced) {
    const Product* p = ref.product(e.product);
    if (!p) {
      return reject("unknown_product",
                    "The product code " + e.product + " is not in the product catalogue.");
    }
    if (d.unit(e.product)) {
      return reject("duplicate_component",
                    "Component " + e.product + " of donation " + e.din + " was already produced.");
    }
    const TimeMs limit = end_of_day_after(d.collected_at, p->shelf_life_days);
    if (e.expires_at > limit) {
      return reject("component_outlives_donation",
                    "Component " + e.product + " would expire at " + format_rfc3339(e.expires_at) +
                        ", after its limit of " + format_rfc3339(limit) + " (" +
                        std::to_string(p->shelf_life_days) + " days from collection).");
    }
    UnitState u;
    u.product = e.product;
    u.category = p->category;
    u.status = UnitStatus::quarantined;
    u.holder = e.facility;
    u.produced_at = e.at;
    u.expires_at = e.expires_at != 0 ? e.expires_at : limit;
    u.volume_ml = e.volume_ml;
    u.tti_blocked = d.tti_positive || !d.deferred_reason.empty();
    d.units.push_back(u);
    detail = std::string(to_string(p->category)) + ", expires " + format_rfc3339(u.expires_at);
    return {};
  }
  if (e.type == EventType::test_resulted) return apply_test(ref, d, e, detail);
  if (e.type == EventType::typing_resolved) return resolve_typing(d, e, detail);
  if (e.type == EventType::deferred_donor_collected) {
    return flag_deferred_collection(d, e, detail);
  }
  return apply_unit_event(ref, rules, d, e, detail, warnings);
}

HistoryEntry history_entry(const Event& e, std::string detail) {
  const bool donation_level =
      e.type == EventType::donation_collected || e.type == EventType::test_resulted ||
      e.type == EventType::typing_resolved || e.type == EventType::deferred_donor_collected;
  return HistoryEntry{
      e.id, e.type, e.at, e.facility, donation_level ? "" : e.product, std::move(detail)};
}

}  // namespace

Result<Applied> apply_event(const ReferenceData& ref, const Rules& rules, const Donation* before,
                            const Event& e) {
  if (auto s = precheck(ref, before, e); !s) return s.error();
  Applied out;
  if (before) out.after = *before;
  std::string detail;
  if (auto s = fold(ref, rules, out.after, e, detail, out.warnings); !s) return s.error();
  out.after.history.push_back(history_entry(e, std::move(detail)));
  out.stock = stock_diff(before, out.after);
  out.demand = demand_diff(before, out.after, e);
  return out;
}

Result<Changes> apply_event_in_place(const ReferenceData& ref, const Rules& rules, Donation& state,
                                     bool exists, const Event& e) {
  const Donation* before = exists ? &state : nullptr;
  if (auto s = precheck(ref, before, e); !s) return s.error();
  // The working copy leaves the history behind (no rule reads it): copying
  // it for every event is what made a replay quadratic in a donation's events.
  std::vector<HistoryEntry> history;
  if (exists) history.swap(state.history);
  Donation after = exists ? state : Donation{};
  std::string detail;
  Changes out;
  if (auto s = fold(ref, rules, after, e, detail, out.warnings); !s) {
    if (exists) state.history.swap(history);
    return s.error();
  }
  out.stock = stock_diff(before, after);
  out.demand = demand_diff(before, after, e);
  after.history.swap(history);
  after.history.push_back(history_entry(e, std::move(detail)));
  state = std::move(after);
  return out;
}

}  // namespace hemoledger
