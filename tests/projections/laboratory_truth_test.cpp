// Laboratory truth (issue 18), as pure projections: results kept as a history,
// duplicate repeats and confirmatory tests, donor status, typing
// discrepancies, lookback to the recipient, positive after release, and
// stock-outs that stay Red.
#include <catch2/catch.hpp>

#include "connectors/fhir.h"
#include "connectors/hl7_lab.h"
#include "projections/alerts.h"
#include "projections/donors.h"
#include "projections/indexes.h"
#include "projections/markers.h"
#include "projections/partition_replay.h"
#include "tests/connectors/connector_fixture.h"
#include "tests/projections/ledger.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

Event released(const std::string& product, TimeMs at, const std::string& facility = kBank) {
  return unit_event(EventType::unit_released, product, at, facility);
}

void accept_all(Ledger& l, const std::vector<Event>& events) {
  for (const auto& e : events) l.accept(e);
}

MarkerStatus status_of(const Ledger& l, const std::string& marker) {
  const MarkerState* m = l.donation().marker(marker);
  return m ? m->status : MarkerStatus::not_tested;
}

// A partition replay of `events`, for the donor shares it folds.
PartitionState replayed(const std::vector<Event>& events) {
  PartitionReplay r(shipped_reference(), Rules{});
  for (const auto& e : events) {
    INFO(to_string(e.type) << " " << e.id);
    REQUIRE(r.apply(e).ok());
  }
  return std::move(r.state());
}

