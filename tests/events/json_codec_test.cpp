#include "events/json_codec.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/event_builders.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// A valid UnitIssued event as a client would send it; tests replace one part.
const std::string kIssued = R"({"id":"c0a8-17","type":"UnitIssued","at":"2026-11-22T08:15:00Z",)"
                            R"("facility":"NBS-BB","din":"G123426000017","product":"E0336V00"})";

// kIssued with `extra` (",\"key\":value") added before the closing brace.
std::string issued_with(const std::string& extra) {
  return kIssued.substr(0, kIssued.size() - 1) + extra + "}";
}

// kIssued with the text `from` replaced by `to`.
std::string issued_replacing(const std::string& from, const std::string& to) {
  std::string s = kIssued;
  const auto pos = s.find(from);
  REQUIRE(pos != std::string::npos);
  s.replace(pos, from.size(), to);
  return s;
}

Error rejected(const std::string& text) {
  auto r = decode_json(text);
  INFO("input: " << text.substr(0, 300));
  REQUIRE_FALSE(r.ok());
  CHECK_FALSE(r.error().message.empty());
  return r.error();
}

}  // namespace

TEST_CASE("a JSON event as a client sends it decodes to the event", "[events][json]") {
  auto r = decode_json(kIssued);
  REQUIRE(r.ok());
  CHECK(r->id == "c0a8-17");
  CHECK(r->type == EventType::unit_issued);
  CHECK(r->schema_version == kSchemaVersion);
  CHECK(r->at == parse_rfc3339("2026-11-22T08:15:00Z").value());
  CHECK(r->recorded_at == 0);
  CHECK(r->facility == "NBS-BB");
  CHECK(r->din == "G123426000017");
  CHECK(r->product == "E0336V00");
  CHECK(r->patient_abo_rh == AboRh::unknown);
}

TEST_CASE("every event type survives a JSON round trip with all its fields", "[events][json]") {
  const int type = GENERATE(range(1, kEventTypeCount + 1));
  const Event e = full_event(type);
  INFO(to_string(e.type));
  REQUIRE(validate_shape(e).ok());
  const std::string text = encode_json(e);
  auto back = decode_json(text);
  INFO(text);
  REQUIRE(back.ok());
  CHECK(*back == e);
  // The type travels by name, as documented.
  CHECK(text.find("\"type\":\"" + std::string(to_string(e.type)) + "\"") != std::string::npos);
}

TEST_CASE("JSON output writes times as UTC text and omits absent fields", "[events][json]") {
  Event e = unit_issued(kRedCells, kT0 + 250);
  const std::string text = encode_json(e);
  CHECK(text.find("\"at\":\"2026-11-22T08:00:00.250Z\"") != std::string::npos);
  CHECK(text.find("recorded_at") == std::string::npos);
  CHECK(text.find("patient_abo_rh") == std::string::npos);
  CHECK(text.find("actor") == std::string::npos);
  e.patient_abo_rh = AboRh::o_neg;
  CHECK(encode_json(e).find("\"patient_abo_rh\":\"O-\"") != std::string::npos);
}

TEST_CASE("Arabic text in a JSON event round-trips byte for byte", "[events][json]") {
  Event e = unit_event(EventType::unit_quarantined, kRedCells, kT0);
  e.reason = "كيس مثقوب - Túi bị rách - کیسه سوراخ";
  e.actor = "سلمى";
  auto back = decode_json(encode_json(e));
  REQUIRE(back.ok());
  CHECK(back->reason == e.reason);
  CHECK(back->actor == e.actor);
}

TEST_CASE("JSON input with an offset is stored as the UTC instant", "[events][json]") {
  auto r = decode_json(issued_replacing("2026-11-22T08:15:00Z", "2026-11-22T10:15:00+02:00"));
  REQUIRE(r.ok());
  CHECK(format_rfc3339(r->at) == "2026-11-22T08:15:00Z");
}

TEST_CASE("bytes that are not JSON are rejected as malformed", "[events][json]") {
  CHECK(rejected("").code == "malformed_json");
  CHECK(rejected("hello").code == "malformed_json");
  CHECK(rejected("{").code == "malformed_json");
  CHECK(rejected(kIssued.substr(0, kIssued.size() - 1)).code == "malformed_json");
  CHECK(rejected(kIssued + "}").code == "malformed_json");
  CHECK(rejected("{'id':'x'}").code == "malformed_json");
  CHECK(rejected(std::string("\x00\x01\x02\xfe\xff\x80garbage", 13)).code == "malformed_json");
  CHECK(rejected(std::string("\x7f\x45\x4c\x46\x02\x01\x01\x00", 8)).code == "malformed_json");
}

