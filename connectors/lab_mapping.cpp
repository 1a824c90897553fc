#include "connectors/lab_mapping.h"

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "connectors/isbt128.h"
#include "connectors/sender_text.h"
#include "events/blood_group.h"
#include "events/event.h"

namespace hemoledger {

namespace {

using nlohmann::json;

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Error bad(const std::string& where, const std::string& what) {
  return make_error("invalid_lab_mapping", "Lab mapping, " + where + ": " + what);
}

// Every key of `obj` must be one of `allowed`.
Status only_keys(const json& obj, const std::string& where,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, _] : obj.items()) {
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return bad(where.empty() ? "top level" : where,
                 "unknown key \"" + key + "\"; the keys are " + list + ".");
    }
  }
  return {};
}

Status get_string(const json& obj, const char* key, const std::string& where, std::string& out) {
  if (!obj.contains(key)) return {};
  const json& v = obj.at(key);
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    return bad(where.empty() ? std::string(key) : where + "." + key, "must be a non-empty string.");
  }
  out = v.get<std::string>();
  return {};
}

Status get_int(const json& obj, const char* key, const std::string& where, int lo, int hi,
               int& out) {
  if (!obj.contains(key)) return {};
  const json& v = obj.at(key);
  if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi) {
    return bad(where + "." + key, "must be a whole number from " + std::to_string(lo) + " to " +
                                      std::to_string(hi) + ".");
  }
  out = static_cast<int>(v.get<long long>());
  return {};
}

std::optional<TestKind> parse_kind(std::string_view s) {
  if (s == "abo") return TestKind::abo;
  if (s == "rhd") return TestKind::rhd;
  if (s == "abo_rh") return TestKind::abo_rh;
  if (s == "screen") return TestKind::screen;
  if (s == "info") return TestKind::info;
  if (s == "confirmatory") return TestKind::confirmatory;
  return std::nullopt;
}

// The engine's canonical spelling of a result of kind k, if `value` is one of
// the spellings the projector accepts.
std::optional<std::string> canonical(TestKind k, std::string_view value) {
  switch (k) {
    case TestKind::abo:
      if (auto a = parse_abo(value)) return std::string(to_string(*a));
      return std::nullopt;
    case TestKind::rhd:
      if (auto r = parse_rhd(value)) return std::string(*r == RhD::positive ? "pos" : "neg");
      return std::nullopt;
    case TestKind::abo_rh:
      if (auto g = parse_abo_rh(value)) return std::string(to_string(*g));
      return std::nullopt;
    case TestKind::screen:
    case TestKind::confirmatory: {
      ScreenOutcome o;
      if (!parse_screen_outcome(value, o)) return std::nullopt;
      return std::string(o == ScreenOutcome::negative   ? "negative"
                         : o == ScreenOutcome::positive ? "positive"
                                                        : "indeterminate");
    }
    case TestKind::info:
      if (value.empty() || value.size() > 32) return std::nullopt;
      return std::string(value);
  }
  return std::nullopt;
}

std::string_view expected(TestKind k) {
  switch (k) {
    case TestKind::abo:
      return "O, A, B or AB";
    case TestKind::rhd:
      return "pos or neg";
    case TestKind::abo_rh:
      return "O+, O-, A+, A-, B+, B-, AB+ or AB-";
    case TestKind::screen:
    case TestKind::confirmatory:
      return "negative, positive or indeterminate";
    case TestKind::info:
      return "1 to 32 characters";
  }
  return "";
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Sender text as quoted in this file's messages (connectors/sender_text.h).
std::string shown(std::string_view s, std::size_t n = 40) { return sender_text(s, n); }

}  // namespace

std::string MappingResult::summary() const {
  if (!ok()) return error ? error->message : "The message was not accepted.";
  std::string s =
      std::to_string(events.size()) + (events.size() == 1 ? " event" : " events") + " recorded.";
  for (const auto& n : notes) s += " " + n;
  return s;
}

