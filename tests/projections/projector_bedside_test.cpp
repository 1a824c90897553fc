// The bedside rules of the projector (schema version 4): custody passes to the
// hospital at issue, every issue checks the patient, emergency release and the
// RhD exception need an approval, thawing, transfusion reactions and facility roles.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "projections/indexes.h"
#include "projections/projector.h"
#include "tests/projections/ledger.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const TimeMs kIssue = kT0 + 4 * kHour;

std::vector<std::string> watch_keys(const Donation& d) {
  std::vector<std::string> out;
  for (const auto& e : index_entries(d)) {
    if (e.kind == 'b') out.push_back(e.key);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Event returned(const std::string& product, TimeMs at, const std::string& facility = kHospital) {
  return unit_event(EventType::unit_returned, product, at, facility);
}

Event thawed(const std::string& product, TimeMs at, const std::string& facility = kBank) {
  return unit_event(EventType::unit_thawed, product, at, facility);
}

Event patient_typed(const std::string& product, AboRh group, TimeMs at,
                    const std::string& facility = kBank) {
  Event e = unit_event(EventType::patient_typed, product, at, facility);
  e.patient_abo_rh = group;
  e.patient = kPatient;
  return e;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Custody.

TEST_CASE("an issue passes custody to the hospital, which records the transfusion",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  CHECK(l.unit(kRedCells).holder == kHospital);
  CHECK(l.unit(kRedCells).issued_by == kBank);
  CHECK(l.unit(kRedCells).patient == kPatient);
  CHECK(l.donation().history.back().detail == "to NBS-HOS for PAT-4411 (O+)");
  CHECK(l.stock.count({kHospital, Category::red_cells, AboRh::o_pos, UnitStatus::issued}) == 1);

  // The bank no longer holds it: it cannot record what the hospital witnessed.
  const Error t =
      l.expect_rejected(unit_transfused(kRedCells, kIssue + kHour, kBank), "facility_role");
  CHECK(t.message == "NBS-BB is a blood bank; it may not record a transfusion.");
  const Error e =
      l.expect_rejected(unit_discarded(kRedCells, "other", kIssue + kHour), "not_holder");
  CHECK(e.message ==
        "Unit G123426000017 E0336V00 was issued to NBS-HOS, which holds it now; only "
        "NBS-HOS records what happens to it.");

  l.accept(unit_transfused(kRedCells, kIssue + kHour));
  CHECK(l.status(kRedCells) == UnitStatus::transfused);
  CHECK(l.unit(kRedCells).issued_by == kBank);  // the bank still sees what it issued
  CHECK(l.stock.cells().empty());
}

TEST_CASE("an issue names a hospital or ward that receives the unit", "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  Event no_to = unit_issued(kRedCells, kIssue, AboRh::o_pos);
  no_to.to.clear();
  l.expect_rejected(no_to, "missing_destination");
  Event to_bank = unit_issued(kRedCells, kIssue, AboRh::o_pos);
  to_bank.to = kGazaBank;
  const Error e = l.expect_rejected(to_bank, "not_a_hospital");
  CHECK(e.message.find("GZA-BB is not a hospital") != std::string::npos);
  Event to_nowhere = unit_issued(kRedCells, kIssue, AboRh::o_pos);
  to_nowhere.to = "XYZ-HOS";
  l.expect_rejected(to_nowhere, "unknown_destination");

  // A ward holds it; its hospital acts for it.
  Event to_ward = unit_issued(kRedCells, kIssue, AboRh::o_pos);
  to_ward.to = kWard;
  l.accept(to_ward);
  CHECK(l.unit(kRedCells).holder == kWard);
  l.expect_rejected(unit_transfused(kRedCells, kIssue + kHour, kGazaHospital), "not_holder");
  l.accept(unit_transfused(kRedCells, kIssue + kHour, kHospital));
}

TEST_CASE("the hospital returns a unit to a blood bank within the return window",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kPlatelets});
  l.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  l.accept(unit_issued(kPlatelets, kIssue, AboRh::o_pos));

  Event to_hospital = returned(kRedCells, kIssue + 10 * kMinute);
  to_hospital.to = kGazaHospital;
  const Error e = l.expect_rejected(to_hospital, "not_a_blood_bank");
  CHECK(e.message.find("GZA-HOS is not a blood bank") != std::string::npos);

  // Back to the issuing bank by default.
  l.accept(returned(kRedCells, kIssue + 20 * kMinute));
  CHECK(l.unit(kRedCells).holder == kBank);
  CHECK(l.status(kRedCells) == UnitStatus::available);
  CHECK(l.unit(kRedCells).issued_by.empty());
  CHECK(l.unit(kRedCells).patient.empty());
  CHECK(l.donation().history.back().detail == "from NBS-HOS to NBS-BB");

  // The bank may record the return when it takes the unit back; another bank may not.
  l.expect_rejected(returned(kPlatelets, kIssue + 2 * kHour, kGazaBank), "not_holder");
  l.accept(returned(kPlatelets, kIssue + 2 * kHour, kBank));
  CHECK(l.unit(kPlatelets).holder == kBank);
}

TEST_CASE("red cells out of storage too long cannot be returned by the hospital either",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  l.expect_rejected(returned(kRedCells, kIssue + 31 * kMinute), "out_of_storage_too_long");
  l.accept(unit_discarded(kRedCells, "out_of_storage_too_long", kIssue + 32 * kMinute, kHospital));
  CHECK(l.status(kRedCells) == UnitStatus::discarded);
}

// ---------------------------------------------------------------------------------------------
// The patient.

TEST_CASE("an issue without the patient's group is refused unless it is an emergency release",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_neg, {kRedCells});
  const Error e = l.expect_rejected(unit_issued(kRedCells, kIssue), "missing_patient_group");
  CHECK(e.message.find("emergency release") != std::string::npos);
  Event nameless = unit_issued(kRedCells, kIssue, AboRh::o_pos);
  nameless.patient.clear();
  l.expect_rejected(nameless, "missing_patient");
  CHECK(l.status(kRedCells) == UnitStatus::available);
}