TEST_CASE("JSON with invalid UTF-8 is rejected as malformed", "[events][json]") {
  // A lone continuation byte, an overlong '/', a truncated sequence, a lone surrogate.
  CHECK(rejected(issued_with(",\"actor\":\"\x80\"")).code == "malformed_json");
  CHECK(rejected(issued_with(",\"actor\":\"\xc0\xaf\"")).code == "malformed_json");
  CHECK(rejected(issued_with(",\"actor\":\"\xd8\"")).code == "malformed_json");
  CHECK(rejected(issued_with(",\"actor\":\"\xff\xfe\"")).code == "malformed_json");
  CHECK(rejected(issued_with(",\"actor\":\"\\ud800\"")).code == "malformed_json");
  // Valid multi-byte UTF-8 in the same place is fine.
  auto ok = decode_json(issued_with(",\"actor\":\"\xd8\xb3\xd9\x84\xd9\x85\xd9\x89\""));
  REQUIRE(ok.ok());
  CHECK(ok->actor == "سلمى");
}

TEST_CASE("a JSON value that is not an object is rejected", "[events][json]") {
  for (const char* text :
       {"[]", "[{\"type\":\"UnitIssued\"}]", "\"UnitIssued\"", "42", "null", "true"}) {
    CHECK(rejected(text).code == "malformed_json");
  }
}

TEST_CASE("a JSON event without a type is rejected as missing_field", "[events][json]") {
  const std::string no_type =
      R"({"id":"x1","at":"2026-11-22T08:15:00Z","facility":"NBS-BB","din":"G123426000017"})";
  CHECK(rejected(no_type).code == "missing_field");
  CHECK(rejected(issued_replacing("\"UnitIssued\"", "7")).code == "missing_field");
  CHECK(rejected(issued_replacing("\"UnitIssued\"", "null")).code == "missing_field");
}

TEST_CASE("a JSON event of an unknown type is rejected as unknown_type", "[events][json]") {
  CHECK(rejected(issued_replacing("UnitIssued", "UnitStolen")).code == "unknown_type");
  CHECK(rejected(issued_replacing("UnitIssued", "unitissued")).code == "unknown_type");
  CHECK(rejected(issued_replacing("UnitIssued", "")).code == "unknown_type");
}

TEST_CASE("a JSON event with a field no event has is rejected as unknown_field", "[events][json]") {
  const Error e = rejected(issued_with(",\"patient_name\":\"Huda\""));
  CHECK(e.code == "unknown_field");
  CHECK(e.message.find("patient_name") != std::string::npos);
  // A typo in a safety field does not pass silently.
  CHECK(rejected(issued_with(",\"patient_abo\":\"O+\"")).code == "unknown_field");
}

TEST_CASE("a JSON field that does not apply to the type is rejected as unexpected_field",
          "[events][json]") {
  const Error e = rejected(issued_with(",\"test\":\"hiv\""));
  CHECK(e.code == "unexpected_field");
  CHECK(e.message.find("'test'") != std::string::npos);
  CHECK(e.message.find("UnitIssued") != std::string::npos);
  CHECK(rejected(issued_with(",\"donor\":\"d-1\"")).code == "unexpected_field");
  CHECK(rejected(issued_with(",\"result\":\"negative\"")).code == "unexpected_field");
  CHECK(rejected(issued_with(",\"reaction\":\"trali\"")).code == "unexpected_field");
}

TEST_CASE("a JSON event without a required field is rejected as missing_field", "[events][json]") {
  CHECK(rejected(issued_replacing(",\"product\":\"E0336V00\"", "")).code == "missing_field");
  CHECK(rejected(issued_replacing(",\"din\":\"G123426000017\"", "")).code == "missing_field");
  CHECK(rejected(issued_replacing("\"at\":\"2026-11-22T08:15:00Z\",", "")).code == "missing_field");
  CHECK(rejected(issued_replacing("\"facility\":\"NBS-BB\",", "")).code == "missing_field");
  CHECK(rejected(issued_replacing("\"id\":\"c0a8-17\",", "")).code == "invalid_id");
}

