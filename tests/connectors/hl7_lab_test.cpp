#include "connectors/hl7_lab.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "projections/projector.h"
#include "tests/connectors/connector_fixture.h"
#include "tests/event_builders.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const TimeMs kReceived = utc(2026, 11, 22, 8, 16);

MappingResult mapped(const std::string& text) {
  return map_hl7_text(text, shipped_mapping(), kReceived);
}

MappingResult accepted(const std::string& text) {
  auto r = mapped(text);
  INFO(r.summary());
  REQUIRE(r.ok());
  return r;
}

void expect_error(const MappingResult& r, hl7::AckCode code, int hl7_code,
                  const std::string& segment, int field, const std::string& needle) {
  INFO(r.summary());
  CHECK(r.code == code);
  CHECK(r.events.empty());
  REQUIRE(r.error.has_value());
  CHECK(r.error->code == hl7_code);
  CHECK(r.error->segment == segment);
  CHECK(r.error->field == field);
  CHECK(r.error->message.find(needle) != std::string::npos);
}

// The ORU sample with one line replaced.
std::string oru_with(const std::string& from, const std::string& to) {
  std::string s = sample("oru_r01_typing_and_screens.hl7");
  const auto i = s.find(from);
  REQUIRE(i != std::string::npos);
  return s.replace(i, from.size(), to);
}

const std::string kHeader =
    "MSH|^~\\&|BBLIS|NBS-LAB|HEMOLEDGER|NBS-BB|20261122101500+0200||ORU^R01|LAB000124|P|2.5.1\r"
    "PID|1||DNR-77\r"
    "OBR|1|ORD5501|G123426000001^NBSLAB|BBPANEL|||20261122083000+0200\r";

}  // namespace

TEST_CASE("a blood bank LIS result message becomes one TestResulted per OBX", "[connectors][hl7]") {
  const auto r = accepted(sample("oru_r01_typing_and_screens.hl7"));
  REQUIRE(r.events.size() == 5);
  CHECK(r.notes.empty());
  const struct {
    const char* test;
    const char* result;
  } expected[] = {{"abo_rh", "O+"},
                  {"hbv", "negative"},
                  {"hcv", "negative"},
                  {"hiv", "negative"},
                  {"syphilis", "negative"}};
  for (std::size_t i = 0; i < 5; ++i) {
    const Event& e = r.events[i];
    INFO(i);
    CHECK(e.type == EventType::test_resulted);
    CHECK(e.din == "G123426000001");
    CHECK(e.facility == "NBS-LAB");
    CHECK(e.actor == "BBLIS");
    CHECK(e.test == expected[i].test);
    CHECK(e.result == expected[i].result);
    CHECK(e.id == "hl7-NBS-LAB-LAB000123-" + std::to_string(i + 1));
    CHECK(validate_shape(e).ok());
  }
  CHECK(r.events[0].at == utc(2026, 11, 22, 7, 45));  // OBX-14, +0200
  CHECK(r.events[0].station == "ORTHO-VISION-01");
  CHECK(r.summary() == "5 events recorded.");
}

TEST_CASE("a retransmitted HL7 message yields the same event ids", "[connectors][hl7]") {
  const auto a = accepted(sample("oru_r01_typing_and_screens.hl7"));
  const auto b = map_hl7_text(sample("oru_r01_typing_and_screens.hl7"), shipped_mapping(),
                              kReceived + 60 * kMinute);
  REQUIRE(b.ok());
  CHECK(a.events == b.events);  // later receipt changes nothing: times come from the message
}

TEST_CASE("a corrected HL7 result gets a new id and supersedes the original", "[connectors][hl7]") {
  const auto original = accepted(sample("oru_r01_typing_and_screens.hl7"));
  // The lab retransmits the HIV result corrected, under the same control id.
  const auto corrected = accepted(oru_with("OBX|4|CWE|56888-1^HIV 1+2 Ag+Ab^LN||NR||||||F|",
                                           "OBX|4|CWE|56888-1^HIV 1+2 Ag+Ab^LN||Reactive||||||C|"));
  const Event& before = original.events[3];
  const Event& after = corrected.events[3];
  CHECK(before.test == "hiv");
  CHECK(after.test == "hiv");
  CHECK(after.result == "positive");
  CHECK(after.id == "hl7-NBS-LAB-LAB000123-4-c");
  CHECK(after.id != before.id);  // so the engine does not ignore it as a repeat
  // The untouched results keep their ids: resending them changes nothing.
  CHECK(corrected.events[0].id == original.events[0].id);
}