TEST_CASE("an emergency release is group O red cells or group AB plasma with a reason and approver",
          "[projections][bedside]") {
  Ledger a;
  collect_test_release(a, AboRh::a_neg, {kRedCells, kPlasma});
  const Error e = a.expect_rejected(emergency_issued(kRedCells, kIssue), "emergency_group");
  CHECK(e.message ==
        "An emergency release is for group O red cells or group AB plasma; Unit G123426000017 "
        "E0336V00 is A- red cells.");
  a.expect_rejected(emergency_issued(kPlasma, kIssue), "emergency_group");

  Ledger o;
  collect_test_release(o, AboRh::o_pos, {kRedCells, kPlatelets});
  Event unsigned_release = emergency_issued(kRedCells, kIssue);
  unsigned_release.approver.clear();
  o.expect_rejected(unsigned_release, "missing_approval");
  o.expect_rejected(emergency_issued(kPlatelets, kIssue), "emergency_group");
  Event with_group = emergency_issued(kRedCells, kIssue);
  with_group.patient_abo_rh = AboRh::o_pos;
  o.expect_rejected(with_group, "emergency_with_group");
  o.accept(emergency_issued(kRedCells, kIssue));
  CHECK(o.unit(kRedCells).emergency);
  CHECK(o.donation().history.back().detail.find("EMERGENCY release approved by Dr. Rania Haddad") !=
        std::string::npos);
  CHECK(watch_keys(o.donation()) ==
        std::vector<std::string>{"e|G123426000017|E0336V00",
                                 "f|" + decimal20(kIssue) + "|G123426000017|E0336V00",
                                 "i|NBS-BB|" + decimal20(kIssue) + "|G123426000017|E0336V00"});

  Ledger ab;
  collect_test_release(ab, AboRh::ab_pos, {kPlasma});
  ab.accept(emergency_issued(kPlasma, kIssue));

  Rules group_a;
  group_a.emergency_group_a_plasma = true;
  Ledger a_plasma(group_a);
  collect_test_release(a_plasma, AboRh::a_pos, {kPlasma});
  a_plasma.accept(emergency_issued(kPlasma, kIssue));
}