Result<std::string> din_from_lab(std::string_view sent) {
  while (!sent.empty() && sent.back() == ' ') sent.remove_suffix(1);
  while (!sent.empty() && sent.front() == ' ') sent.remove_prefix(1);
  const std::string quoted = shown(sent, 20);
  if (sent.size() == 13 && is_din(sent)) return std::string(sent);
  std::string data;
  if (!sent.empty() && sent.front() == '=') {
    data = std::string(sent);
  } else if (sent.size() == 14) {
    data = std::string(sent);
  } else if (sent.size() == 15) {
    data = "=" + std::string(sent);
  } else {
    return make_error("invalid_din", "\"" + quoted +
                                         "\" is not a donation number: expected 13 characters, "
                                         "14 with the check character or 15 with the flags.");
  }
  auto scan = isbt128::decode(data);
  if (!scan) return Error{scan.error().code, "DIN \"" + quoted + "\": " + scan.error().message};
  if (!scan->din || scan->structures.size() != 1) {
    return make_error("invalid_din", "\"" + quoted + "\" is not a donation number.");
  }
  return *scan->din;
}

Result<AstmFieldPath> parse_astm_field_path(std::string_view text) {
  const auto fail = [&] {
    return make_error("bad_field_path", "\"" + std::string(text.substr(0, 20)) +
                                            "\" is not an ASTM field path; expected a record "
                                            "letter, a dash and a field, e.g. O-3 or O-3.2.");
  };
  AstmFieldPath p;
  if (text.size() < 3 || text[0] < 'A' || text[0] > 'Z' || text[1] != '-') return fail();
  p.record = text[0];
  std::size_t i = 2;
  const auto number = [&](int& out) {
    const std::size_t start = i;
    int v = 0;
    while (i < text.size() && is_digit(text[i]) && i - start < 3) v = v * 10 + (text[i++] - '0');
    if (i == start || v < 1 || (i < text.size() && is_digit(text[i]))) return false;
    out = v;
    return true;
  };
  if (!number(p.field)) return fail();
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!number(p.component)) return fail();
  }
  if (i != text.size()) return fail();
  return p;
}

namespace {

using Facilities = std::set<std::string, std::less<>>;
using Kinds = std::map<std::string, TestKind, std::less<>>;
using CodeTable = std::map<std::string, std::string, std::less<>>;

// The document, or invalid_json; a key given twice in one object (which
// would silently keep the last value) is refused, naming the first such key.
Result<json> parse_without_repeated_keys(std::string_view json_text) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  const json::parser_callback_t note_keys = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end && !open_objects.empty()) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty() && parsed.is_string() &&
               !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json doc = json::parse(json_text.begin(), json_text.end(), note_keys, false);
  if (doc.is_discarded()) {
    return make_error("invalid_json", "The lab mapping file is not valid JSON.");
  }
  if (!duplicate.empty()) {
    return bad("key \"" + shown(duplicate) + "\"", "given twice in the same object.");
  }
  return doc;
}

// The object at doc[key], nullptr when absent; an error when not an object.
Result<const json*> section(const json& doc, const char* key) {
  if (!doc.contains(key)) return static_cast<const json*>(nullptr);
  if (!doc.at(key).is_object()) return bad(key, "must be a JSON object.");
  return &doc.at(key);
}

Status known_facility(const Facilities& facilities, const std::string& where,
                      const std::string& code) {
  if (!code.empty() && !facilities.count(code)) {
    return bad(where, "\"" + code + "\" is not a facility in the facility table.");
  }
  return {};
}

Status read_hl7(const json& o, const Facilities& facilities, LabMapping::Hl7& out) {
  if (auto s = only_keys(o, "hl7",
                         {"din_field", "facility_field", "facility", "utc_offset_minutes",
                          "wasted_reason", "method_field"});
      !s) {
    return s.error();
  }
  std::string din, fac_field, method_field;
  for (auto s :
       {get_string(o, "din_field", "hl7", din), get_string(o, "facility_field", "hl7", fac_field),
        get_string(o, "method_field", "hl7", method_field),
        get_string(o, "facility", "hl7", out.facility),
        get_string(o, "wasted_reason", "hl7", out.wasted_reason),
        get_int(o, "utc_offset_minutes", "hl7", -720, 840, out.utc_offset_minutes)}) {
    if (!s) return s.error();
  }
  if (!din.empty()) {
    auto p = hl7::parse_field_path(din);
    if (!p) return bad("hl7.din_field", p.error().message);
    out.din_field = *p;
  }
  if (!fac_field.empty() && !out.facility.empty()) {
    return bad("hl7", "give either \"facility\" (a fixed code) or \"facility_field\", not both.");
  }
  if (!fac_field.empty()) {
    auto p = hl7::parse_field_path(fac_field);
    if (!p) return bad("hl7.facility_field", p.error().message);
    out.facility_field = *p;
  }
  if (!out.facility.empty()) out.facility_field.reset();
  if (!method_field.empty()) {
    auto p = hl7::parse_field_path(method_field);
    if (!p || p->segment != "OBX") {
      return bad("hl7.method_field",
                 p ? "must be a field of the OBX segment, e.g. OBX-17." : p.error().message);
    }
    out.method_field = *p;
  }
  if (auto s = known_facility(facilities, "hl7.facility", out.facility); !s) return s.error();
  if (!is_discard_reason(out.wasted_reason)) {
    return bad("hl7.wasted_reason", "must be one of: " + std::string(discard_reasons_text()) + ".");
  }
  return {};
}

