#include "connectors/fhir.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/connectors/connector_fixture.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

const TimeMs kReceived = utc(2026, 11, 22, 9);

json observation() {
  return json::parse(R"({
    "resourceType": "Observation", "id": "obs-hiv-0002", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "56888-1"}]},
    "specimen": {"identifier": {"value": "G123426000001"}},
    "effectiveDateTime": "2026-11-22T07:55:00Z",
    "valueCodeableConcept": {"coding": [{"code": "NR"}]}})");
}

MappingResult mapped(const json& j) {
  return fhir::map_observations(j.dump(), shipped_mapping(), kReceived);
}

void expect_error(const MappingResult& r, const std::string& code, const std::string& needle) {
  INFO(r.summary());
  CHECK_FALSE(r.ok());
  CHECK(r.events.empty());
  CHECK(r.error_code == code);
  REQUIRE(r.error.has_value());
  CHECK(r.error->message.find(needle) != std::string::npos);
}

}  // namespace

TEST_CASE("a FHIR Bundle of Observations becomes TestResulted events", "[connectors][fhir]") {
  const auto r =
      fhir::map_observations(sample("fhir_bundle_screens.json"), shipped_mapping(), kReceived);
  INFO(r.summary());
  REQUIRE(r.ok());
  REQUIRE(r.events.size() == 5);
  const char* tests[] = {"abo_rh", "hbv", "hcv", "hiv", "syphilis"};
  const char* results[] = {"O+", "negative", "negative", "negative", "negative"};
  for (std::size_t i = 0; i < 5; ++i) {
    INFO(i);
    CHECK(r.events[i].test == tests[i]);
    CHECK(r.events[i].result == results[i]);
    CHECK(r.events[i].din == "G123426000001");
    CHECK(r.events[i].facility == "NBS-LAB");
    CHECK(validate_shape(r.events[i]).ok());
  }
  CHECK(r.events[0].id == "fhir-NBS-LAB-obs-abo-rh-0001-1");  // with meta.versionId
  CHECK(r.events[1].id == "fhir-NBS-LAB-obs-hbsag-0001");
  CHECK(r.events[3].id == "fhir-NBS-LAB-4f7c2f0e-1c1a-4c55-9a43-2d1f8d2b7a04");  // fullUrl
  CHECK(r.events[0].at == utc(2026, 11, 22, 7, 45));
}

TEST_CASE("a single FHIR Observation is read with its value and time", "[connectors][fhir]") {
  const auto r = mapped(observation());
  REQUIRE(r.ok());
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].test == "hiv");
  CHECK(r.events[0].result == "negative");
  CHECK(r.events[0].at == utc(2026, 11, 22, 7, 55));
  auto no_time = observation();
  no_time.erase("effectiveDateTime");
  CHECK(mapped(no_time).events[0].at == kReceived);
}

TEST_CASE("an amended FHIR Observation gets a new id and a preliminary one is not recorded",
          "[connectors][fhir]") {
  auto amended = observation();
  amended["status"] = "amended";
  amended["valueCodeableConcept"] = {{"coding", {{{"code", "Reactive"}}}}};
  const auto a = mapped(amended);
  REQUIRE(a.ok());
  CHECK(a.events[0].result == "positive");
  CHECK(a.events[0].id == "fhir-NBS-LAB-obs-hiv-0002-c");
  CHECK(a.events[0].id != mapped(observation()).events[0].id);
  auto prelim = observation();
  prelim["status"] = "preliminary";
  const auto p = mapped(prelim);
  CHECK(p.ok());
  CHECK(p.events.empty());
  CHECK(p.notes ==
        std::vector<std::string>{"Observation obs-hiv-0002 is preliminary and was not recorded."});
  auto withdrawn = observation();
  withdrawn["status"] = "entered-in-error";
  expect_error(mapped(withdrawn), "cannot_retract", "never withdrawn");
}

TEST_CASE("the DIN can come from the Observation's identifier when the mapping says so",
          "[connectors][fhir]") {
  auto j = json::parse(read_data_file("lab_mapping.json"));
  j["fhir"] = {
      {"din_from", "identifier"}, {"din_system", "urn:lab:donation"}, {"facility", "NBS-LAB"}};
  auto by_identifier = LabMapping::parse_json(j.dump(), shipped_reference());
  REQUIRE(by_identifier.ok());
  auto obs = observation();
  obs.erase("specimen");
  obs["identifier"] = {{{"system", "urn:lab:order"}, {"value", "ORD-1"}},
                       {{"system", "urn:lab:donation"}, {"value", "G12341765432170"}}};
  const auto r = fhir::map_observations(obs.dump(), *by_identifier, kReceived);
  INFO(r.summary());
  REQUIRE(r.ok());
  CHECK(r.events[0].din == "G123417654321");
}

