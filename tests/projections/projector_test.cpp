#include "projections/projector.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/projections/ledger.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// Stock deltas as sorted "facility|category|group|status +n" lines, readable in a failure.
using Deltas = std::vector<std::string>;

Deltas deltas(const std::vector<StockDelta>& ds) {
  Deltas out;
  for (const auto& d : ds) {
    out.push_back(encode_stock_key(d.key) + (d.change > 0 ? " +" : " ") + std::to_string(d.change));
  }
  std::sort(out.begin(), out.end());
  return out;
}
Deltas deltas(const Applied& a) { return deltas(a.stock); }
Deltas sorted(Deltas d) {
  std::sort(d.begin(), d.end());
  return d;
}

// The stock a donation occupies, as a table, to compare with the running sum of deltas.
StockTable table_of(const Donation& d) {
  StockTable t;
  for (const auto& k : stock_cells(d)) t.apply({k, 1});
  return t;
}

const TimeMs kRedCellLimit = parse_rfc3339("2027-01-03T23:59:59.999Z").value();   // day 42
const TimeMs kPlateletLimit = parse_rfc3339("2026-11-27T23:59:59.999Z").value();  // day 5

Event released(const std::string& product, TimeMs at, const std::string& facility = kBank) {
  return unit_event(EventType::unit_released, product, at, facility);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The whole life of a donation.

TEST_CASE("a donation goes from collection through testing and release to transfusion",
          "[projections]") {
  Ledger l;
  const Applied collected = l.accept(donation_collected(kT0, AboRh::o_pos));
  CHECK(collected.stock.empty());  // a donation without components occupies no stock
  CHECK(l.donation().din == kDin);
  CHECK(l.donation().facility == kBank);
  CHECK(l.donation().declared == AboRh::o_pos);
  CHECK(l.donation().collected_at == kT0);
  CHECK(l.donation().volume_ml == 450);

  l.accept(component_produced(kRedCells, kT0 + kHour));
  l.accept(component_produced(kPlasma, kT0 + kHour));
  CHECK(l.status(kRedCells) == UnitStatus::quarantined);
  CHECK(l.status(kPlasma) == UnitStatus::quarantined);
  CHECK(l.unit(kRedCells).category == Category::red_cells);
  CHECK(l.unit(kRedCells).expires_at == kRedCellLimit);

  l.accept(test_resulted("abo", "O", kT0 + 2 * kHour));
  l.accept(test_resulted("rhd", "pos", kT0 + 2 * kHour));
  for (const char* s : {"hiv", "hbv", "hcv", "syphilis"}) {
    l.accept(test_resulted(s, "negative", kT0 + 2 * kHour));
  }
  CHECK(missing_for_release(shipped_reference(), l.donation()).empty());
  CHECK(l.status(kRedCells) == UnitStatus::quarantined);  // tests alone release nothing

  l.accept(released(kRedCells, kT0 + 3 * kHour));
  l.accept(released(kPlasma, kT0 + 3 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::available);

  l.accept(unit_reserved(kRedCells, kT0 + 4 * kHour, AboRh::o_pos));
  CHECK(l.status(kRedCells) == UnitStatus::reserved);
  CHECK(l.unit(kRedCells).reserved_for == AboRh::o_pos);

  l.accept(unit_issued(kRedCells, kT0 + 5 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::issued);
  CHECK(l.unit(kRedCells).issued_at == kT0 + 5 * kHour);

  CHECK(l.unit(kRedCells).holder == kHospital);  // custody passed at issue

  const Applied transfused = l.accept(unit_transfused(kRedCells, kT0 + 6 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::transfused);
  CHECK(deltas(transfused) == Deltas{"NBS-HOS|red_cells|O+|issued -1"});

  // Only the plasma is left in stock, available.
  CHECK(l.stock == table_of(l.donation()));
  CHECK(l.stock.cells().size() == 1);
  CHECK(l.stock.count({kBank, Category::plasma, AboRh::o_pos, UnitStatus::available}) == 1);

  // Every accepted event is in the history, in order, with what it did.
  const auto& h = l.donation().history;
  REQUIRE(h.size() == 14);
  CHECK(h.front().type == EventType::donation_collected);
  CHECK(h.front().detail == "labelled O+");
  CHECK(h[3].detail == "abo: O");
  CHECK(h[3].product.empty());
  CHECK(h[11].type == EventType::unit_reserved);
  CHECK(h[11].product == kRedCells);
  CHECK(h[11].detail == "for a O+ patient");
  CHECK(h.back().type == EventType::unit_transfused);
}

TEST_CASE("replaying the same events gives the same states and the same rejections",
          "[projections]") {
  std::vector<Event> events = {
      donation_collected(kT0, AboRh::b_neg),
      component_produced(kRedCells, kT0 + kHour),
      unit_issued(kRedCells, kT0 + kHour),  // rejected: quarantined
      test_resulted("abo", "B", kT0 + 2 * kHour),
      test_resulted("rhd", "neg", kT0 + 2 * kHour),
      test_resulted("hiv", "negative", kT0 + 2 * kHour),
  };
  std::vector<std::string> codes[2];
  Donation finals[2];
  for (int run = 0; run < 2; ++run) {
    std::optional<Donation> state;
    for (const auto& e : events) {
      auto r = apply_event(shipped_reference(), Rules{}, state ? &*state : nullptr, e);
      codes[run].push_back(r ? "ok" : r.error().code);
      if (r) state = r->after;
    }
    REQUIRE(state.has_value());
    finals[run] = *state;
  }
  CHECK(codes[0] == codes[1]);
  CHECK(codes[0][2] == "unit_quarantined");
  CHECK(finals[0] == finals[1]);
}

// ---------------------------------------------------------------------------------------------
// Reference data.

TEST_CASE("an event from a facility not in reference data is rejected", "[projections]") {
  Ledger l;
  Event e = donation_collected(kT0);
  e.facility = "XYZ-BB";
  const Error err = l.expect_rejected(e, "unknown_facility");
  CHECK(err.message.find("XYZ-BB") != std::string::npos);
  CHECK_FALSE(l.has_donation());

  l.accept(donation_collected(kT0));
  CHECK(l.accept(component_produced(kRedCells, kT0 + kHour, 0, kGazaBank)).after.units.size() == 1);
  l.expect_rejected(component_produced(kPlasma, kT0 + kHour, 0, "NBS-XX"), "unknown_facility");
}

TEST_CASE("a transfer to a facility not in reference data is rejected", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.expect_rejected(transfer_dispatched(kRedCells, "XYZ-BB", kT0 + 4 * kHour),
                    "unknown_destination");
  CHECK(l.status(kRedCells) == UnitStatus::available);
  l.accept(transfer_dispatched(kRedCells, kGazaBank, kT0 + 4 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::in_transit);
}

TEST_CASE("a transfer to the facility that sends it is rejected", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.expect_rejected(transfer_dispatched(kRedCells, kBank, kT0 + 4 * kHour), "same_facility");
}

TEST_CASE("a component with a product code not in the catalogue is rejected", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  const Error e = l.expect_rejected(component_produced("E9999V00", kT0 + kHour), "unknown_product");
  CHECK(e.message.find("E9999V00") != std::string::npos);
  CHECK(l.donation().units.empty());
  l.accept(component_produced("E0382V00", kT0 + kHour));
  CHECK(l.unit("E0382V00").category == Category::red_cells);
}

TEST_CASE("a result for a test not in the catalogue is rejected", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  l.expect_rejected(test_resulted("hiv3", "negative", kT0 + kHour), "unknown_test");
  CHECK(l.donation().tests.empty());
  l.accept(test_resulted("hiv", "negative", kT0 + kHour));
  CHECK(l.donation().tests.size() == 1);
}

TEST_CASE("a result that the test cannot give is rejected", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  l.expect_rejected(test_resulted("abo", "Q", kT0 + kHour), "invalid_result");
  l.expect_rejected(test_resulted("abo", "O+", kT0 + kHour), "invalid_result");
  l.expect_rejected(test_resulted("rhd", "maybe", kT0 + kHour), "invalid_result");
  l.expect_rejected(test_resulted("abo_rh", "O", kT0 + kHour), "invalid_result");
  const Error e = l.expect_rejected(test_resulted("hiv", "blue", kT0 + kHour), "invalid_result");
  CHECK(e.message.find("negative, positive or indeterminate") != std::string::npos);
  CHECK(l.donation().typed_abo == Abo::unknown);
  CHECK(l.donation().tests.empty());

  // The usual spellings are accepted.
  l.accept(test_resulted("abo", "ab", kT0 + kHour));
  l.accept(test_resulted("rhd", "Negative", kT0 + kHour));
  l.accept(test_resulted("hiv", "non-reactive", kT0 + kHour));
  l.accept(test_resulted("antibody_screen", "anti-K detected", kT0 + kHour));  // info: any text
  CHECK(l.donation().group() == AboRh::ab_neg);
}

// ---------------------------------------------------------------------------------------------
// Donations.

TEST_CASE("a donation number is collected only once", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0, AboRh::a_pos));
  const Error e =
      l.expect_rejected(donation_collected(kT0 + kDay, AboRh::b_pos), "duplicate_donation");
  CHECK(e.message.find(kDin) != std::string::npos);
  CHECK(l.donation().declared == AboRh::a_pos);
  CHECK(l.donation().collected_at == kT0);
}

TEST_CASE("events for a donation that was never collected are rejected", "[projections]") {
  Ledger l;
  l.expect_rejected(component_produced(kRedCells, kT0), "unknown_donation");
  l.expect_rejected(test_resulted("hiv", "negative", kT0), "unknown_donation");
  l.expect_rejected(unit_issued(kRedCells, kT0), "unknown_donation");
  CHECK_FALSE(l.has_donation());
}

TEST_CASE("an event dated before its donation was collected is rejected", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  l.expect_rejected(component_produced(kRedCells, kT0 - 1), "before_collection");
  l.expect_rejected(test_resulted("hiv", "negative", kT0 - kDay), "before_collection");
  CHECK(l.donation().units.empty());
  l.accept(component_produced(kRedCells, kT0));  // the same instant is fine
}

TEST_CASE("an event that fails the shape check is rejected by the projector", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  Event e = component_produced(kRedCells, kT0 + kHour);
  e.product = "RBC";
  l.expect_rejected(e, "invalid_product");
  e = unit_discarded(kRedCells, "dropped", kT0 + kHour);
  l.expect_rejected(e, "invalid_reason");
}

// ---------------------------------------------------------------------------------------------
// Components.

TEST_CASE("a component is quarantined at the producing facility from the start", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0, AboRh::o_neg));
  const Applied a = l.accept(component_produced(kPlatelets, kT0 + kHour));
  const UnitState& u = l.unit(kPlatelets);
  CHECK(u.status == UnitStatus::quarantined);
  CHECK(u.holder == kBank);
  CHECK(u.category == Category::platelets);
  CHECK(u.produced_at == kT0 + kHour);
  CHECK_FALSE(u.tti_blocked);
  CHECK(deltas(a) == Deltas{"NBS-BB|platelets|O-|quarantined +1"});
}

TEST_CASE("a component without an expiry gets its product's shelf life from collection day",
          "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  // Produced the next day: the clock still starts on collection day (day 0).
  l.accept(component_produced(kRedCells, kT0 + kDay));
  l.accept(component_produced(kPlatelets, kT0 + kDay));
  CHECK(l.unit(kRedCells).expires_at == kRedCellLimit);
  CHECK(l.unit(kPlatelets).expires_at == kPlateletLimit);
}

TEST_CASE("a component may not expire after its donation's limit", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  const Error e = l.expect_rejected(component_produced(kRedCells, kT0 + kHour, kRedCellLimit + 1),
                                    "component_outlives_donation");
  CHECK(e.message.find("42 days") != std::string::npos);
  l.expect_rejected(component_produced(kPlatelets, kT0 + kHour, kPlateletLimit + kDay),
                    "component_outlives_donation");
  CHECK(l.donation().units.empty());

  // Exactly the limit, or earlier (e.g. after irradiation), is accepted as given.
  l.accept(component_produced(kRedCells, kT0 + kHour, kRedCellLimit));
  CHECK(l.unit(kRedCells).expires_at == kRedCellLimit);
  l.accept(component_produced(kPlatelets, kT0 + kHour, kT0 + 2 * kDay));
  CHECK(l.unit(kPlatelets).expires_at == kT0 + 2 * kDay);
}

TEST_CASE("a component is produced once per product code", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  l.accept(component_produced(kRedCells, kT0 + kHour));
  l.expect_rejected(component_produced(kRedCells, kT0 + 2 * kHour), "duplicate_component");
  CHECK(l.donation().units.size() == 1);
  // Another division of the same product is another component.
  l.accept(component_produced("E0336VA0", kT0 + 2 * kHour));
  CHECK(l.donation().units.size() == 2);
}

TEST_CASE("an event about a component that was never produced is rejected", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.expect_rejected(unit_issued(kPlasma, kT0 + 4 * kHour), "unknown_unit");
  l.expect_rejected(released(kPlasma, kT0 + 4 * kHour), "unknown_unit");
}

// ---------------------------------------------------------------------------------------------
// Release.

TEST_CASE("releasing a component before testing is rejected as untested", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0, AboRh::o_pos));
  l.accept(component_produced(kRedCells, kT0 + kHour));
  const Error e = l.expect_rejected(released(kRedCells, kT0 + 2 * kHour), "untested");
  CHECK(e.message.find("ABO typing, RhD typing") != std::string::npos);
  CHECK(e.message.find("hiv") != std::string::npos);
  CHECK(e.message.find("syphilis") != std::string::npos);
  CHECK(l.status(kRedCells) == UnitStatus::quarantined);
}

