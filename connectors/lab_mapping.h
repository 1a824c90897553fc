// LabMapping: how one laboratory's messages become hemoledger facts. Which
// field carries the DIN, which facility the lab is, which of its test codes
// is which hemoledger test (data/tests.csv), and which of its result words
// is which outcome. Loaded from a JSON file (data/lab_mapping.json is the
// shipped example; docs/connectors.md documents every key) and read-only
// afterwards, so it may be shared between threads.
//
//   auto map = LabMapping::parse_json(text, reference);
//   if (!map) { log(map.error().message); return; }   // names the key at fault
//   auto test = map->test_for("LN", "5196-1");         // "hbv"
//   auto result = map->result_for(*test, "NR");        // "negative"
//
// Strict: an unknown key, a key given twice, a wrong type, a test code that
// the test catalogue does not know or an outcome that the engine's
// TestResulted would refuse is an error at load time ("invalid_lab_mapping";
// "invalid_json" for text that is not JSON), so a typo never turns into a
// silently dropped result.
//
// Results. For a test of kind abo, rhd, abo_rh or screen, result_for() looks
// the value up (case-insensitive, surrounding spaces ignored) in the table of
// that kind, then falls back to the engine's own spellings (the parsers of
// events/blood_group.h and parse_screen_outcome), and always returns the
// canonical form the projector accepts: abo O/A/B/AB, rhd pos/neg, abo_rh
// O+ ... AB-, screen negative/positive/indeterminate. A test of kind info
// takes its table's outcome, else keeps the value as sent (1 to 32
// characters).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/hl7.h"
#include "events/event.h"
#include "events/reference_data.h"
#include "events/result.h"

namespace hemoledger {

// Reagent consumed by each result of a test: the lab gateway records a
// ReagentConsumed of the lab's first-expiring lot in stock for each result.
struct ReagentUse {
  std::string reagent;       // the lab's reagent code
  int tests_per_result = 1;  // reagent tests used to produce one result, >= 1
};

// A field of an ASTM record, "O-3" or "O-3.2" (record type letter, field,
// optional component; fields count as in LIS2-A2, the type letter is field 1).
struct AstmFieldPath {
  char record = 'O';
  int field = 3;
  int component = 1;
};
[[nodiscard]] Result<AstmFieldPath> parse_astm_field_path(std::string_view text);

// What a lab message (HL7, ASTM or FHIR) became: the events to produce and
// the outcome to acknowledge. All or nothing: when code is not accept,
// events is empty and error says why (table 0357 code, the segment and field
// at fault, and one plain sentence naming them).
struct MappingResult {
  std::vector<Event> events;
  hl7::AckCode code = hl7::AckCode::accept;
  std::optional<hl7::AckError> error;  // set when code != accept
  std::string error_code;              // hemoledger's snake_case code, e.g. "unknown_test"
  std::vector<std::string> notes;      // what was read but not recorded, and why

  bool ok() const { return code == hl7::AckCode::accept; }
  // One sentence for MSA-3 / a log line.
  std::string summary() const;
};

// The 13-character DIN in a donation or specimen id as a lab sends it: 13
// characters (no check possible), 14 (eye-readable DIN + keyboard check
// character, verified), 15 (DIN + ISBT 128 flags: the flags are stripped, a
// type-3 check flag 60-96 verified) or a full "=" data structure 001. Error
// codes as isbt128::decode (check_failed, unknown_code, ...) or invalid_din.
[[nodiscard]] Result<std::string> din_from_lab(std::string_view sent);

class LabMapping {
 public:
  // Where the DIN and the facility are found in each format. A fixed
  // facility code wins over a field; a field's value goes through
  // facility_codes() when listed there.
  struct Hl7 {
    hl7::FieldPath din_field{"OBR", 3, 1, 1, 1};  // "din_field", default OBR-3
    std::optional<hl7::FieldPath> facility_field = hl7::FieldPath{"MSH", 4, 1, 1, 1};
    std::string facility;                 // "facility", fixed code
    int utc_offset_minutes = 0;           // for date/times sent without an offset
    std::string wasted_reason = "other";  // discard reason of a WA (wasted) unit
    // "method_field": where an OBX says how the result was obtained (OBX-17,
    // the observation method, by default), read through methods.
    hl7::FieldPath method_field{"OBX", 17, 1, 1, 1};
  };
  struct Astm {
    AstmFieldPath din_field;  // default O-3, the specimen id
    std::optional<AstmFieldPath> facility_field;
    std::string facility;
    int utc_offset_minutes = 0;
    // "method_field": a field of the R record that says how the result was
    // obtained, read through methods (none by default: LIS2-A2 has no place
    // for it; analyzers often use a component of R-3, e.g. "R-3.5").
    std::optional<AstmFieldPath> method_field;
  };
  enum class FhirDinFrom : std::uint8_t { specimen, identifier };
  struct Fhir {
    FhirDinFrom din_from = FhirDinFrom::specimen;
    std::string din_system;  // identifier system to pick; "" = the first identifier
    std::string facility;    // required to map FHIR input
  };

  [[nodiscard]] static Result<LabMapping> parse_json(std::string_view json_text,
                                                     const ReferenceData& reference);

  const Hl7& hl7() const { return hl7_; }
  const Astm& astm() const { return astm_; }
  const Fhir& fhir() const { return fhir_; }

  // The hemoledger test code for a code of a coding system as the sender
  // names it ("LN", "http://loinc.org", "99NBS", or "" for none: the default
  // coding system). Error "unknown_test" naming the code and system.
  [[nodiscard]] Result<std::string> test_for(std::string_view system, std::string_view code) const;
  // The canonical result of hemoledger test `test` for the value as sent.
  // Error "unknown_result" naming the value and what was expected.
  [[nodiscard]] Result<std::string> result_for(std::string_view test, std::string_view value) const;
  // Our facility code for the value a message carries (through
  // facility_codes, else as sent). Error "unknown_facility" when the result
  // is not in the facility table.
  [[nodiscard]] Result<std::string> facility_for(std::string_view sent) const;
  const ReagentUse* reagent_for(std::string_view test) const;
  // How a result was obtained, for the method a message sends (HL7 OBX-17,
  // an ASTM field, FHIR Observation.method): looked up in "methods" (e.g.
  // {"REP": "repeat", "WB": "confirmatory"}, case-insensitive), else one of
  // screen, repeat, confirmatory, nat; empty is unspecified. Error
  // "unknown_method" otherwise.
  [[nodiscard]] Result<TestMethod> method_for(std::string_view sent) const;
  // Runtime policy ("release_when_complete", default false): once a lab
  // message's results are applied, the lab gateway (engine/labs/lab_gateway.h)
  // releases the quarantined components of each donation that needs no
  // further test and has no positive screen.
  bool release_when_complete() const { return release_when_complete_; }

 private:
  Hl7 hl7_;
  Astm astm_;
  Fhir fhir_;
  std::map<std::string, std::string, std::less<>> facility_codes_;
  std::map<std::string, std::string, std::less<>> systems_;  // alias -> system
  std::string default_system_ = "local";
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> tests_;
  std::map<std::string, TestMethod, std::less<>> methods_;  // lower-cased sent value
  std::map<std::string, TestKind, std::less<>> kinds_;      // every test in the catalogue
  std::map<TestKind, std::map<std::string, std::string, std::less<>>> results_;  // lowercase keys
  std::map<std::string, ReagentUse, std::less<>> reagents_;
  std::set<std::string, std::less<>> facilities_;  // known facility codes
  bool release_when_complete_ = false;
};

}  // namespace hemoledger
