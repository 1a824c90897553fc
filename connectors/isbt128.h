// ISBT 128 label decoder: turns ONE scanned (or typed) string from a blood
// bag label into a Scan, or refuses it with an Error. Pure functions, no I/O,
// no clock, no shared state: safe to call from any thread.
//
//   Result<isbt128::Scan> r = isbt128::decode("=G12341765432170");
//   if (!r) { show(r.error().code, r.error().message); return; }   // refused
//   use(r->din.value());                                            // "G123417654321"
//
// Contract. A scan is decoded only when every character is accounted for:
// the data identifier, the length, the character classes, the check value
// and the calendar must all be right, otherwise nothing is returned but an
// Error. Nothing is guessed or repaired; only trailing spaces, tabs, CR and
// LF (sent by keyboard-wedge scanners) are trimmed. The rules come from the
// domain notes (DOMAIN.md, "ISBT 128 labels", after ICCBBA ST-001).
//
// What decode() reads:
//   =αppppyynnnnnnff  001 DIN + 2 flag characters (α: A-N, P-Z, 1-9). Flags
//                     00, 01-04, 15-19 (containers 1-4, 5-9), 06, 07, 09 and
//                     20-59 are accepted with their meaning; 60-96 must equal
//                     60 + the Mod 37-2 check value; anything else is refused.
//   αppppyynnnnnnK    a DIN typed from the eye-readable label, 14 characters,
//                     with its check character K (verified).
//   =%ggre            002 blood groups. gg: the eight default ABO/RhD codes
//                     (O+ 51, A+ 62, B+ 73, AB+ 84, O- 95, A- 06, B- 17,
//                     AB- 28) or a special message (Mq Md Mx Mb Ma Mf 00).
//                     Other codes (directed, autologous, emergency variants,
//                     Bombay, pooled, Mr, T1-T6) are refused as unknown_code
//                     rather than read as a plain group. r (Rh/Kell/Mia code,
//                     0-9 or A-Z) is kept but not interpreted; e must be 0.
//   =<αooootds        003 product code (the rule of is_product_code()).
//   =>cyyjjj          004 expiry date; the unit expires at 23:59 that day.
//   &>cyyjjjhhmm      005 expiry date and time.
//   =*cyyjjj          006 collection date; read as 00:00 that day.
//   &*cyyjjjhhmm      007 collection date and time.
//   =+aabbb...        023 compound message: aa (01-99) structures follow,
//                     each with its own identifier (001-007 above, no nested
//                     compound); bbb (message type) is kept, not interpreted.
//                     Refused when the count does not match the content or
//                     when an item (DIN, group, product, expiry, collection)
//                     appears twice, even with the same value.
//   Codabar           legacy labels, see decode_codabar().
//
// Dates: cyy is the last three digits of the year (c = hundreds digit), read
// in the window 1900-2899: c = 0 -> 20yy, c = 1 -> 21yy, ..., c = 9 -> 19yy.
// jjj is the day of that year (001-365, or 366 in a leap year); hh 00-23 and
// mm 00-59. A label carries no time zone: times are taken as UTC.
//
// Error codes (Error::code), each with one plain English sentence:
//   unknown_identifier  no data identifier this decoder reads
//   wrong_length        too short or too long for its data identifier
//   bad_character       a character outside the class its position allows
//   unknown_code        a well-formed value that is not in the tables above
//                       (DIN flags, blood group code, reserved position)
//   check_failed        the DIN check value or check character disagrees
//   bad_date            day of year, hour or minute that does not exist
//   bad_compound        compound message count, truncation, nesting or an
//                       item carried twice
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/blood_group.h"
#include "events/result.h"
#include "events/time.h"

