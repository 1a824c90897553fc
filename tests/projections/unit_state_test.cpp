#include "projections/unit_state.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/projections/ledger.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// A donation with history, test records and units in several states, built by the projector.
Donation lived_donation() {
  Ledger l;
  collect_test_release(l, AboRh::a_neg, {kRedCells, kPlasma, kPlatelets});
  l.accept(unit_reserved(kRedCells, kT0 + 4 * kHour, AboRh::a_neg));
  l.accept(transfer_dispatched(kPlasma, kGazaBank, kT0 + 4 * kHour));
  l.accept(unit_discarded(kPlatelets, "broken_bag", kT0 + 5 * kHour));
  return l.donation();
}

}  // namespace

TEST_CASE("a donation survives encode and decode unchanged", "[projections][unit_state]") {
  const Donation d = lived_donation();
  REQUIRE(d.units.size() == 3);
  REQUIRE(d.tests.size() == 6);
  REQUIRE_FALSE(d.history.empty());
  auto back = decode_donation(encode_donation(d));
  REQUIRE(back.ok());
  CHECK(*back == d);
  CHECK(back->unit(kRedCells)->status == UnitStatus::reserved);
  CHECK(back->unit(kRedCells)->reserved_for == AboRh::a_neg);
  CHECK(back->unit(kPlasma)->destination == kGazaBank);
}

TEST_CASE("a donation with every field set round-trips, Arabic text included",
          "[projections][unit_state]") {
  Donation d;
  d.din = kDin;
  d.donor = "donor-1";
  d.facility = kBank;
  d.collected_at = -5;  // times before the epoch are kept too
  d.volume_ml = 450;
  d.declared = AboRh::ab_pos;
  d.typed_abo = Abo::ab;
  d.typed_rhd = RhD::positive;
  d.tti_positive = true;
  d.tests.push_back(TestRecord{"hiv", "reactive", kT0, "ev-1", TestMethod::screen, "NBS-LAB"});
  d.tests.push_back(TestRecord{"hiv", "reactive", kT0 + kHour, "ev-1b", TestMethod::repeat, ""});
  d.markers.push_back(MarkerState{"hiv", MarkerStatus::repeatedly_reactive, kT0 + kHour});
  d.typing_discrepancy = true;
  d.discrepancy = "labelled AB+, typed A";
  d.deferred_reason = "donation_interval";
  d.deferred_until = kT0 + 30 * kDay;
  Recall rc;
  rc.product = kPlatelets;
  rc.test = "hiv";
  rc.notify_open = true;
  rc.notify_deadline = kT0 + 84 * kDay;
  rc.transfused_by = kGazaBank;
  rc.patient = "PAT-1";
  d.recalls.push_back(rc);
  UnitState u;
  u.product = kPlatelets;
  u.category = Category::platelets;
  u.status = UnitStatus::in_transit;
  u.holder = kBank;
  u.destination = kGazaBank;
  u.produced_at = kT0;
  u.expires_at = kT0 + 5 * kDay;
  u.issued_at = kT0 + kHour;
  u.volume_ml = 250;
  u.reserved_for = AboRh::o_neg;
  u.tti_blocked = true;
  u.released = true;
  d.units.push_back(u);
  d.history.push_back(
      HistoryEntry{"ev-2", EventType::unit_quarantined, kT0, kBank, kPlatelets, "ملاحظة: held"});
  auto back = decode_donation(encode_donation(d));
  REQUIRE(back.ok());
  CHECK(*back == d);
  CHECK(back->history[0].detail == "ملاحظة: held");

  auto empty = decode_donation(encode_donation(Donation{}));
  REQUIRE(empty.ok());
  CHECK(*empty == Donation{});
}

TEST_CASE("stored donation bytes that are cut short give corrupt_state, not a crash",
          "[projections][unit_state]") {
  const std::string bytes = encode_donation(lived_donation());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_donation(std::string_view(bytes).substr(0, n));
    INFO(n << " of " << bytes.size() << " bytes");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "corrupt_state");
  }
}

TEST_CASE("stored donation bytes in an unknown format give corrupt_state",
          "[projections][unit_state]") {
  std::string bytes = encode_donation(lived_donation());
  bytes[0] = 9;
  auto r = decode_donation(bytes);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "corrupt_state");
  CHECK_FALSE(r.error().message.empty());
  CHECK_FALSE(decode_donation("").ok());
  CHECK_FALSE(decode_donation(std::string("\x01", 1)).ok());
}

TEST_CASE("a stored donation claiming an impossible length gives corrupt_state",
          "[projections][unit_state]") {
  // Format byte, cereal's endianness flag, then the DIN's 64-bit length: make it absurd.
  std::string bytes = encode_donation(lived_donation());
  REQUIRE(bytes.size() > 10);
  for (std::size_t i = 2; i < 10; ++i) bytes[i] = '\xff';
  auto r = decode_donation(bytes);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "corrupt_state");
}

TEST_CASE("a donation counts under its typed group once ABO and RhD are both typed",
          "[projections][unit_state]") {
  Donation d;
  CHECK(d.group() == AboRh::unknown);
  d.declared = AboRh::a_pos;
  CHECK(d.group() == AboRh::a_pos);
  d.typed_abo = Abo::o;
  CHECK(d.group() == AboRh::a_pos);  // RhD not typed yet: the label still counts
  d.typed_rhd = RhD::negative;
  CHECK(d.group() == AboRh::o_neg);
  d.declared = AboRh::unknown;
  CHECK(d.group() == AboRh::o_neg);
}

TEST_CASE("a donation finds its units and test records by code", "[projections][unit_state]") {
  Donation d = lived_donation();
  REQUIRE(d.unit(kPlasma) != nullptr);
  CHECK(d.unit(kPlasma)->category == Category::plasma);
  CHECK(d.unit(kCryo) == nullptr);
  REQUIRE(d.test("hiv") != nullptr);
  CHECK(d.test("hiv")->result == "negative");
  CHECK(d.test("nat") == nullptr);
  d.unit(kPlasma)->volume_ml = 200;  // the mutable overload gives the stored unit
  CHECK(d.unit(kPlasma)->volume_ml == 200);
}

TEST_CASE("transfused, discarded and expired are final and the rest count in stock",
          "[projections][unit_state]") {
  for (UnitStatus s : {UnitStatus::transfused, UnitStatus::discarded, UnitStatus::expired}) {
    CHECK(is_final(s));
    CHECK_FALSE(in_stock(s));
  }
  for (UnitStatus s : kStockStatuses) {
    CHECK_FALSE(is_final(s));
    CHECK(in_stock(s));
  }
}

TEST_CASE("unit statuses are named and parsed the same way", "[projections][unit_state]") {
  for (int i = 1; i <= 8; ++i) {
    const auto s = static_cast<UnitStatus>(i);
    UnitStatus back = UnitStatus::available;
    REQUIRE(parse_unit_status(to_string(s), back));
    CHECK(back == s);
  }
  CHECK(to_string(UnitStatus::in_transit) == "in_transit");
  UnitStatus out = UnitStatus::available;
  CHECK_FALSE(parse_unit_status("unknown", out));
  CHECK_FALSE(parse_unit_status("Available", out));
}