TEST_CASE("a preliminary HL7 result is not recorded and the outcome says so", "[connectors][hl7]") {
  const auto r = accepted(oru_with("OBX|2|CWE|5196-1^HBsAg^LN||NEG^Negative^L||||||F|",
                                   "OBX|2|CWE|5196-1^HBsAg^LN||NEG^Negative^L||||||P|"));
  REQUIRE(r.events.size() == 4);
  for (const auto& e : r.events) CHECK(e.test != "hbv");
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0] == "OBX 2 (5196-1) has status P (preliminary) and was not recorded.");
  CHECK(r.summary().find("preliminary") != std::string::npos);
  CHECK(r.events[1].id == "hl7-NBS-LAB-LAB000123-3");  // positions, not counts of recorded ones
}

TEST_CASE("a deleted or wrong HL7 result is refused because events cannot be retracted",
          "[connectors][hl7]") {
  const auto r = mapped(oru_with("NR||||||F|", "NR||||||W|"));
  expect_error(r, hl7::AckCode::error, hl7::err::kTableValueNotFound, "OBX", 11, "status C");
}

TEST_CASE("an unknown test code is an AE naming the OBX and its field", "[connectors][hl7]") {
  const auto r = mapped(oru_with("SYPH^Syphilis antibody^99NBS", "TPHA^Syphilis TPHA^99NBS"));
  expect_error(r, hl7::AckCode::error, hl7::err::kTableValueNotFound, "OBX", 3, "TPHA");
  CHECK(r.error_code == "unknown_test");
  CHECK(r.error->sequence == 5);
  CHECK(r.error->message.rfind("OBX-3 of OBX 5: ", 0) == 0);
}

TEST_CASE("the alternate code of OBX-3 is tried when the first one is not mapped",
          "[connectors][hl7]") {
  const auto r = accepted(
      oru_with("SYPH^Syphilis antibody^99NBS", "TPHA^Syphilis TPHA^99OTHER^SYPH^Syphilis^99NBS"));
  CHECK(r.events[4].test == "syphilis");
}

TEST_CASE("an unknown result value is an AE with what was expected", "[connectors][hl7]") {
  const auto r = mapped(oru_with("O POS^O Rh(D) positive^L", "Bombay^Oh phenotype^L"));
  expect_error(r, hl7::AckCode::error, hl7::err::kTableValueNotFound, "OBX", 5, "O+, O-");
}

TEST_CASE("a DIN failing its check is an AE naming the DIN field", "[connectors][hl7]") {
  const auto good = accepted(kHeader + "OBX|1|CWE|883-9^ABO^LN||A||||||F\r");
  CHECK(good.events[0].din == "G123426000001");
  const auto flagged =
      accepted(oru_with("OBR|1|ORD5501|G123426000001^NBSLAB", "OBR|1|ORD5501|G12341765432170"));
  CHECK(flagged.events[0].din == "G123417654321");
  const auto r =
      mapped(oru_with("OBR|1|ORD5501|G123426000001^NBSLAB", "OBR|1|ORD5501|G12341765432171"));
  expect_error(r, hl7::AckCode::error, hl7::err::kDataTypeError, "OBR", 3, "G12341765432171");
  CHECK(r.error_code == "check_failed");
  const auto not_a_din =
      mapped(oru_with("OBR|1|ORD5501|G123426000001^NBSLAB", "OBR|1|ORD5501|SPEC-991"));
  expect_error(not_a_din, hl7::AckCode::error, hl7::err::kDataTypeError, "OBR", 3, "SPEC-991");
}