TEST_CASE("a JSON field of the wrong JSON type is rejected as malformed", "[events][json]") {
  CHECK(rejected(issued_replacing("\"G123426000017\"", "1234260000")).code == "malformed_json");
  CHECK(rejected(issued_replacing("\"c0a8-17\"", "17")).code == "malformed_json");
  CHECK(rejected(issued_replacing("\"c0a8-17\"", "null")).code == "malformed_json");
  CHECK(rejected(issued_replacing("\"2026-11-22T08:15:00Z\"", "1795335300000")).code ==
        "malformed_json");
  CHECK(rejected(issued_replacing("\"NBS-BB\"", "[\"NBS-BB\"]")).code == "malformed_json");
  CHECK(rejected(issued_replacing("\"E0336V00\"", "{\"code\":\"E0336V00\"}")).code ==
        "malformed_json");
  CHECK(rejected(issued_with(",\"patient_abo_rh\":1")).code == "malformed_json");
  CHECK(rejected(issued_with(",\"schema_version\":\"1\"")).code == "malformed_json");
  CHECK(rejected(issued_with(",\"actor\":false")).code == "malformed_json");

  const std::string collected =
      R"({"id":"c1","type":"DonationCollected","at":"2026-11-22T08:15:00Z",)"
      R"("facility":"NBS-BB","din":"G123426000017","donor":"d-1","volume_ml":VOLUME})";
  const auto with_volume = [&](const std::string& v) {
    std::string s = collected;
    s.replace(s.find("VOLUME"), 6, v);
    return s;
  };
  REQUIRE(decode_json(with_volume("450")).ok());
  CHECK(decode_json(with_volume("450"))->volume_ml == 450);
  CHECK(rejected(with_volume("\"450\"")).code == "malformed_json");
  CHECK(rejected(with_volume("450.5")).code == "malformed_json");
  CHECK(rejected(with_volume("0")).code == "malformed_json");
  CHECK(rejected(with_volume("-450")).code == "malformed_json");
  CHECK(rejected(with_volume("2001")).code == "malformed_json");
  CHECK(rejected(with_volume("18446744073709551615")).code == "malformed_json");
}

TEST_CASE("a JSON event with a bad blood group is rejected as invalid_blood_group",
          "[events][json]") {
  for (const char* g : {"O", "0+", "o+", "AB", "A pos", "unknown", "", "51"}) {
    const Error e = rejected(issued_with(",\"patient_abo_rh\":\"" + std::string(g) + "\""));
    INFO(g);
    CHECK(e.code == "invalid_blood_group");
  }
  for (const char* g : {"O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-"}) {
    auto r = decode_json(issued_with(",\"patient_abo_rh\":\"" + std::string(g) + "\""));
    INFO(g);
    REQUIRE(r.ok());
    CHECK(to_string(r->patient_abo_rh) == g);
  }
}

TEST_CASE("a JSON event with a bad DIN is rejected as invalid_din", "[events][json]") {
  for (const char* din : {"G12342600001", "G1234260000171", "O123426000017", "g123426000017",
                          "G12342600001X", "=G123426000017", "0123426000017"}) {
    INFO(din);
    CHECK(rejected(issued_replacing("G123426000017", din)).code == "invalid_din");
  }
  // Letters A-N, P-Z and digits 1-9 may start a DIN.
  for (const char* din : {"A123426000017", "Z123426000017", "9123426000017"}) {
    INFO(din);
    CHECK(decode_json(issued_replacing("G123426000017", din)).ok());
  }
}

TEST_CASE("a JSON event with a bad product code is rejected as invalid_product", "[events][json]") {
  for (const char* p :
       {"E0336V0", "E0336V000", "e0336V00", "0E336V00", "E03X6V00", "E0336V0-", "E0336"}) {
    INFO(p);
    CHECK(rejected(issued_replacing("E0336V00", p)).code == "invalid_product");
  }
}

TEST_CASE("a JSON event with a bad time is rejected as invalid_time", "[events][json]") {
  CHECK(rejected(issued_replacing("2026-11-22T08:15:00Z", "2026-02-30T08:15:00Z")).code ==
        "invalid_time");
  CHECK(rejected(issued_replacing("2026-11-22T08:15:00Z", "2026-11-22T08:15:00")).code ==
        "invalid_time");
  CHECK(rejected(issued_replacing("2026-11-22T08:15:00Z", "tomorrow")).code == "invalid_time");
  CHECK(rejected(issued_with(",\"recorded_at\":\"2026-11-22\"")).code == "invalid_time");
}

