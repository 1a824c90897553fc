// Secondary indexes derived from donations: the one definition of what each
// index holds, shared by the store (which keeps them on disk, updated by
// difference in every commit batch), rebuild (which recomputes them) and the
// alert model (which keeps the ones it needs in memory).
//
//   'a'  <facility>|<expires:020>|<din>|<product>  -> <category>|<group>[|thawed]
//        available units, for first-expire-first-out and expiring-soon alerts
//   'x'  <expires:020>|<din>|<product>             -> <holder>
//        units in the bank's hands (quarantined, available, reserved, in
//        transit), for the expiry ticker
//   'k'  <deadline:020>|<din>|<product>            -> <holder>|<category>|<group>|<test>
//        open lookback recalls, for recall alerts
//   'v'  <donor>|<din>                              -> <collected_at:020>
//        donations by donor, for lookback
//   'q'  <what>|<din>[|<holder or product>]         -> JSON
//        what needs someone's attention, for the laboratory-truth alerts:
//        typing|<din> (a typing discrepancy), deferred|<din> (collected from a
//        deferred donor, while a component is in stock or none was made),
//        positive|<din>|<holder> (units released before a marker blocked them,
//        still held), notify|<din>|<product> (a recipient to notify)
//   'b'  <concern>|...|<din>|<product>              -> JSON (Watch below)
//        the bedside concerns that alerts follow (schema version 4):
//          f|<issued_at:020>|<din>|<product>    issued to a hospital, fate not recorded
//          e|<din>|<product>                    an emergency release: the patient's group
//                                               is awaited, or was incompatible and no
//                                               reaction report has followed
//          r|<din>|<product>                    an approved RhD exception, still issued
//          q|<din>|<product>                    held after a sibling's reaction, not final
//          h|<reported:020>|<din>|<product>|<event id>   a reaction report
//          i|<issuer>|<issued_at:020>|<din>|<product>      every unit a bank issued
//                                               to a hospital, whatever became of it
//                                               (for the bank's queries; no alert)
//        kAlertIndexKinds lists the kinds the alerts read.
//
// Pure; parsing returns nullopt for an entry that is not of the expected shape.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/unit_state.h"

namespace hemoledger {

inline constexpr char kAlertIndexKinds[] = {'a', 'k', 'q', 'b'};

struct IndexEntry {
  char kind = 'a';
  std::string key, value;
  auto operator<=>(const IndexEntry&) const = default;
};

// Every index entry of a donation, in no particular order.
std::vector<IndexEntry> index_entries(const Donation& d);

// A number as 20 zero-padded digits, so that keys sort by it.
std::string decimal20(std::int64_t v);
bool parse_decimal20(std::string_view text, std::int64_t& out);

struct AvailableUnit {
  std::string facility;
  TimeMs expires_at = 0;
  std::string din, product;
  Category category = Category::unknown;
  AboRh group = AboRh::unknown;
  bool thawed = false;
  auto operator<=>(const AvailableUnit&) const = default;
};
std::optional<AvailableUnit> parse_available(std::string_view key, std::string_view value);

struct ExpiringUnit {
  TimeMs expires_at = 0;
  std::string din, product, holder;
};
std::optional<ExpiringUnit> parse_expiring(std::string_view key, std::string_view value);

struct OpenRecall {
  TimeMs deadline = 0;
  std::string din, product, holder;
  Category category = Category::unknown;
  AboRh group = AboRh::unknown;
  std::string test;
  auto operator<=>(const OpenRecall&) const = default;
};
std::optional<OpenRecall> parse_recall(std::string_view key, std::string_view value);

// A 'q' entry: its key's first part ("typing", "deferred", "positive",
// "notify"), the DIN, the rest, and the JSON value.
struct Attention {
  std::string what, din, rest;
  nlohmann::json data;
};
std::optional<Attention> parse_attention(std::string_view key, std::string_view value);
// One 'b' entry, read back.
struct Watch {
  char concern = 'f';  // f, e, r, q, h as above
  TimeMs at = 0;       // f: issued at; h: reported at
  std::string din, product;
  std::string holder, issuer;  // issuer: the blood bank that issued the unit
  Category category = Category::unknown;
  AboRh group = AboRh::unknown;
  std::string patient;                   // pseudonymous (e, r, h)
  AboRh patient_group = AboRh::unknown;  // r, and e once recorded
  bool incompatible = false;             // e: the recorded group does not match the unit
  // h: the report; q: the reaction that caused the hold (and its unit, cause_product).
  std::string event_id, cause_product;
  ReactionCategory reaction = ReactionCategory::none;
  ReactionSeverity severity = ReactionSeverity::none;
  Imputability imputability = Imputability::none;
  TimeMs onset_at = 0;
  bool operator==(const Watch&) const = default;
};
std::optional<Watch> parse_watch(std::string_view key, std::string_view value);

// One 'b' i| entry: a unit `issuer` issued, and where it is now.
struct IssuedUnit {
  std::string issuer;
  TimeMs issued_at = 0;
  std::string din, product;
  std::string holder, status, patient;
  Category category = Category::unknown;
  AboRh group = AboRh::unknown;
  bool emergency = false;
};
std::optional<IssuedUnit> parse_issued(std::string_view key, std::string_view value);
// Whether a 'b' entry is an i| entry (the alerts and the partials leave them out).
inline bool is_issued_entry(const IndexEntry& e) {
  return e.kind == 'b' && e.key.size() > 2 && e.key[0] == 'i' && e.key[1] == '|';
}

struct DonorDonation {
  std::string donor, din;
  TimeMs collected_at = 0;
};
std::optional<DonorDonation> parse_donor_entry(std::string_view key, std::string_view value);

}  // namespace hemoledger