TEST_CASE("the DIN is read from the field the mapping names", "[connectors][hl7]") {
  auto json = nlohmann::json::parse(read_data_file("lab_mapping.json"));
  json["hl7"]["din_field"] = "SPM-2.1";
  auto spm = LabMapping::parse_json(json.dump(), shipped_reference());
  REQUIRE(spm.ok());
  const std::string msg =
      "MSH|^~\\&|BBLIS|NBS-LAB|HL|NBS-BB|20261122101500||ORU^R01|C1|P|2.5\r"
      "OBR|1|O1|F1\r"
      "OBX|1|CWE|883-9^ABO^LN||B||||||F\r"
      "SPM|1|G123426000001&NBS^F1\r"
      "OBR|2|O2|F2\r"
      "OBX|1|CWE|883-9^ABO^LN||AB||||||F\r"
      "SPM|1|G123426000002&NBS^F2\r";
  auto r = map_hl7_text(msg, *spm, kReceived);
  INFO(r.summary());
  REQUIRE(r.ok());
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].din == "G123426000001");  // each OBX takes the SPM of its own order
  CHECK(r.events[1].din == "G123426000002");
  CHECK(r.events[0].id != r.events[1].id);            // OBX set ids restart per order; ids do not
  CHECK(r.events[0].at == utc(2026, 11, 22, 8, 15));  // no OBX-14 or OBR-7: MSH-7, +0200

  // An OBX field is read from each OBX itself.
  json["hl7"]["din_field"] = "OBX-4";
  auto sub_id = LabMapping::parse_json(json.dump(), shipped_reference());
  REQUIRE(sub_id.ok());
  const std::string per_obx =
      "MSH|^~\\&|BBLIS|NBS-LAB|HL|NBS-BB|20261122101500||ORU^R01|C2|P|2.5\r"
      "OBR|1|O1|F1\r"
      "OBX|1|CWE|883-9^ABO^LN|G123426000003|B||||||F\r"
      "OBX|2|CWE|883-9^ABO^LN|G123426000004|A||||||F\r";
  auto r2 = map_hl7_text(per_obx, *sub_id, kReceived);
  REQUIRE(r2.ok());
  CHECK(r2.events[0].din == "G123426000003");
  CHECK(r2.events[1].din == "G123426000004");
}

TEST_CASE("a DIN error names the occurrence of the segment that carried it", "[connectors][hl7]") {
  const std::string msg = kHeader + "OBX|1|CWE|883-9^ABO^LN||A||||||F\r" +
                          "OBR|2|ORD5502|G12341765432171\r" + "OBX|1|CWE|883-9^ABO^LN||B||||||F\r";
  const auto r = mapped(msg);
  expect_error(r, hl7::AckCode::error, hl7::err::kDataTypeError, "OBR", 3, "G12341765432171");
  CHECK(r.error->sequence == 2);
  CHECK(r.error->message.rfind("OBR-3 of OBR 2: ", 0) == 0);
}

TEST_CASE("an HL7 message without what an event needs is refused", "[connectors][hl7]") {
  expect_error(mapped(kHeader + "OBX|1|CWE|883-9^ABO^LN||A||||||\r"), hl7::AckCode::error,
               hl7::err::kRequiredFieldMissing, "OBX", 11, "result status");
  expect_error(mapped(kHeader + "OBX|1|CWE|883-9^ABO^LN||||||||F\r"), hl7::AckCode::error,
               hl7::err::kRequiredFieldMissing, "OBX", 5, "empty");
  expect_error(mapped(kHeader), hl7::AckCode::error, hl7::err::kRequiredFieldMissing, "OBX", 0,
               "no result");
  const std::string no_obr =
      "MSH|^~\\&|BBLIS|NBS-LAB|HL|NBS-BB|20261122||ORU^R01|C2|P|2.5\rOBX|1|CWE|883-9^ABO^LN||A|||||"
      "|F\r";
  expect_error(mapped(no_obr), hl7::AckCode::error, hl7::err::kSegmentSequence, "OBX", 0, "OBR");
  const std::string no_control = "MSH|^~\\&|BBLIS|NBS-LAB|HL|NBS-BB|20261122||ORU^R01||P|2.5\r";
  expect_error(mapped(no_control), hl7::AckCode::reject, hl7::err::kRequiredFieldMissing, "MSH", 10,
               "control id");
  const std::string bad_time = kHeader + "OBX|1|CWE|883-9^ABO^LN||A||||||F|||2026-11-22\r";
  expect_error(mapped(bad_time), hl7::AckCode::error, hl7::err::kDataTypeError, "OBX", 14,
               "2026-11-22");
}

