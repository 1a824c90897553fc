// Secondary indexes derived from donations: the one definition of what each
// index holds, shared by the store (which keeps them on disk, updated by
// difference in every commit batch), rebuild (which recomputes them) and the
// alert model (which keeps the ones it needs in memory).
//
//   'a'  <facility>|<expires:020>|<din>|<product>  -> <category>|<group>
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

struct DonorDonation {
  std::string donor, din;
  TimeMs collected_at = 0;
};
std::optional<DonorDonation> parse_donor_entry(std::string_view key, std::string_view value);

}  // namespace hemoledger
