#include "events/json_codec.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

namespace hemoledger {

using nlohmann::json;

namespace {

Error bad(std::string message) { return make_error("malformed_json", std::move(message)); }

// The field rules below read a value through this small interface, so that
// the DOM (nlohmann::json) and the flat fast path (FlatValue) share them.
struct JsonValue {
  const json& v;
  bool is_string() const { return v.is_string(); }
  std::string string() const { return v.get<std::string>(); }
  bool is_integer() const { return v.is_number_integer(); }
  std::int64_t integer() const { return v.get<std::int64_t>(); }
  bool is_boolean() const { return v.is_boolean(); }
  bool boolean() const { return v.get<bool>(); }
};

// A value of a flat object as the fast path saw it: a string without escapes
// (printable ASCII) or a non-negative integer of at most 18 digits.
struct FlatValue {
  bool text = false;
  std::string_view raw;
  std::int64_t n = 0;
  bool is_string() const { return text; }
  std::string string() const { return std::string(raw); }
  bool is_integer() const { return !text; }
  std::int64_t integer() const { return n; }
  bool is_boolean() const { return false; }  // true/false go to the full parser
  bool boolean() const { return false; }
};

template <class V>
Status read_string(const V& v, std::string_view name, std::string& out) {
  if (!v.is_string()) return bad("The field '" + std::string(name) + "' must be a string.");
  out = v.string();
  return {};
}

template <class V>
Status read_time(const V& v, std::string_view name, TimeMs& out) {
  if (!v.is_string()) {
    return bad("The field '" + std::string(name) + "' must be an RFC 3339 string.");
  }
  auto t = parse_rfc3339(v.string());
  if (!t) return t.error();
  out = *t;
  return {};
}

template <class V>
Status read_group(const V& v, std::string_view name, AboRh& out) {
  if (!v.is_string()) return bad("The field '" + std::string(name) + "' must be a string.");
  auto g = parse_abo_rh(v.string());
  if (!g) {
    return make_error("invalid_blood_group", "\"" + v.string().substr(0, 10) +
                                                 "\" is not a blood group; use O+, O-, A+, A-, "
                                                 "B+, B-, AB+ or AB-.");
  }
  out = *g;
  return {};
}

template <class V>
Status read_int(const V& v, std::string_view name, std::int64_t lo, std::int64_t hi,
                std::int64_t& out) {
  if (!v.is_integer()) {
    return bad("The field '" + std::string(name) + "' must be a whole number.");
  }
  const auto n = v.integer();
  if (n < lo || n > hi) {
    return bad("The field '" + std::string(name) + "' is out of range.");
  }
  out = n;
  return {};
}

// A code of one of the haemovigilance tables (events/haemovigilance.h).
template <class V, class E>
Status read_code(const V& v, std::string_view name, bool (*parse)(std::string_view, E&),
                 std::string_view allowed, E& out) {
  if (!v.is_string()) return bad("The field '" + std::string(name) + "' must be a string.");
  if (!parse(v.string(), out)) {
    return make_error("invalid_" + std::string(name),
                      "\"" + v.string().substr(0, 30) + "\" is not a " + std::string(name) +
                          "; use one of: " + std::string(allowed) + ".");
  }
  return {};
}

template <class V>
Status read_field(const std::string& key, const V& v, Event& e, bool& is_payload, Field& field) {
  is_payload = false;
  if (key == "id") return read_string(v, key, e.id);
  if (key == "type") return {};  // read first, separately
  if (key == "schema_version") {
    std::int64_t n = 0;
    if (auto s = read_int(v, key, 1, 65535, n); !s) return s;
    e.schema_version = static_cast<std::uint16_t>(n);
    return {};
  }
  if (key == "at") return read_time(v, key, e.at);
  if (key == "recorded_at") return read_time(v, key, e.recorded_at);
  if (key == "facility") return read_string(v, key, e.facility);
  if (key == "actor") return read_string(v, key, e.actor);
  if (key == "station") return read_string(v, key, e.station);
  is_payload = true;
  if (key == "din") {
    field = Field::din;
    return read_string(v, key, e.din);
  }
  if (key == "product") {
    field = Field::product;
    return read_string(v, key, e.product);
  }
  if (key == "donor") {
    field = Field::donor;
    return read_string(v, key, e.donor);
  }
  if (key == "abo_rh") {
    field = Field::abo_rh;
    return read_group(v, key, e.abo_rh);
  }
  if (key == "expires_at") {
    field = Field::expires_at;
    return read_time(v, key, e.expires_at);
  }
  if (key == "volume_ml") {
    field = Field::volume_ml;
    std::int64_t n = 0;
    if (auto s = read_int(v, key, 1, 2000, n); !s) return s;
    e.volume_ml = static_cast<std::int32_t>(n);
    return {};
  }
  if (key == "to") {
    field = Field::to;
    return read_string(v, key, e.to);
  }
  if (key == "test") {
    field = Field::test;
    return read_string(v, key, e.test);
  }
  if (key == "result") {
    field = Field::result;
    return read_string(v, key, e.result);
  }
  if (key == "reason") {
    field = Field::reason;
    return read_string(v, key, e.reason);
  }
  if (key == "reagent") {
    field = Field::reagent;
    return read_string(v, key, e.reagent);
  }
  if (key == "lot") {
    field = Field::lot;
    return read_string(v, key, e.lot);
  }
  if (key == "quantity") {
    field = Field::quantity;
    std::int64_t n = 0;
    if (auto s = read_int(v, key, 1, 1000000, n); !s) return s;
    e.quantity = static_cast<std::int32_t>(n);
    return {};
  }
  if (key == "patient_abo_rh") {
    field = Field::patient_abo_rh;
    return read_group(v, key, e.patient_abo_rh);
  }
  if (key == "method") {
    field = Field::method;
    std::string text;
    if (auto s = read_string(v, key, text); !s) return s;
    auto m = parse_test_method(text);
    if (!m) {
      return make_error("invalid_method", "\"" + text.substr(0, 20) +
                                              "\" is not a test method; use screen, repeat, "
                                              "confirmatory or nat.");
    }
    e.method = *m;
    return {};
  }
  if (key == "until") {
    field = Field::until;
    return read_time(v, key, e.until);
  }
  if (key == "sex") {
    field = Field::sex;
    std::string text;
    if (auto s = read_string(v, key, text); !s) return s;
    auto x = parse_donor_sex(text);
    if (!x) {
      return make_error("invalid_sex",
                        "\"" + text.substr(0, 20) + "\" is not a donor sex; use male or female.");
    }
    e.sex = *x;
    return {};
  }
  if (key == "patient") {
    field = Field::patient;
    return read_string(v, key, e.patient);
  }
  if (key == "approver") {
    field = Field::approver;
    return read_string(v, key, e.approver);
  }
  if (key == "emergency") {
    field = Field::emergency;
    if (!v.is_boolean()) return bad("The field 'emergency' must be true or false.");
    e.emergency = v.boolean();
    return {};
  }
  if (key == "reaction") {
    field = Field::reaction;
    return read_code(v, key, parse_reaction_category, reaction_categories_text(), e.reaction);
  }
  if (key == "severity") {
    field = Field::severity;
    return read_code(v, key, parse_reaction_severity, reaction_severities_text(), e.severity);
  }
  if (key == "imputability") {
    field = Field::imputability;
    return read_code(v, key, parse_imputability, imputabilities_text(), e.imputability);
  }
  if (key == "onset_at") {
    field = Field::onset_at;
    return read_time(v, key, e.onset_at);
  }
  return make_error("unknown_field",
                    "The field '" + key.substr(0, 40) + "' is not part of any hemoledger event.");
}

// The fields of an object, in key order (as nlohmann's std::map iterates
// them), into `e`, whose type is set.
template <class It, class Value>
Status read_fields(It begin, It end, Event& e, const Value& value_of) {
  for (auto it = begin; it != end; ++it) {
    bool is_payload = false;
    Field field = Field::din;
    const std::string& key = it->first;
    if (auto s = read_field(key, value_of(it), e, is_payload, field); !s) return s;
    if (is_payload && !field_allowed(e.type, field)) {
      return make_error("unexpected_field", "The field '" + key + "' does not apply to " +
                                                std::string(to_string(e.type)) + ".");
    }
  }
  return {};
}

// The fast path for the common message: one flat object whose keys and string
// values are printable ASCII without escapes and whose numbers are small
// non-negative integers. Anything else (and any repeated key) returns false
// and goes to the full parser, which then gives the answer, errors included.
bool parse_flat(std::string_view t, std::vector<std::pair<std::string, FlatValue>>& out) {
  std::size_t i = 0;
  const auto ws = [&] {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) ++i;
  };
  const auto str = [&](std::string_view& s) {
    if (i >= t.size() || t[i] != '"') return false;
    const std::size_t start = ++i;
    while (i < t.size() && t[i] != '"') {
      const auto c = static_cast<unsigned char>(t[i]);
      if (c < 0x20 || c >= 0x7f || c == '\\') return false;
      ++i;
    }
    if (i >= t.size()) return false;
    s = t.substr(start, i - start);
    ++i;
    return true;
  };
  ws();
  if (i >= t.size() || t[i] != '{') return false;
  ++i;
  ws();
  if (i < t.size() && t[i] == '}') return false;  // empty: let the parser answer
  for (;;) {
    ws();
    std::string_view key;
    if (!str(key)) return false;
    ws();
    if (i >= t.size() || t[i] != ':') return false;
    ++i;
    ws();
    FlatValue v;
    if (i < t.size() && t[i] == '"') {
      v.text = true;
      if (!str(v.raw)) return false;
    } else {
      const std::size_t start = i;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
      const std::size_t digits = i - start;
      if (digits == 0 || digits > 18 || (digits > 1 && t[start] == '0')) return false;
      for (std::size_t k = start; k < i; ++k) v.n = v.n * 10 + (t[k] - '0');
    }
    out.emplace_back(std::string(key), v);
    ws();
    if (i >= t.size()) return false;
    if (t[i] == ',') {
      ++i;
      continue;
    }
    if (t[i] != '}') return false;
    ++i;
    break;
  }
  ws();
  if (i != t.size()) return false;
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t k = 1; k < out.size(); ++k) {
    if (out[k].first == out[k - 1].first) return false;
  }
  return true;
}

}  // namespace