TEST_CASE("a release waits for every mandatory screen and both typings", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0, AboRh::o_pos));
  l.accept(component_produced(kRedCells, kT0 + kHour));
  const auto& ref = shipped_reference();

  l.accept(test_resulted("abo", "O", kT0 + kHour));
  CHECK(missing_for_release(ref, l.donation()) ==
        "RhD typing, a hiv screen, a hbv screen, a hcv screen, a syphilis screen");
  l.accept(test_resulted("rhd", "pos", kT0 + kHour));
  for (const char* s : {"hiv", "hbv", "hcv"}) l.accept(test_resulted(s, "negative", kT0 + kHour));
  CHECK(missing_for_release(ref, l.donation()) == "a syphilis screen");
  const Error e = l.expect_rejected(released(kRedCells, kT0 + 2 * kHour), "untested");
  CHECK(e.message.find("a syphilis screen") != std::string::npos);

  // An indeterminate screen is not a negative one: it waits for its duplicate repeats.
  l.accept(test_resulted("syphilis", "indeterminate", kT0 + kHour));
  CHECK(missing_for_release(ref, l.donation()) == "the 2 repeats of the reactive syphilis screen");
  l.expect_rejected(released(kRedCells, kT0 + 2 * kHour), "untested");
  l.accept(test_resulted("syphilis", "negative", kT0 + 2 * kHour, TestMethod::repeat));
  CHECK_FALSE(missing_for_release(ref, l.donation()).empty());

  // Optional screens that were not run are not waited for.
  l.accept(test_resulted("syphilis", "negative", kT0 + 2 * kHour, TestMethod::repeat));
  CHECK(missing_for_release(ref, l.donation()).empty());
  l.accept(released(kRedCells, kT0 + 3 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::available);
}