TEST_CASE("a result from a facility hemoledger does not know is an AE", "[connectors][hl7]") {
  std::string msg = kHeader + "OBX|1|CWE|883-9^ABO^LN||A||||||F\r";
  msg.replace(msg.find("NBS-LAB"), 7, "XYZLAB");
  expect_error(mapped(msg), hl7::AckCode::error, hl7::err::kUnknownKeyIdentifier, "MSH", 4,
               "XYZLAB");
  std::string alias = kHeader + "OBX|1|CWE|883-9^ABO^LN||A||||||F\r";
  alias.replace(alias.find("NBS-LAB"), 7, "NBSLAB");  // listed in facility_codes
  CHECK(accepted(alias).events[0].facility == "NBS-LAB");
}

TEST_CASE("an unsupported HL7 message type is rejected with AR", "[connectors][hl7]") {
  const std::string adt = "MSH|^~\\&|ADT|NBS-HOS|HL|NBS-BB|20261122||ADT^A01|A1|P|2.5\rPID|1\r";
  expect_error(mapped(adt), hl7::AckCode::reject, hl7::err::kUnsupportedMessageType, "MSH", 9,
               "ADT^A01");
  const std::string r30 = "MSH|^~\\&|LIS|NBS-LAB|HL|NBS-BB|20261122||ORU^R30|A2|P|2.5\rPID|1\r";
  expect_error(mapped(r30), hl7::AckCode::reject, hl7::err::kUnsupportedEventCode, "MSH", 9,
               "ORU^R30");
  auto garbage = mapped("this is not HL7");
  CHECK(garbage.code == hl7::AckCode::reject);
  CHECK(garbage.error_code == "no_msh");
}

TEST_CASE("the ACK of a mapped message carries its outcome", "[connectors][hl7]") {
  const std::string text = oru_with("SYPH^Syphilis antibody^99NBS", "TPHA^Syphilis TPHA^99NBS");
  const auto m = hl7::parse(text);
  REQUIRE(m.ok());
  const auto r = map_hl7(*m, shipped_mapping(), kReceived);
  const auto ack = hl7::parse(hl7_ack(*m, r, "HL0042", kReceived));
  REQUIRE(ack.ok());
  CHECK(ack->value("MSA-1") == "AE");
  CHECK(ack->value("MSA-2") == "LAB000123");
  CHECK(ack->value("ERR-2") == "OBX");
  CHECK(ack->find("ERR")->value(2) == "OBX^5^3");
  CHECK(ack->value("ERR-3") == "103");
  CHECK(ack->value("ERR-4") == "E");
  CHECK(ack->value("ERR-8").find("TPHA") != std::string::npos);

  const auto ok = hl7::parse(sample("oru_r01_typing_and_screens.hl7"));
  REQUIRE(ok.ok());
  const auto aa =
      hl7::parse(hl7_ack(*ok, map_hl7(*ok, shipped_mapping(), kReceived), "HL0043", kReceived));
  REQUIRE(aa.ok());
  CHECK(aa->value("MSA-1") == "AA");
  CHECK(aa->value("MSA-3") == "5 events recorded.");
  CHECK(aa->find("ERR") == nullptr);
}

TEST_CASE("a BPS^O29 dispense message becomes reservation and issue events", "[connectors][hl7]") {
  const auto r = accepted(sample("bps_o29_dispense.hl7"));
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].type == EventType::unit_reserved);
  CHECK(r.events[0].din == "G123426000001");
  CHECK(r.events[0].product == "E0336V00");
  CHECK(r.events[0].facility == "NBS-BB");
  CHECK(r.events[0].at == utc(2026, 11, 23, 11, 30));
  CHECK(r.events[0].id == "hl7-NBS-BB-BB0000789-1");
  CHECK(r.events[1].type == EventType::unit_issued);
  CHECK(r.events[1].din == "G123426000002");
  // Custody and the patient: PV1-3.4 NBS-HOSP is NBS-HOS in the mapping, PID-3 the patient.
  CHECK(r.events[1].to == "NBS-HOS");
  CHECK(r.events[1].patient == "PAT-4411");
  CHECK(r.events[0].patient == "PAT-4411");
  CHECK(r.events[0].to.empty());  // a reservation stays at the bank
  for (const auto& e : r.events) CHECK(validate_shape(e).ok());
}