Status read_astm(const json& o, const Facilities& facilities, LabMapping::Astm& out) {
  if (auto s = only_keys(
          o, "astm",
          {"din_field", "facility_field", "facility", "utc_offset_minutes", "method_field"});
      !s) {
    return s.error();
  }
  std::string din, fac_field, method_field;
  for (auto s :
       {get_string(o, "din_field", "astm", din), get_string(o, "facility_field", "astm", fac_field),
        get_string(o, "method_field", "astm", method_field),
        get_string(o, "facility", "astm", out.facility),
        get_int(o, "utc_offset_minutes", "astm", -720, 840, out.utc_offset_minutes)}) {
    if (!s) return s.error();
  }
  if (!din.empty()) {
    auto p = parse_astm_field_path(din);
    if (!p) return bad("astm.din_field", p.error().message);
    out.din_field = *p;
  }
  if (!fac_field.empty() && !out.facility.empty()) {
    return bad("astm", "give either \"facility\" or \"facility_field\", not both.");
  }
  if (!fac_field.empty()) {
    auto p = parse_astm_field_path(fac_field);
    if (!p) return bad("astm.facility_field", p.error().message);
    out.facility_field = *p;
  }
  if (!method_field.empty()) {
    auto p = parse_astm_field_path(method_field);
    if (!p || p->record != 'R') {
      return bad("astm.method_field",
                 p ? "must be a field of the R (result) record, e.g. R-3.5." : p.error().message);
    }
    out.method_field = *p;
  }
  return known_facility(facilities, "astm.facility", out.facility);
}

Status read_fhir(const json& o, const Facilities& facilities, LabMapping::Fhir& out) {
  if (auto s = only_keys(o, "fhir", {"din_from", "din_system", "facility"}); !s) {
    return s.error();
  }
  std::string from;
  for (auto s : {get_string(o, "din_from", "fhir", from),
                 get_string(o, "din_system", "fhir", out.din_system),
                 get_string(o, "facility", "fhir", out.facility)}) {
    if (!s) return s.error();
  }
  if (from == "identifier")
    out.din_from = LabMapping::FhirDinFrom::identifier;
  else if (!from.empty() && from != "specimen") {
    return bad("fhir.din_from", "must be \"specimen\" or \"identifier\".");
  }
  return known_facility(facilities, "fhir.facility", out.facility);
}

// facility_codes, coding_systems: objects of strings.
Status read_string_map(const json& doc, const char* key, CodeTable& out) {
  if (!doc.contains(key)) return {};
  const json& o = doc.at(key);
  if (!o.is_object()) return bad(key, "must be a JSON object of strings.");
  for (const auto& [k, v] : o.items()) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty() || k.empty()) {
      return bad(std::string(key) + "." + k, "must be a non-empty string.");
    }
    out[k] = v.get<std::string>();
  }
  return {};
}

// tests: {system: {code: test}}
Status read_tests(const json& t, const Kinds& kinds,
                  std::map<std::string, CodeTable, std::less<>>& out) {
  if (!t.is_object()) return bad("tests", "must be an object of coding systems.");
  for (const auto& [system, codes] : t.items()) {
    if (!codes.is_object()) return bad("tests." + system, "must be an object of codes.");
    for (const auto& [code, test] : codes.items()) {
      const std::string where = "tests." + system + "." + code;
      if (!test.is_string()) return bad(where, "must be a hemoledger test code (a string).");
      const std::string tc = test.get<std::string>();
      if (!kinds.count(tc)) {
        return bad(where, "\"" + tc + "\" is not a test in the test catalogue.");
      }
      out[system][code] = tc;
    }
  }
  return {};
}

