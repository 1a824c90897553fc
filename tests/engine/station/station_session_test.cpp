// The bench session's own logic (engine/station/station_session.h) against a
// scripted backend: what is asked of the engine, in what order, and that
// nothing is ever reported done that the engine did not commit. The real
// engine is in tests/engine/cli/station_test.cpp (terminal) and
// tests/engine/server/station_page_test.cpp (browser).
#include "engine/station/station_session.h"

#include <catch2/catch.hpp>

#include "connectors/isbt128.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using nlohmann::json;

namespace {

const hemoledger::testing::TestClock kClock("2026-11-20T12:00:00Z");
const std::string kDin = "G123426300001";

// Answers as scripted; counts what it was asked.
struct ScriptedBackend final : StationBackend {
  BackendReply unit_reply{200,
                          {{"abo_rh", "O-"}, {"unit", {{"expires_at", "2026-12-20T23:59:00Z"}}}}};
  BackendReply check_reply{200, {{"outcome", "would_be_applied"}}};
  BackendReply record_reply{200, {{"outcome", "applied"}}};
  int units = 0, checks = 0, records = 0;
  std::string last_event;
  BackendReply unit(const std::string&, const std::string&) override {
    ++units;
    return unit_reply;
  }
  BackendReply check(const std::string& e) override {
    ++checks;
    last_event = e;
    return check_reply;
  }
  BackendReply record(const std::string& e) override {
    ++records;
    last_event = e;
    return record_reply;
  }
  std::string where() const override { return "the test"; }
};

std::vector<std::string> labels(const std::string& group_label = "=%9500") {
  return {*isbt128::encode_din(kDin), "=<E0382V00", group_label, "&>0263542359"};
}

StationSettings issue_to(AboRh patient) {
  StationSettings s;
  s.facility = "JEM-BB";
  s.action = StationAction::issue;
  s.patient_group = patient;
  s.patient = "PT-0042";
  s.to = "JEM-HOS";
  return s;
}

StationAnswer scan_all(StationSession& s, const std::vector<std::string>& scans) {
  StationAnswer a;
  for (const auto& l : scans) a = s.scan(l);
  return a;
}

}  // namespace

TEST_CASE("a unit is acted on once its four labels are read, and is OK only once recorded",
          "[station]") {
  ScriptedBackend b;
  StationSession s(issue_to(AboRh::o_neg), b, kClock.clock());
  const auto l = labels();
  for (std::size_t i = 0; i + 1 < l.size(); ++i) {
    CHECK(s.scan(l[i]).kind == AnswerKind::incomplete);
    CHECK(s.pending().size() == i + 1);
  }
  CHECK(b.units + b.checks + b.records == 0);
  const StationAnswer a = s.scan(l.back());
  CHECK(a.kind == AnswerKind::ok);
  CHECK(a.details["din"] == kDin);
  CHECK((b.units == 1 && b.checks == 1 && b.records == 1));
  CHECK(s.pending().empty());
  const json e = json::parse(b.last_event);
  CHECK(e["type"] == "UnitIssued");
  CHECK(e["patient_abo_rh"] == "O-");
  CHECK(e["facility"] == "JEM-BB");
}

TEST_CASE("an engine that cannot be reached, or has not confirmed, is never an OK", "[station]") {
  ScriptedBackend b;
  SECTION("unreachable before anything is sent") {
    b.unit_reply = {};
    StationSession s(issue_to(AboRh::o_neg), b, kClock.clock());
    const StationAnswer a = scan_all(s, labels());
    CHECK(a.kind == AnswerKind::stop);
    CHECK(a.code == "engine_unreachable");
    CHECK(b.records == 0);
  }
  SECTION("sent, then no answer") {
    b.record_reply = {};
    StationSession s(issue_to(AboRh::o_neg), b, kClock.clock());
    const StationAnswer a = scan_all(s, labels());
    CHECK(a.kind == AnswerKind::unconfirmed);
    CHECK_FALSE(a.details.value("event_id", "").empty());
  }
  SECTION("Kafka has it, the engine has not applied it") {
    b.record_reply = {504, {{"outcome", "pending"}}};
    StationSession s(issue_to(AboRh::o_neg), b, kClock.clock());
    const StationAnswer a = scan_all(s, labels());
    CHECK(a.kind == AnswerKind::unconfirmed);
    CHECK(a.code == "pending");
  }
  SECTION("the engine's rules refuse it: its code and sentence, nothing recorded") {
    b.check_reply = {422, {{"code", "unit_issued"}, {"message", "Unit has been issued."}}};
    StationSession s(issue_to(AboRh::o_neg), b, kClock.clock());
    const StationAnswer a = scan_all(s, labels());
    CHECK(a.kind == AnswerKind::stop);
    CHECK(a.code == "unit_issued");
    CHECK(b.records == 0);
  }
}