TEST_CASE("FHIR input that is not a valid result is refused with the JSON path",
          "[connectors][fhir]") {
  auto not_json = fhir::map_observations("{\"resourceType\": ", shipped_mapping(), kReceived);
  CHECK(not_json.error_code == "invalid_json");
  CHECK(not_json.code == hl7::AckCode::reject);

  auto patient = observation();
  patient["resourceType"] = "Patient";
  expect_error(mapped(patient), "wrong_resource_type", "\"Patient\"");
  json bundle = {
      {"resourceType", "Bundle"},
      {"entry", {{{"resource", observation()}}, {{"resource", {{"resourceType", "Specimen"}}}}}}};
  const auto b = mapped(bundle);
  expect_error(b, "wrong_resource_type", "entry[1].resource.resourceType");

  auto no_code = observation();
  no_code.erase("code");
  expect_error(mapped(no_code), "missing_field", "code");
  auto unknown = observation();
  unknown["code"]["coding"][0]["code"] = "24113-3";
  expect_error(mapped(unknown), "unknown_test", "24113-3");
  auto bad_value = observation();
  bad_value["valueCodeableConcept"]["coding"][0]["code"] = "maybe";
  expect_error(mapped(bad_value), "unknown_result", "maybe");
  auto no_value = observation();
  no_value.erase("valueCodeableConcept");
  expect_error(mapped(no_value), "missing_field", "value");
  auto bad_din = observation();
  bad_din["specimen"]["identifier"]["value"] = "G12341765432171";
  expect_error(mapped(bad_din), "check_failed", "specimen");
  auto no_id = observation();
  no_id.erase("id");
  expect_error(mapped(no_id), "missing_field", ".id");
  auto bad_time = observation();
  bad_time["effectiveDateTime"] = "yesterday";
  expect_error(mapped(bad_time), "bad_datetime", "yesterday");
  auto odd_status = observation();
  odd_status["status"] = "done";
  expect_error(mapped(odd_status), "unknown_status", "done");
}

TEST_CASE("a FHIR value quoted back in a refusal shows control bytes as '?'",
          "[connectors][fhir]") {
  auto odd_status = observation();
  odd_status["status"] = "do\x1b[2Jne";
  const auto r = mapped(odd_status);
  expect_error(r, "unknown_status", "\"do?[2Jne\"");
  CHECK(r.error->message.find('\x1b') == std::string::npos);
  auto bad_time = observation();
  bad_time["effectiveDateTime"] = "today\nand tomorrow";
  expect_error(mapped(bad_time), "bad_datetime", "\"today?and tomorrow\"");
}

TEST_CASE("a unit is written as a BiologicallyDerivedProduct", "[connectors][fhir]") {
  Donation d;
  d.din = "G123426000001";
  d.collected_at = utc(2026, 11, 22, 8);
  d.typed_abo = Abo::o;
  d.typed_rhd = RhD::negative;
  UnitState u;
  u.product = "E0336V00";
  u.category = Category::red_cells;
  u.status = UnitStatus::available;
  u.expires_at = utc(2027, 1, 3, 23, 59);
  const json bdp = fhir::biologically_derived_product(d, u, &shipped_reference());
  CHECK(bdp["resourceType"] == "BiologicallyDerivedProduct");
  CHECK(bdp["id"] == "G123426000001-E0336V00");
  CHECK(bdp["productCategory"]["code"] == "cells");
  CHECK(bdp["productCode"]["coding"][0]["code"] == "E0336");
  CHECK(bdp["biologicalSourceEvent"]["value"] == "G123426000001");
  CHECK(bdp["biologicalSourceEvent"]["system"] == std::string(fhir::kDinSystem));
  CHECK(bdp["division"] == "00");
  CHECK(bdp["productStatus"]["code"] == "available");
  CHECK(bdp["expirationDate"] == "2027-01-03T23:59:00Z");
  CHECK(bdp["collection"]["collectedDateTime"] == "2026-11-22T08:00:00Z");
  CHECK(bdp["storageTempRequirements"]["low"]["value"] == 2);
  CHECK(bdp["storageTempRequirements"]["high"]["value"] == 6);
  CHECK(bdp["property"][0]["valueCodeableConcept"]["text"] == "O-");

  u.status = UnitStatus::quarantined;
  u.category = Category::plasma;
  u.product = "E2555V00";
  const json plasma = fhir::biologically_derived_product(d, u);
  CHECK(plasma["productStatus"]["code"] == "unavailable");
  CHECK(plasma["productCategory"]["code"] == "fluid");
  CHECK(plasma["storageTempRequirements"]["high"]["value"] == -25);
  CHECK_FALSE(plasma["storageTempRequirements"].contains("low"));
  CHECK(plasma["property"].back()["valueCodeableConcept"]["coding"][0]["code"] == "quarantined");

  // Custody at the bedside: the hospital holds it for a patient; thawed, it is kept cold.
  u.status = UnitStatus::issued;
  u.holder = "NBS-HOS";
  u.issued_by = "NBS-BB";
  u.patient = "PAT-4411";
  u.thawed_at = utc(2026, 11, 23, 8);
  const json issued = fhir::biologically_derived_product(d, u);
  std::map<std::string, std::string> custody;
  for (const auto& p : issued["property"]) {
    if (p["type"]["coding"][0]["system"] == std::string(fhir::kCustodySystem)) {
      custody[p["type"]["coding"][0]["code"]] = p["valueString"];
    }
  }
  CHECK(custody == std::map<std::string, std::string>{{"holder", "NBS-HOS"},
                                                      {"issued-by", "NBS-BB"},
                                                      {"patient", "PAT-4411"},
                                                      {"thawed-at", "2026-11-23T08:00:00Z"}});
  CHECK(issued["storageTempRequirements"]["low"]["value"] == 1);
  CHECK(issued["storageTempRequirements"]["high"]["value"] == 6);
}