TEST_CASE("an ABO/RhD panel result types both ABO and RhD", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  l.accept(test_resulted("abo_rh", "B-", kT0 + kHour));
  CHECK(l.donation().typed_abo == Abo::b);
  CHECK(l.donation().typed_rhd == RhD::negative);
  CHECK(missing_for_release(shipped_reference(), l.donation()).find("typing") == std::string::npos);
}

TEST_CASE("a component whose typing disagrees with its label cannot be released", "[projections]") {
  Ledger l;
  collect_and_test(l, AboRh::a_pos, AboRh::o_pos, {kRedCells});
  const Error e = l.expect_rejected(released(kRedCells, kT0 + 3 * kHour), "blood_group_mismatch");
  CHECK(e.message.find("labelled A+") != std::string::npos);
  CHECK(e.message.find("typed O+") != std::string::npos);
  CHECK(l.status(kRedCells) == UnitStatus::quarantined);

  // An RhD discrepancy alone is a mismatch too.
  Ledger rh;
  collect_and_test(rh, AboRh::o_pos, AboRh::o_neg, {kRedCells});
  rh.expect_rejected(released(kRedCells, kT0 + 3 * kHour), "blood_group_mismatch");

  // A donation collected without a label is released on its typing.
  Ledger unlabelled;
  collect_and_test(unlabelled, AboRh::unknown, AboRh::o_pos, {kRedCells});
  unlabelled.accept(released(kRedCells, kT0 + 3 * kHour));
  CHECK(unlabelled.status(kRedCells) == UnitStatus::available);
}

TEST_CASE("releasing an already released unit is rejected", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.expect_rejected(released(kRedCells, kT0 + 4 * kHour), "unit_available");
}

// ---------------------------------------------------------------------------------------------
// Positive screens.

TEST_CASE("a component of a donation with a repeatedly reactive screen can never be released",
          "[projections]") {
  Ledger l;
  collect_and_test(l, AboRh::o_pos, AboRh::o_pos, {kRedCells});
  l.accept(test_resulted("hbv", "reactive", kT0 + 2 * kHour));
  CHECK_FALSE(l.donation().tti_positive);  // initially reactive: the repeats decide
  l.accept(test_resulted("hbv", "reactive", kT0 + 2 * kHour, TestMethod::repeat));
  CHECK(l.donation().tti_positive);
  CHECK(l.unit(kRedCells).tti_blocked);
  const Error e = l.expect_rejected(released(kRedCells, kT0 + 3 * kHour), "tti_positive");
  CHECK(e.message.find("positive screen") != std::string::npos);

  // A later negative retest does not unblock it.
  l.accept(test_resulted("hbv", "negative", kT0 + 4 * kHour));
  l.expect_rejected(released(kRedCells, kT0 + 5 * kHour), "tti_positive");

  // A component produced after the positive result is blocked from the start.
  l.accept(component_produced(kPlasma, kT0 + 5 * kHour));
  CHECK(l.unit(kPlasma).tti_blocked);
  l.expect_rejected(released(kPlasma, kT0 + 6 * kHour), "tti_positive");
}