TEST_CASE("a JSON event with a later schema version is rejected as unsupported_version",
          "[events][json]") {
  CHECK(decode_json(issued_with(",\"schema_version\":1")).ok());
  CHECK(decode_json(issued_with(",\"schema_version\":2")).ok());
  CHECK(decode_json(issued_with(",\"schema_version\":3")).ok());
  CHECK(decode_json(issued_with(",\"schema_version\":4")).ok());
  CHECK(rejected(issued_with(",\"schema_version\":5")).code == "unsupported_version");
  CHECK(rejected(issued_with(",\"schema_version\":0")).code == "malformed_json");
}

TEST_CASE("a JSON message over 64 KiB is rejected as too_large", "[events][json]") {
  // Padding with whitespace keeps it valid JSON: only the size is wrong.
  const std::string padded = kIssued.substr(0, kIssued.size() - 1);
  const std::string at_limit = padded + std::string(kMaxJsonBytes - kIssued.size(), ' ') + "}";
  REQUIRE(at_limit.size() == kMaxJsonBytes);
  CHECK(decode_json(at_limit).ok());

  const std::string over = padded + std::string(kMaxJsonBytes - kIssued.size() + 1, ' ') + "}";
  const Error e = rejected(over);
  CHECK(e.code == "too_large");
  CHECK(e.message.find("64 KiB") != std::string::npos);
  CHECK(rejected(std::string(10 * 1024 * 1024, '[')).code == "too_large");
}