namespace hemoledger::isbt128 {

// ISO/IEC 7064 Mod 37-2 over the 13 DIN characters (alphabet
// "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"): 0-36, or -1 when din13 is not 13
// characters of that alphabet. The type-3 flag pair is 60 + this value.
int din_check_value(std::string_view din13);

// The keyboard check character printed after the eye-readable DIN
// (alphabet[din_check_value]), or '\0' when din13 is not valid input.
char din_check_character(std::string_view din13);

// Which piece of a label a scan carried; a compound message lists itself
// first, then each structure inside it in order.
enum class Structure : std::uint8_t {
  din,                   // 001 "=α..."
  keyboard_din,          // typed DIN with check character
  blood_groups,          // 002 "=%"
  product_code,          // 003 "=<"
  expiration_date,       // 004 "=>"
  expiration_date_time,  // 005 "&>"
  collection_date,       // 006 "=*"
  collection_date_time,  // 007 "&*"
  compound_message,      // 023 "=+"
  codabar_unit_number,   // legacy "D1234567D"
  codabar_blood_group,   // legacy "D510B"
};
std::string_view to_string(Structure s);  // "din", "blood_groups", ...

// Meaning of the two DIN flag characters.
enum class FlagKind : std::uint8_t {
  unused,           // 00
  container,        // 01-04 -> containers 1-4, 15-19 -> containers 5-9
  pilot_tube,       // 06
  test_tube,        // 07
  nat_sample_tube,  // 09
  local,            // 20-59, defined by the facility that printed them
  check_value,      // 60-96, 60 + Mod 37-2 check value (verified)
};
std::string_view to_string(FlagKind k);  // "unused", "container", ...

// Special messages that take the place of ABO/RhD in structure 002.
enum class GroupMessage : std::uint8_t {
  quarantine,           // Mq quarantine/hold for further testing or processing
  discard,              // Md discard, to be destroyed
  not_for_transfusion,  // Mx not for transfusion based on test results
  biohazard,            // Mb biohazardous
  autologous,           // Ma autologous collection
  fractionation_only,   // Mf for fractionation use only
  no_abo_rhd,           // 00 no ABO or RhD information
};
std::string_view to_string(GroupMessage m);  // "quarantine", ...
std::string_view code_of(GroupMessage m);    // "Mq", ..., "00"
std::string_view text_of(GroupMessage m);    // a sentence for a person

// What one scan carried. Every field is absent unless the scan carried it.
struct Scan {
  std::vector<Structure> structures;  // what was decoded, in order
  bool legacy = false;                // true for Codabar labels

  std::optional<std::string> din;        // 13 characters, αppppyynnnnnn
  std::optional<std::string> din_flags;  // the 2 flag characters as scanned
  std::optional<FlagKind> din_flag_kind;
  std::optional<int> container;  // 1-9 when din_flag_kind is container
  // True when the scan carried a check (type-3 flags or a typed check
  // character) and it matched. A failed check is refused, never reported here.
  bool din_check_ok = false;

  std::optional<std::string> blood_group_code;  // gg as scanned: "51", "Mq"
  std::optional<AboRh> abo_rh;                  // never AboRh::unknown
  std::optional<GroupMessage> group_message;    // instead of abo_rh
  std::optional<char> rh_kell_code;             // r of "=%ggre", uninterpreted

  std::optional<std::string> product;  // 8 characters, αooootds

  std::optional<TimeMs> expires_at;  // UTC
  bool expiry_time_given = false;    // false: defaulted to 23:59
  std::optional<TimeMs> collected_at;
  bool collection_time_given = false;  // false: defaulted to 00:00

  std::optional<std::string> compound_type;  // bbb of a compound message
  std::optional<std::string> unit_number;    // Codabar unit number (not a DIN)
};

// Decodes one scan as described at the top of this file. On error the Scan
// is discarded: a partly readable label is not returned.
[[nodiscard]] Result<Scan> decode(std::string_view data);

// LEGACY (pre-ISBT 128 ABC Codabar labels). Reads exactly two layouts, with
// the Codabar start/stop characters as the scanner transmits them (A-D, either
// case):
//   D1234567D  unit number: start D, seven digits, stop D
//   D510B      ABO/Rh: start D, one of the eight codes above, 0, stop B
// Every other Codabar label (product, facility, dates, other start/stop
// pairs, t/n/*/e start characters) is refused as unknown_identifier: its
// meaning is local and cannot be decoded with certainty. The result has
// legacy = true. decode() routes here any data of other than 14 characters
// that starts and ends with A-D and holds only Codabar characters between.
[[nodiscard]] Result<Scan> decode_codabar(std::string_view data);

// ---- encoding: the data structures a label prints -------------------------
// The inverse of decode(), with the same tables (identifiers, group codes,
// check value, date window): decode(encode_x(...)) gives back what was
// encoded. Each refuses input it cannot encode with the codes above.

// 001 "=" + din13 + flags. `flags` is two digits; "" means the type-3 check
// flags 60 + din_check_value(din13), which let a scanner verify the DIN.
[[nodiscard]] Result<std::string> encode_din(std::string_view din13, std::string_view flags = "");
// 002 "=%gg00" for one of the eight groups (not AboRh::unknown).
[[nodiscard]] Result<std::string> encode_blood_groups(AboRh group);
// 002 "=%" + the message's code + "00" (e.g. "=%Mq00").
std::string encode_blood_groups(GroupMessage message);
// 003 "=<" + the 8-character product code.
[[nodiscard]] Result<std::string> encode_product(std::string_view product);
// 005 "&>cyyjjjhhmm": the expiry to the minute (seconds are dropped, so the
// label never says later than the record). Years 1900-2899.
[[nodiscard]] Result<std::string> encode_expiry(TimeMs expires_at);

// The Scan as a JSON object: "structures", "legacy", then each present field
// (times as RFC 3339, abo_rh as "O+", flag kind and group message by name).
nlohmann::json to_json(const Scan& scan);

}  // namespace hemoledger::isbt128