TEST_CASE("a positive screen quarantines every component of the donation, released or not",
          "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::a_pos, {kRedCells, kPlasma, kPlatelets});
  l.accept(component_produced(kCryo, kT0 + 3 * kHour));  // still in quarantine
  l.accept(unit_reserved(kRedCells, kT0 + 4 * kHour, AboRh::a_pos));
  REQUIRE(l.status(kPlasma) == UnitStatus::available);
  REQUIRE(l.status(kPlatelets) == UnitStatus::available);

  // The initial reactive result already takes every component back into quarantine...
  const Applied a = l.accept(test_resulted("nat", "positive", kT0 + 5 * kHour));
  // ...and the reactive repeat blocks them for good.
  l.accept(test_resulted("nat", "positive", kT0 + 5 * kHour, TestMethod::repeat));
  for (const auto& p : {kRedCells, kPlasma, kPlatelets, kCryo}) {
    INFO(p);
    CHECK(l.status(p) == UnitStatus::quarantined);
    CHECK(l.unit(p).tti_blocked);
    CHECK(l.unit(p).reserved_for == AboRh::unknown);
    l.expect_rejected(released(p, kT0 + 6 * kHour), "tti_positive");
    l.expect_rejected(unit_issued(p, kT0 + 6 * kHour), "unit_quarantined");
  }
  CHECK(deltas(a) ==
        sorted({"NBS-BB|red_cells|A+|reserved -1", "NBS-BB|plasma|A+|available -1",
                "NBS-BB|platelets|A+|available -1", "NBS-BB|red_cells|A+|quarantined +1",
                "NBS-BB|plasma|A+|quarantined +1", "NBS-BB|platelets|A+|quarantined +1"}));
  CHECK(l.stock == table_of(l.donation()));
  // Nothing of this donation is available or reserved any more.
  StockFilter usable;
  usable.has_status = true;
  usable.status = UnitStatus::available;
  CHECK(l.stock.select(usable, shipped_reference()).empty());
}

TEST_CASE("a blocked unit in transit or issued comes back into quarantine, not stock",
          "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kPlasma});
  l.accept(transfer_dispatched(kPlasma, kGazaBank, kT0 + 4 * kHour));
  l.accept(unit_issued(kRedCells, kT0 + 4 * kHour, AboRh::o_pos));
  for (const auto& e : repeatedly_reactive("hiv", kT0 + 4 * kHour + 5 * kMinute)) l.accept(e);

  l.accept(unit_event(EventType::transfer_received, kPlasma, kT0 + 5 * kHour, kGazaBank));
  CHECK(l.status(kPlasma) == UnitStatus::quarantined);
  CHECK(l.unit(kPlasma).holder == kGazaBank);
  l.expect_rejected(released(kPlasma, kT0 + 6 * kHour, kGazaBank), "tti_positive");

  l.accept(
      unit_event(EventType::unit_returned, kRedCells, kT0 + 4 * kHour + 10 * kMinute, kHospital));
  CHECK(l.status(kRedCells) == UnitStatus::quarantined);
  CHECK(l.unit(kRedCells).holder == kBank);
  l.expect_rejected(unit_issued(kRedCells, kT0 + 5 * kHour), "unit_quarantined");
}

// ---------------------------------------------------------------------------------------------
// Quarantine and statuses.

TEST_CASE("issuing a quarantined unit is rejected", "[projections]") {
  Ledger l;
  collect_and_test(l, AboRh::o_pos, AboRh::o_pos, {kRedCells});
  const Error e = l.expect_rejected(unit_issued(kRedCells, kT0 + 3 * kHour), "unit_quarantined");
  CHECK(e.message.find("quarantined") != std::string::npos);
  CHECK(e.message.find("issued") != std::string::npos);
  l.expect_rejected(unit_reserved(kRedCells, kT0 + 3 * kHour), "unit_quarantined");
  l.expect_rejected(transfer_dispatched(kRedCells, kGazaBank, kT0 + 3 * kHour), "unit_quarantined");
}

TEST_CASE("a released unit can be put on hold and released again", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  Event hold = unit_event(EventType::unit_quarantined, kRedCells, kT0 + 4 * kHour);
  hold.reason = "visible clots, checking";
  const Applied a = l.accept(hold);
  CHECK(l.status(kRedCells) == UnitStatus::quarantined);
  CHECK(l.donation().history.back().detail == "visible clots, checking");
  CHECK(deltas(a) ==
        sorted({"NBS-BB|red_cells|O+|available -1", "NBS-BB|red_cells|O+|quarantined +1"}));
  l.expect_rejected(unit_issued(kRedCells, kT0 + 5 * kHour), "unit_quarantined");
  l.expect_rejected(unit_event(EventType::unit_quarantined, kRedCells, kT0 + 5 * kHour),
                    "unit_quarantined");
  // Not TTI-positive: once the check is done it may be released again.
  l.accept(released(kRedCells, kT0 + 6 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::available);
}

TEST_CASE("a reserved unit can be put on hold, which cancels the reservation", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(unit_reserved(kRedCells, kT0 + 4 * kHour, AboRh::o_pos));
  l.accept(unit_event(EventType::unit_quarantined, kRedCells, kT0 + 5 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::quarantined);
  CHECK(l.unit(kRedCells).reserved_for == AboRh::unknown);
}

TEST_CASE("a unit moves only from the statuses each action allows", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kPlasma});
  const TimeMs t = kT0 + 4 * kHour;
  l.expect_rejected(unit_event(EventType::transfer_received, kRedCells, t, kGazaBank),
                    "unit_available");
  l.expect_rejected(unit_event(EventType::reservation_released, kRedCells, t), "unit_available");
  l.expect_rejected(unit_event(EventType::unit_returned, kRedCells, t), "unit_available");

  l.accept(unit_reserved(kRedCells, t, AboRh::o_pos));
  l.expect_rejected(unit_reserved(kRedCells, t), "unit_reserved");
  l.expect_rejected(transfer_dispatched(kRedCells, kGazaBank, t), "unit_reserved");

  l.accept(unit_issued(kRedCells, t));
  // The hospital holds it now; what it cannot do, it is told by status.
  l.expect_rejected(unit_issued(kRedCells, t, AboRh::o_pos, kHospital), "facility_role");
  l.expect_rejected(unit_event(EventType::unit_thawed, kRedCells, t, kHospital), "not_frozen");
  l.accept(unit_transfused(kRedCells, t));
  l.expect_rejected(unit_transfused(kRedCells, t), "unit_transfused");
  l.expect_rejected(unit_event(EventType::unit_returned, kRedCells, t, kHospital),
                    "unit_transfused");

  l.accept(transfer_dispatched(kPlasma, kGazaBank, t));
  const Error e = l.expect_rejected(unit_issued(kPlasma, t), "unit_in_transit");
  CHECK(e.message.find(kGazaBank) != std::string::npos);
  l.expect_rejected(transfer_dispatched(kPlasma, kHospital, t), "unit_in_transit");
  l.expect_rejected(released(kPlasma, t), "unit_in_transit");
}

