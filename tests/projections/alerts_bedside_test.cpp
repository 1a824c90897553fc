// The bedside alerts, driven by the projector's own index entries: units of
// unknown fate, emergency releases, RhD exceptions, transfusion reactions and
// the components a reaction holds.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "projections/alerts.h"
#include "projections/indexes.h"
#include "tests/projections/ledger.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const TimeMs kIssue = kT0 + 4 * kHour;

// A ledger whose index entries feed an alert model, as the engine does.
struct Rig {
  explicit Rig(SupplyConfig config = {}) : model(shipped_reference(), std::move(config)) {}
  Ledger ledger;
  AlertModel model;
  std::set<IndexEntry> fed;

  std::vector<AlertChange> accept(const Event& e) {
    ledger.accept(e);
    const auto entries = index_entries(ledger.donation());
    const std::set<IndexEntry> now(entries.begin(), entries.end());
    for (const auto& x : fed) {
      if (!now.count(x)) model.on_index(x, false);
    }
    for (const auto& x : now) {
      if (!fed.count(x)) model.on_index(x, true);
    }
    fed = now;
    return at(e.at);
  }
  std::vector<AlertChange> at(TimeMs t) {
    model.advance_clock(t);
    return model.evaluate();
  }
  const Alert* open(AlertKind k) const {
    for (const auto& [key, a] : model.open()) {
      if (a.kind == k) return &a;
    }
    return nullptr;
  }
};

}  // namespace

TEST_CASE("a unit without a recorded fate after 24 hours alerts the hospital and the issuing bank",
          "[projections][alerts][bedside]") {
  Rig r;
  collect_test_release(r.ledger, AboRh::o_pos, {kRedCells});
  r.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  CHECK(r.at(kIssue + 24 * kHour).empty());
  const auto raised = r.at(kIssue + 24 * kHour + 1);
  REQUIRE(raised.size() == 1);
  const Alert& a = raised[0].alert;
  CHECK(raised[0].action == "raised");
  CHECK(a.kind == AlertKind::unknown_fate);
  CHECK(a.severity == Severity::amber);
  CHECK(a.facility == kHospital);
  CHECK(a.notify == std::vector<std::string>{kBank});
  CHECK(a.figures["deadline"] == "2026-11-23T12:00:00Z");
  CHECK(a.message.find("Unknown fate: unit G123426000017 E0336V00") == 0);
  // It stays open until the fate is recorded.
  CHECK(r.at(kIssue + 72 * kHour).empty());
  const auto cleared = r.accept(unit_transfused(kRedCells, kIssue + 73 * kHour));
  REQUIRE(cleared.size() == 1);
  CHECK(cleared[0].action == "cleared");
}

TEST_CASE("the fate deadline is a setting", "[projections][alerts][bedside]") {
  SupplyConfig c;
  c.fate_hours = 6;
  Rig r(c);
  collect_test_release(r.ledger, AboRh::o_pos, {kRedCells});
  r.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  CHECK(r.at(kIssue + 6 * kHour).empty());
  CHECK(r.at(kIssue + 6 * kHour + 1).size() == 1);
}

TEST_CASE(
    "an emergency release is red until the group is recorded, and escalates when incompatible",
    "[projections][alerts][bedside]") {
  Rig r;
  collect_test_release(r.ledger, AboRh::o_pos, {kRedCells});
  const auto raised = r.accept(emergency_issued(kRedCells, kIssue));
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].alert.kind == AlertKind::emergency_release);
  CHECK(raised[0].alert.severity == Severity::red);
  CHECK_FALSE(raised[0].alert.ministry);
  CHECK(raised[0].alert.notify == std::vector<std::string>{kBank});

  r.accept(unit_transfused(kRedCells, kIssue + 20 * kMinute));
  Event typed = unit_event(EventType::patient_typed, kRedCells, kIssue + kHour, kLab);
  typed.patient_abo_rh = AboRh::o_neg;  // O+ given to an O- patient
  const auto escalated = r.accept(typed);
  REQUIRE(escalated.size() == 1);
  CHECK(escalated[0].action == "escalated");
  CHECK(escalated[0].alert.ministry);
  CHECK(escalated[0].alert.figures["incompatible"] == true);
  CHECK(escalated[0].alert.message.find("INCOMPATIBLE emergency release") == 0);
  CHECK(escalated[0].alert.id == raised[0].alert.id);

  const auto after = r.accept(transfusion_reaction(
      kRedCells, kIssue + 2 * kHour, ReactionCategory::other, ReactionSeverity::non_severe));
  CHECK(r.open(AlertKind::emergency_release) == nullptr);
  CHECK(r.open(AlertKind::transfusion_reaction) != nullptr);
}

TEST_CASE("a compatible group recorded after an emergency release clears its alert",
          "[projections][alerts][bedside]") {
  Rig r;
  collect_test_release(r.ledger, AboRh::o_neg, {kRedCells});
  r.accept(emergency_issued(kRedCells, kIssue));
  Event typed = unit_event(EventType::patient_typed, kRedCells, kIssue + kHour, kBank);
  typed.patient_abo_rh = AboRh::b_pos;
  const auto c = r.accept(typed);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "cleared");
}