// One kind's {value: outcome} of "results".
Status read_result_values(const json& values, TestKind kind, const std::string& kind_name,
                          CodeTable& table) {
  if (!values.is_object()) return bad("results." + kind_name, "must be an object.");
  for (const auto& [value, outcome] : values.items()) {
    const std::string where = "results." + kind_name + "." + value;
    if (!outcome.is_string()) return bad(where, "must be a string.");
    const auto c = canonical(kind, outcome.get<std::string>());
    if (!c) {
      return bad(where, "\"" + outcome.get<std::string>() + "\" is not a result of kind " +
                            kind_name + "; expected " + std::string(expected(kind)) + ".");
    }
    const std::string key = lower_trimmed(value);
    if (key.empty()) return bad(where, "the value must not be empty.");
    if (table.count(key) && table[key] != *c) {
      return bad(where, "listed twice (ignoring case) with different outcomes.");
    }
    table[key] = *c;
  }
  return {};
}

// results: {kind: {value: outcome}}
Status read_results(const json& r, std::map<TestKind, CodeTable>& out) {
  if (!r.is_object()) return bad("results", "must be an object keyed by test kind.");
  for (const auto& [kind_name, values] : r.items()) {
    const auto kind = parse_kind(kind_name);
    if (!kind) {
      return bad("results." + kind_name,
                 "unknown test kind; the kinds are abo, rhd, abo_rh, screen and info.");
    }
    if (auto s = read_result_values(values, *kind, kind_name, out[*kind]); !s) return s;
  }
  return {};
}

// reagents: {test: {reagent, tests_per_result}}
Status read_reagents(const json& r, const Kinds& kinds, const ReferenceData& reference,
                     std::map<std::string, ReagentUse, std::less<>>& out) {
  if (!r.is_object()) return bad("reagents", "must be an object keyed by test code.");
  for (const auto& [test, use] : r.items()) {
    const std::string where = "reagents." + test;
    if (!kinds.count(test)) return bad(where, "not a test in the test catalogue.");
    if (!use.is_object()) return bad(where, "must be an object.");
    if (auto s = only_keys(use, where, {"reagent", "tests_per_result"}); !s) return s.error();
    ReagentUse u;
    if (auto s = get_string(use, "reagent", where, u.reagent); !s) return s.error();
    if (u.reagent.empty()) return bad(where, "needs \"reagent\".");
    if (!reference.reagents().all().empty() && !reference.reagents().find(u.reagent)) {
      return bad(where, "the reagent \"" + u.reagent +
                            "\" is not in the reagent catalogue (data/reagents.csv).");
    }
    if (auto s = get_int(use, "tests_per_result", where, 1, 1000, u.tests_per_result); !s) {
      return s.error();
    }
    out[test] = u;
  }
  return {};
}

}  // namespace