TEST_CASE("a reservation can be released, making the unit available again", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(unit_reserved(kRedCells, kT0 + 4 * kHour, AboRh::ab_pos));
  const Applied a =
      l.accept(unit_event(EventType::reservation_released, kRedCells, kT0 + 5 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::available);
  CHECK(l.unit(kRedCells).reserved_for == AboRh::unknown);
  CHECK(deltas(a) ==
        sorted({"NBS-BB|red_cells|O+|reserved -1", "NBS-BB|red_cells|O+|available +1"}));
}

// ---------------------------------------------------------------------------------------------
// Holders and transfers.

TEST_CASE("only the facility holding a unit may act on it", "[projections]") {
  Ledger l;
  collect_and_test(l, AboRh::o_pos, AboRh::o_pos, {kRedCells});
  const TimeMs t = kT0 + 3 * kHour;
  const Error e = l.expect_rejected(released(kRedCells, t, kGazaBank), "not_holder");
  CHECK(e.message.find("held by NBS-BB") != std::string::npos);
  l.accept(released(kRedCells, t));

  l.expect_rejected(unit_event(EventType::unit_quarantined, kRedCells, t, kGazaBank), "not_holder");
  l.expect_rejected(unit_reserved(kRedCells, t, AboRh::unknown, kGazaBank), "not_holder");
  l.expect_rejected(unit_issued(kRedCells, t, AboRh::o_pos, kGazaBank), "not_holder");
  l.expect_rejected(transfer_dispatched(kRedCells, kBank, t, kGazaBank), "not_holder");
  l.expect_rejected(unit_discarded(kRedCells, "broken_bag", t, kGazaBank), "not_holder");
  l.expect_rejected(unit_event(EventType::unit_expired, kRedCells, kRedCellLimit, kGazaBank),
                    "not_holder");
  l.accept(unit_reserved(kRedCells, t));
  l.expect_rejected(unit_event(EventType::reservation_released, kRedCells, t, kGazaBank),
                    "not_holder");
  l.accept(unit_issued(kRedCells, t, AboRh::o_pos));
  l.expect_rejected(unit_event(EventType::unit_returned, kRedCells, t, kGazaBank), "not_holder");
  l.expect_rejected(unit_transfused(kRedCells, t, kGazaHospital), "not_holder");
  CHECK(l.status(kRedCells) == UnitStatus::issued);
}

TEST_CASE("a transfer moves a unit to its destination, which then holds it", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_neg, {kRedCells});
  const Applied out = l.accept(transfer_dispatched(kRedCells, kGazaBank, kT0 + 4 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::in_transit);
  CHECK(l.unit(kRedCells).holder == kBank);  // the origin still answers for it on the road
  CHECK(l.unit(kRedCells).destination == kGazaBank);
  CHECK(l.donation().history.back().detail == "to GZA-BB");
  CHECK(deltas(out) ==
        sorted({"NBS-BB|red_cells|O-|available -1", "NBS-BB|red_cells|O-|in_transit +1"}));

  const Applied in =
      l.accept(unit_event(EventType::transfer_received, kRedCells, kT0 + 6 * kHour, kGazaBank));
  CHECK(l.status(kRedCells) == UnitStatus::available);
  CHECK(l.unit(kRedCells).holder == kGazaBank);
  CHECK(l.unit(kRedCells).destination.empty());
  CHECK(l.donation().history.back().detail == "from NBS-BB");
  CHECK(deltas(in) ==
        sorted({"NBS-BB|red_cells|O-|in_transit -1", "GZA-BB|red_cells|O-|available +1"}));

  // The new holder acts on it; the old one no longer can.
  l.expect_rejected(unit_issued(kRedCells, kT0 + 7 * kHour, AboRh::o_neg), "not_holder");
  Event issue = unit_issued(kRedCells, kT0 + 7 * kHour, AboRh::o_neg, kGazaBank);
  issue.to = kGazaHospital;
  l.accept(issue);
  CHECK(l.stock == table_of(l.donation()));
}

TEST_CASE("a transfer can be received only by its destination", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(transfer_dispatched(kRedCells, kGazaBank, kT0 + 4 * kHour));
  for (const auto& wrong : {kBank, std::string("RFH-BB"), std::string("KYS-BB")}) {
    const Error e = l.expect_rejected(
        unit_event(EventType::transfer_received, kRedCells, kT0 + 5 * kHour, wrong),
        "not_destination");
    CHECK(e.message.find("GZA-BB") != std::string::npos);
  }
  CHECK(l.status(kRedCells) == UnitStatus::in_transit);
}

// ---------------------------------------------------------------------------------------------
// Expiry.

TEST_CASE("issuing an expired unit is rejected", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kPlatelets});
  // the last millisecond is fine
  l.accept(unit_issued(kPlatelets, kPlateletLimit - 1, AboRh::o_pos));
  Ledger late;
  collect_test_release(late, AboRh::o_pos, {kPlatelets});
  const Error e =
      late.expect_rejected(unit_issued(kPlatelets, kPlateletLimit, AboRh::o_pos), "unit_expired");
  CHECK(e.message.find("2026-11-27T23:59:59.999Z") != std::string::npos);
  CHECK(late.status(kPlatelets) == UnitStatus::available);
}

TEST_CASE("an expired unit cannot be released, reserved, dispatched or returned", "[projections]") {
  const TimeMs after = kPlateletLimit + kHour;
  Ledger l;
  collect_and_test(l, AboRh::o_pos, AboRh::o_pos, {kPlatelets, kRedCells});
  l.expect_rejected(released(kPlatelets, after), "unit_expired");
  l.accept(released(kRedCells, kT0 + 3 * kHour));

  Ledger r;
  collect_test_release(r, AboRh::o_pos, {kPlatelets});
  r.expect_rejected(unit_reserved(kPlatelets, after), "unit_expired");
  r.expect_rejected(transfer_dispatched(kPlatelets, kGazaBank, after), "unit_expired");
  r.accept(unit_issued(kPlatelets, kPlateletLimit - kMinute, AboRh::o_pos));
  r.expect_rejected(unit_event(EventType::unit_returned, kPlatelets, kPlateletLimit, kHospital),
                    "unit_expired");
}

TEST_CASE("a unit is recorded as expired only once its expiry has passed", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kPlatelets});
  const Error e = l.expect_rejected(
      unit_event(EventType::unit_expired, kPlatelets, kPlateletLimit - 1), "not_yet_expired");
  CHECK(e.message.find("2026-11-27T23:59:59.999Z") != std::string::npos);
  CHECK(l.status(kPlatelets) == UnitStatus::available);

  const Applied a = l.accept(unit_event(EventType::unit_expired, kPlatelets, kPlateletLimit));
  CHECK(l.status(kPlatelets) == UnitStatus::expired);
  CHECK(deltas(a) == Deltas{"NBS-BB|platelets|O+|available -1"});
  CHECK(l.stock.cells().empty());
}

