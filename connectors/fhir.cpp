#include "connectors/fhir.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "connectors/sender_text.h"
#include "events/event.h"
#include "events/json_codec.h"
#include "events/time.h"

namespace hemoledger::fhir {

namespace {

using nlohmann::json;
namespace err = hl7::err;

MappingResult failed(int hl7_code, std::string code, int sequence, const std::string& path,
                     const std::string& message) {
  MappingResult r;
  r.code = hl7::AckCode::error;
  r.error_code = std::move(code);
  r.error = hl7::AckError{hl7_code, "Observation", sequence, 0,
                          (path.empty() ? "" : path + ": ") + message};
  return r;
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string string_member(const json& obj, const char* key) {
  const json* v = member(obj, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

bool printable_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Where one Observation is in the body: its JSON path ("entry[2].resource")
// and its number, for the failures below.
struct Place {
  const std::string& path;
  int n;
};

// A failure at element `where` (a path suffix such as ".status") of the
// Observation at `at`.
MappingResult failed_at(const Place& at, int hl7_code, std::string code, const std::string& where,
                        const std::string& message) {
  return failed(hl7_code, std::move(code), at.n, at.path + where, message);
}

// The steps below return the failure that answers the body, or nullopt when
// the step passed and wrote its result to the out parameter.

// What one Observation says, read and checked step by step.
struct ObservationRead {
  std::string id;
  std::string test;
  std::string result;
  TestMethod method = TestMethod::unspecified;
  std::string din;
  TimeMs at = 0;
};

// Refuses anything but an Observation.
std::optional<MappingResult> check_resource_type(const json& obs, const Place& at) {
  if (!obs.is_object() || string_member(obs, "resourceType") != "Observation") {
    const std::string got = obs.is_object() ? string_member(obs, "resourceType") : "";
    const std::string shown =
        got.empty() ? std::string("no resourceType") : "\"" + sender_text(got, 40) + "\"";
    return failed_at(at, err::kUnsupportedMessageType, "wrong_resource_type", ".resourceType",
                     "expected an Observation, got " + shown + ".");
  }
  return std::nullopt;
}

// The Observation's id, else the uuid of the entry's fullUrl "urn:uuid:...".
std::optional<MappingResult> read_id(const json& obs, const std::string& full_url, const Place& at,
                                     ObservationRead& out) {
  std::string id = string_member(obs, "id");
  if (id.empty() && full_url.rfind("urn:uuid:", 0) == 0) id = full_url.substr(9);
  if (!printable_id(id)) {
    return failed_at(at, err::kRequiredFieldMissing, "missing_field", ".id",
                     "the Observation needs an id (1 to 64 characters) so that a resend is "
                     "recognised.");
  }
  out.id = id;
  return std::nullopt;
}

// The hemoledger test of the first code.coding the mapping knows.
std::optional<MappingResult> find_test(const json& obs, const LabMapping& mapping, const Place& at,
                                       ObservationRead& out) {
  const json* code = member(obs, "code");
  const json* codings = code ? member(*code, "coding") : nullptr;
  if (!codings || !codings->is_array() || codings->empty()) {
    return failed_at(at, err::kRequiredFieldMissing, "missing_field", ".code",
                     "the Observation has no code.coding saying which test it is.");
  }
  std::optional<std::string> test;
  std::string first_error;
  for (const auto& c : *codings) {
    auto t = mapping.test_for(string_member(c, "system"), string_member(c, "code"));
    if (t) {
      test = *t;
      break;
    }
    if (first_error.empty()) first_error = t.error().message;
  }
  if (!test) return failed_at(at, err::kTableValueNotFound, "unknown_test", ".code", first_error);
  out.test = *test;
  return std::nullopt;
}

// The values the result may be read from, in order: each
// valueCodeableConcept.coding[].code, valueCodeableConcept.text, valueString.
std::vector<std::string> value_candidates(const json& obs) {
  std::vector<std::string> candidates;
  if (const json* vcc = member(obs, "valueCodeableConcept")) {
    if (const json* vc = member(*vcc, "coding"); vc && vc->is_array()) {
      for (const auto& c : *vc) {
        if (auto s = string_member(c, "code"); !s.empty()) candidates.push_back(s);
      }
    }
    if (auto t = string_member(*vcc, "text"); !t.empty()) candidates.push_back(t);
  }
  if (auto s = string_member(obs, "valueString"); !s.empty()) candidates.push_back(s);
  return candidates;
}

// The result of the first value the mapping knows for the test.
std::optional<MappingResult> find_result(const json& obs, const LabMapping& mapping,
                                         const Place& at, ObservationRead& out) {
  const std::vector<std::string> candidates = value_candidates(obs);
  if (candidates.empty()) {
    return failed_at(at, err::kRequiredFieldMissing, "missing_field", ".value[x]",
                     "the Observation carries no valueCodeableConcept or valueString.");
  }
  std::optional<std::string> result;
  std::string result_error;
  for (const auto& v : candidates) {
    auto res = mapping.result_for(out.test, v);
    if (res) {
      result = *res;
      break;
    }
    if (result_error.empty()) result_error = res.error().message;
  }
  if (!result) {
    return failed_at(at, err::kTableValueNotFound, "unknown_result", ".value[x]", result_error);
  }
  out.result = *result;
  return std::nullopt;
}

// The DIN as sent in specimen.identifier.value, else in the id of
// specimen.reference "Specimen/<id>"; "" when neither.
std::string din_sent_in_specimen(const json& obs) {
  std::string din_sent;
  if (const json* sp = member(obs, "specimen")) {
    if (const json* ident = member(*sp, "identifier")) din_sent = string_member(*ident, "value");
    const std::string ref = string_member(*sp, "reference");
    if (din_sent.empty() && ref.rfind("Specimen/", 0) == 0) din_sent = ref.substr(9);
  }
  return din_sent;
}

// The DIN as sent in the first identifier[] of system `din_system` (any
// system when empty); "" when none.
std::string din_sent_in_identifier(const json& obs, const std::string& din_system) {
  if (const json* ids = member(obs, "identifier"); ids && ids->is_array()) {
    for (const auto& ident : *ids) {
      if (din_system.empty() || string_member(ident, "system") == din_system) {
        return string_member(ident, "value");
      }
    }
  }
  return {};
}

// The donation number, where fhir.din_from says, checked like every lab DIN.
std::optional<MappingResult> read_din(const json& obs, const LabMapping::Fhir& opt, const Place& at,
                                      ObservationRead& out) {
  const bool from_specimen = opt.din_from == LabMapping::FhirDinFrom::specimen;
  const std::string din_path = from_specimen ? ".specimen" : ".identifier";
  const std::string din_sent =
      from_specimen ? din_sent_in_specimen(obs) : din_sent_in_identifier(obs, opt.din_system);
  if (din_sent.empty()) {
    return failed_at(at, err::kRequiredFieldMissing, "missing_field", din_path,
                     "no donation number where the lab mapping says (fhir.din_from).");
  }
  auto din = din_from_lab(din_sent);
  if (!din) {
    return failed_at(at, err::kDataTypeError, din.error().code, din_path, din.error().message);
  }
  out.din = *din;
  return std::nullopt;
}

// When the result was made: effectiveDateTime, else issued, else received_at.
std::optional<MappingResult> read_time(const json& obs, TimeMs received_at, const Place& at,
                                       ObservationRead& out) {
  out.at = received_at;
  for (const char* key : {"issued", "effectiveDateTime"}) {  // effectiveDateTime wins
    const std::string t = string_member(obs, key);
    if (t.empty()) continue;
    auto parsed = parse_rfc3339(t);
    if (!parsed) {
      return failed_at(
          at, err::kDataTypeError, "bad_datetime", std::string(".") + key,
          "\"" + sender_text(t, 40) + "\" is not a date-time with a time of day (RFC 3339).");
    }
    out.at = *parsed;
  }
  return std::nullopt;
}

// The TestResulted event, id fhir-<facility>-<id>[-<versionId>][-c].
Event observation_event(const json& obs, const ObservationRead& x, bool corrected,
                        const std::string& facility) {
  std::string version;
  if (const json* meta = member(obs, "meta")) version = string_member(*meta, "versionId");
  Event e;
  e.id = "fhir-" + facility + "-" + x.id + (printable_id(version) ? "-" + version : "") +
         (corrected ? "-c" : "");
  e.type = EventType::test_resulted;
  e.at = x.at;
  e.facility = facility;
  e.actor = "fhir";
  e.din = x.din;
  e.test = x.test;
  e.result = x.result;
  e.method = x.method;
  return e;
}

// Observation.method: the first coding's code the mapping knows, else its text.
std::optional<MappingResult> read_method(const json& obs, const LabMapping& mapping,
                                         const Place& at, ObservationRead& out) {
  const json* method = member(obs, "method");
  if (!method) return std::nullopt;
  std::vector<std::string> sent;
  if (const json* codings = member(*method, "coding"); codings && codings->is_array()) {
    for (const auto& c : *codings) {
      if (c.is_object()) sent.push_back(string_member(c, "code"));
    }
  }
  sent.push_back(string_member(*method, "text"));
  std::string first_error;
  for (const auto& s : sent) {
    if (s.empty()) continue;
    auto m = mapping.method_for(s);
    if (m) {
      out.method = *m;
      return std::nullopt;
    }
    if (first_error.empty()) first_error = m.error().message;
  }
  if (first_error.empty()) return std::nullopt;
  return failed_at(at, err::kTableValueNotFound, "unknown_method", ".method", first_error);
}

// Maps one Observation; appends to r or returns a failure.
std::optional<MappingResult> map_one(const json& obs, const std::string& path, int n,
                                     const std::string& full_url, const LabMapping& mapping,
                                     const std::string& facility, TimeMs received_at,
                                     MappingResult& r) {
  const Place at{path, n};
  ObservationRead x;
  if (auto f = check_resource_type(obs, at)) return f;
  if (auto f = read_id(obs, full_url, at, x)) return f;
  const std::string status = string_member(obs, "status");
  if (status.empty()) {
    return failed_at(at, err::kRequiredFieldMissing, "missing_field", ".status",
                     "the status is missing.");
  }
  if (status == "preliminary" || status == "registered") {
    r.notes.push_back("Observation " + x.id + " is " + status + " and was not recorded.");
    return std::nullopt;
  }
  if (status == "cancelled" || status == "entered-in-error") {
    return failed_at(at, err::kTableValueNotFound, "cannot_retract", ".status",
                     "status " + status +
                         " cannot be applied: a recorded result is never withdrawn; send the "
                         "right result as corrected.");
  }
  if (status != "final" && status != "amended" && status != "corrected") {
    return failed_at(at, err::kTableValueNotFound, "unknown_status", ".status",
                     "\"" + sender_text(status, 30) +
                         "\" is not an Observation status hemoledger records (final, amended, "
                         "corrected).");
  }
  if (auto f = find_test(obs, mapping, at, x)) return f;
  if (auto f = find_result(obs, mapping, at, x)) return f;
  if (auto f = read_method(obs, mapping, at, x)) return f;
  if (auto f = read_din(obs, mapping.fhir(), at, x)) return f;
  if (auto f = read_time(obs, received_at, at, x)) return f;
  Event e = observation_event(obs, x, status != "final", facility);
  if (auto s = validate_shape(e); !s) {
    return failed_at(at, err::kApplicationInternalError, s.error().code, "",
                     "hemoledger built an event it cannot accept (" + s.error().message + ").");
  }
  r.events.push_back(std::move(e));
  return std::nullopt;
}

std::string_view fhir_category(Category c) {
  switch (c) {
    case Category::red_cells:
    case Category::platelets:
      return "cells";
    case Category::whole_blood:
    case Category::plasma:
    case Category::cryo:
      return "fluid";
    case Category::unknown:
      break;
  }
  return "";
}

json celsius(int v) {
  return {{"value", v}, {"unit", "Cel"}, {"system", "http://unitsofmeasure.org"}, {"code", "Cel"}};
}

json coding(std::string_view system, std::string_view code, std::string_view display = {}) {
  json c = {{"system", system}, {"code", code}};
  if (!display.empty()) c["display"] = display;
  return c;
}

}  // namespace

MappingResult map_observations(std::string_view json_text, const LabMapping& mapping,
                               TimeMs received_at) {
  const auto refuse = [](std::string code, std::string message) {
    MappingResult r;
    r.code = hl7::AckCode::reject;
    r.error_code = std::move(code);
    r.error = hl7::AckError{err::kApplicationInternalError, "", 0, 0, std::move(message)};
    return r;
  };
  if (json_text.size() > kMaxBodyBytes) {
    return refuse("message_too_large", "The body is larger than " +
                                           std::to_string(kMaxBodyBytes / (1024 * 1024)) +
                                           " MiB; send fewer Observations per Bundle.");
  }
  if (!json_nesting_within(json_text, kMaxBodyDepth)) {
    return refuse(kInvalidJson, "The body is nested too deeply to be FHIR Observations.");
  }
  const json doc = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (doc.is_discarded()) return refuse(kInvalidJson, "The body is not valid JSON.");
  const std::string facility = mapping.fhir().facility;
  if (facility.empty()) {
    return failed(err::kUnknownKeyIdentifier, "unknown_facility", 0, "",
                  "The lab mapping names no facility for FHIR input (fhir.facility).");
  }
  MappingResult r;
  const std::string type = doc.is_object() ? string_member(doc, "resourceType") : "";
  if (type == "Bundle") {
    const json* entries = member(doc, "entry");
    if (!entries || !entries->is_array() || entries->empty()) {
      return failed(err::kRequiredFieldMissing, "missing_field", 0, "entry",
                    "the Bundle has no entries.");
    }
    int n = 0;
    for (const auto& entry : *entries) {
      const std::string path = "entry[" + std::to_string(n) + "].resource";
      ++n;
      const json* res = member(entry, "resource");
      if (!res) {
        return failed(err::kRequiredFieldMissing, "missing_field", n, path,
                      "the entry has no resource.");
      }
      if (auto f = map_one(*res, path, n, string_member(entry, "fullUrl"), mapping, facility,
                           received_at, r)) {
        return *f;
      }
    }
  } else if (auto f = map_one(doc, "Observation", 1, "", mapping, facility, received_at, r)) {
    return *f;
  }
  if (r.events.empty() && r.notes.empty()) {
    return failed(err::kRequiredFieldMissing, "missing_field", 0, "", "no Observation to record.");
  }
  return r;
}

json biologically_derived_product(const Donation& donation, const UnitState& unit,
                                  const ReferenceData* ref) {
  const std::string pdc = unit.product.substr(0, 5);
  const std::string division = unit.product.size() == 8 ? unit.product.substr(6, 2) : "";
  json code = {{"coding", json::array({coding(kProductCodeSystem, pdc)})}};
  if (ref) {
    if (const Product* p = ref->product(unit.product)) {
      code["coding"][0]["display"] = p->description;
      code["text"] = p->description;
    }
  }
  json out = {
      {"resourceType", "BiologicallyDerivedProduct"},
      {"id", donation.din + "-" + unit.product},
      {"productCode", code},
      {"biologicalSourceEvent", {{"system", kDinSystem}, {"value", donation.din}}},
      {"division", division},
      {"productStatus", coding("http://hl7.org/fhir/biologicallyderived-product-status",
                               unit.status == UnitStatus::available ? "available" : "unavailable")},
  };
  if (auto cat = fhir_category(unit.category); !cat.empty()) {
    out["productCategory"] = coding("http://hl7.org/fhir/product-category", cat);
  }
  if (unit.expires_at > 0) out["expirationDate"] = format_rfc3339(unit.expires_at);
  if (donation.collected_at > 0) {
    out["collection"] = {{"collectedDateTime", format_rfc3339(donation.collected_at)}};
  }
  switch (unit.category) {
    case Category::red_cells:
    case Category::whole_blood:
      out["storageTempRequirements"] = {{"low", celsius(2)}, {"high", celsius(6)}};
      break;
    case Category::platelets:
      out["storageTempRequirements"] = {{"low", celsius(20)}, {"high", celsius(24)}};
      break;
    case Category::plasma:
    case Category::cryo:
      // Thawed: kept at 1-6 °C until its thawed expiry, never refrozen.
      out["storageTempRequirements"] = unit.thawed_at != 0
                                           ? json{{"low", celsius(1)}, {"high", celsius(6)}}
                                           : json{{"high", celsius(-25)}};
      break;
    case Category::unknown:
      break;
  }
  json props = json::array();
  // Custody: who holds the unit, which bank issued it, for which patient (pseudonymous).
  const auto custody = [&](std::string_view code, const std::string& value) {
    if (value.empty()) return;
    props.push_back({{"type", {{"coding", json::array({coding(kCustodySystem, code)})}}},
                     {"valueString", value}});
  };
  custody("holder", unit.holder);
  custody("issued-by", unit.issued_by);
  custody("patient", unit.patient);
  if (unit.thawed_at != 0) custody("thawed-at", format_rfc3339(unit.thawed_at));
  if (donation.group() != AboRh::unknown) {
    props.push_back(
        {{"type",
          {{"coding", json::array({coding(
                          "http://hl7.org/fhir/biologicallyderived-product-property-type-codes",
                          "aborhd", "ABO/RhD")})}}},
         {"valueCodeableConcept", {{"text", to_string(donation.group())}}}});
  }
  props.push_back(
      {{"type", {{"coding", json::array({coding(kUnitStatusSystem, "status")})}}},
       {"valueCodeableConcept",
        {{"coding", json::array({coding(kUnitStatusSystem, to_string(unit.status))})}}}});
  out["property"] = props;
  return out;
}

json inventory_report(const std::vector<StockLine>& lines, TimeMs at) {
  json listings = json::array();
  std::vector<std::pair<std::string, UnitStatus>> keys;
  for (const auto& line : lines) {
    std::size_t k = 0;
    while (k < keys.size() && !(keys[k].first == line.location && keys[k].second == line.status)) {
      ++k;
    }
    if (k == keys.size()) {
      keys.emplace_back(line.location, line.status);
      listings.push_back(
          {{"location", {{"identifier", {{"system", kFacilitySystem}, {"value", line.location}}}}},
           {"itemStatus",
            {{"coding", json::array({coding(kUnitStatusSystem, to_string(line.status))})}}},
           {"countingDateTime", format_rfc3339(at)},
           {"item", json::array()}});
    }
    const std::string category(to_string(line.category));
    const std::string group(to_string(line.abo_rh));
    listings[k]["item"].push_back(
        {{"category", {{"coding", json::array({coding(kCategorySystem, category)})}}},
         {"quantity", {{"value", line.count}, {"unit", "unit"}}},
         {"item",
          {{"concept",
            {{"coding", json::array({coding(kStockItemSystem, category + "|" + group,
                                            category + " " + group)})}}}}}});
  }
  return {{"resourceType", "InventoryReport"},
          {"status", "active"},
          {"countType", "snapshot"},
          {"reportedDateTime", format_rfc3339(at)},
          {"inventoryListing", listings}};
}

}  // namespace hemoledger::fhir