TEST_CASE(
    "a STAT dispense without the patient's group is an emergency release approved by the "
    "ordering provider",
    "[connectors][hl7][bedside]") {
  const std::string head =
      "MSH|^~\\&|BBIS|NBS-BB|HL|NBS-BB|20261123140000||BPS^O29|B11|P|2.5\r"
      "PID|1||PAT-4411\rPV1|1|E|ER^^^NBS-HOSP\r";
  const std::string order =
      "ORC|SC|ORD-77|BB-77||||||20261123135500|||DR-1203^Haddad^Rania\r"
      "TQ1|1||||||||S\r"
      "BPO|1|RBC^Red blood cells^L||2||||||||||MHP^massive haemorrhage protocol\r";
  const std::string bpx = "BPX|1|DS|F|20261123133000|G123426000001|E0336V00\r";
  auto r = accepted(head + order + bpx);
  REQUIRE(r.events.size() == 1);
  const Event& e = r.events[0];
  CHECK(e.type == EventType::unit_issued);
  CHECK(e.emergency);
  CHECK(e.approver == "Rania Haddad");
  CHECK(e.reason == "massive haemorrhage protocol");
  CHECK(e.patient_abo_rh == AboRh::unknown);
  CHECK(e.to == "NBS-HOS");
  CHECK(validate_shape(e).ok());
  // Routine priority: an ordinary issue, which the engine refuses without the group.
  std::string routine = order;
  routine.replace(routine.find("||||||||S"), 9, "||||||||R");
  r = accepted(head + routine + bpx);
  REQUIRE(r.events.size() == 1);
  CHECK_FALSE(r.events[0].emergency);
  CHECK(r.events[0].approver.empty());
  // STAT with the patient's group known: an ordinary, checked issue.
  r = accepted(head + order + "OBX|1|CWE|882-1^ABO+Rh^LN||O+||||||F\r" + bpx);
  REQUIRE(r.events.size() == 1);
  CHECK_FALSE(r.events[0].emergency);
  CHECK(r.events[0].patient_abo_rh == AboRh::o_pos);
}

TEST_CASE("a dispense carries the patient's group from an OBX and the location from BPX-18",
          "[connectors][hl7][bedside]") {
  const std::string head =
      "MSH|^~\\&|BBIS|NBS-BB|HL|NBS-BB|20261123140000||BPS^O29|B7|P|2.5\r"
      "PID|1||PAT-4411\rPV1|1|I|WARD3^^^NBS-HOSP\r";
  const std::string typed = "OBX|1|CWE|882-1^ABO+Rh^LN||O+||||||F\r";
  const auto r = accepted(
      head + typed + "BPX|1|DS|F|20261123133000|G123426000001|E0336V00||||||||||||ER^^^GZA-HOS\r");
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].patient_abo_rh == AboRh::o_pos);
  CHECK(r.events[0].to == "GZA-HOS");
  // A name where the pseudonym belongs is refused, and an unknown location too.
  expect_error(mapped("MSH|^~\\&|BBIS|NBS-BB|HL|NBS-BB|20261123140000||BPS^O29|B8|P|2.5\r"
                      "PID|1||Ahmad Saleh\r"
                      "BPX|1|DS|F|20261123133000|G123426000001|E0336V00\r"),
               hl7::AckCode::error, hl7::err::kDataTypeError, "PID", 3, "pseudonymous");
  expect_error(mapped("MSH|^~\\&|BBIS|NBS-BB|HL|NBS-BB|20261123140000||BPS^O29|B9|P|2.5\r"
                      "PV1|1|I|WARD3^^^NOWHERE\r"
                      "BPX|1|DS|F|20261123133000|G123426000001|E0336V00\r"),
               hl7::AckCode::error, hl7::err::kUnknownKeyIdentifier, "PV1", 3, "NOWHERE");
}