bool json_nesting_within(std::string_view s, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

std::string encode_json(const Event& e) {
  json j;
  j["id"] = e.id;
  j["type"] = std::string(to_string(e.type));
  j["schema_version"] = e.schema_version;
  j["at"] = format_rfc3339(e.at);
  if (e.recorded_at != 0) j["recorded_at"] = format_rfc3339(e.recorded_at);
  j["facility"] = e.facility;
  if (!e.actor.empty()) j["actor"] = e.actor;
  if (!e.station.empty()) j["station"] = e.station;
  if (!e.din.empty() ||
      (!is_reagent_event(e.type) && !is_donor_event(e.type) && e.type != EventType::clock_ticked)) {
    j["din"] = e.din;
  }
  if (!e.product.empty()) j["product"] = e.product;
  if (!e.donor.empty()) j["donor"] = e.donor;
  if (e.abo_rh != AboRh::unknown) j["abo_rh"] = std::string(to_string(e.abo_rh));
  if (e.expires_at != 0) j["expires_at"] = format_rfc3339(e.expires_at);
  if (e.volume_ml != 0) j["volume_ml"] = e.volume_ml;
  if (!e.to.empty()) j["to"] = e.to;
  if (!e.test.empty()) j["test"] = e.test;
  if (!e.result.empty()) j["result"] = e.result;
  if (!e.reason.empty()) j["reason"] = e.reason;
  if (e.patient_abo_rh != AboRh::unknown) {
    j["patient_abo_rh"] = std::string(to_string(e.patient_abo_rh));
  }
  if (!e.reagent.empty()) j["reagent"] = e.reagent;
  if (!e.lot.empty()) j["lot"] = e.lot;
  if (e.quantity != 0) j["quantity"] = e.quantity;
  if (e.method != TestMethod::unspecified) j["method"] = std::string(to_string(e.method));
  if (e.until != 0) j["until"] = format_rfc3339(e.until);
  if (e.sex != DonorSex::unknown) j["sex"] = std::string(to_string(e.sex));
  if (!e.approver.empty()) j["approver"] = e.approver;
  if (!e.patient.empty()) j["patient"] = e.patient;
  if (!e.approver.empty()) j["approver"] = e.approver;
  if (e.emergency) j["emergency"] = true;
  if (e.reaction != ReactionCategory::none) j["reaction"] = std::string(to_string(e.reaction));
  if (e.severity != ReactionSeverity::none) j["severity"] = std::string(to_string(e.severity));
  if (e.imputability != Imputability::none) {
    j["imputability"] = std::string(to_string(e.imputability));
  }
  if (e.onset_at != 0) j["onset_at"] = format_rfc3339(e.onset_at);
  // Text fields that arrived in a binary event are not checked for UTF-8;
  // replace bad bytes (U+FFFD) rather than throw out of a caller's loop.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Event> decode_json(std::string_view text) {
  if (text.size() > kMaxJsonBytes) {
    return make_error("too_large", "The message is larger than " +
                                       std::to_string(kMaxJsonBytes / 1024) + " KiB.");
  }
  if (!json_nesting_within(text, kMaxJsonDepth)) {
    return bad("The JSON is nested too deeply to be an event.");
  }
  std::vector<std::pair<std::string, FlatValue>> flat;
  if (parse_flat(text, flat)) {
    auto type_it =
        std::find_if(flat.begin(), flat.end(), [](const auto& kv) { return kv.first == "type"; });
    if (type_it == flat.end() || !type_it->second.text) {
      return make_error("missing_field", "The event has no 'type'.");
    }
    auto type = parse_event_type(type_it->second.raw);
    if (!type) {
      return make_error("unknown_type", "\"" + std::string(type_it->second.raw.substr(0, 40)) +
                                            "\" is not an event type hemoledger knows.");
    }
    Event e;
    e.type = *type;
    e.schema_version = kSchemaVersion;
    if (auto s = read_fields(flat.begin(), flat.end(), e, [](auto it) { return it->second; }); !s) {
      return s.error();
    }
    if (auto s = validate_shape(e); !s) return s.error();
    return e;
  }
  // nlohmann keeps the last of repeated keys; a safety record must not say two things.
  std::set<std::string> keys;
  std::string repeated;
  const json::parser_callback_t watch_keys = [&](int depth, json::parse_event_t event,
                                                 json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 &&
        !keys.insert(parsed.get<std::string>()).second) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  json j = json::parse(text.begin(), text.end(), watch_keys, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return bad("The message is not valid JSON (or not valid UTF-8).");
  }
  if (!repeated.empty()) {
    return bad("The field '" + repeated.substr(0, 40) + "' appears more than once.");
  }
  if (!j.is_object()) return bad("An event must be a JSON object.");
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) {
    return make_error("missing_field", "The event has no 'type'.");
  }
  auto type = parse_event_type(type_it->get<std::string>());
  if (!type) {
    return make_error("unknown_type", "\"" + type_it->get<std::string>().substr(0, 40) +
                                          "\" is not an event type hemoledger knows.");
  }
  Event e;
  e.type = *type;
  e.schema_version = kSchemaVersion;
  const auto& object = j.get_ref<const json::object_t&>();
  if (auto s = read_fields(object.begin(), object.end(), e,
                           [](auto it) { return JsonValue{it->second}; });
      !s) {
    return s.error();
  }
  if (auto s = validate_shape(e); !s) return s.error();
  return e;
}

}  // namespace hemoledger