TEST_CASE("the patient's group recorded after an emergency release closes or escalates it",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kPlasma});
  l.expect_rejected(patient_typed(kRedCells, AboRh::a_pos, kIssue), "not_issued");
  l.accept(emergency_issued(kRedCells, kIssue));
  Event someone_else = patient_typed(kRedCells, AboRh::a_pos, kIssue + kHour);
  someone_else.patient = kOtherPatient;
  l.expect_rejected(someone_else, "wrong_patient");
  l.expect_rejected(patient_typed(kRedCells, AboRh::a_pos, kIssue + kHour, kGazaBank),
                    "not_holder");
  l.accept(patient_typed(kRedCells, AboRh::a_pos, kIssue + kHour));
  CHECK(l.unit(kRedCells).patient_group == AboRh::a_pos);
  CHECK_FALSE(l.unit(kRedCells).group_incompatible);
  const auto keys = watch_keys(l.donation());
  CHECK(std::none_of(keys.begin(), keys.end(), [](const auto& k) { return k[0] == 'e'; }));

  // O+ red cells for an O- patient: incompatible (no approval was given), so it stays open.
  Ledger m;
  collect_test_release(m, AboRh::o_pos, {kRedCells});
  m.accept(emergency_issued(kRedCells, kIssue));
  m.accept(unit_transfused(kRedCells, kIssue + 30 * kMinute));
  m.accept(patient_typed(kRedCells, AboRh::o_neg, kIssue + kHour, kLab));
  CHECK(m.unit(kRedCells).group_incompatible);
  CHECK(m.donation().history.back().detail == "patient O-: INCOMPATIBLE with O+ red_cells");
  const auto open = watch_keys(m.donation());
  CHECK(std::count_if(open.begin(), open.end(), [](const auto& k) { return k[0] == 'e'; }) == 1);
  // A reaction report closes it.
  m.accept(transfusion_reaction(kRedCells, kIssue + 2 * kHour, ReactionCategory::haemolytic_acute));
  const auto after = watch_keys(m.donation());
  CHECK(std::none_of(after.begin(), after.end(), [](const auto& k) { return k[0] == 'e'; }));
}

TEST_CASE("the transfusion names the patient the unit was issued for", "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  Event wrong = unit_transfused(kRedCells, kIssue + kHour);
  wrong.patient = kOtherPatient;
  const Error e = l.expect_rejected(wrong, "wrong_patient");
  CHECK(e.message ==
        "Unit G123426000017 E0336V00 is for patient PAT-4411, not PAT-9032; it must "
        "not be transfused. Check the patient's identity.");
  l.accept(unit_transfused(kRedCells, kIssue + kHour));
}

TEST_CASE("a reservation's patient carries over to the issue", "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  Event reserve = unit_reserved(kRedCells, kIssue, AboRh::o_pos);
  reserve.patient = kPatient;
  l.accept(reserve);
  Event other = unit_issued(kRedCells, kIssue + kHour);
  other.patient = kOtherPatient;
  l.expect_rejected(other, "wrong_patient");
  Event issue = unit_issued(kRedCells, kIssue + kHour);  // group and patient from the reservation
  issue.patient.clear();
  l.accept(issue);
  CHECK(l.unit(kRedCells).patient == kPatient);
  CHECK(l.unit(kRedCells).patient_group == AboRh::o_pos);
}