TEST_CASE("an approved RhD exception is an amber alert while the unit is out",
          "[projections][alerts][bedside]") {
  Rig r;
  collect_test_release(r.ledger, AboRh::a_pos, {kPlatelets});
  Event e = unit_issued(kPlatelets, kIssue, AboRh::a_neg);
  e.approver = "Dr. Sami Odeh";
  e.reason = "no RhD-negative platelets in the governorate";
  const auto raised = r.accept(e);
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].alert.kind == AlertKind::rhd_exception);
  CHECK(raised[0].alert.severity == Severity::amber);
  CHECK(raised[0].alert.figures["patient_group"] == "A-");
  const auto cleared = r.accept(unit_transfused(kPlatelets, kIssue + kHour));
  REQUIRE(cleared.size() == 1);
  CHECK(cleared[0].action == "cleared");
}

TEST_CASE("a reaction alerts the issuing bank and the ministry, red when serious",
          "[projections][alerts][bedside]") {
  Rig r;
  collect_test_release(r.ledger, AboRh::o_pos, {kRedCells, kPlatelets});
  r.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  r.accept(unit_issued(kPlatelets, kIssue, AboRh::o_pos));
  const auto mild = r.accept(transfusion_reaction(
      kRedCells, kIssue + kHour, ReactionCategory::allergic, ReactionSeverity::non_severe));
  REQUIRE(mild.size() == 1);
  CHECK(mild[0].alert.kind == AlertKind::transfusion_reaction);
  CHECK(mild[0].alert.severity == Severity::amber);
  CHECK(mild[0].alert.ministry);
  CHECK(mild[0].alert.facility == kHospital);
  CHECK(mild[0].alert.notify == std::vector<std::string>{kBank});
  CHECK(mild[0].alert.figures["reaction"] == "allergic");

  const auto fatal = r.accept(transfusion_reaction(
      kPlatelets, kIssue + 2 * kHour, ReactionCategory::anaphylactic, ReactionSeverity::death));
  REQUIRE(fatal.size() == 1);
  CHECK(fatal[0].alert.severity == Severity::red);
  CHECK(fatal[0].alert.message.find("fatal anaphylaxis") != std::string::npos);
  r.accept(unit_transfused(kRedCells, kIssue + 3 * kHour));
  r.accept(unit_transfused(kPlatelets, kIssue + 3 * kHour));
  // Open for the review period (7 days by default) from each report, then cleared.
  CHECK(r.at(kIssue + 7 * kDay + kHour).empty());
  const auto first = r.at(kIssue + 7 * kDay + kHour + 1);
  REQUIRE(first.size() == 1);
  CHECK(first[0].action == "cleared");
  CHECK(first[0].alert.severity == Severity::amber);
  CHECK(r.at(kIssue + 7 * kDay + 2 * kHour + 1).size() == 1);
}

TEST_CASE("a TRALI report alerts the bank holding the sibling plasma in another governorate",
          "[projections][alerts][bedside]") {
  Rig r;
  collect_test_release(r.ledger, AboRh::o_pos, {kRedCells, kPlasma});
  r.accept(transfer_dispatched(kPlasma, kGazaBank, kT0 + 3 * kHour + 10 * kMinute));
  r.accept(
      unit_event(EventType::transfer_received, kPlasma, kT0 + 3 * kHour + 40 * kMinute, kGazaBank));
  r.accept(unit_issued(kRedCells, kIssue, AboRh::o_pos));
  r.accept(unit_transfused(kRedCells, kIssue + kHour));
  const auto c =
      r.accept(transfusion_reaction(kRedCells, kIssue + 3 * kHour, ReactionCategory::trali));
  const Alert* hold = r.open(AlertKind::haemovigilance_hold);
  REQUIRE(hold != nullptr);
  CHECK(hold->facility == kGazaBank);
  CHECK(hold->governorate == "GZA");
  CHECK(hold->severity == Severity::red);
  CHECK(hold->product == kPlasma);
  CHECK(hold->figures["cause_product"] == kRedCells);
  CHECK(c.size() == 2);  // the reaction and the hold
  // Discarding the held plasma clears the hold.
  const auto done = r.accept(unit_discarded(kPlasma, "other", kIssue + 5 * kHour, kGazaBank));
  CHECK(r.open(AlertKind::haemovigilance_hold) == nullptr);
}

TEST_CASE("bedside alerts survive their JSON form", "[projections][alerts][bedside]") {
  Alert a;
  a.id = "AL-3";
  a.key = "transfusion_reaction|ev-1";
  a.kind = AlertKind::transfusion_reaction;
  a.severity = Severity::red;
  a.governorate = "NBS";
  a.facility = kHospital;
  a.notify = {kBank};
  a.ministry = true;
  a.message = "m.";
  a.raised_at = a.updated_at = kT0;
  const auto j = alert_json(a, shipped_reference());
  CHECK(j["notify"] == nlohmann::json::array({kBank}));
  CHECK(j["ministry"] == true);
  auto back = alert_from_json(j);
  REQUIRE(back.ok());
  CHECK(*back == a);
}