TEST_CASE("labels of two units clear the unit and an unreadable scan is dropped alone",
          "[station]") {
  ScriptedBackend b;
  StationSession s(issue_to(AboRh::o_neg), b, kClock.clock());
  CHECK(s.scan(labels()[0]).kind == AnswerKind::incomplete);
  StationAnswer a = s.scan("=G12341765432171");  // a failed check
  CHECK(a.code == "unreadable_label");
  CHECK(s.pending().size() == 1);
  a = s.scan(*isbt128::encode_din("G123426300002"));
  CHECK(a.code == "labels_mixed");
  CHECK(s.pending().empty());
  CHECK(s.scan("cancel").kind == AnswerKind::cleared);
  CHECK(b.units == 0);
}

TEST_CASE("a label's special group message or past expiry stops before the engine is asked",
          "[station]") {
  ScriptedBackend b;
  StationSession s(issue_to(AboRh::o_neg), b, kClock.clock());
  StationAnswer a = scan_all(s, labels("=%Mq00"));
  CHECK(a.code == "label_quarantine");
  auto old = labels();
  old[3] = "&>0263200000";  // 16 November 2026, before the clock's day
  a = scan_all(s, old);
  CHECK(a.code == "label_expired");
  CHECK(b.units + b.checks + b.records == 0);
}

TEST_CASE("a label that disagrees with the record is stopped with its own code", "[station]") {
  ScriptedBackend b;
  b.unit_reply.body["abo_rh"] = "B+";
  StationSession s(issue_to(AboRh::o_neg), b, kClock.clock());
  StationAnswer a = scan_all(s, labels());
  CHECK(a.code == "label_group_mismatch");
  CHECK(a.details["typed_group"] == "B+");
  b.unit_reply.status = 404;
  a = scan_all(s, labels());
  CHECK(a.code == "unknown_unit");
  CHECK(b.checks == 0);
}

TEST_CASE("a bench's settings are checked against the action's needs", "[station]") {
  CHECK(validate(issue_to(AboRh::o_neg)));
  CHECK(validate(issue_to(AboRh::unknown)).error().code == "bad_station");
  StationSettings named = issue_to(AboRh::o_neg);
  named.patient = "John Smith";
  CHECK(validate(named).error().code == "bad_station");
  named.patient = "PT-0042";
  CHECK(validate(named));
  StationSettings discard = issue_to(AboRh::unknown);
  discard.action = StationAction::discard;
  CHECK_FALSE(validate(discard));
  discard.reason = "broken_bag";
  CHECK(validate(discard));
}

TEST_CASE("the action table names every action once and gives a page what each needs",
          "[station]") {
  const json t = station_actions_json();
  REQUIRE(t["actions"].size() == station_actions().size());
  for (const auto& a : station_actions()) {
    CHECK(parse_station_action(a.name).value() == a.action);
  }
  CHECK(t["actions"][4]["name"] == "issue");
  CHECK(t["actions"][4]["needs"] == json::array({"patient", "patient_group", "to"}));
  CHECK(t["actions"][4]["may"] == json::array({"reason", "approver"}));
  CHECK(t["reactions"].size() >= 12);
  CHECK(t["discard_reasons"].size() >= 5);
  CHECK(parse_station_action("teleport").error().code == "bad_action");
}

TEST_CASE(
    "at the bedside the wristband's group is checked against the unit before a "
    "transfusion is recorded",
    "[station]") {
  ScriptedBackend b;
  b.unit_reply.body["abo_rh"] = "A+";
  b.unit_reply.body["unit"]["category"] = "red_cells";
  StationSettings bedside = issue_to(AboRh::o_pos);
  bedside.action = StationAction::transfuse;
  bedside.patient = "PT-0042";
  StationSession s(bedside, b, kClock.clock());
  StationAnswer a = scan_all(s, labels("=%6200"));
  CHECK(a.kind == AnswerKind::stop);
  CHECK(a.code == "incompatible");
  CHECK(b.checks + b.records == 0);
  bedside.patient_group = AboRh::ab_pos;
  StationSession compatible(bedside, b, kClock.clock());
  a = scan_all(compatible, labels("=%6200"));
  CHECK(a.kind == AnswerKind::ok);
  // UnitTransfused carries no patient group: the check was the station's.
  CHECK_FALSE(json::parse(b.last_event).contains("patient_abo_rh"));
}
