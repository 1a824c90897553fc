#include "connectors/lab_mapping.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/connectors/connector_fixture.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

void expect_invalid(const std::string& json, const std::string& needle) {
  auto m = LabMapping::parse_json(json, shipped_reference());
  INFO(json);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().code == "invalid_lab_mapping");
  INFO(m.error().message);
  CHECK(m.error().message.find(needle) != std::string::npos);
}

}  // namespace

TEST_CASE("the shipped lab mapping maps the LOINC codes of typing and screening",
          "[connectors][lab_mapping]") {
  const LabMapping& m = shipped_mapping();
  CHECK(*m.test_for("LN", "882-1") == "abo_rh");
  CHECK(*m.test_for("LN", "883-9") == "abo");
  CHECK(*m.test_for("LN", "10331-7") == "rhd");
  CHECK(*m.test_for("http://loinc.org", "5196-1") == "hbv");
  CHECK(*m.test_for("LN", "16128-1") == "hcv");
  CHECK(*m.test_for("LN", "56888-1") == "hiv");
  CHECK(*m.test_for("99NBS", "SYPH") == "syphilis");
  CHECK(*m.test_for("", "SYPH") == "syphilis");  // no system: the default (local)
  auto unknown = m.test_for("LN", "99999-9");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "unknown_test");
  CHECK(unknown.error().message.find("99999-9") != std::string::npos);
  CHECK_FALSE(m.test_for("LN", "SYPH").ok());  // a local code is not a LOINC code
}

TEST_CASE("result words become exactly the results the engine's TestResulted accepts",
          "[connectors][lab_mapping]") {
  const LabMapping& m = shipped_mapping();
  for (const char* pos : {"POS", "Positive", "Reactive", "R", "reactive", " pos "}) {
    INFO(pos);
    CHECK(*m.result_for("hiv", pos) == "positive");
  }
  for (const char* neg : {"NEG", "Negative", "Non-reactive", "NR", "nr"}) {
    INFO(neg);
    CHECK(*m.result_for("hbv", neg) == "negative");
  }
  CHECK(*m.result_for("hcv", "Equivocal") == "indeterminate");
  CHECK(*m.result_for("abo", "AB") == "AB");
  CHECK(*m.result_for("abo", "Group O") == "O");
  CHECK(*m.result_for("abo", "o") == "O");
  CHECK(*m.result_for("rhd", "D+") == "pos");
  CHECK(*m.result_for("rhd", "NEG") == "neg");
  CHECK(*m.result_for("rhd", "negative") == "neg");
  CHECK(*m.result_for("abo_rh", "O POS") == "O+");
  CHECK(*m.result_for("abo_rh", "ab d-") == "AB-");
  CHECK(*m.result_for("abo_rh", "B-") == "B-");
  CHECK(*m.result_for("antibody_screen", "No antibodies detected") == "No antibodies detected");
  auto info = LabMapping::parse_json(R"({"results": {"info": {"NAD": "no antibodies detected"}}})",
                                     shipped_reference());
  REQUIRE(info.ok());
  CHECK(*info->result_for("antibody_screen", "nad") == "no antibodies detected");
  CHECK(*info->result_for("antibody_screen", "weak anti-K") == "weak anti-K");
  auto bad = m.result_for("abo", "Bombay");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "unknown_result");
  CHECK(bad.error().message.find("O, A, B or AB") != std::string::npos);
  CHECK_FALSE(m.result_for("hiv", "D+").ok());  // an RhD word is not a screen outcome
}

TEST_CASE("the DIN and facility fields default to OBR-3 and MSH-4 and are configurable",
          "[connectors][lab_mapping]") {
  auto defaults = LabMapping::parse_json("{}", shipped_reference());
  REQUIRE(defaults.ok());
  CHECK(defaults->hl7().din_field.to_string() == "OBR-3.1.1");
  REQUIRE(defaults->hl7().facility_field.has_value());
  CHECK(defaults->hl7().facility_field->to_string() == "MSH-4.1.1");
  CHECK(defaults->astm().din_field.record == 'O');
  CHECK(defaults->astm().din_field.field == 3);

  auto custom = LabMapping::parse_json(
      R"({"hl7": {"din_field": "SPM-2.1", "facility": "GZA-LAB"},
          "astm": {"din_field": "O-4.2", "facility_field": "H-5"},
          "fhir": {"din_from": "identifier", "din_system": "urn:oid:2.16.840.1.113883.6.18.2.1",
                   "facility": "GZA-LAB"}})",
      shipped_reference());
  REQUIRE(custom.ok());
  CHECK(custom->hl7().din_field.to_string() == "SPM-2.1");
  CHECK(custom->hl7().facility == "GZA-LAB");
  CHECK_FALSE(custom->hl7().facility_field.has_value());
  CHECK(custom->astm().din_field.field == 4);
  CHECK(custom->astm().din_field.component == 2);
  REQUIRE(custom->astm().facility_field.has_value());
  CHECK(custom->astm().facility_field->record == 'H');
  CHECK(custom->fhir().din_from == LabMapping::FhirDinFrom::identifier);
}

TEST_CASE("facility names sent by a lab are translated through facility_codes",
          "[connectors][lab_mapping]") {
  const LabMapping& m = shipped_mapping();
  CHECK(*m.facility_for("NBSLAB") == "NBS-LAB");
  CHECK(*m.facility_for("NBS-LAB") == "NBS-LAB");
  auto unknown = m.facility_for("SOMEWHERE");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "unknown_facility");
  CHECK_FALSE(m.facility_for("").ok());
}