TEST_CASE("a unit still in quarantine or in transit can expire", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kPlatelets});
  l.accept(transfer_dispatched(kPlatelets, kGazaBank, kT0 + 4 * kHour));
  l.accept(unit_event(EventType::unit_expired, kPlatelets, kPlateletLimit + kHour));
  CHECK(l.status(kPlatelets) == UnitStatus::expired);
  CHECK(l.unit(kPlatelets).destination.empty());
  l.expect_rejected(
      unit_event(EventType::transfer_received, kPlatelets, kPlateletLimit + kDay, kGazaBank),
      "unit_expired");

  Ledger q;
  q.accept(donation_collected(kT0));
  q.accept(component_produced(kPlatelets, kT0 + kHour));
  q.accept(unit_event(EventType::unit_expired, kPlatelets, kPlateletLimit));
  CHECK(q.status(kPlatelets) == UnitStatus::expired);
  CHECK(q.stock.cells().empty());
}

// ---------------------------------------------------------------------------------------------
// Patients.

TEST_CASE("reserving or issuing for an incompatible patient is rejected", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::a_pos, {kRedCells, kPlasma, kWholeBlood});
  const TimeMs t = kT0 + 4 * kHour;
  const Error e = l.expect_rejected(unit_reserved(kRedCells, t, AboRh::o_pos), "incompatible");
  CHECK(e.message.find("A+") != std::string::npos);
  l.expect_rejected(unit_reserved(kRedCells, t, AboRh::a_neg), "incompatible");  // RhD
  l.expect_rejected(unit_issued(kRedCells, t, AboRh::b_pos), "incompatible");
  l.expect_rejected(unit_issued(kPlasma, t, AboRh::b_pos), "incompatible");
  l.expect_rejected(unit_issued(kWholeBlood, t, AboRh::ab_pos), "incompatible");
  CHECK(l.status(kRedCells) == UnitStatus::available);

  // Compatible: A+ red cells for AB+, A+ plasma for an O- patient (RhD does not matter).
  l.accept(unit_reserved(kRedCells, t, AboRh::ab_pos));
  l.accept(unit_issued(kPlasma, t, AboRh::o_neg));
  CHECK(l.donation().history.back().detail == "to NBS-HOS for PAT-4411 (O-)");
  // No patient group: refused, never unchecked (an emergency release is group O red cells).
  l.expect_rejected(unit_issued(kWholeBlood, t), "missing_patient_group");
  l.expect_rejected(emergency_issued(kWholeBlood, t), "emergency_group");
  CHECK(l.status(kWholeBlood) == UnitStatus::available);
}

TEST_CASE("a reserved unit is issued against its reservation's patient group", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(unit_reserved(kRedCells, kT0 + 4 * kHour, AboRh::a_pos));
  // A different patient group on the issue is checked instead.
  l.expect_rejected(unit_issued(kRedCells, kT0 + 5 * kHour, AboRh::o_neg), "incompatible");
  l.accept(unit_issued(kRedCells, kT0 + 5 * kHour));
  CHECK(l.donation().history.back().detail == "to NBS-HOS for PAT-4411 (A+)");
  CHECK(l.unit(kRedCells).reserved_for == AboRh::unknown);
  CHECK(l.unit(kRedCells).patient_group == AboRh::a_pos);
}

// ---------------------------------------------------------------------------------------------
// Returns.

TEST_CASE("red cells returned within 30 minutes go back to stock", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  const TimeMs issued = kT0 + 4 * kHour;
  l.accept(unit_issued(kRedCells, issued, AboRh::o_pos));
  const Applied a =
      l.accept(unit_event(EventType::unit_returned, kRedCells, issued + 30 * kMinute, kHospital));
  CHECK(l.status(kRedCells) == UnitStatus::available);
  CHECK(deltas(a) ==
        sorted({"NBS-HOS|red_cells|O+|issued -1", "NBS-BB|red_cells|O+|available +1"}));
  // It may be issued again, and the clock restarts from the new issue.
  l.accept(unit_issued(kRedCells, issued + 2 * kHour, AboRh::o_pos));
  l.accept(unit_event(EventType::unit_returned, kRedCells, issued + 2 * kHour + 29 * kMinute,
                      kHospital));
  CHECK(l.status(kRedCells) == UnitStatus::available);
}

TEST_CASE("red cells and whole blood out of storage over 30 minutes cannot be returned",
          "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells, kWholeBlood});
  const TimeMs issued = kT0 + 4 * kHour;
  l.accept(unit_issued(kRedCells, issued, AboRh::o_pos));
  l.accept(unit_issued(kWholeBlood, issued, AboRh::o_pos));
  const Error e = l.expect_rejected(
      unit_event(EventType::unit_returned, kRedCells, issued + 30 * kMinute + 1, kHospital),
      "out_of_storage_too_long");
  CHECK(e.message.find("30 minutes") != std::string::npos);
  l.expect_rejected(
      unit_event(EventType::unit_returned, kWholeBlood, issued + 2 * kHour, kHospital),
      "out_of_storage_too_long");
  CHECK(l.status(kRedCells) == UnitStatus::issued);
  // The way out is a discard, by the hospital that holds it.
  l.accept(unit_discarded(kRedCells, "out_of_storage_too_long", issued + 31 * kMinute, kHospital));
  CHECK(l.status(kRedCells) == UnitStatus::discarded);
}

TEST_CASE(
    "platelets are not held to the 30-minute return rule, and plasma out that long "
    "never goes back to frozen stock",
    "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kPlasma, kPlatelets});
  const TimeMs issued = kT0 + 4 * kHour;
  l.accept(unit_issued(kPlasma, issued, AboRh::o_pos));
  l.accept(unit_issued(kPlatelets, issued, AboRh::o_pos));
  // It used to go back to stock as frozen plasma with its 12-month expiry.
  l.expect_rejected(unit_event(EventType::unit_returned, kPlasma, issued + 2 * kHour, kHospital),
                    "thawed_no_refreeze");
  CHECK(l.status(kPlasma) == UnitStatus::issued);
  l.accept(unit_event(EventType::unit_returned, kPlatelets, issued + 2 * kHour, kHospital));
  CHECK(l.status(kPlatelets) == UnitStatus::available);
}