// The alert model fed the 'q' entries of a donation as it now is.
struct AttentionHarness {
  AlertModel model{shipped_reference(), SupplyConfig{}};
  std::vector<IndexEntry> fed;
  void show(const Donation& d) {
    std::vector<IndexEntry> now = index_entries(d);
    for (const auto& e : fed) {
      if (std::find(now.begin(), now.end(), e) == now.end()) model.on_index(e, false);
    }
    for (const auto& e : now) {
      if (std::find(fed.begin(), fed.end(), e) == fed.end()) model.on_index(e, true);
    }
    fed = std::move(now);
  }
  std::vector<AlertChange> at(TimeMs t) {
    model.advance_clock(t);
    return model.evaluate();
  }
  const Alert* open(AlertKind kind) const {
    for (const auto& [key, a] : model.open()) {
      if (a.kind == kind) return &a;
    }
    return nullptr;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Results are a history.

TEST_CASE("every result of a test is kept in order with its lab, time and method",
          "[projections][laboratory]") {
  Ledger l;
  collect_and_test(l, AboRh::o_pos, AboRh::o_pos, {kRedCells});
  accept_all(l, repeatedly_reactive("hiv", kT0 + 3 * kHour));
  l.accept(test_resulted("hiv_confirm", "negative", kT0 + 2 * kDay, TestMethod::confirmatory));

  const Donation& d = l.donation();
  std::vector<std::string> hiv;
  for (const auto& t : d.tests) {
    if (t.test == "hiv") hiv.push_back(t.result + "/" + std::string(to_string(t.method)));
  }
  CHECK(hiv == std::vector<std::string>{"negative/", "positive/screen", "positive/repeat"});
  CHECK(d.tests.back().test == "hiv_confirm");
  CHECK(d.tests.back().facility == kLab);
  CHECK(d.tests.back().at == kT0 + 2 * kDay);
  // The negative confirmation overwrote nothing: the screen is still what it was,
  // and the donation stays blocked for good.
  CHECK(d.test("hiv")->result == "positive");
  CHECK(status_of(l, "hiv") == MarkerStatus::not_confirmed);
  CHECK(d.tti_positive);
  l.expect_rejected(released(kRedCells, kT0 + 3 * kDay), "tti_positive");
}

TEST_CASE("a confirmatory result is recorded under its own test, never as the screen's",
          "[projections][laboratory]") {
  Ledger l;
  collect_and_test(l, AboRh::o_pos, AboRh::o_pos, {kRedCells});
  l.expect_rejected(test_resulted("hiv", "negative", kT0 + kDay, TestMethod::confirmatory),
                    "invalid_method");
  l.expect_rejected(test_resulted("hiv_confirm", "negative", kT0 + kDay, TestMethod::repeat),
                    "invalid_method");
}

// ---------------------------------------------------------------------------------------------
// 2. Grey zone: initially reactive until the duplicate repeats are in.

TEST_CASE("a grey-zone result then two negative repeats releases the donation",
          "[projections][laboratory]") {
  Ledger l;
  collect_and_test(l, AboRh::a_pos, AboRh::a_pos, {kRedCells});
  l.accept(test_resulted("hcv", "indeterminate", kT0 + 3 * kHour, TestMethod::screen));
  CHECK(status_of(l, "hcv") == MarkerStatus::initially_reactive);
  Error e = l.expect_rejected(released(kRedCells, kT0 + 4 * kHour), "untested");
  CHECK(e.message.find("repeats of the reactive hcv screen") != std::string::npos);

  // One negative repeat is not enough: the duplicate is two.
  l.accept(test_resulted("hcv", "negative", kT0 + 5 * kHour, TestMethod::repeat));
  CHECK(status_of(l, "hcv") == MarkerStatus::initially_reactive);
  l.expect_rejected(released(kRedCells, kT0 + 5 * kHour), "untested");

  l.accept(test_resulted("hcv", "negative", kT0 + 6 * kHour, TestMethod::repeat));
  CHECK(status_of(l, "hcv") == MarkerStatus::non_reactive);
  CHECK_FALSE(l.donation().tti_positive);
  l.accept(released(kRedCells, kT0 + 7 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::available);
}

TEST_CASE("a grey-zone result then one negative and one reactive repeat is blocked for good",
          "[projections][laboratory]") {
  Ledger l;
  collect_and_test(l, AboRh::a_pos, AboRh::a_pos, {kRedCells, kPlasma});
  const std::vector<Event> events = {
      test_resulted("hcv", "indeterminate", kT0 + 3 * kHour, TestMethod::screen),
      test_resulted("hcv", "negative", kT0 + 5 * kHour, TestMethod::repeat),
      test_resulted("hcv", "reactive", kT0 + 6 * kHour, TestMethod::repeat)};
  accept_all(l, events);
  CHECK(status_of(l, "hcv") == MarkerStatus::repeatedly_reactive);
  CHECK(l.donation().tti_positive);
  for (const auto& p : {kRedCells, kPlasma}) {
    CHECK(l.unit(p).tti_blocked);
    l.expect_rejected(released(p, kT0 + 7 * kHour), "tti_positive");
  }
  // Whatever comes later.
  l.accept(test_resulted("hcv", "negative", kT0 + 8 * kHour, TestMethod::repeat));
  CHECK(status_of(l, "hcv") == MarkerStatus::repeatedly_reactive);

  // The donor is deferred (pending the confirmatory answer).
  std::vector<Event> all = {donation_collected(kT0, AboRh::a_pos)};
  all.insert(all.end(), events.begin(), events.end());
  const PartitionState s = replayed(all);
  const DonorRecord& donor = s.donors.at("donor-4711");
  REQUIRE(donor.deferrals.size() == 1);
  CHECK(donor.deferrals[0].reason == "repeatedly_reactive");
  CHECK(donor.deferrals[0].test == "hcv");
  const DonorStatus st = donor_status(shipped_reference(), donor, kT0 + kDay);
  CHECK(st.deferred);
  CHECK(st.until == 0);
}

TEST_CASE("an indeterminate optional screen that was run holds the release too",
          "[projections][laboratory]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  // HTLV is optional; a grey-zone result takes the unit back into quarantine.
  l.accept(test_resulted("htlv", "indeterminate", kT0 + 4 * kHour));
  CHECK(l.status(kRedCells) == UnitStatus::quarantined);
  CHECK_FALSE(l.unit(kRedCells).tti_blocked);
  l.expect_rejected(released(kRedCells, kT0 + 5 * kHour), "untested");
  l.accept(test_resulted("htlv", "negative", kT0 + 6 * kHour));
  l.accept(test_resulted("htlv", "negative", kT0 + 6 * kHour));
  l.accept(released(kRedCells, kT0 + 7 * kHour));
}

// ---------------------------------------------------------------------------------------------
// 3. Confirmatory testing and donor status.

TEST_CASE("a confirmed-positive marker defers the donor for good, a not-confirmed one lifts it",
          "[projections][laboratory][donors]") {
  std::vector<Event> events = {donation_collected(kT0, AboRh::o_pos)};
  for (const auto& e : repeatedly_reactive("hiv", kT0 + 3 * kHour)) events.push_back(e);
  DonorRecord pending = replayed(events).donors.at("donor-4711");
  CHECK(donor_status(shipped_reference(), pending, kT0 + kDay).reason == "repeatedly_reactive");

  auto confirmed = events;
  confirmed.push_back(
      test_resulted("hiv_confirm", "positive", kT0 + 2 * kDay, TestMethod::confirmatory));
  const DonorRecord c = replayed(confirmed).donors.at("donor-4711");
  const DonorStatus sc = donor_status(shipped_reference(), c, kT0 + 10 * 365 * kDay);
  CHECK(sc.deferred);
  CHECK(sc.reason == "confirmed_positive");
  CHECK(sc.until == 0);
  CHECK(describe(sc).find("deferred permanently") == 0);

  auto not_confirmed = events;
  not_confirmed.push_back(
      test_resulted("hiv_confirm", "negative", kT0 + 2 * kDay, TestMethod::confirmatory));
  const DonorRecord n = replayed(not_confirmed).donors.at("donor-4711");
  CHECK(n.deferrals.empty());
  // Only the interval since the donation remains (data/donor_intervals.csv: 84 days, any sex).
  const DonorStatus sn = donor_status(shipped_reference(), n, kT0 + 10 * kDay);
  CHECK(sn.reason == "donation_interval");
  CHECK(sn.until == kT0 + 84 * kDay);
  CHECK_FALSE(donor_status(shipped_reference(), n, kT0 + 85 * kDay).deferred);
}

TEST_CASE("a donor's deferrals are merged from every partition in any order",
          "[projections][laboratory][donors]") {
  Event deferral = make_event(EventType::donor_deferred, kT0 + kDay, kBank, "");
  deferral.donor = "donor-4711";
  deferral.reason = "low_haemoglobin";
  deferral.until = kT0 + 30 * kDay;
  DonorRecord a, b;
  REQUIRE(apply_donor_event(shipped_reference(), a, deferral).ok());
  Event women = donation_collected(kT0, AboRh::o_pos);
  women.sex = DonorSex::female;
  b = replayed({women}).donors.at("donor-4711");
  CHECK(merge_donor({a, b}) == merge_donor({b, a}));
  const DonorRecord all = merge_donor({a, b});
  // The longest deferral wins: women wait 112 days between whole-blood donations.
  const DonorStatus s = donor_status(shipped_reference(), all, kT0 + 2 * kDay);
  CHECK(s.reason == "donation_interval");
  CHECK(s.until == kT0 + 112 * kDay);
  CHECK(decode_donor(encode_donor(all)).value() == all);
  // A deferral with an unknown reason or ending before it starts is refused.
  deferral.reason = "tired";
  CHECK(validate_shape(deferral).error().code == "invalid_reason");
  deferral.reason = "travel";
  deferral.until = deferral.at - kHour;
  CHECK(validate_shape(deferral).error().code == "invalid_until");
}

TEST_CASE("a collection from a deferred donor is accepted but quarantined for good and alerted",
          "[projections][laboratory][donors]") {
  Ledger l;
  collect_and_test(l, AboRh::o_pos, AboRh::o_pos, {kRedCells});
  Event flag = make_event(EventType::deferred_donor_collected, kT0, kBank);
  flag.donor = "donor-4711";
  flag.reason = "confirmed_positive";
  l.accept(flag);
  CHECK(l.unit(kRedCells).tti_blocked);
  const Error e = l.expect_rejected(released(kRedCells, kT0 + 3 * kHour), "deferred_donor");
  CHECK(e.message.find("deferred") != std::string::npos);
  l.accept(component_produced(kPlasma, kT0 + 3 * kHour));
  CHECK(l.unit(kPlasma).tti_blocked);
  flag.id = next_event_id();
  l.expect_rejected(flag, "already_flagged");

  AttentionHarness h;
  h.show(l.donation());
  h.at(kT0 + 3 * kHour);
  const Alert* a = h.open(AlertKind::deferred_donor_collected);
  REQUIRE(a != nullptr);
  CHECK(a->severity == Severity::red);
  CHECK(a->facility == kBank);
  CHECK(a->din == kDin);
  // Cleared once nothing of it is left in stock.
  l.accept(unit_discarded(kRedCells, "tti_positive", kT0 + 4 * kHour));
  l.accept(unit_discarded(kPlasma, "tti_positive", kT0 + 4 * kHour));
  h.show(l.donation());
  h.at(kT0 + 4 * kHour);
  CHECK(h.open(AlertKind::deferred_donor_collected) == nullptr);
}

// ---------------------------------------------------------------------------------------------
// 4. Typing discrepancies.

TEST_CASE("a retyping that disagrees after release quarantines every component until resolved",
          "[projections][laboratory]") {
  Ledger l;
  collect_test_release(l, AboRh::a_pos, {kRedCells, kPlasma});
  l.accept(test_resulted("abo_rh", "B+", kT0 + 5 * kHour));
  const Donation& d = l.donation();
  CHECK(d.typing_discrepancy);
  // The released stock keeps the group of its label, never the retyping's.
  CHECK(d.group() == AboRh::a_pos);
  for (const auto& p : {kRedCells, kPlasma}) {
    CHECK(l.status(p) == UnitStatus::quarantined);
    CHECK_FALSE(l.unit(p).tti_blocked);
    l.expect_rejected(released(p, kT0 + 6 * kHour), "blood_group_mismatch");
  }
  AttentionHarness h;
  h.show(l.donation());
  h.at(kT0 + 6 * kHour);
  const Alert* a = h.open(AlertKind::typing_discrepancy);
  REQUIRE(a != nullptr);
  CHECK(a->severity == Severity::red);
  CHECK(a->message.find("A") != std::string::npos);

  Event resolved = make_event(EventType::typing_resolved, kT0 + 7 * kHour, kLab);
  resolved.abo_rh = AboRh::a_pos;
  l.accept(resolved);
  CHECK_FALSE(l.donation().typing_discrepancy);
  l.accept(released(kRedCells, kT0 + 8 * kHour));
  h.show(l.donation());
  h.at(kT0 + 8 * kHour);
  CHECK(h.open(AlertKind::typing_discrepancy) == nullptr);
  resolved.id = next_event_id();
  l.expect_rejected(resolved, "no_discrepancy");
}

TEST_CASE("a first typing that disagrees with the label holds the components too",
          "[projections][laboratory]") {
  Ledger l;
  collect_and_test(l, AboRh::o_neg, AboRh::o_pos, {kRedCells});  // RhD typed pos, labelled neg
  CHECK(l.donation().typing_discrepancy);
  CHECK(l.donation().group() == AboRh::o_neg);
  l.expect_rejected(released(kRedCells, kT0 + 3 * kHour), "blood_group_mismatch");
  // Resolved as typed: the label becomes O+ (relabel) and the unit can be released.
  Event resolved = make_event(EventType::typing_resolved, kT0 + 4 * kHour, kLab);
  resolved.abo_rh = AboRh::o_pos;
  l.accept(resolved);
  CHECK(l.donation().declared == AboRh::o_pos);
  CHECK(l.donation().history.back().detail.find("relabel") != std::string::npos);
  l.accept(released(kRedCells, kT0 + 5 * kHour));
}

// ---------------------------------------------------------------------------------------------
// 5. Lookback that reaches recipients.

namespace {

Event recall(const std::string& product, const std::string& test, TimeMs at) {
  Event e = recall_event(kDin, product, "HBN-BB", test, kOtherDin, at);
  e.id = next_event_id();
  return e;
}

}  // namespace

TEST_CASE("a more urgent marker brings a running recall's deadline forward",
          "[projections][laboratory][lookback]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(recall(kRedCells, "hbv", kT0 + kDay));
  CHECK(l.donation().recall(kRedCells)->deadline == kT0 + kDay + 168 * kHour);
  l.accept(recall(kRedCells, "hiv", kT0 + 2 * kDay));
  CHECK(l.donation().recall(kRedCells)->deadline == kT0 + 2 * kDay + 72 * kHour);
  CHECK(l.donation().recall(kRedCells)->test == "hiv");
  // A less urgent one changes nothing.
  l.expect_rejected(recall(kRedCells, "htlv", kT0 + 2 * kDay), "already_recalled");
}

TEST_CASE("a recalled issued unit is recorded as transfused only with an approver's override",
          "[projections][laboratory][lookback]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(unit_issued(kRedCells, kT0 + 4 * kHour, AboRh::o_pos));
  l.accept(recall(kRedCells, "hiv", kT0 + 5 * kHour));
  REQUIRE(l.donation().recall(kRedCells)->open);
  Event transfused = unit_transfused(kRedCells, kT0 + 6 * kHour);
  const Error e = l.expect_rejected(transfused, "recalled");
  CHECK(e.message.find("approver") != std::string::npos);
  CHECK(l.donation().recall(kRedCells)->open);  // the recall is not closed

  transfused.approver = "Dr. Hana 2231";
  transfused.reason = "transfused before the recall reached the ward";
  l.accept(transfused);
  const Recall* r = l.donation().recall(kRedCells);
  CHECK_FALSE(r->open);
  CHECK(r->notify_open);
  CHECK(r->notify_deadline == kT0 + 6 * kHour + Rules{}.notify_recipient_within);
  CHECK(r->transfused_by == kHospital);
  CHECK(r->patient == kPatient);  // the recipient to trace, from the issue
  CHECK(l.donation().history.back().detail.find("Dr. Hana 2231") != std::string::npos);
}

TEST_CASE("a recipient-notification task is an alert until the notification closes it",
          "[projections][laboratory][lookback][alerts]") {
  Ledger l;
  collect_test_release(l, AboRh::o_pos, {kRedCells});
  l.accept(unit_issued(kRedCells, kT0 + 4 * kHour, AboRh::o_pos));
  l.accept(unit_transfused(kRedCells, kT0 + 5 * kHour));
  l.accept(recall(kRedCells, "hiv", kT0 + 5 * kDay));
  AttentionHarness h;
  h.show(l.donation());
  h.at(kT0 + 5 * kDay);
  const Alert* a = h.open(AlertKind::recipient_notification);
  REQUIRE(a != nullptr);
  CHECK(a->severity == Severity::amber);
  CHECK(a->facility == kHospital);  // the hospital that transfused it
  CHECK(a->figures["patient"] == kPatient);
  CHECK(a->product == kRedCells);
  const TimeMs deadline = kT0 + 5 * kDay + Rules{}.notify_recipient_within;
  CHECK(a->figures["deadline"] == format_rfc3339(deadline));
  // Overdue: red.
  h.at(deadline + kMinute);
  CHECK(h.open(AlertKind::recipient_notification)->severity == Severity::red);
  l.accept(unit_event(EventType::recipient_notified, kRedCells, deadline + kHour, kHospital));
  h.show(l.donation());
  h.at(deadline + kHour);
  CHECK(h.open(AlertKind::recipient_notification) == nullptr);
}

// ---------------------------------------------------------------------------------------------
// 6. Positive after release.

TEST_CASE("a marker found after release alerts every facility holding a unit, units listed",
          "[projections][laboratory][alerts]") {
  Ledger l;
  collect_test_release(l, AboRh::b_pos, {kRedCells, kPlasma, kPlatelets});
  l.accept(transfer_dispatched(kPlasma, kGazaBank, kT0 + 4 * kHour));
  l.accept(unit_event(EventType::transfer_received, kPlasma, kT0 + 5 * kHour, kGazaBank));
  l.accept(unit_issued(kRedCells, kT0 + 5 * kHour, AboRh::b_pos));
  l.accept(unit_discarded(kPlatelets, "other", kT0 + 5 * kHour));
  accept_all(l, repeatedly_reactive("hbv", kT0 + 6 * kHour));

  AttentionHarness h;
  h.show(l.donation());
  h.at(kT0 + 6 * kHour);
  std::map<std::string, const Alert*> by_facility;
  for (const auto& [key, a] : h.model.open()) {
    if (a.kind == AlertKind::positive_after_release) by_facility[a.facility] = &a;
  }
  REQUIRE(by_facility.size() == 2);  // the discarded platelets need nobody
  // The issued red cells are the hospital's to give back: custody passed at issue.
  const Alert& hospital = *by_facility.at(kHospital);
  CHECK(hospital.severity == Severity::red);
  REQUIRE(hospital.figures["units"].size() == 1);
  CHECK(hospital.figures["units"][0]["product"] == kRedCells);
  CHECK(hospital.figures["units"][0]["status"] == "issued");
  CHECK(hospital.message.find(kRedCells) != std::string::npos);
  const Alert& gaza = *by_facility.at(kGazaBank);
  CHECK(gaza.figures["units"][0]["product"] == kPlasma);
  CHECK(gaza.governorate == "GZA");
  // Cleared at Gaza once its unit is discarded.
  l.accept(unit_discarded(kPlasma, "tti_positive", kT0 + 7 * kHour, kGazaBank));
  h.show(l.donation());
  h.at(kT0 + 7 * kHour);
  CHECK(h.model.open().count("positive_after_release|" + kDin + "|" + kGazaBank) == 0);
  CHECK(h.model.open().count("positive_after_release|" + kDin + "|" + kHospital) == 1);
}

// ---------------------------------------------------------------------------------------------
// 7. A stock-out is Red.

TEST_CASE("a stock-out of O- in one governorate stays Red for 40 days",
          "[projections][laboratory][alerts]") {
  AlertModel model{shipped_reference(), SupplyConfig{}};
  model.advance_clock(kT0);
  // Demand yesterday, then none at all: the shelves are empty.
  model.on_demand(DemandKey{day_of(kT0) - 1, kBank, Category::red_cells, AboRh::o_neg}, 3);
  auto c = model.evaluate();
  REQUIRE(c.size() == 1);
  CHECK(c[0].alert.severity == Severity::red);
  CHECK(c[0].alert.figures["stock_out"] == true);
  const std::string id = c[0].alert.id;
  for (int day = 1; day <= 40; ++day) {
    model.advance_clock(kT0 + day * kDay);
    INFO("day " << day);
    CHECK(model.evaluate().empty());
    REQUIRE(model.open().size() == 1);
    CHECK(model.open().begin()->second.severity == Severity::red);
    CHECK(model.open().begin()->second.id == id);
  }
  // Past the demand memory (90 days) with nothing asked for, it clears.
  model.advance_clock(kT0 + 92 * kDay);
  c = model.evaluate();
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "cleared");
}

TEST_CASE("a group that never had demand is not a stock-out", "[projections][laboratory][alerts]") {
  AlertModel model{shipped_reference(), SupplyConfig{}};
  model.advance_clock(kT0);
  CHECK(model.evaluate().empty());
  Supply s;
  CHECK_FALSE(stock_out(s));
  s.remembered = 1;
  CHECK(stock_out(s));
  CHECK(supply_phase(s, 28, SupplyThresholds{}) == Phase::red);
  CHECK(parse_supply_config(R"({"demand_memory_days": 120})")->demand_memory_days == 120);
  CHECK_FALSE(parse_supply_config(R"({"demand_memory_days": 0})").ok());
}

// ---------------------------------------------------------------------------------------------
// The lab mapping carries repeat and confirmatory results.

TEST_CASE("HL7, ASTM and FHIR results carry their method, and confirmatory tests their own code",
          "[connectors][laboratory]") {
  const std::string header =
      "MSH|^~\\&|BBLIS|NBS-LAB|HEMOLEDGER|NBS-BB|20261122101500+0200||ORU^R01|LAB000201|P|2.5.1\r"
      "PID|1||DNR-77\r"
      "OBR|1|ORD5501|G123426000001^NBSLAB|BBPANEL|||20261122083000+0200\r";
  const auto r = map_hl7_text(
      header +
          "OBX|1|CWE|56888-1^HIV^LN||Reactive||||||F|||20261122095500+0200|||SCR^Initial^L\r"
          "OBX|2|CWE|56888-1^HIV^LN||NR||||||F|||20261122105500+0200|||REP^Repeat^L\r"
          "OBX|3|CWE|HIVCONF^HIV confirmatory^99NBS||NEG||||||F|||20261124095500+0200|||"
          "CONF\r",
      shipped_mapping(), utc(2026, 11, 22, 9));
  INFO(r.summary());
  REQUIRE(r.ok());
  REQUIRE(r.events.size() == 3);
  CHECK(r.events[0].method == TestMethod::screen);
  CHECK(r.events[1].method == TestMethod::repeat);
  CHECK(r.events[2].test == "hiv_confirm");
  CHECK(r.events[2].method == TestMethod::confirmatory);
  CHECK(r.events[2].result == "negative");

  const auto bad =
      map_hl7_text(header + "OBX|1|CWE|56888-1^HIV^LN||NR||||||F|||20261122095500+0200|||TWICE\r",
                   shipped_mapping(), utc(2026, 11, 22, 9));
  CHECK(bad.error_code == "unknown_method");

  const std::string fhir = R"({
    "resourceType": "Observation", "id": "obs-hiv-0003", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "56888-1"}]},
    "method": {"coding": [{"code": "Duplicate"}]},
    "specimen": {"identifier": {"value": "G123426000001"}},
    "effectiveDateTime": "2026-11-22T07:55:00Z",
    "valueCodeableConcept": {"coding": [{"code": "NR"}]}})";
  const auto f = fhir::map_observations(fhir, shipped_mapping(), utc(2026, 11, 22, 9));
  INFO(f.summary());
  REQUIRE(f.ok());
  CHECK(f.events[0].method == TestMethod::repeat);

  auto astm_mapping = LabMapping::parse_json(
      R"({"astm": {"facility": "NBS-LAB", "method_field": "R-3.5"},
          "tests": {"local": {"HIV": "hiv"}}})",
      shipped_reference());
  REQUIRE(astm_mapping.ok());
  CHECK(astm_mapping->method_for("repeat").value() == TestMethod::repeat);
  CHECK_FALSE(LabMapping::parse_json(R"({"methods": {"X": "twice"}})", shipped_reference()).ok());
}