TEST_CASE("RhD-positive red cells or platelets for an RhD-negative patient need an approval",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kPlatelets});
  const Error e = l.expect_rejected(unit_issued(kRedCells, kIssue, AboRh::o_neg), "incompatible");
  CHECK(e.message.find("need an approval (approver and reason)") != std::string::npos);
  l.expect_rejected(unit_issued(kPlatelets, kIssue, AboRh::a_neg), "incompatible");

  Event approved = unit_issued(kRedCells, kIssue, AboRh::o_neg);
  approved.approver = "Dr. Sami Odeh";
  approved.reason = "declared O- shortage";
  l.accept(approved);
  CHECK(l.unit(kRedCells).rhd_exception);
  CHECK(l.donation().history.back().detail.find("RhD exception approved by Dr. Sami Odeh") !=
        std::string::npos);
  const auto keys = watch_keys(l.donation());
  CHECK(std::count(keys.begin(), keys.end(), "r|G123426000017|E0336V00") == 1);

  // An approval never makes an ABO mismatch acceptable.
  Ledger abo;
  collect_test_release(abo, AboRh::a_neg, {kRedCells});
  Event wrong = unit_issued(kRedCells, kIssue, AboRh::o_neg);
  wrong.approver = "Dr. Sami Odeh";
  wrong.reason = "shortage";
  abo.expect_rejected(wrong, "incompatible");
}

TEST_CASE("platelets with ABO-incompatible plasma are issued with a warning",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kPlatelets});
  const Applied a = l.accept(unit_issued(kPlatelets, kIssue, AboRh::a_pos));
  REQUIRE(a.warnings.size() == 1);
  CHECK(a.warnings[0].rfind("plasma_incompatible_platelets: ", 0) == 0);

  Ledger ok;
  collect_test_release(ok, AboRh::ab_pos, {kPlatelets});
  CHECK(ok.accept(unit_issued(kPlatelets, kIssue, AboRh::a_pos)).warnings.empty());
}

// ---------------------------------------------------------------------------------------------
// Thawing.

TEST_CASE("thawing frozen plasma sets its thawed expiry from the product catalogue",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::ab_pos, {kPlasma, kCryo, kRedCells});
  const TimeMs t = kT0 + 5 * kHour;
  l.expect_rejected(thawed(kRedCells, t), "not_frozen");
  const Applied a = l.accept(thawed(kPlasma, t));
  CHECK(l.unit(kPlasma).thawed_at == t);
  CHECK(l.unit(kPlasma).expires_at == t + 24 * kHour);
  CHECK(l.stock.count({kBank, Category::plasma, AboRh::ab_pos, UnitStatus::available, true}) == 1);
  CHECK(l.stock.count({kBank, Category::plasma, AboRh::ab_pos, UnitStatus::available, false}) == 0);
  CHECK(a.stock.size() == 2);
  l.expect_rejected(thawed(kPlasma, t + kHour), "already_thawed");

  l.accept(thawed(kCryo, t));
  CHECK(l.unit(kCryo).expires_at == t + 6 * kHour);
}

TEST_CASE("a thawed expiry may be set shorter, or up to the local policy's longest",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::ab_pos, {kPlasma, kCryo});
  const TimeMs t = kT0 + 5 * kHour;
  Event too_long = thawed(kPlasma, t);
  too_long.expires_at = t + 121 * kHour;
  const Error e = l.expect_rejected(too_long, "thawed_expiry");
  CHECK(e.message.find("up to 120 hours") != std::string::npos);
  Event five_days = thawed(kPlasma, t);
  five_days.expires_at = t + 120 * kHour;
  l.accept(five_days);
  CHECK(l.unit(kPlasma).expires_at == t + 120 * kHour);
  Event pooled = thawed(kCryo, t);
  pooled.expires_at = t + 4 * kHour;
  l.accept(pooled);
  CHECK(l.unit(kCryo).expires_at == t + 4 * kHour);
}