TEST_CASE("the out-of-storage limit is a rule that can be configured", "[projections]") {
  Rules strict;
  strict.max_out_of_storage = 10 * kMinute;
  Ledger l(strict);
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  const TimeMs issued = kT0 + 4 * kHour;
  l.accept(unit_issued(kRedCells, issued, AboRh::o_pos));
  const Error e = l.expect_rejected(
      unit_event(EventType::unit_returned, kRedCells, issued + 11 * kMinute, kHospital),
      "out_of_storage_too_long");
  CHECK(e.message.find("10 minutes") != std::string::npos);
  l.accept(unit_event(EventType::unit_returned, kRedCells, issued + 10 * kMinute, kHospital));
}

// ---------------------------------------------------------------------------------------------
// Final states.

TEST_CASE("a transfused unit never changes again", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(unit_issued(kRedCells, kT0 + 4 * kHour, AboRh::o_pos));
  l.accept(unit_transfused(kRedCells, kT0 + 5 * kHour));
  const TimeMs t = kT0 + 6 * kHour;
  const Error e =
      l.expect_rejected(unit_discarded(kRedCells, "other", t, kHospital), "unit_transfused");
  CHECK(e.message.find("transfused") != std::string::npos);
  l.expect_rejected(unit_event(EventType::unit_returned, kRedCells, t, kHospital),
                    "unit_transfused");
  l.expect_rejected(unit_transfused(kRedCells, t), "unit_transfused");
  l.expect_rejected(unit_event(EventType::unit_expired, kRedCells, kRedCellLimit, kHospital),
                    "unit_transfused");
  // It went to a patient: that is the reason an issue is refused, whoever asks.
  l.expect_rejected(unit_issued(kRedCells, t, AboRh::o_pos), "unit_transfused");
  // The bank no longer holds it.
  l.expect_rejected(released(kRedCells, t), "not_holder");
  // A positive screen afterwards does not rewrite the past either.
  l.accept(test_resulted("hcv", "positive", t));
  CHECK(l.status(kRedCells) == UnitStatus::transfused);
}