TEST_CASE("every dispense status of table 0510 that hemoledger records has its event",
          "[connectors][hl7]") {
  const std::string head = "MSH|^~\\&|BBIS|NBS-BB|HL|NBS-BB|20261123140000||BPS^O29|B2|P|2.5\r";
  const struct {
    const char* status;
    EventType type;
  } cases[] = {{"RS", EventType::unit_reserved},   {"RD", EventType::unit_reserved},
               {"DS", EventType::unit_issued},     {"RA", EventType::unit_returned},
               {"RL", EventType::unit_returned},   {"RE", EventType::reservation_released},
               {"PT", EventType::unit_transfused}, {"WA", EventType::unit_discarded}};
  for (const auto& c : cases) {
    INFO(c.status);
    const auto r =
        accepted(head + "BPX|1|" + c.status + "|F|20261123133000|G123426000001|E0336V00\r");
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].type == c.type);
    if (c.type == EventType::unit_discarded) CHECK(r.events[0].reason == "other");
    CHECK(validate_shape(r.events[0]).ok());
  }
  expect_error(mapped(head + "BPX|1|CR|F|20261123133000|G123426000001|E0336V00\r"),
               hl7::AckCode::error, hl7::err::kTableValueNotFound, "BPX", 2, "table 0510");
  expect_error(mapped(head + "BPX|1|DS|F|20261123133000|G123426000001|E0336\r"),
               hl7::AckCode::error, hl7::err::kDataTypeError, "BPX", 6, "product code");
  const auto prelim = accepted(head + "BPX|1|DS|P|20261123133000|G123426000001|E0336V00\r");
  CHECK(prelim.events.empty());
  CHECK(prelim.notes == std::vector<std::string>{"BPX 1 is preliminary (P) and was not recorded."});
}

TEST_CASE("a BTS^O31 transfusion message becomes transfusion and return events",
          "[connectors][hl7]") {
  const auto r = accepted(sample("bts_o31_transfusion.hl7"));
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].type == EventType::unit_transfused);
  CHECK(r.events[0].din == "G123426000002");
  CHECK(r.events[0].product == "E0336V00");
  CHECK(r.events[0].facility == "NBS-HOS");
  CHECK(r.events[0].at == utc(2026, 11, 23, 14, 30));
  CHECK(r.events[1].type == EventType::unit_returned);
  CHECK(r.events[1].din == "G123426000001");

  CHECK(r.events[0].patient == "PAT-4411");

  const std::string head =
      "MSH|^~\\&|EMR|NBS-HOS|HL|NBS-BB|20261123170000||BTS^O31|E2|P|2.5\r"
      "PID|1||PAT-4411\r";
  // TR: the transfusion, then the reaction (BTX-18, table 0514), recorded for haemovigilance.
  const auto reaction =
      accepted(head + "BTX|1|G123426000002|E0336V00||||||||TR|F|20261123163000|||||TRALI\r");
  REQUIRE(reaction.events.size() == 2);
  CHECK(reaction.events[0].type == EventType::unit_transfused);
  const Event& x = reaction.events[1];
  CHECK(x.type == EventType::transfusion_reaction);
  CHECK(x.id == reaction.events[0].id + "-r");
  CHECK(x.reaction == ReactionCategory::trali);
  CHECK(x.severity == ReactionSeverity::severe);
  CHECK(x.imputability == Imputability::not_assessable);
  CHECK(x.patient == "PAT-4411");
  CHECK(x.onset_at == utc(2026, 11, 23, 14, 30));
  CHECK(validate_shape(x).ok());
  REQUIRE(reaction.notes.size() == 1);
  CHECK(reaction.notes[0].find("TransfusionReaction") != std::string::npos);
  const auto unnamed = accepted(head + "BTX|1|G123426000002|E0336V00||||||||TR|F|20261123163000\r");
  CHECK(unnamed.events.at(1).reaction == ReactionCategory::other);
  expect_error(mapped(head + "BTX|1|G123426000002|E0336V00||||||||TR|F|20261123163000|||||ITCHY\r"),
               hl7::AckCode::error, hl7::err::kTableValueNotFound, "BTX", 18, "table 0514");
  const auto wasted = accepted(head + "BTX|1|G123426000002|E0336V00||||||||WA|F|20261123163000\r");
  CHECK(wasted.events[0].type == EventType::unit_discarded);
  CHECK(wasted.events[0].reason == "other");
  expect_error(mapped(head + "BTX|1|G123426000002|E0336V00||||||||XX|F|20261123163000\r"),
               hl7::AckCode::error, hl7::err::kTableValueNotFound, "BTX", 11, "table 0513");
  expect_error(mapped(head + "BTX|1|G12341765432171|E0336V00||||||||TX|F|20261123163000\r"),
               hl7::AckCode::error, hl7::err::kDataTypeError, "BTX", 2, "G12341765432171");
}