TEST_CASE("deeply nested JSON is rejected without recursing", "[events][json]") {
  const auto nested = [](int depth) {
    return issued_with(",\"actor\":" + std::string(static_cast<std::size_t>(depth), '[') + "1" +
                       std::string(static_cast<std::size_t>(depth), ']'));
  };
  // The event object itself is one level: kMaxJsonDepth - 1 arrays inside still parse (and
  // are then refused as the wrong type), one more is refused before parsing.
  CHECK(rejected(nested(kMaxJsonDepth - 1)).message.find("nested") == std::string::npos);
  const Error too_deep = rejected(nested(kMaxJsonDepth));
  CHECK(too_deep.code == "malformed_json");
  CHECK(too_deep.message.find("nested") != std::string::npos);
  // Tens of thousands of levels, still under the size limit, are refused without a crash.
  CHECK(rejected(std::string(30'000, '[') + std::string(30'000, ']')).code == "malformed_json");
  CHECK(rejected(std::string(60'000, '{')).code == "malformed_json");
}

TEST_CASE("brackets inside JSON strings do not count as nesting", "[events][json]") {
  Event e = unit_event(EventType::unit_quarantined, kRedCells, kT0);
  e.reason = std::string(40, '[') + " \"quoted\" \\ " + std::string(40, '{');
  auto back = decode_json(encode_json(e));
  REQUIRE(back.ok());
  CHECK(back->reason == e.reason);
}

TEST_CASE("a JSON discard must give one of the known reasons", "[events][json]") {
  Event e = unit_discarded(kRedCells, "expired", kT0);
  CHECK(decode_json(encode_json(e)).ok());
  e.reason = "dropped it";
  const Error err = rejected(encode_json(e));
  CHECK(err.code == "invalid_reason");
  CHECK(err.message.find("tti_positive") != std::string::npos);
}

TEST_CASE("a JSON event id must be printable ASCII without spaces", "[events][json]") {
  CHECK(rejected(issued_replacing("c0a8-17", "c0a8 17")).code == "invalid_id");
  CHECK(rejected(issued_replacing("c0a8-17", "")).code == "invalid_id");
  CHECK(rejected(issued_replacing("c0a8-17", std::string(129, 'x'))).code == "invalid_id");
  CHECK(decode_json(issued_replacing("c0a8-17", std::string(128, 'x'))).ok());
}

TEST_CASE("encoding JSON never throws, whatever the text fields hold", "[events][json]") {
  // Events from the binary codec are not checked for UTF-8; encoding them for the API must
  // still produce JSON rather than throw out of a request handler.
  Event e = unit_event(EventType::unit_quarantined, kRedCells, kT0);
  e.actor = "bad \xff\xfe bytes";
  e.reason = std::string("\xc0\xaf", 2);
  std::string text;
  REQUIRE_NOTHROW(text = encode_json(e));
  auto back = decode_json(text);
  REQUIRE(back.ok());
  CHECK(back->din == e.din);
  CHECK(back->actor.rfind("bad ", 0) == 0);
}

TEST_CASE("a field given twice is rejected rather than silently taking the last value",
          "[events][json]") {
  const Error e = rejected(issued_with(R"(,"patient_abo_rh":"A+","patient_abo_rh":"O-")"));
  CHECK(e.code == "malformed_json");
  CHECK_THAT(e.message, Catch::Contains("patient_abo_rh"));
}

TEST_CASE("a JSON event dated before 1990 or after 2199 is refused as implausible_time",
          "[events][json]") {
  for (const char* at : {"1989-12-31T23:59:59.999Z", "1970-01-01T00:00:00.001Z",
                         "2200-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    INFO("at " << at);
    CHECK(rejected(issued_replacing("2026-11-22T08:15:00Z", at)).code == "implausible_time");
  }
  CHECK(rejected(issued_with(",\"recorded_at\":\"1985-01-01T00:00:00Z\"")).code ==
        "implausible_time");
  const std::string produced =
      R"({"id":"p1","type":"ComponentProduced","at":"2026-11-22T08:15:00Z","facility":"NBS-BB",)"
      R"("din":"G123426000017","product":"E0336V00","expires_at":"2345-01-01T00:00:00Z"})";
  CHECK(rejected(produced).code == "implausible_time");
  // The bounds themselves: the first millisecond of 1990 and the last of 2199 are accepted.
  CHECK(decode_json(issued_replacing("2026-11-22T08:15:00Z", "1990-01-01T00:00:00Z")).ok());
  CHECK(decode_json(issued_replacing("2026-11-22T08:15:00Z", "2199-12-31T23:59:59.999Z")).ok());
}

TEST_CASE("a donor given by name instead of a pseudonymous id is refused", "[events][json]") {
  const std::string base = R"({"id":"dn-1","type":"DonationCollected","at":"2026-11-22T08:00:00Z",)"
                           R"("facility":"NBS-BB","din":"G123426000017","donor":"DONOR"})";
  auto with = [&](const std::string& donor) {
    std::string s = base;
    s.replace(s.find("DONOR"), 5, donor);
    return decode_json(s);
  };
  CHECK(with("DNR-104233").ok());
  CHECK(with("nbs:2026/0042").ok());
  for (const char* name : {"Ahmad Saleh", "Fatima", "O'Brien-Smith", "أحمد", "Nguyễn Văn An"}) {
    INFO(name);
    auto r = with(name);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "invalid_donor");
    CHECK(r.error().message.find("never a name") != std::string::npos);
  }
}

TEST_CASE("a message with escapes, spaces or Arabic text decodes as its plain form would",
          "[events][json]") {
  const std::string plain =
      R"({"id":"c0a8-17","type":"UnitIssued","at":"2026-11-22T08:15:00Z","facility":"NBS-BB",)"
      R"("din":"G123426000017","product":"E0336V00","patient_abo_rh":"O-"})";
  const std::string escaped =
      "{ \"product\" : \"E0336V00\",\n\t\"din\":\"G123426000017\", \"facility\":\"NBS\\u002dBB\","
      "\"at\":\"2026-11-22T08:15:00Z\",\"type\":\"UnitIssued\",\"id\":\"c0a8-17\","
      "\"patient_abo_rh\":\"O-\" }";
  auto a = decode_json(plain);
  auto b = decode_json(escaped);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  auto arabic = decode_json(
      R"({"id":"c0a8-18","type":"UnitDiscarded","at":"2026-11-22T08:15:00Z","facility":"NBS-BB",)"
      R"("din":"G123426000017","product":"E0336V00","reason":"broken_bag","actor":"سمر"})");
  REQUIRE(arabic.ok());
  CHECK(arabic->actor == "سمر");
  // Errors of flat messages are those of the full parser: the first wrong field in key order.
  auto wrong =
      decode_json(R"({"id":"x-1","type":"UnitIssued","at":"2026-11-22T08:15:00Z","facility":7,)"
                  R"("din":5,"product":"E0336V00"})");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message == "The field 'din' must be a string.");
  auto repeated =
      decode_json(R"({"id":"x-1","type":"UnitIssued","id":"x-2","at":"2026-11-22T08:15:00Z"})");
  REQUIRE_FALSE(repeated.ok());
  CHECK(repeated.error().message == "The field 'id' appears more than once.");
  auto big = decode_json(
      R"({"id":"x-1","type":"DonationCollected","at":"2026-11-22T08:15:00Z","facility":"NBS-BB",)"
      R"("din":"G123426000017","volume_ml":99999999999999999999})");
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == "malformed_json");
}
