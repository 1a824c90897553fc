#include "connectors/fhir_adverse_event.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/connectors/connector_fixture.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

const TimeMs kReceived = utc(2026, 11, 23, 12);

json codeable(const std::string& code) {
  return {{"coding", json::array({{{"system", "urn:example"}, {"code", code}}})}};
}

// A transfusion reaction as a hospital's system writes it in FHIR R4.
json r4() {
  return {{"resourceType", "AdverseEvent"},
          {"id", "ae-1"},
          {"actuality", "actual"},
          {"event", codeable("trali")},
          {"subject", {{"reference", "Patient/PAT-4411"}}},
          {"date", "2026-11-23T09:00:00Z"},
          {"recordedDate", "2026-11-23T09:30:00Z"},
          {"location", {{"reference", "Location/NBS-HOS"}}},
          {"severity", codeable("severe")},
          {"suspectEntity",
           json::array(
               {{{"instance", {{"reference", "BiologicallyDerivedProduct/G123426000017-E0336V00"}}},
                 {"causality", json::array({{{"assessment", codeable("Probable")}}})}}})},
          {"note", json::array({{{"text", "dyspnoea and hypoxia 40 minutes into the unit"}}})}};
}

// The same in FHIR R5: code, occurrenceDateTime, instanceReference, entityRelatedness.
json r5() {
  json j = r4();
  j.erase("event");
  j.erase("date");
  j.erase("severity");
  j["code"] = codeable("trali");
  j["occurrenceDateTime"] = "2026-11-23T09:00:00Z";
  j["seriousness"] = codeable("life-threatening");
  j["suspectEntity"] = json::array(
      {{{"instanceReference", {{"reference", "BiologicallyDerivedProduct/G123426000017-E0336V00"}}},
        {"causality", json::array({{{"entityRelatedness", codeable("likely")}}})}}});
  return j;
}

MappingResult mapped(const json& j) {
  return fhir::map_adverse_event(j.dump(), shipped_mapping(), kReceived);
}

void expect_refused(const json& j, const std::string& code, const std::string& where) {
  const MappingResult r = mapped(j);
  INFO(r.summary());
  CHECK_FALSE(r.ok());
  CHECK(r.error_code == code);
  REQUIRE(r.error.has_value());
  CHECK(r.error->message.find(where) != std::string::npos);
  CHECK(r.events.empty());
}

}  // namespace

TEST_CASE("a FHIR R4 AdverseEvent becomes a TransfusionReaction", "[connectors][fhir][bedside]") {
  const MappingResult r = mapped(r4());
  INFO(r.summary());
  REQUIRE(r.ok());
  REQUIRE(r.events.size() == 1);
  const Event& e = r.events[0];
  CHECK(e.type == EventType::transfusion_reaction);
  CHECK(e.id == "fhir-NBS-HOS-ae-1");
  CHECK(e.facility == "NBS-HOS");
  CHECK(e.din == "G123426000017");
  CHECK(e.product == "E0336V00");
  CHECK(e.patient == "PAT-4411");
  CHECK(e.reaction == ReactionCategory::trali);
  CHECK(e.severity == ReactionSeverity::severe);
  CHECK(e.imputability == Imputability::probable);
  CHECK(e.onset_at == utc(2026, 11, 23, 9));
  CHECK(e.at == utc(2026, 11, 23, 9, 30));
  CHECK(e.reason == "dyspnoea and hypoxia 40 minutes into the unit");
  CHECK(validate_shape(e).ok());
}

TEST_CASE("a FHIR R5 AdverseEvent maps the same way", "[connectors][fhir][bedside]") {
  const MappingResult r = mapped(r5());
  INFO(r.summary());
  REQUIRE(r.ok());
  const Event& e = r.events.at(0);
  CHECK(e.reaction == ReactionCategory::trali);
  CHECK(e.severity == ReactionSeverity::life_threatening);
  CHECK(e.imputability == Imputability::probable);
  CHECK(e.onset_at == utc(2026, 11, 23, 9));
  // R4's mild reads as non-severe; a fatal outcome as death.
  json mild = r4();
  mild["severity"] = codeable("mild");
  CHECK(mapped(mild).events.at(0).severity == ReactionSeverity::non_severe);
  json fatal = r5();
  fatal["outcome"] = json::array({codeable("fatal")});
  CHECK(mapped(fatal).events.at(0).severity == ReactionSeverity::death);
}

TEST_CASE("an AdverseEvent hemoledger cannot record is refused with where and why",
          "[connectors][fhir][bedside]") {
  json named = r4();
  named["subject"]["reference"] = "Patient/Ahmad Saleh";
  expect_refused(named, "invalid_patient", "AdverseEvent.subject");
  json no_unit = r4();
  no_unit["suspectEntity"][0]["instance"]["reference"] = "Medication/123";
  expect_refused(no_unit, "missing_field", "BiologicallyDerivedProduct/<din>-<product>");
  json itch = r4();
  itch["event"] = codeable("itching");
  expect_refused(itch, "unknown_reaction", "AdverseEvent.event");
  json potential = r4();
  potential["actuality"] = "potential";
  expect_refused(potential, "not_a_reaction", "AdverseEvent.actuality");
  json unassessed = r4();
  unassessed["suspectEntity"][0].erase("causality");
  expect_refused(unassessed, "missing_field", "causality");
  json nowhere = r4();
  nowhere["location"]["reference"] = "Location/XYZ-HOS";
  expect_refused(nowhere, "unknown_facility", "AdverseEvent.location");
  json observation = r4();
  observation["resourceType"] = "Observation";
  expect_refused(observation, "wrong_resource_type", "resourceType");
  CHECK(fhir::map_adverse_event("{not json", shipped_mapping(), kReceived).error_code ==
        "invalid_json");
}