TEST_CASE("thawed plasma never goes back to frozen stock", "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::ab_pos, {kPlasma, kCryo});
  // Issued frozen and back after two hours: it may have thawed.
  l.accept(unit_issued(kPlasma, kIssue, AboRh::a_pos));
  const Error e = l.expect_rejected(returned(kPlasma, kIssue + 2 * kHour), "thawed_no_refreeze");
  CHECK(e.message.find("must never go back to frozen stock") != std::string::npos);
  // Its thawing recorded, it comes back as thawed plasma with the thawed expiry.
  l.accept(thawed(kPlasma, kIssue + 2 * kHour, kHospital));
  l.accept(returned(kPlasma, kIssue + 3 * kHour));
  CHECK(l.status(kPlasma) == UnitStatus::available);
  CHECK(l.unit(kPlasma).expires_at == kIssue + 26 * kHour);
  CHECK(l.stock.count({kBank, Category::plasma, AboRh::ab_pos, UnitStatus::available, true}) == 1);
  // Past the thawed expiry it cannot return at all.
  l.accept(unit_issued(kPlasma, kIssue + 4 * kHour, AboRh::a_pos));
  l.expect_rejected(returned(kPlasma, kIssue + 27 * kHour), "unit_expired");

  // Frozen cryo back within the out-of-storage limit stays frozen.
  l.accept(unit_issued(kCryo, kIssue, AboRh::a_pos));
  l.accept(returned(kCryo, kIssue + 20 * kMinute));
  CHECK(l.unit(kCryo).thawed_at == 0);
}

// ---------------------------------------------------------------------------------------------
// Haemovigilance.

TEST_CASE("a suspected TRALI holds the donation's other components wherever they are",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kPlasma, kPlatelets, kCryo});
  l.accept(transfer_dispatched(kPlasma, kGazaBank, kT0 + 3 * kHour + 10 * kMinute));
  l.accept(
      unit_event(EventType::transfer_received, kPlasma, kT0 + 3 * kHour + 50 * kMinute, kGazaBank));
  l.accept(unit_discarded(kCryo, "broken_bag", kT0 + 3 * kHour + 55 * kMinute));
  l.accept(unit_issued(kPlatelets, kIssue, AboRh::o_pos));
  l.accept(unit_transfused(kPlatelets, kIssue + kHour));
  l.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));

  const Applied a =
      l.accept(transfusion_reaction(kPlatelets, kIssue + 3 * kHour, ReactionCategory::trali));
  CHECK(l.status(kPlasma) == UnitStatus::quarantined);  // at GZA-BB
  CHECK(l.unit(kPlasma).hv_hold);
  CHECK(l.unit(kPlasma).holder == kGazaBank);
  CHECK(l.unit(kRedCells).hv_hold);  // issued: held, status unchanged
  CHECK(l.status(kRedCells) == UnitStatus::issued);
  CHECK_FALSE(l.unit(kCryo).hv_hold);  // already discarded
  REQUIRE(l.donation().reactions.size() == 1);
  const Reaction& r = l.donation().reactions[0];
  CHECK(r.held == std::vector<std::string>{kRedCells, kPlasma});
  CHECK(r.issued_by == kBank);
  CHECK(r.reported_by == kHospital);
  CHECK(l.donation().history.back().detail ==
        "reaction: TRALI, severe, imputability probable, onset 2026-11-22T14:00:00Z; held the "
        "donation's other components: E0336V00 E2555V00");
  CHECK(std::count_if(a.stock.begin(), a.stock.end(), [](const StockDelta& d) {
          return d.key.facility == kGazaBank && d.key.status == UnitStatus::quarantined;
        }) == 1);
  const auto keys = watch_keys(l.donation());
  CHECK(std::count(keys.begin(), keys.end(), "q|G123426000017|E2555V00") == 1);
  CHECK(std::count(keys.begin(), keys.end(), "q|G123426000017|E0336V00") == 1);

  const Error e = l.expect_rejected(
      unit_event(EventType::unit_released, kPlasma, kIssue + 4 * kHour, kGazaBank),
      "haemovigilance_hold");
  CHECK(e.message.find("must never be released") != std::string::npos);
  // The held red cells come back to quarantine, not to the shelf.
  l.accept(returned(kRedCells, kIssue + 20 * kMinute));
  CHECK(l.status(kRedCells) == UnitStatus::quarantined);
}