TEST_CASE("reagent consumption per test is kept from the mapping", "[connectors][lab_mapping]") {
  const LabMapping& m = shipped_mapping();
  const ReagentUse* hiv = m.reagent_for("hiv");
  REQUIRE(hiv != nullptr);
  CHECK(hiv->reagent == "hiv-elisa");
  CHECK(hiv->tests_per_result == 1);
  CHECK(m.reagent_for("malaria") == nullptr);
  auto two = LabMapping::parse_json(
      R"({"reagents": {"abo": {"reagent": "anti-A", "tests_per_result": 2}}})",
      shipped_reference());
  REQUIRE(two.ok());
  CHECK(two->reagent_for("abo")->tests_per_result == 2);
}

TEST_CASE("a lab mapping with a typo or an impossible value is refused at load time",
          "[connectors][lab_mapping]") {
  auto not_json = LabMapping::parse_json("{\"hl7\": ", shipped_reference());
  REQUIRE_FALSE(not_json.ok());
  CHECK(not_json.error().code == "invalid_json");
  expect_invalid("[]", "JSON object");
  expect_invalid(R"({"tset": {}})", "unknown key \"tset\"");
  expect_invalid(R"({"hl7": {"din_feld": "OBR-3"}})", "unknown key \"din_feld\"");
  expect_invalid(R"({"hl7": {"din_field": "OBR3"}})", "hl7.din_field");
  expect_invalid(R"({"hl7": {"din_field": 3}})", "non-empty string");
  expect_invalid(R"({"hl7": {"facility": "NBS-LAB", "facility_field": "MSH-4"}})", "not both");
  expect_invalid(R"({"hl7": {"facility": "NOWHERE"}})", "not a facility");
  expect_invalid(R"({"hl7": {"utc_offset_minutes": 5000}})", "utc_offset_minutes");
  expect_invalid(R"({"hl7": {"wasted_reason": "lost"}})", "wasted_reason");
  expect_invalid(R"({"astm": {"din_field": "OBR-3"}})", "astm.din_field");
  expect_invalid(R"({"fhir": {"din_from": "patient"}})", "din_from");
  expect_invalid(R"({"tests": {"loinc": {"5196-1": "hepatitis_b"}}})", "test catalogue");
  expect_invalid(R"({"results": {"screen": {"POS": "reactive-ish"}}})", "negative, positive");
  expect_invalid(R"({"results": {"abo": {"A1": "A1"}}})", "O, A, B or AB");
  expect_invalid(R"({"results": {"rhd": {"weak D": "weak"}}})", "pos or neg");
  expect_invalid(R"({"results": {"blood": {}}})", "unknown test kind");
  expect_invalid(R"({"results": {"screen": {"POS": "positive", "pos": "negative"}}})",
                 "listed twice");
  expect_invalid(R"({"reagents": {"abo": {"tests_per_result": 1}}})", "needs \"reagent\"");
  expect_invalid(R"({"reagents": {"abo": {"reagent": "anti-Q"}}})", "not in the reagent catalogue");
  expect_invalid(R"({"reagents": {"abo": {"reagent": "anti-A", "tests_per_result": 0}}})",
                 "tests_per_result");
  expect_invalid(R"({"reagents": {"abo": {"reagent": "anti-A", "lot": "1"}}})",
                 "unknown key \"lot\"");
  expect_invalid(R"({"facility_codes": {"X": "NOWHERE"}})", "not a facility");
  expect_invalid(R"({"tests": {"loinc": {"5196-1": "hbv", "5196-1": "hcv"}}})", "given twice");
  expect_invalid(R"({"hl7": {}, "hl7": {"din_field": "OBR-3"}})", "\"hl7\"");
  expect_invalid(R"({"default_coding_system": ""})", "Lab mapping, default_coding_system:");
  expect_invalid(R"({"coding_systems": {"LN": 1}})", "coding_systems.LN");
}

TEST_CASE("a DIN sent by a lab is checked where it carries a check and stripped of flags",
          "[connectors][lab_mapping]") {
  CHECK(*din_from_lab("G123417654321") == "G123417654321");
  CHECK(*din_from_lab("G12341765432170") == "G123417654321");   // type-3 check flag
  CHECK(*din_from_lab("G12341765432100") == "G123417654321");   // flags unused
  CHECK(*din_from_lab("G123417654321A") == "G123417654321");    // keyboard check character
  CHECK(*din_from_lab("=G12341765432170") == "G123417654321");  // the full data structure
  auto wrong = din_from_lab("G12341765432171");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == "check_failed");
  auto wrong_char = din_from_lab("G123417654321B");
  REQUIRE_FALSE(wrong_char.ok());
  CHECK(wrong_char.error().code == "check_failed");
  CHECK_FALSE(din_from_lab("").ok());
  CHECK_FALSE(din_from_lab("SPEC-0001").ok());
  CHECK_FALSE(din_from_lab("O123417654321").ok());  // O is not a DIN's first character
}

TEST_CASE("the release policy is off unless the mapping switches it on with a boolean",
          "[connectors][lab_mapping]") {
  CHECK_FALSE(shipped_mapping().release_when_complete());
  auto on = LabMapping::parse_json(R"({"release_when_complete": true})", shipped_reference());
  REQUIRE(on.ok());
  CHECK(on->release_when_complete());
  expect_invalid(R"({"release_when_complete": "yes"})", "release_when_complete");
}