Result<LabMapping> LabMapping::parse_json(std::string_view json_text,
                                          const ReferenceData& reference) {
  auto parsed = parse_without_repeated_keys(json_text);
  if (!parsed) return parsed.error();
  const json& doc = *parsed;
  if (!doc.is_object()) return bad("top level", "must be a JSON object.");
  if (auto s = only_keys(
          doc, "",
          {"hl7", "astm", "fhir", "facility_codes", "coding_systems", "default_coding_system",
           "tests", "results", "reagents", "release_when_complete", "methods"});
      !s) {
    return s.error();
  }
  LabMapping m;
  for (const auto& t : reference.tests()) m.kinds_[t.code] = t.kind;
  for (const auto& f : reference.facilities()) m.facilities_.insert(f.code);

  auto h = section(doc, "hl7");
  if (!h) return h.error();
  if (*h) {
    if (auto s = read_hl7(**h, m.facilities_, m.hl7_); !s) return s.error();
  }
  auto a = section(doc, "astm");
  if (!a) return a.error();
  if (*a) {
    if (auto s = read_astm(**a, m.facilities_, m.astm_); !s) return s.error();
  }
  auto f = section(doc, "fhir");
  if (!f) return f.error();
  if (*f) {
    if (auto s = read_fhir(**f, m.facilities_, m.fhir_); !s) return s.error();
  }
  if (auto s = read_string_map(doc, "facility_codes", m.facility_codes_); !s) return s.error();
  for (const auto& [sent, code] : m.facility_codes_) {
    if (auto s = known_facility(m.facilities_, "facility_codes." + sent, code); !s) {
      return s.error();
    }
  }
  if (auto s = read_string_map(doc, "coding_systems", m.systems_); !s) return s.error();
  if (auto s = get_string(doc, "default_coding_system", "", m.default_system_); !s) {
    return s.error();
  }
  if (doc.contains("release_when_complete")) {
    const json& r = doc.at("release_when_complete");
    if (!r.is_boolean()) return bad("release_when_complete", "must be true or false.");
    m.release_when_complete_ = r.get<bool>();
  }
  if (doc.contains("tests")) {
    if (auto s = read_tests(doc.at("tests"), m.kinds_, m.tests_); !s) return s.error();
  }
  if (doc.contains("results")) {
    if (auto s = read_results(doc.at("results"), m.results_); !s) return s.error();
  }
  if (doc.contains("reagents")) {
    if (auto s = read_reagents(doc.at("reagents"), m.kinds_, reference, m.reagents_); !s) {
      return s.error();
    }
  }
  CodeTable methods;
  if (auto s = read_string_map(doc, "methods", methods); !s) return s.error();
  for (const auto& [sent, method] : methods) {
    auto parsed = parse_test_method(method);
    if (!parsed) {
      return bad("methods." + sent,
                 "must be screen, repeat, confirmatory or nat, not \"" + shown(method) + "\".");
    }
    if (!m.methods_.emplace(lower_trimmed(sent), *parsed).second) {
      return bad("methods." + sent, "is given twice (the keys ignore case).");
    }
  }
  return m;
}

Result<TestMethod> LabMapping::method_for(std::string_view sent) const {
  const std::string key = lower_trimmed(sent);
  if (key.empty()) return TestMethod::unspecified;
  if (auto hit = methods_.find(key); hit != methods_.end()) return hit->second;
  if (auto m = parse_test_method(key)) return *m;
  return make_error("unknown_method", "\"" + shown(sent) +
                                          "\" is not a test method in the lab mapping; expected "
                                          "screen, repeat, confirmatory or nat.");
}

Result<std::string> LabMapping::test_for(std::string_view system, std::string_view code) const {
  std::string sys = default_system_;
  if (!system.empty()) {
    auto alias = systems_.find(system);
    sys = alias != systems_.end() ? alias->second : std::string(system);
  }
  auto t = tests_.find(sys);
  if (t != tests_.end()) {
    auto c = t->second.find(code);
    if (c != t->second.end()) return c->second;
  }
  return make_error(
      "unknown_test",
      "Test code \"" + shown(code) + "\"" +
          (system.empty() ? std::string() : " of coding system \"" + shown(system, 60) + "\"") +
          " is not in the lab mapping.");
}

Result<std::string> LabMapping::result_for(std::string_view test, std::string_view value) const {
  auto k = kinds_.find(test);
  if (k == kinds_.end()) {
    return make_error("unknown_test",
                      "The test \"" + std::string(test) + "\" is not in the test catalogue.");
  }
  const TestKind kind = k->second;
  auto table = results_.find(kind);
  if (table != results_.end()) {
    auto hit = table->second.find(lower_trimmed(value));
    if (hit != table->second.end()) return hit->second;
  }
  std::string_view v = value;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (auto c = canonical(kind, v)) return *c;
  return make_error("unknown_result", "\"" + shown(value) + "\" is not a result of test " +
                                          std::string(test) + " in the lab mapping; expected " +
                                          std::string(expected(kind)) + ".");
}

Result<std::string> LabMapping::facility_for(std::string_view sent) const {
  auto alias = facility_codes_.find(sent);
  const std::string code = alias != facility_codes_.end() ? alias->second : std::string(sent);
  if (code.empty()) {
    return make_error("unknown_facility", "The message does not name the sending facility.");
  }
  if (!facilities_.count(code)) {
    return make_error("unknown_facility", "The sending facility \"" + shown(code) +
                                              "\" is not in the facility table or the lab "
                                              "mapping's facility_codes.");
  }
  return code;
}

const ReagentUse* LabMapping::reagent_for(std::string_view test) const {
  auto r = reagents_.find(test);
  return r == reagents_.end() ? nullptr : &r->second;
}

}  // namespace hemoledger