TEST_CASE("a facility's stock is written as an InventoryReport snapshot", "[connectors][fhir]") {
  const std::vector<fhir::StockLine> lines = {
      {"NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available, 12},
      {"NBS-BB", Category::red_cells, AboRh::a_pos, UnitStatus::available, 30},
      {"NBS-BB", Category::platelets, AboRh::a_pos, UnitStatus::quarantined, 4},
      {"GZA-BB", Category::plasma, AboRh::ab_pos, UnitStatus::available, 7}};
  const json report = fhir::inventory_report(lines, utc(2026, 11, 22, 12));
  CHECK(report["resourceType"] == "InventoryReport");
  CHECK(report["countType"] == "snapshot");
  CHECK(report["reportedDateTime"] == "2026-11-22T12:00:00Z");
  REQUIRE(report["inventoryListing"].size() == 3);
  const json& first = report["inventoryListing"][0];
  CHECK(first["location"]["identifier"]["value"] == "NBS-BB");
  CHECK(first["itemStatus"]["coding"][0]["code"] == "available");
  REQUIRE(first["item"].size() == 2);
  CHECK(first["item"][0]["category"]["coding"][0]["code"] == "red_cells");
  CHECK(first["item"][0]["quantity"]["value"] == 12);
  CHECK(first["item"][0]["item"]["concept"]["coding"][0]["code"] == "red_cells|O-");
  CHECK(report["inventoryListing"][1]["itemStatus"]["coding"][0]["code"] == "quarantined");
  CHECK(report["inventoryListing"][2]["location"]["identifier"]["value"] == "GZA-BB");
  CHECK(fhir::inventory_report({}, 1)["inventoryListing"].empty());
}

TEST_CASE("FHIR JSON of the wrong shapes never throws", "[connectors][fhir]") {
  for (
      const char* text :
      {"null", "[]", "42", "\"Observation\"", "{}", R"({"resourceType": 7})",
       R"({"resourceType": "Bundle"})", R"({"resourceType": "Bundle", "entry": {}})",
       R"({"resourceType": "Bundle", "entry": [7]})",
       R"({"resourceType": "Bundle", "entry": [{"resource": []}]})",
       R"({"resourceType": "Observation", "id": 5, "status": ["final"], "code": "x"})",
       R"({"resourceType": "Observation", "id": "a", "status": "final", "code": {"coding": [1, {"code": 2}]}})",
       R"({"resourceType": "Observation", "id": "a", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "5196-1"}]}, "valueCodeableConcept": {"coding": "x"}, "specimen": 3})"}) {
    INFO(text);
    MappingResult r;
    REQUIRE_NOTHROW(r = fhir::map_observations(text, shipped_mapping(), kReceived));
    CHECK_FALSE(r.ok());
    CHECK(r.events.empty());
  }
}

TEST_CASE("a FHIR body over 1 MiB or nested too deeply is refused before it is parsed",
          "[connectors][fhir]") {
  // A valid Bundle padded past the limit with spaces: the size alone refuses it.
  const std::string big =
      sample("fhir_bundle_screens.json") + std::string(fhir::kMaxBodyBytes, ' ');
  const auto large = fhir::map_observations(big, shipped_mapping(), kReceived);
  CHECK(large.error_code == "message_too_large");
  CHECK(large.code == hl7::AckCode::reject);
  CHECK(large.events.empty());

  auto obs = observation();
  json deep = "x";
  for (int i = 0; i < fhir::kMaxBodyDepth; ++i) deep = json::array({deep});
  obs["note"] = deep;
  const auto nested = fhir::map_observations(obs.dump(), shipped_mapping(), kReceived);
  CHECK(nested.error_code == "invalid_json");
  CHECK_THAT(nested.error->message, Catch::Contains("nested too deeply"));
  // The shipped sample is well inside both limits.
  CHECK(fhir::map_observations(sample("fhir_bundle_screens.json"), shipped_mapping(), kReceived)
            .ok());
}