TEST_CASE("a discarded unit never changes again", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  const Applied a = l.accept(unit_discarded(kRedCells, "haemolysis", kT0 + 4 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::discarded);
  CHECK(l.donation().history.back().detail == "haemolysis");
  CHECK(deltas(a) == Deltas{"NBS-BB|red_cells|O+|available -1"});
  const TimeMs t = kT0 + 5 * kHour;
  l.expect_rejected(unit_discarded(kRedCells, "other", t), "unit_discarded");
  l.expect_rejected(unit_issued(kRedCells, t), "unit_discarded");
  l.expect_rejected(released(kRedCells, t), "unit_discarded");
  l.expect_rejected(unit_event(EventType::unit_quarantined, kRedCells, t), "unit_discarded");
  l.expect_rejected(unit_event(EventType::unit_expired, kRedCells, kRedCellLimit),
                    "unit_discarded");
}

TEST_CASE("an expired unit never changes again", "[projections]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kPlatelets});
  l.accept(unit_event(EventType::unit_expired, kPlatelets, kPlateletLimit));
  const TimeMs t = kPlateletLimit + kHour;
  l.expect_rejected(unit_event(EventType::unit_expired, kPlatelets, t), "unit_expired");
  l.expect_rejected(unit_discarded(kPlatelets, "expired", t), "unit_expired");
  l.expect_rejected(unit_issued(kPlatelets, t), "unit_expired");
}

TEST_CASE("a unit can be discarded from quarantine, stock, transit or issue", "[projections]") {
  Ledger l;
  l.accept(donation_collected(kT0, AboRh::o_pos));
  l.accept(component_produced(kRedCells, kT0 + kHour));
  l.accept(unit_discarded(kRedCells, "under_collection", kT0 + 2 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::discarded);

  Ledger m;
  collect_test_release(m, AboRh::o_pos, {kPlasma, kPlatelets});
  m.accept(transfer_dispatched(kPlasma, kGazaBank, kT0 + 4 * kHour));
  m.accept(unit_discarded(kPlasma, "temperature_excursion", kT0 + 5 * kHour));
  CHECK(m.status(kPlasma) == UnitStatus::discarded);
  CHECK(m.unit(kPlasma).destination.empty());
  m.accept(unit_issued(kPlatelets, kT0 + 4 * kHour, AboRh::o_pos));
  m.accept(unit_discarded(kPlatelets, "other", kT0 + 5 * kHour, kHospital));
  CHECK(m.status(kPlatelets) == UnitStatus::discarded);
  CHECK(m.stock.cells().empty());
}

// ---------------------------------------------------------------------------------------------
// Stock deltas.

TEST_CASE("each transition moves exactly one unit between stock cells", "[projections][stock]") {
  Ledger l;
  CHECK(l.accept(donation_collected(kT0, AboRh::b_pos)).stock.empty());
  CHECK(deltas(l.accept(component_produced(kRedCells, kT0 + kHour))) ==
        Deltas{"NBS-BB|red_cells|B+|quarantined +1"});
  // Typing that agrees with the label and negative screens change no stock.
  CHECK(l.accept(test_resulted("abo", "B", kT0 + 2 * kHour)).stock.empty());
  CHECK(l.accept(test_resulted("rhd", "pos", kT0 + 2 * kHour)).stock.empty());
  for (const char* s : {"hiv", "hbv", "hcv", "syphilis"}) {
    CHECK(l.accept(test_resulted(s, "negative", kT0 + 2 * kHour)).stock.empty());
  }
  CHECK(deltas(l.accept(released(kRedCells, kT0 + 3 * kHour))) ==
        sorted({"NBS-BB|red_cells|B+|quarantined -1", "NBS-BB|red_cells|B+|available +1"}));
  CHECK(deltas(l.accept(unit_reserved(kRedCells, kT0 + 4 * kHour, AboRh::b_pos))) ==
        sorted({"NBS-BB|red_cells|B+|available -1", "NBS-BB|red_cells|B+|reserved +1"}));
  CHECK(deltas(l.accept(unit_issued(kRedCells, kT0 + 5 * kHour))) ==
        sorted({"NBS-BB|red_cells|B+|reserved -1", "NBS-HOS|red_cells|B+|issued +1"}));
  CHECK(deltas(l.accept(unit_transfused(kRedCells, kT0 + 6 * kHour))) ==
        Deltas{"NBS-HOS|red_cells|B+|issued -1"});
  CHECK(l.stock.cells().empty());
}

TEST_CASE("a typing that disagrees with the label keeps the label's group until it is resolved",
          "[projections][stock]") {
  Ledger l;
  l.accept(donation_collected(kT0, AboRh::a_pos));
  l.accept(component_produced(kRedCells, kT0 + kHour));
  l.accept(component_produced(kPlasma, kT0 + kHour));
  CHECK(l.stock.count({kBank, Category::red_cells, AboRh::a_pos, UnitStatus::quarantined}) == 1);

  // Typed O-: a discrepancy with the label, which still counts.
  CHECK(l.accept(test_resulted("abo", "O", kT0 + 2 * kHour)).stock.empty());
  CHECK(l.accept(test_resulted("rhd", "neg", kT0 + 2 * kHour)).stock.empty());
  CHECK(l.donation().typing_discrepancy);
  // Resolved as O-: the units move to the resolved group (and are relabelled).
  Event resolved = make_event(EventType::typing_resolved, kT0 + 3 * kHour, kLab);
  resolved.abo_rh = AboRh::o_neg;
  const Applied rhd = l.accept(resolved);
  CHECK(deltas(rhd) ==
        sorted({"NBS-BB|red_cells|A+|quarantined -1", "NBS-BB|red_cells|O-|quarantined +1",
                "NBS-BB|plasma|A+|quarantined -1", "NBS-BB|plasma|O-|quarantined +1"}));
  CHECK(l.stock.count({kBank, Category::red_cells, AboRh::a_pos, UnitStatus::quarantined}) == 0);
  CHECK(l.stock.count({kBank, Category::red_cells, AboRh::o_neg, UnitStatus::quarantined}) == 1);
  CHECK(l.stock == table_of(l.donation()));
}

TEST_CASE("typing gives a group to units collected without a label", "[projections][stock]") {
  Ledger l;
  l.accept(donation_collected(kT0));
  CHECK(deltas(l.accept(component_produced(kRedCells, kT0 + kHour))) ==
        Deltas{"NBS-BB|red_cells|unknown|quarantined +1"});
  const Applied panel = l.accept(test_resulted("abo_rh", "AB-", kT0 + 2 * kHour));
  CHECK(deltas(panel) ==
        sorted({"NBS-BB|red_cells|unknown|quarantined -1", "NBS-BB|red_cells|AB-|quarantined +1"}));
}

TEST_CASE("a rejected event changes no stock and leaves no history", "[projections][stock]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  const StockTable before = l.stock;
  const std::size_t history = l.donation().history.size();
  l.expect_rejected(unit_issued(kRedCells, kT0 + 4 * kHour, AboRh::a_neg), "incompatible");
  CHECK(l.stock == before);
  CHECK(l.donation().history.size() == history);
  CHECK(l.stock == table_of(l.donation()));
}

namespace {

Event unit_recalled(const std::string& product, const std::string& test, TimeMs at,
                    const std::string& facility = kGazaBank) {
  Event e = recall_event(kDin, product, facility, test, kOtherDin, at);
  e.id = next_event_id();
  return e;
}

}  // namespace

TEST_CASE("a lookback recall quarantines an available unit for good, with its deadline",
          "[projections][lookback]") {
  Ledger l;
  collect_test_release(l, AboRh::o_neg, {kRedCells, kPlasma});
  // The recall comes from another governorate's bank, where the donor later screened positive.
  auto a = l.accept(unit_recalled(kRedCells, "hiv", kT0 + kDay));
  CHECK(sorted(deltas(a)) ==
        sorted({kBank + "|red_cells|O-|available -1", kBank + "|red_cells|O-|quarantined +1"}));
  const Recall* r = l.donation().recall(kRedCells);
  REQUIRE(r != nullptr);
  CHECK(r->open);
  CHECK(r->deadline == kT0 + kDay + 72 * kHour);  // HIV: 72 h
  CHECK(r->status_then == "available");
  const Error e = l.expect_rejected(unit_event(EventType::unit_released, kRedCells, kT0 + 2 * kDay),
                                    "recalled");
  CHECK(e.message.find("lookback") != std::string::npos);
  l.expect_rejected(unit_issued(kRedCells, kT0 + 2 * kDay), "unit_quarantined");
  l.expect_rejected(unit_recalled(kRedCells, "hiv", kT0 + 2 * kDay), "already_recalled");
  // The plasma, recalled for HBsAg, gets 7 days.
  l.accept(unit_recalled(kPlasma, "hbv", kT0 + kDay));
  CHECK(l.donation().recall(kPlasma)->deadline == kT0 + kDay + 168 * kHour);
  // Discarding the unit closes its recall.
  l.accept(unit_discarded(kRedCells, "tti_positive", kT0 + 2 * kDay));
  CHECK_FALSE(l.donation().recall(kRedCells)->open);
}

TEST_CASE("a recall of a unit already transfused opens a recipient-notification task",
          "[projections][lookback]") {
  Ledger l;
  collect_test_release(l, AboRh::a_pos, {kRedCells});
  l.accept(unit_issued(kRedCells, kT0 + 4 * kHour, AboRh::a_pos));
  l.accept(unit_transfused(kRedCells, kT0 + 5 * kHour));
  auto a = l.accept(unit_recalled(kRedCells, "hcv", kT0 + kDay));
  CHECK(a.stock.empty());
  const Recall* r = l.donation().recall(kRedCells);
  REQUIRE(r != nullptr);
  CHECK_FALSE(r->open);
  CHECK(r->status_then == "transfused");
  CHECK(r->notify_open);
  CHECK(r->transfused_by == kHospital);
  CHECK(r->patient == kPatient);
  CHECK(r->notify_deadline == kT0 + kDay + Rules{}.notify_recipient_within);
  CHECK(l.donation().history.back().detail.find("notified by") != std::string::npos);
  // Only the notification closes it, once.
  l.accept(unit_event(EventType::recipient_notified, kRedCells, kT0 + 3 * kDay, kHospital));
  CHECK_FALSE(l.donation().recall(kRedCells)->notify_open);
  CHECK(l.donation().recall(kRedCells)->notified_at == kT0 + 3 * kDay);
  l.expect_rejected(unit_event(EventType::recipient_notified, kRedCells, kT0 + 4 * kDay),
                    "no_notification_task");
}

TEST_CASE("only a screen with a lookback period can recall a unit", "[projections][lookback]") {
  Ledger l;
  collect_test_release(l, AboRh::b_pos, {kRedCells});
  l.expect_rejected(unit_recalled(kRedCells, "syphilis", kT0 + kDay), "not_a_lookback_test");
  l.expect_rejected(unit_recalled(kRedCells, "abo", kT0 + kDay), "not_a_lookback_test");
}