TEST_CASE("a febrile reaction is recorded without holding the other components",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kPlasma});
  l.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  l.accept(transfusion_reaction(kRedCells, kIssue + 2 * kHour, ReactionCategory::febrile,
                                ReactionSeverity::non_severe));
  CHECK(l.status(kPlasma) == UnitStatus::available);
  CHECK(l.donation().reactions.at(0).held.empty());
}

TEST_CASE("a reaction is reported by the hospital holding a unit given to the patient",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kPlasma});
  l.expect_rejected(transfusion_reaction(kPlasma, kIssue, ReactionCategory::trali),
                    "not_holder");  // the bank holds it: not given to anyone
  l.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  l.expect_rejected(transfusion_reaction(kRedCells, kIssue + kHour, ReactionCategory::trali,
                                         ReactionSeverity::severe, kBank),
                    "facility_role");
  l.expect_rejected(transfusion_reaction(kRedCells, kIssue + kHour, ReactionCategory::trali,
                                         ReactionSeverity::severe, kGazaHospital),
                    "not_holder");
  Event early = transfusion_reaction(kRedCells, kIssue + kHour, ReactionCategory::febrile);
  early.onset_at = kIssue - kHour;
  l.expect_rejected(early, "invalid_onset");
  Event other = transfusion_reaction(kRedCells, kIssue + kHour, ReactionCategory::febrile);
  other.patient = kOtherPatient;
  l.expect_rejected(other, "wrong_patient");
}

// ---------------------------------------------------------------------------------------------
// Facility kinds.

TEST_CASE("each facility only does what its kind does", "[projections][bedside]") {
  Ledger l;
  Event at_hospital = donation_collected(kT0);
  at_hospital.facility = kHospital;
  const Error e = l.expect_rejected(at_hospital, "facility_role");
  CHECK(e.message == "NBS-HOS is a hospital; it may not collect a donation.");
  l.accept(donation_collected(kT0));
  l.expect_rejected(component_produced(kRedCells, kT0 + kHour, 0, kLab), "facility_role");
  l.accept(component_produced(kRedCells, kT0 + kHour));
  Event bank_result = test_resulted("abo", "O", kT0 + 2 * kHour);
  bank_result.facility = kHospital;
  l.expect_rejected(bank_result, "facility_role");
}

// ---------------------------------------------------------------------------------------------
// Old journals.

TEST_CASE("events written before schema version 4 are held to the rules of their time",
          "[projections][bedside]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kPlasma});
  const auto v2 = [](Event e) {  // version 3 (the laboratory's) had no bedside either
    e.schema_version = 3;
    e.to.clear();
    e.patient.clear();
    return e;
  };
  // No destination, no patient group, no patient: the bank kept custody.
  l.accept(v2(unit_issued(kRedCells, kIssue)));
  CHECK(l.unit(kRedCells).holder == kBank);
  CHECK(l.unit(kRedCells).issued_by.empty());
  l.accept(v2(unit_event(EventType::unit_transfused, kRedCells, kIssue + kHour)));
  // Returned frozen plasma went back to stock, as it did then.
  l.accept(v2(unit_issued(kPlasma, kIssue)));
  l.accept(v2(returned(kPlasma, kIssue + 2 * kHour, kBank)));
  CHECK(l.status(kPlasma) == UnitStatus::available);
}
