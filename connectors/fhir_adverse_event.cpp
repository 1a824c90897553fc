#include "connectors/fhir_adverse_event.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "connectors/fhir.h"
#include "connectors/sender_text.h"
#include "events/json_codec.h"

namespace hemoledger::fhir {

namespace {

using nlohmann::json;
namespace err = hl7::err;

MappingResult failed(int hl7_code, std::string code, const std::string& where,
                     const std::string& message) {
  MappingResult r;
  r.code = hl7::AckCode::error;
  r.error_code = std::move(code);
  r.error = hl7::AckError{hl7_code, "AdverseEvent", 1, 0, "AdverseEvent" + where + ": " + message};
  return r;
}

const json* at_path(const json& v, std::initializer_list<const char*> keys) {
  const json* cur = &v;
  for (const char* k : keys) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string text_at(const json& v, std::initializer_list<const char*> keys) {
  const json* x = at_path(v, keys);
  return x && x->is_string() ? x->get<std::string>() : std::string();
}

const json* first(const json* array) {
  return array && array->is_array() && !array->empty() ? &(*array)[0] : nullptr;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

// The codes of a CodeableConcept's codings, lower-cased, '-' read as '_'.
std::vector<std::string> codes(const json* codeable) {
  std::vector<std::string> out;
  if (!codeable) return out;
  if (const json* cs = at_path(*codeable, {"coding"}); cs && cs->is_array()) {
    for (const auto& c : *cs) {
      if (c.is_object() && c.contains("code") && c["code"].is_string()) {
        out.push_back(lower(c["code"].get<std::string>()));
      }
    }
  }
  return out;
}

// "Type/<id>" -> id when the type matches.
std::string reference_id(const json* ref, std::string_view type) {
  if (!ref) return {};
  const std::string r = text_at(*ref, {"reference"});
  const std::string prefix = std::string(type) + "/";
  return r.rfind(prefix, 0) == 0 ? r.substr(prefix.size()) : std::string();
}

std::optional<MappingResult> read_unit(const json& ae, Event& e) {
  const json* suspect = first(at_path(ae, {"suspectEntity"}));
  const json* instance = suspect ? at_path(*suspect, {"instance"}) : nullptr;
  if (!instance && suspect) instance = at_path(*suspect, {"instanceReference"});
  const std::string id = reference_id(instance, "BiologicallyDerivedProduct");
  const auto dash = id.find('-');
  if (dash == std::string::npos || !is_din(id.substr(0, dash)) ||
      !is_product_code(id.substr(dash + 1))) {
    return failed(err::kRequiredFieldMissing, "missing_field", ".suspectEntity[0].instance",
                  "name the unit as BiologicallyDerivedProduct/<din>-<product> (e.g. "
                  "BiologicallyDerivedProduct/G123426000017-E0336V00).");
  }
  e.din = id.substr(0, dash);
  e.product = id.substr(dash + 1);
  return std::nullopt;
}

std::optional<MappingResult> read_patient(const json& ae, Event& e) {
  const json* subject = at_path(ae, {"subject"});
  std::string patient = reference_id(subject, "Patient");
  if (patient.empty() && subject) patient = text_at(*subject, {"identifier", "value"});
  if (!is_pseudonymous_id(patient)) {
    return failed(patient.empty() ? err::kRequiredFieldMissing : err::kDataTypeError,
                  patient.empty() ? "missing_field" : "invalid_patient", ".subject",
                  "the patient must be Patient/<pseudonymous id> (letters, digits and - _ . : / "
                  "with a digit), never a name.");
  }
  e.patient = patient;
  return std::nullopt;
}

std::optional<MappingResult> read_reaction(const json& ae, Event& e) {
  const json* codeable = at_path(ae, {"event"});
  if (!codeable) codeable = at_path(ae, {"code"});
  for (const auto& c : codes(codeable)) {
    if (parse_reaction_category(c, e.reaction)) return std::nullopt;
  }
  return failed(err::kTableValueNotFound, "unknown_reaction", codeable ? ".event" : ".code",
                "no coding names a transfusion reaction category (" +
                    std::string(reaction_categories_text()) + ").");
}

std::optional<MappingResult> read_severity(const json& ae, Event& e) {
  for (const char* key : {"severity", "seriousness"}) {
    for (const auto& c : codes(at_path(ae, {key}))) {
      if (c == "mild" || c == "moderate") {
        e.severity = ReactionSeverity::non_severe;
        break;
      }
      if (parse_reaction_severity(c, e.severity)) break;
    }
    if (e.severity != ReactionSeverity::none) break;
  }
  std::vector<std::string> outcome = codes(at_path(ae, {"outcome"}));
  if (const json* list = at_path(ae, {"outcome"}); list && list->is_array()) {
    for (const auto& o : *list) {
      for (const auto& c : codes(&o)) outcome.push_back(c);
    }
  }
  if (std::find(outcome.begin(), outcome.end(), "fatal") != outcome.end()) {
    e.severity = ReactionSeverity::death;
  }
  if (e.severity == ReactionSeverity::none) {
    return failed(
        err::kRequiredFieldMissing, "missing_field", ".severity",
        "no coding gives the severity (" + std::string(reaction_severities_text()) + ").");
  }
  return std::nullopt;
}

std::optional<MappingResult> read_imputability(const json& ae, Event& e) {
  const json* causality = nullptr;
  if (const json* suspect = first(at_path(ae, {"suspectEntity"}))) {
    causality = first(at_path(*suspect, {"causality"}));
  }
  const json* codeable = causality ? at_path(*causality, {"assessment"}) : nullptr;
  if (!codeable && causality) codeable = at_path(*causality, {"entityRelatedness"});
  for (std::string c : codes(codeable)) {
    if (c == "probably" || c == "likely" || c == "probable_likely") c = "probable";
    if (c == "unassessable" || c == "unclassifiable" || c == "unassessable_unclassifiable" ||
        c == "conditional" || c == "unclassified") {
      c = "not_assessable";
    }
    if (parse_imputability(c, e.imputability)) return std::nullopt;
  }
  return failed(err::kRequiredFieldMissing, "missing_field",
                ".suspectEntity[0].causality[0].assessment",
                "no coding gives the imputability (" + std::string(imputabilities_text()) + ").");
}

std::optional<MappingResult> read_times(const json& ae, TimeMs received_at, Event& e) {
  e.at = received_at;
  const auto parse = [&](const char* key, TimeMs& out) -> std::optional<MappingResult> {
    const std::string t = text_at(ae, {key});
    if (t.empty()) return std::nullopt;
    auto parsed = parse_rfc3339(t);
    if (!parsed) {
      return failed(err::kDataTypeError, "bad_datetime", std::string(".") + key,
                    "\"" + sender_text(t, 40) + "\" is not a date-time with a time of day.");
    }
    out = *parsed;
    return std::nullopt;
  };
  for (const char* key : {"detected", "occurrenceDateTime", "date"}) {  // the last found wins
    if (auto f = parse(key, e.onset_at)) return f;
  }
  if (auto f = parse("recordedDate", e.at)) return f;
  if (e.onset_at == 0) {
    return failed(err::kRequiredFieldMissing, "missing_field", ".date",
                  "the onset is missing (date in R4, occurrenceDateTime in R5).");
  }
  return std::nullopt;
}

std::optional<MappingResult> read_facility(const json& ae, const LabMapping& mapping, Event& e) {
  std::string sent = reference_id(at_path(ae, {"location"}), "Location");
  if (sent.empty()) sent = mapping.fhir().facility;
  if (sent.empty()) {
    return failed(err::kUnknownKeyIdentifier, "unknown_facility", ".location",
                  "name the reporting hospital as Location/<facility code>.");
  }
  auto f = mapping.facility_for(sent);
  if (!f) return failed(err::kUnknownKeyIdentifier, f.error().code, ".location", f.error().message);
  e.facility = *f;
  return std::nullopt;
}

}  // namespace

MappingResult map_adverse_event(std::string_view json_text, const LabMapping& mapping,
                                TimeMs received_at) {
  if (json_text.size() > kMaxBodyBytes || !json_nesting_within(json_text, kMaxBodyDepth)) {
    MappingResult r;
    r.code = hl7::AckCode::reject;
    r.error_code = kInvalidJson;
    r.error = hl7::AckError{err::kApplicationInternalError, "", 0, 0,
                            "The body is too large or nested too deeply to be an AdverseEvent."};
    return r;
  }
  const json ae = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (ae.is_discarded()) {
    MappingResult r;
    r.code = hl7::AckCode::reject;
    r.error_code = kInvalidJson;
    r.error =
        hl7::AckError{err::kApplicationInternalError, "", 0, 0, "The body is not valid JSON."};
    return r;
  }
  if (text_at(ae, {"resourceType"}) != "AdverseEvent") {
    return failed(err::kUnsupportedMessageType, "wrong_resource_type", ".resourceType",
                  "expected an AdverseEvent.");
  }
  const std::string id = text_at(ae, {"id"});
  if (id.empty() || id.size() > 64 ||
      !std::all_of(id.begin(), id.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; })) {
    return failed(err::kRequiredFieldMissing, "missing_field", ".id",
                  "the AdverseEvent needs an id (1 to 64 characters) so that a resend is "
                  "recognised.");
  }
  if (const std::string actuality = text_at(ae, {"actuality"});
      !actuality.empty() && actuality != "actual") {
    return failed(err::kTableValueNotFound, "not_a_reaction", ".actuality",
                  "only an actual adverse event is a transfusion reaction; a potential one (a "
                  "near miss) is not recorded here.");
  }
  Event e;
  e.type = EventType::transfusion_reaction;
  e.actor = "fhir";
  for (auto step : {read_unit, read_patient, read_reaction, read_severity, read_imputability}) {
    if (auto f = step(ae, e)) return *f;
  }
  if (auto f = read_times(ae, received_at, e)) return *f;
  if (auto f = read_facility(ae, mapping, e)) return *f;
  if (const json* note = first(at_path(ae, {"note"}))) {
    e.reason = sender_text(text_at(*note, {"text"}), 200);
  }
  const std::string version = text_at(ae, {"meta", "versionId"});
  e.id = "fhir-" + e.facility + "-" + id + (version.empty() ? "" : "-" + version);
  if (auto s = validate_shape(e); !s) {
    return failed(err::kDataTypeError, s.error().code, "", s.error().message);
  }
  MappingResult r;
  r.events.push_back(std::move(e));
  return r;
}

}  // namespace hemoledger::fhir
