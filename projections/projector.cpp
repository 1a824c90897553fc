#include "projections/projector.h"

#include "projections/compatibility.h"

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

// Applies a test result to the donation; may block every component.
Status apply_test(const ReferenceData& ref, Donation& d, const Event& e, std::string& detail) {
  const TestDef* t = ref.test(e.test);
  if (!t) return reject("unknown_test", "The test '" + e.test + "' is not in the test catalogue.");
  const auto invalid = [&](std::string_view expected) {
    return reject("invalid_result", "'" + e.result + "' is not a result of " + t->name +
                                        "; expected " + std::string(expected) + ".");
  };
  switch (t->kind) {
    case TestKind::abo: {
      auto a = parse_abo(e.result);
      if (!a) return invalid("O, A, B or AB");
      d.typed_abo = *a;
      break;
    }
    case TestKind::rhd: {
      auto r = parse_rhd(e.result);
      if (!r) return invalid("pos or neg");
      d.typed_rhd = *r;
      break;
    }
    case TestKind::abo_rh: {
      auto g = parse_abo_rh(e.result);
      if (!g) return invalid("O+, O-, A+, A-, B+, B-, AB+ or AB-");
      d.typed_abo = abo_of(*g);
      d.typed_rhd = rhd_of(*g);
      break;
    }
    case TestKind::screen: {
      ScreenOutcome o;
      if (!parse_screen_outcome(e.result, o)) return invalid("negative, positive or indeterminate");
      if (o == ScreenOutcome::positive) {
        d.tti_positive = true;
        for (auto& u : d.units) {
          u.tti_blocked = true;
          if (u.status == UnitStatus::available || u.status == UnitStatus::reserved) {
            u.status = UnitStatus::quarantined;
            u.reserved_for = AboRh::unknown;
          }
        }
      }
      break;
    }
    case TestKind::info:
      break;
  }
  TestRecord rec{e.test, e.result, e.at, e.id};
  bool replaced = false;
  for (auto& old : d.tests) {
    if (old.test == e.test) {
      old = rec;
      replaced = true;
    }
  }
  if (!replaced) d.tests.push_back(rec);
  detail = e.test + ": " + e.result;
  return {};
}

// One function per event type that acts on a unit `u` of donation `d`. Each
// runs its checks in a fixed order: the first that fails decides the reason code.

Status release_unit(const ReferenceData& ref, const Donation& d, UnitState& u, const Event& e) {
  if (auto s = require_holder(e, u); !s) return s;
  if (u.tti_blocked && d.recall(e.product) && !d.tti_positive) {
    return reject("recalled", unit_name(e) +
                                  " was recalled by a lookback (the donor later screened "
                                  "positive); it must never be released.");
  }
  if (u.tti_blocked) {
    return reject("tti_positive", unit_name(e) +
                                      " comes from a donation with a positive screen; it "
                                      "must never be released.");
  }
  if (auto s = require_status(e, u, {UnitStatus::quarantined}, "released"); !s) return s;
  if (auto s = require_in_date(e, u, "released"); !s) return s;
  if (auto missing = missing_for_release(ref, d); !missing.empty()) {
    return reject("untested", unit_name(e) + " cannot be released: waiting for " + missing + ".");
  }
  const AboRh typed = combine(d.typed_abo, d.typed_rhd);
  if (d.declared != AboRh::unknown && d.declared != typed) {
    return reject("blood_group_mismatch",
                  unit_name(e) + " was labelled " + std::string(to_string(d.declared)) +
                      " but typed " + std::string(to_string(typed)) +
                      "; it cannot be released until the discrepancy is resolved.");
  }
  u.status = UnitStatus::available;
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

Status transfuse_unit(UnitState& u, const Event& e) {
  if (auto s = require_holder(e, u); !s) return s;
  if (auto s = require_status(e, u, {UnitStatus::issued}, "recorded as transfused"); !s) {
    return s;
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
Status recall_unit(const ReferenceData& ref, Donation& d, UnitState& u, const Event& e,
                   std::string& detail) {
  const TestDef* t = ref.test(e.test);
  if (!t || t->lookback_hours <= 0) {
    return reject("not_a_lookback_test",
                  "The test '" + e.test + "' does not trigger a lookback recall.");
  }
  if (d.recall(e.product)) {
    return reject("already_recalled", unit_name(e) + " has already been recalled.");
  }
  Recall r{e.product,
           e.test,
           e.id,
           e.at,
           e.at + t->lookback_hours * kHour,
           std::string(to_string(u.status)),
           !is_final(u.status)};
  if (r.open) {
    u.tti_blocked = true;
    if (u.status == UnitStatus::available || u.status == UnitStatus::reserved) {
      u.status = UnitStatus::quarantined;
      u.reserved_for = AboRh::unknown;
    }
    detail = "recalled (" + e.test + " lookback), to be retrieved by " + format_rfc3339(r.deadline);
  } else {
    detail = "recall (" + e.test + " lookback) after the unit was already " + r.status_then +
             (u.status == UnitStatus::transfused ? ": the recipient needs follow-up" : "");
  }
  d.recalls.push_back(std::move(r));
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
      return transfuse_unit(u, e);
    case EventType::unit_discarded:
      return discard_unit(u, e, detail);
    case EventType::unit_expired:
      return expire_unit(u, e);
    case EventType::unit_recalled:
      return recall_unit(ref, d, u, e, detail);
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
    if (!t.mandatory || t.kind != TestKind::screen) continue;
    const TestRecord* r = d.test(t.code);
    ScreenOutcome o;
    if (!r)
      add("a " + t.code + " screen");
    else if (!parse_screen_outcome(r->result, o) || o != ScreenOutcome::negative)
      add("a negative " + t.code + " screen");
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
    u.tti_blocked = d.tti_positive;
    d.units.push_back(u);
    detail = std::string(to_string(p->category)) + ", expires " + format_rfc3339(u.expires_at);
    return {};
  }
  if (e.type == EventType::test_resulted) return apply_test(ref, d, e, detail);
  return apply_unit_event(ref, rules, d, e, detail);
}

HistoryEntry history_entry(const Event& e, std::string detail) {
  const bool donation_level =
      e.type == EventType::donation_collected || e.type == EventType::test_resulted;
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
