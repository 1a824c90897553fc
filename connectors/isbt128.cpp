#include "connectors/isbt128.h"

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "connectors/sender_text.h"
#include "events/event.h"

namespace hemoledger::isbt128 {

namespace {

constexpr std::string_view kCheckAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

// ---- characters and small helpers ------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

int digits_value(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// First character of a DIN: A-N, P-Z or 1-9 (no O, no 0: they look alike).
bool is_din_alpha(char c) {
  return (c >= 'A' && c <= 'N') || (c >= 'P' && c <= 'Z') || (c >= '1' && c <= '9');
}

int check_alphabet_value(char c) {
  const auto i = kCheckAlphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

// The code of a compound message's own failures (count, truncation, nesting,
// an item twice); an item's other failures keep their code, prefixed with
// where the item sits.
constexpr char kBadCompound[] = "bad_compound";

// Scanned bytes as quoted in this file's messages (connectors/sender_text.h).
std::string shown(std::string_view s) { return sender_text(s, 40, Clipped::marked); }

std::string_view trim_trailing(std::string_view s) {
  while (!s.empty()) {
    const char c = s.back();
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
    s.remove_suffix(1);
  }
  return s;
}

Error error(std::string code, std::string message) {
  return make_error(std::move(code), std::move(message));
}

// ---- the fixed-length structures --------------------------------------------

struct Spec {
  std::string_view id;  // two characters; "=" + α for the DIN
  std::size_t length;   // identifier included; minimum for the compound
  Structure kind;
  std::string_view name;  // for messages
};

constexpr Spec kDinSpec{"=", 16, Structure::din, "donation identification number"};
constexpr std::array<Spec, 7> kSpecs = {{
    {"=%", 6, Structure::blood_groups, "blood group"},
    {"=<", 10, Structure::product_code, "product code"},
    {"=>", 8, Structure::expiration_date, "expiry date"},
    {"&>", 12, Structure::expiration_date_time, "expiry date and time"},
    {"=*", 8, Structure::collection_date, "collection date"},
    {"&*", 12, Structure::collection_date_time, "collection date and time"},
    {"=+", 7, Structure::compound_message, "compound message"},
}};

const Spec* identify(std::string_view data) {
  if (data.size() < 2) return nullptr;
  if (data[0] == '=' && is_din_alpha(data[1])) return &kDinSpec;
  for (const auto& s : kSpecs) {
    if (data.substr(0, 2) == s.id) return &s;
  }
  return nullptr;
}

Error unknown_identifier(std::string_view data) {
  return error("unknown_identifier",
               "\"" + shown(data.substr(0, 2)) +
                   "\" is not an ISBT 128 data identifier this system reads; scanned ISBT 128 "
                   "data starts with '=' or '&', and a typed donation number is 13 characters "
                   "followed by its check character.");
}

// ---- 001 DIN and the typed DIN -----------------------------------------------

// The 13 characters αppppyynnnnnn: is_din() is the rule; this explains it.
Status check_din_body(std::string_view din) {
  if (!is_din(din)) {
    return error("bad_character", "\"" + shown(din) +
                                      "\" is not a donation number: it must be a letter (not O) "
                                      "or a digit 1-9 followed by 12 digits.");
  }
  return {};
}

struct FlagMeaning {
  FlagKind kind;
  std::optional<int> container;
};

std::optional<FlagMeaning> flag_meaning(int f) {
  if (f == 0) return FlagMeaning{FlagKind::unused, std::nullopt};
  if (f >= 1 && f <= 4) return FlagMeaning{FlagKind::container, f};
  if (f >= 15 && f <= 19) return FlagMeaning{FlagKind::container, f - 10};
  if (f == 6) return FlagMeaning{FlagKind::pilot_tube, std::nullopt};
  if (f == 7) return FlagMeaning{FlagKind::test_tube, std::nullopt};
  if (f == 9) return FlagMeaning{FlagKind::nat_sample_tube, std::nullopt};
  if (f >= 20 && f <= 59) return FlagMeaning{FlagKind::local, std::nullopt};
  if (f >= 60 && f <= 96) return FlagMeaning{FlagKind::check_value, std::nullopt};
  return std::nullopt;
}

Error conflict(std::string_view what) {
  return error(kBadCompound, "The compound message carries the " + std::string(what) +
                                 " twice; each item may appear only once.");
}

Status set_din(Scan& scan, std::string_view din) {
  if (scan.din) return conflict("donation identification number");
  scan.din = std::string(din);
  return {};
}

Status decode_din(Scan& scan, std::string_view data) {
  const auto din = data.substr(1, 13);
  const auto flags = data.substr(14, 2);
  if (auto s = check_din_body(din); !s) return s;
  if (!all_digits(flags)) {
    return error("bad_character", "The flag characters \"" + shown(flags) +
                                      "\" after donation number " + std::string(din) +
                                      " must be two digits.");
  }
  const int f = digits_value(flags);
  const auto meaning = flag_meaning(f);
  if (!meaning) {
    return error("unknown_code", "Flag characters " + std::string(flags) +
                                     " after donation number " + std::string(din) +
                                     " have no meaning this system knows (accepted: 00, 01-04, "
                                     "06, 07, 09, 15-19, 20-59, 60-96).");
  }
  bool checked = false;
  if (meaning->kind == FlagKind::check_value) {
    const int expected = din_check_value(din);
    if (f - 60 != expected) {
      return error("check_failed", "The check flags " + std::string(flags) +
                                       " do not match donation number " + std::string(din) +
                                       " (expected " + std::to_string(60 + expected) +
                                       "): the label is misread or damaged.");
    }
    checked = true;
  }
  if (auto s = set_din(scan, din); !s) return s;
  scan.din_flags = std::string(flags);
  scan.din_flag_kind = meaning->kind;
  scan.container = meaning->container;
  scan.din_check_ok = checked;
  return {};
}

Result<Scan> decode_keyboard_din(std::string_view data) {
  const auto din = data.substr(0, 13);
  const char k = data[13];
  if (auto s = check_din_body(din); !s) return s.error();
  if (check_alphabet_value(k) < 0) {
    return error("bad_character", "The check character \"" + shown(data.substr(13)) +
                                      "\" must be a digit, a capital letter or '*'.");
  }
  const char expected = din_check_character(din);
  if (k != expected) {
    return error("check_failed", std::string("The check character ") + k +
                                     " does not match donation number " + std::string(din) +
                                     " (expected " + expected + "): the number was mistyped.");
  }
  Scan scan;
  scan.structures.push_back(Structure::keyboard_din);
  scan.din = std::string(din);
  scan.din_check_ok = true;
  return scan;
}

// ---- 002 blood groups --------------------------------------------------------

struct GroupCode {
  std::string_view code;
  AboRh group;
};

constexpr std::array<GroupCode, 8> kGroupCodes = {{
    {"51", AboRh::o_pos},
    {"62", AboRh::a_pos},
    {"73", AboRh::b_pos},
    {"84", AboRh::ab_pos},
    {"95", AboRh::o_neg},
    {"06", AboRh::a_neg},
    {"17", AboRh::b_neg},
    {"28", AboRh::ab_neg},
}};

struct MessageEntry {
  GroupMessage message;
  std::string_view code;
  std::string_view name;
  std::string_view text;
};

constexpr std::array<MessageEntry, 7> kMessages = {{
    {GroupMessage::quarantine, "Mq", "quarantine",
     "Quarantine: hold for further testing or processing."},
    {GroupMessage::discard, "Md", "discard", "Discard: to be destroyed."},
    {GroupMessage::not_for_transfusion, "Mx", "not_for_transfusion",
     "Not for transfusion, based on test results."},
    {GroupMessage::biohazard, "Mb", "biohazard", "Biohazardous."},
    {GroupMessage::autologous, "Ma", "autologous", "Autologous collection."},
    {GroupMessage::fractionation_only, "Mf", "fractionation_only", "For fractionation use only."},
    {GroupMessage::no_abo_rhd, "00", "no_abo_rhd", "No ABO or RhD information."},
}};

const MessageEntry& message_entry(GroupMessage m) {
  for (const auto& e : kMessages) {
    if (e.message == m) return e;
  }
  return kMessages.back();
}

std::optional<AboRh> group_of_code(std::string_view gg) {
  for (const auto& g : kGroupCodes) {
    if (g.code == gg) return g.group;
  }
  return std::nullopt;
}

Error unknown_group_code(std::string_view gg) {
  return error("unknown_code",
               "Blood group code \"" + shown(gg) +
                   "\" is not one this system reads: only the eight ABO/RhD codes 51, 62, 73, 84, "
                   "95, 06, 17, 28 and the special messages Mq, Md, Mx, Mb, Ma, Mf, 00.");
}

Status decode_blood_groups(Scan& scan, std::string_view data) {
  const auto gg = data.substr(2, 2);
  const char r = data[4];
  const char e = data[5];
  std::optional<AboRh> group = group_of_code(gg);
  std::optional<GroupMessage> message;
  if (!group) {
    for (const auto& m : kMessages) {
      if (m.code == gg) message = m.message;
    }
  }
  if (!group && !message) {
    for (char c : gg) {
      if (!is_digit(c) && !is_upper(c) && !is_lower(c)) {
        return error("bad_character",
                     "Blood group code \"" + shown(gg) + "\" must be two letters or digits.");
      }
    }
    return unknown_group_code(gg);
  }
  if (!is_digit(r) && !is_upper(r)) {
    return error("bad_character",
                 "The Rh/Kell phenotype character \"" + shown(data.substr(4, 1)) +
                     "\" of a blood group scan must be a digit or a capital letter.");
  }
  if (e != '0') {
    return error("unknown_code",
                 "The last character of a blood group scan is reserved and must be "
                 "0, not \"" +
                     shown(data.substr(5, 1)) + "\".");
  }
  if (scan.abo_rh || scan.group_message) return conflict("blood group");
  scan.blood_group_code = std::string(gg);
  scan.abo_rh = group;
  scan.group_message = message;
  scan.rh_kell_code = r;
  return {};
}

// ---- 003 product code --------------------------------------------------------

Status decode_product(Scan& scan, std::string_view data) {
  const auto code = data.substr(2);
  if (!is_product_code(code)) {
    return error("bad_character", "\"" + shown(code) +
                                      "\" is not a product code: it must be a capital letter, four "
                                      "digits, then three letters or digits (αooootds).");
  }
  if (scan.product) return conflict("product code");
  scan.product = std::string(code);
  return {};
}

// ---- 004-007 dates -----------------------------------------------------------

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// cyyjjj[hhmm] -> UTC milliseconds; `default_minutes` when no time is given.
Result<TimeMs> parse_date(std::string_view text, std::string_view what, int default_minutes) {
  if (!all_digits(text)) {
    return error("bad_character", "The " + std::string(what) + " \"" + shown(text) +
                                      "\" must be digits only (cyyjjj" +
                                      (text.size() == 10 ? "hhmm" : "") + ").");
  }
  const int c = text[0] - '0';
  const int yy = digits_value(text.substr(1, 2));
  const int year = (c == 9 ? 1900 : 2000 + 100 * c) + yy;
  const int day = digits_value(text.substr(3, 3));
  const int days_in_year = is_leap(year) ? 366 : 365;
  if (day < 1 || day > days_in_year) {
    return error("bad_date", "The " + std::string(what) + " \"" + std::string(text) +
                                 "\" names day " + std::to_string(day) + " of " +
                                 std::to_string(year) + ", which has days 001 to " +
                                 std::to_string(days_in_year) + ".");
  }
  int minutes = default_minutes;
  if (text.size() == 10) {
    const int hh = digits_value(text.substr(6, 2));
    const int mm = digits_value(text.substr(8, 2));
    if (hh > 23 || mm > 59) {
      return error("bad_date", "The " + std::string(what) + " \"" + std::string(text) +
                                   "\" has time " + std::string(text.substr(6, 2)) + ":" +
                                   std::string(text.substr(8, 2)) +
                                   ", which does not exist (00:00 to 23:59).");
    }
    minutes = hh * 60 + mm;
  }
  const auto days = days_from_civil(year, 1, 1) + (day - 1);
  return days * kDay + minutes * kMinute;
}

constexpr int kExpiryDefaultMinutes = 23 * 60 + 59;
constexpr int kCollectionDefaultMinutes = 0;

Status decode_date(Scan& scan, std::string_view data, Structure kind) {
  const auto text = data.substr(2);
  const bool with_time =
      kind == Structure::expiration_date_time || kind == Structure::collection_date_time;
  const bool expiry = kind == Structure::expiration_date || kind == Structure::expiration_date_time;
  auto t = parse_date(text, expiry ? "expiry date" : "collection date",
                      expiry ? kExpiryDefaultMinutes : kCollectionDefaultMinutes);
  if (!t) return t.error();
  if (expiry) {
    if (scan.expires_at) return conflict("expiry date");
    scan.expires_at = *t;
    scan.expiry_time_given = with_time;
  } else {
    if (scan.collected_at) return conflict("collection date");
    scan.collected_at = *t;
    scan.collection_time_given = with_time;
  }
  return {};
}

// ---- one structure, and the compound message ---------------------------------

// `data` is exactly spec.length characters of a non-compound structure.
Status decode_structure(Scan& scan, const Spec& spec, std::string_view data) {
  Status s;
  switch (spec.kind) {
    case Structure::din:
      s = decode_din(scan, data);
      break;
    case Structure::blood_groups:
      s = decode_blood_groups(scan, data);
      break;
    case Structure::product_code:
      s = decode_product(scan, data);
      break;
    case Structure::expiration_date:
    case Structure::expiration_date_time:
    case Structure::collection_date:
    case Structure::collection_date_time:
      s = decode_date(scan, data, spec.kind);
      break;
    default:
      return error("unknown_identifier", "This structure cannot appear here.");
  }
  if (!s) return s;
  scan.structures.push_back(spec.kind);
  return {};
}

Result<Scan> decode_compound(std::string_view data) {
  const auto header = data.substr(2, 5);
  if (!all_digits(header)) {
    return error("bad_character", "A compound message starts \"=+aabbb\" with five digits, not \"" +
                                      shown(header) + "\".");
  }
  const int count = digits_value(header.substr(0, 2));
  if (count == 0) {
    return error(kBadCompound, "A compound message must announce at least one data structure.");
  }
  Scan scan;
  scan.structures.push_back(Structure::compound_message);
  scan.compound_type = std::string(header.substr(2, 3));
  std::size_t pos = 7;
  int n = 0;
  while (pos < data.size()) {
    const auto rest = data.substr(pos);
    if (n == count) {
      return error(kBadCompound, "The compound message announces " + std::to_string(count) +
                                     " data structures but more data follows: \"" + shown(rest) +
                                     "\".");
    }
    const std::string where =
        "In structure " + std::to_string(n + 1) + " of the compound message: ";
    const Spec* spec = identify(rest);
    if (spec == nullptr) {
      if (rest.size() < 2) {
        return error(kBadCompound,
                     "The compound message ends inside structure " + std::to_string(n + 1) + ".");
      }
      auto e = unknown_identifier(rest);
      return error(e.code, where + e.message);
    }
    if (spec->kind == Structure::compound_message) {
      return error(kBadCompound, "A compound message cannot contain another compound message.");
    }
    if (rest.size() < spec->length) {
      return error(kBadCompound, "The compound message ends inside structure " +
                                     std::to_string(n + 1) + " (" + std::string(spec->name) + ").");
    }
    if (auto s = decode_structure(scan, *spec, rest.substr(0, spec->length)); !s) {
      if (s.error().code == kBadCompound) return s.error();
      return error(s.error().code, where + s.error().message);
    }
    pos += spec->length;
    ++n;
  }
  if (n != count) {
    return error(kBadCompound, "The compound message announces " + std::to_string(count) +
                                   " data structures but carries " + std::to_string(n) + ".");
  }
  return scan;
}

// ---- Codabar ----------------------------------------------------------------

bool is_codabar_start_stop(char c) { return (c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd'); }

bool is_codabar_data(char c) {
  return is_digit(c) || c == '-' || c == '$' || c == ':' || c == '/' || c == '.' || c == '+';
}

bool looks_like_codabar(std::string_view s) {
  if (s.size() < 3 || !is_codabar_start_stop(s.front()) || !is_codabar_start_stop(s.back())) {
    return false;
  }
  for (char c : s.substr(1, s.size() - 2)) {
    if (!is_codabar_data(c)) return false;
  }
  return true;
}

char upper(char c) { return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace

// ---- public ------------------------------------------------------------------

int din_check_value(std::string_view din13) {
  if (din13.size() != 13) return -1;
  int p = 0;
  for (char c : din13) {
    const int v = check_alphabet_value(c);
    if (v < 0) return -1;
    p = ((p + v) * 2) % 37;
  }
  return (38 - p) % 37;
}

char din_check_character(std::string_view din13) {
  const int v = din_check_value(din13);
  return v < 0 ? '\0' : kCheckAlphabet[static_cast<std::size_t>(v)];
}

std::string_view to_string(Structure s) {
  switch (s) {
    case Structure::din:
      return "din";
    case Structure::keyboard_din:
      return "keyboard_din";
    case Structure::blood_groups:
      return "blood_groups";
    case Structure::product_code:
      return "product_code";
    case Structure::expiration_date:
      return "expiration_date";
    case Structure::expiration_date_time:
      return "expiration_date_time";
    case Structure::collection_date:
      return "collection_date";
    case Structure::collection_date_time:
      return "collection_date_time";
    case Structure::compound_message:
      return "compound_message";
    case Structure::codabar_unit_number:
      return "codabar_unit_number";
    case Structure::codabar_blood_group:
      return "codabar_blood_group";
  }
  return "unknown";
}

std::string_view to_string(FlagKind k) {
  switch (k) {
    case FlagKind::unused:
      return "unused";
    case FlagKind::container:
      return "container";
    case FlagKind::pilot_tube:
      return "pilot_tube";
    case FlagKind::test_tube:
      return "test_tube";
    case FlagKind::nat_sample_tube:
      return "nat_sample_tube";
    case FlagKind::local:
      return "local";
    case FlagKind::check_value:
      return "check_value";
  }
  return "unknown";
}

std::string_view to_string(GroupMessage m) { return message_entry(m).name; }
std::string_view code_of(GroupMessage m) { return message_entry(m).code; }
std::string_view text_of(GroupMessage m) { return message_entry(m).text; }

Result<Scan> decode(std::string_view raw) {
  const auto data = trim_trailing(raw);
  if (data.empty()) return error("wrong_length", "The scan is empty.");
  if (data[0] != '=' && data[0] != '&') {
    if (data.size() == 14) return decode_keyboard_din(data);
    if (looks_like_codabar(data)) return decode_codabar(data);
    return unknown_identifier(data);
  }
  const Spec* spec = identify(data);
  if (spec == nullptr) {
    if (data.size() < 2) {
      return error("wrong_length",
                   "\"" + shown(data) + "\" is too short to hold a data identifier.");
    }
    return unknown_identifier(data);
  }
  if (spec->kind == Structure::compound_message) {
    if (data.size() < spec->length) {
      return error("wrong_length",
                   "A compound message is at least 7 characters (=+aabbb); this "
                   "scan has " +
                       std::to_string(data.size()) + ".");
    }
    return decode_compound(data);
  }
  if (data.size() != spec->length) {
    return error("wrong_length", "A " + std::string(spec->name) + " scan is " +
                                     std::to_string(spec->length) + " characters, identifier " +
                                     "included; this one has " + std::to_string(data.size()) + ".");
  }
  Scan scan;
  if (auto s = decode_structure(scan, *spec, data); !s) return s.error();
  return scan;
}

Result<Scan> decode_codabar(std::string_view raw) {
  const auto data = trim_trailing(raw);
  if (!looks_like_codabar(data)) {
    return error("unknown_identifier", "\"" + shown(data) +
                                           "\" is not Codabar data: it must start and end with "
                                           "A, B, C or D with digits between.");
  }
  const char start = upper(data.front());
  const char stop = upper(data.back());
  const auto body = data.substr(1, data.size() - 2);
  Scan scan;
  scan.legacy = true;
  if (start == 'D' && stop == 'D' && body.size() == 7 && all_digits(body)) {
    scan.structures.push_back(Structure::codabar_unit_number);
    scan.unit_number = std::string(body);
    return scan;
  }
  if (start == 'D' && stop == 'B' && body.size() == 3 && all_digits(body)) {
    const auto gg = body.substr(0, 2);
    const auto group = group_of_code(gg);
    if (!group) {
      return error("unknown_code", "Codabar blood group code " + std::string(gg) +
                                       " is not one of 51, 62, 73, 84, 95, 06, 17, 28.");
    }
    if (body[2] != '0') {
      return error("unknown_code",
                   "A Codabar blood group label is D, the group code, 0, B; the "
                   "digit after the group code is " +
                       std::string(1, body[2]) + ", not 0.");
    }
    scan.structures.push_back(Structure::codabar_blood_group);
    scan.blood_group_code = std::string(gg);
    scan.abo_rh = group;
    return scan;
  }
  return error("unknown_identifier",
               "\"" + shown(data) +
                   "\" is a Codabar label this system does not read; it reads only unit numbers "
                   "(D, seven digits, D) and blood groups (D, group code, 0, B).");
}

Result<std::string> encode_din(std::string_view din13, std::string_view flags) {
  if (auto s = check_din_body(din13); !s) return s.error();
  std::string f(flags);
  if (f.empty()) f = std::to_string(60 + din_check_value(din13));
  if (f.size() != 2 || !all_digits(f) || !flag_meaning(digits_value(f))) {
    return error("unknown_code", "Flag characters \"" + shown(flags) +
                                     "\" cannot follow a donation number (accepted: 00, 01-04, "
                                     "06, 07, 09, 15-19, 20-59, 60-96).");
  }
  if (digits_value(f) >= 60 && digits_value(f) - 60 != din_check_value(din13)) {
    return error("check_failed",
                 "Check flags " + f + " do not match donation number " + std::string(din13) + ".");
  }
  return std::string(kDinSpec.id) + std::string(din13) + f;
}

Result<std::string> encode_blood_groups(AboRh group) {
  for (const auto& g : kGroupCodes) {
    if (g.group == group) return std::string("=%") + std::string(g.code) + "00";
  }
  return error("unknown_code", "A unit of unknown group has no ABO/RhD code to print.");
}

std::string encode_blood_groups(GroupMessage message) {
  return "=%" + std::string(message_entry(message).code) + "00";
}

Result<std::string> encode_product(std::string_view product) {
  std::string data = "=<" + std::string(product);
  Scan scan;
  if (auto s = decode_product(scan, data); !s) return s.error();
  return data;
}

Result<std::string> encode_expiry(TimeMs expires_at) {
  const std::int64_t days = expires_at >= 0 ? expires_at / kDay : (expires_at - kDay + 1) / kDay;
  const CivilDate d = civil_from_days(days);
  if (d.y < 1900 || d.y > 2899) {
    return error("bad_date",
                 "An ISBT 128 date holds the years 1900 to 2899, not " + std::to_string(d.y) + ".");
  }
  const int century = d.y < 2000 ? 9 : (d.y - 2000) / 100;
  const int day_of_year = static_cast<int>(days - days_from_civil(d.y, 1, 1)) + 1;
  const TimeMs minutes = (expires_at - days * kDay) / kMinute;
  char text[64];
  std::snprintf(text, sizeof text, "&>%d%02d%03d%02d%02d", century, d.y % 100, day_of_year,
                static_cast<int>(minutes / 60), static_cast<int>(minutes % 60));
  return std::string(text);
}

nlohmann::json to_json(const Scan& scan) {
  nlohmann::json j = nlohmann::json::object();
  auto structures = nlohmann::json::array();
  for (auto s : scan.structures) structures.push_back(std::string(to_string(s)));
  j["structures"] = std::move(structures);
  j["legacy"] = scan.legacy;
  if (scan.din) {
    j["din"] = *scan.din;
    const char k = din_check_character(*scan.din);
    if (k != '\0') j["check_character"] = std::string(1, k);
    j["din_check_ok"] = scan.din_check_ok;
  }
  if (scan.din_flags) j["din_flags"] = *scan.din_flags;
  if (scan.din_flag_kind) j["din_flag_kind"] = std::string(to_string(*scan.din_flag_kind));
  if (scan.container) j["container"] = *scan.container;
  if (scan.blood_group_code) j["blood_group_code"] = *scan.blood_group_code;
  if (scan.abo_rh) j["abo_rh"] = std::string(to_string(*scan.abo_rh));
  if (scan.group_message) {
    j["group_message"] = {{"code", std::string(code_of(*scan.group_message))},
                          {"name", std::string(to_string(*scan.group_message))},
                          {"text", std::string(text_of(*scan.group_message))}};
  }
  if (scan.rh_kell_code) j["rh_kell_code"] = std::string(1, *scan.rh_kell_code);
  if (scan.product) j["product"] = *scan.product;
  if (scan.expires_at) {
    j["expires_at"] = format_rfc3339(*scan.expires_at);
    j["expiry_time_given"] = scan.expiry_time_given;
  }
  if (scan.collected_at) {
    j["collected_at"] = format_rfc3339(*scan.collected_at);
    j["collection_time_given"] = scan.collection_time_given;
  }
  if (scan.compound_type) j["compound_type"] = *scan.compound_type;
  if (scan.unit_number) j["unit_number"] = *scan.unit_number;
  return j;
}

}  // namespace hemoledger::isbt128
