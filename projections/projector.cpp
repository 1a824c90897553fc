#include "projections/projector.h"

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

Status require_holder(const Event& e, const UnitState& u) {
  if (u.holder != e.facility) {
    return reject("not_holder",
                  unit_name(e) + " is held by " + u.holder + ", not " + e.facility + ".");
  }
  return {};
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
  if (auto s = require_holder(e, u); !s) return s;
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

Status quarantine_unit(UnitState& u, const Event& e, std::string& detail) {
  if (auto s = require_holder(e, u); !s) return s;
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
  if (auto s = require_holder(e, u); !s) return s;
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
  u.status = u.tti_blocked ? UnitStatus::quarantined : UnitStatus::available;
  return {};
}

Status reserve_unit(const Donation& d, UnitState& u, const Event& e, std::string& detail) {
  if (auto s = require_holder(e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::available}, "reserved"); !s) return s;
  if (auto s = require_in_date(e, u, "reserved"); !s) return s;
  if (auto s = check_patient(d, u, e.patient_abo_rh); !s) return s;
  u.status = UnitStatus::reserved;
  u.reserved_for = e.patient_abo_rh;
  if (e.patient_abo_rh != AboRh::unknown) {
    detail = "for a " + std::string(to_string(e.patient_abo_rh)) + " patient";
  }
  return {};
}

Status release_reservation(UnitState& u, const Event& e) {
  if (auto s = require_holder(e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::reserved}, "unreserved"); !s) return s;
  u.status = UnitStatus::available;
  u.reserved_for = AboRh::unknown;
  return {};
}

Status issue_unit(const Donation& d, UnitState& u, const Event& e, std::string& detail) {
  if (auto s = require_holder(e, u); !s) return s;
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

Status return_unit(const Rules& rules, UnitState& u, const Event& e) {
  if (auto s = require_holder(e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::issued}, "returned"); !s) return s;
  if (auto s = require_in_date(e, u, "returned to stock"); !s) return s;
  if ((u.category == Category::red_cells || u.category == Category::whole_blood) &&
      e.at - u.issued_at > rules.max_out_of_storage) {
    return reject("out_of_storage_too_long",
                  unit_name(e) + " was out of controlled storage for more than " +
                      std::to_string(rules.max_out_of_storage / kMinute) +
                      " minutes; it must be discarded, not returned to stock.");
  }
  u.status = u.tti_blocked ? UnitStatus::quarantined : UnitStatus::available;
  return {};
}

// A recipient-notification task for a unit that reached a patient despite a
// lookback: the transfusing facility must trace and notify the recipient.
void open_notification(const Rules& rules, Recall& r, const UnitState& u, const Event& e) {
  r.notify_open = true;
  r.notify_deadline = e.at + rules.notify_recipient_within;
  r.transfused_by = u.holder;
}

Status transfuse_unit(const Rules& rules, Donation& d, UnitState& u, const Event& e,
                      std::string& detail) {
  if (auto s = require_holder(e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::issued}, "recorded as transfused"); !s) {
    return s;
  }
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
  return {};
}

Status discard_unit(UnitState& u, const Event& e, std::string& detail) {
  if (auto s = require_holder(e, u); !s) return s;
  if (is_final(u.status)) return wrong_status(e, u, "discarded");
  u.status = UnitStatus::discarded;
  u.destination.clear();
  detail = e.reason;
  return {};
}

Status expire_unit(UnitState& u, const Event& e) {
  if (auto s = require_holder(e, u); !s) return s;
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
                   const Event& e, std::string& detail) {
  switch (e.type) {
    case EventType::unit_released:
      return release_unit(ref, d, u, e);
    case EventType::unit_quarantined:
      return quarantine_unit(u, e, detail);
    case EventType::transfer_dispatched:
      return dispatch_transfer(ref, u, e, detail);
    case EventType::transfer_received:
      return receive_transfer(u, e, detail);
    case EventType::unit_reserved:
      return reserve_unit(d, u, e, detail);
    case EventType::reservation_released:
      return release_reservation(u, e);
    case EventType::unit_issued:
      return issue_unit(d, u, e, detail);
    case EventType::unit_returned:
      return return_unit(rules, u, e);
    case EventType::unit_transfused:
      return transfuse_unit(rules, d, u, e, detail);
    case EventType::unit_discarded:
      return discard_unit(u, e, detail);
    case EventType::unit_expired:
      return expire_unit(u, e);
    case EventType::unit_recalled:
      return recall_unit(ref, rules, d, u, e, detail);
    case EventType::recipient_notified:
      return notify_recipient(d, e, detail);
    default:
      return reject("unknown_type", "This event type does not act on a unit.");
  }
}

Status apply_unit_event(const ReferenceData& ref, const Rules& rules, Donation& d, const Event& e,
                        std::string& detail) {
  UnitState* u = d.unit(e.product);
  if (!u) {
    return reject("unknown_unit",
                  "No component " + e.product + " has been produced from donation " + e.din + ".");
  }
  if (auto s = act_on_unit(ref, rules, d, *u, e, detail); !s) return s;
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
  if (!ref.facility(e.facility)) {
    return reject("unknown_facility", "The facility " + e.facility + " is not a known facility.");
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
            std::string& detail) {
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
  return apply_unit_event(ref, rules, d, e, detail);
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
  if (auto s = fold(ref, rules, out.after, e, detail); !s) return s.error();
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
  if (auto s = fold(ref, rules, after, e, detail); !s) {
    if (exists) state.history.swap(history);
    return s.error();
  }
  Changes out;
  out.stock = stock_diff(before, after);
  out.demand = demand_diff(before, after, e);
  after.history.swap(history);
  after.history.push_back(history_entry(e, std::move(detail)));
  state = std::move(after);
  return out;
}

}  // namespace hemoledger