TEST_CASE("the events of a typing and screening message release the donation in the projector",
          "[connectors][hl7]") {
  using hemoledger::testing::kT0;
  const auto& ref = shipped_reference();
  const Rules rules;
  Donation d;
  const auto apply = [&](const Event& e) {
    auto r = apply_event(ref, rules, d.din.empty() ? nullptr : &d, e);
    INFO(to_string(e.type) << " " << e.id << ": " << (r ? "ok" : r.error().message));
    REQUIRE(r.ok());
    d = r->after;
  };
  apply(hemoledger::testing::donation_collected(kT0 - 2 * kHour, AboRh::o_pos, "G123426000001"));
  Event produced = hemoledger::testing::component_produced("E0336V00", kT0 - kHour);
  produced.din = "G123426000001";
  apply(produced);
  const auto results = accepted(sample("oru_r01_typing_and_screens.hl7"));
  for (const auto& e : results.events) apply(e);
  CHECK(missing_for_release(ref, d).empty());
  Event release =
      hemoledger::testing::unit_event(EventType::unit_released, "E0336V00", kT0 + kHour);
  release.din = "G123426000001";
  apply(release);
  CHECK(d.unit("E0336V00")->status == UnitStatus::available);

  // The lab corrects the HIV result to reactive: the unit leaves stock until
  // the repeats are in; both results are kept.
  const auto corrected = accepted(oru_with("OBX|4|CWE|56888-1^HIV 1+2 Ag+Ab^LN||NR||||||F|",
                                           "OBX|4|CWE|56888-1^HIV 1+2 Ag+Ab^LN||Reactive||||||C|"));
  apply(corrected.events[3]);
  CHECK(d.test("hiv")->result == "positive");
  CHECK(d.test("hiv")->event_id == "hl7-NBS-LAB-LAB000123-4-c");
  CHECK(d.tests.size() == 6);
  CHECK(d.unit("E0336V00")->status == UnitStatus::quarantined);
  CHECK(d.marker("hiv")->status == MarkerStatus::initially_reactive);
  CHECK_FALSE(d.unit("E0336V00")->tti_blocked);
}

TEST_CASE("mangled HL7 input never throws: every byte string ends as events or an error",
          "[connectors][hl7]") {
  std::mt19937 rng(20261122);
  const std::string seeds[] = {sample("oru_r01_typing_and_screens.hl7"),
                               sample("bps_o29_dispense.hl7"), sample("bts_o31_transfusion.hl7")};
  const std::string alphabet = "|^~\\&\r\nMSHOBXR01F0123456789ABC \x0b\x1c";
  int accepted_count = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string s = seeds[round % 3];
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.erase(at, 1 + rng() % 8);
          break;
        default:
          s.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
    }
    MappingResult r;
    REQUIRE_NOTHROW(r = map_hl7_text(s, shipped_mapping(), kReceived));
    if (r.ok()) {
      ++accepted_count;
      for (const auto& e : r.events) CHECK(validate_shape(e).ok());
    } else {
      CHECK(r.events.empty());
      REQUIRE(r.error.has_value());
      CHECK_FALSE(r.error->message.empty());
    }
  }
  CHECK(accepted_count > 0);  // small edits (in free text) still map
}

TEST_CASE("sender text that an event cannot carry is cleaned or refused as the sender's error",
          "[connectors][hl7]") {
  const auto latin1 = accepted(kHeader +
                               "OBX|1|CWE|883-9^ABO^LN||A||||||F|||||||ORTHO-\xe9"
                               "01\r");
  CHECK(latin1.events[0].station == "ORTHO-?01");
  const auto info =
      accepted(kHeader + "OBX|1|ST|ABSC^Antibody screen^99NBS||No antibodies||||||F\r");
  CHECK(info.events[0].test == "antibody_screen");
  CHECK(info.events[0].result == "No antibodies");
  const auto bad_text = mapped(kHeader + "OBX|1|ST|ABSC^Antibody screen^99NBS||\xff\xfe||||||F\r");
  CHECK(bad_text.code == hl7::AckCode::error);
  CHECK(bad_text.error_code == "invalid_text");
  REQUIRE(bad_text.error.has_value());
  CHECK(bad_text.error->code == hl7::err::kDataTypeError);
  const auto too_long = mapped(kHeader + "OBX|1|ST|ABSC^Antibody screen^99NBS||" +
                               std::string(40, 'x') + "||||||F\r");
  CHECK(too_long.error_code == "unknown_result");  // info results are limited to 32 characters
}
