// Laboratory reagents and test kits: one aggregate per lot (a reagent code
// and the manufacturer's lot number), with what each laboratory holds of it.
// Pure, like the donation projector: state + event -> new state, or a
// rejection with a machine-readable code and a sentence.
//
//   ReagentReceived    a lab receives `quantity` of a lot that expires at `expires_at`
//   ReagentConsumed    a run uses `quantity` (optionally naming the donation and test)
//   ReagentTransferred `quantity` moves from the reporting lab to `to`
//   ReagentDiscarded   `quantity` is thrown away (`reason`)
//   ReagentExpired     the lot has passed its expiry: nothing of it may be used;
//                      produced by the engine's expiry ticker
//
// Rules (codes): the reagent must be in the catalogue (unknown_reagent); a
// lot keeps one expiry (lot_expiry_mismatch); an expired lot cannot be
// received, used, moved or expired again (reagent_expired); nobody uses,
// moves or discards more than they hold (insufficient_reagent); a lot must be
// received before anything else (unknown_lot); a transfer goes to another
// known facility (unknown_destination, same_facility); expiry is recorded
// only at or after it (not_yet_expired).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ranges>
#include <string>
#include <utility>
#include <vector>

#include "events/event.h"
#include "events/reference_data.h"
#include "projections/demand.h"
#include "projections/indexes.h"

namespace hemoledger {

struct ReagentHistory {
  std::string event_id;
  EventType type = EventType::reagent_received;
  TimeMs at = 0;
  std::string facility;
  std::int64_t quantity = 0;
  std::string detail;  // "to GZA-LAB", "for G123426000017 abo", a reason
  bool operator==(const ReagentHistory&) const = default;
};

struct ReagentLot {
  std::string reagent, lot;
  TimeMs expires_at = 0;
  bool expired = false;
  std::map<std::string, std::int64_t> on_hand;  // by facility; only positive counts
  std::vector<ReagentHistory> history;

  std::int64_t total() const;
  bool operator==(const ReagentLot&) const = default;
};

// Quantity used per UTC day, facility and reagent: the consumption rate.
struct ReagentUsageKey {
  std::int64_t day = 0;
  std::string facility, reagent;
  auto operator<=>(const ReagentUsageKey&) const = default;
};
struct ReagentUsage {
  ReagentUsageKey key;
  std::int64_t change = 0;
};
// "day:08|facility|reagent" (a window is a key range).
std::string encode_usage_key(const ReagentUsageKey& k);
[[nodiscard]] Result<ReagentUsageKey> decode_usage_key(std::string_view text);

struct ReagentApplied {
  ReagentLot after;
  std::vector<ReagentUsage> usage;
};

// Days of cover of one reagent at one laboratory: how long what it holds in
// date lasts at its recent rate of use. The one rule behind GET /api/reagents
// and the reagent_cover alert, so that the page and the alert tell a lab
// manager the same number from the same lots, usage and `now`.
struct ReagentCover {
  std::int64_t usable = 0;     // held of lots whose expiry is after `now`
  std::int64_t used = 0;       // used on the days of window_before(now, window_days)
  std::optional<double> days;  // days_of_supply(usable, used, window_days): absent without use

  double daily_use(int window_days) const { return static_cast<double>(used) / window_days; }
  // Under the catalogue's min_cover_days; never without use.
  bool below(int min_cover_days) const { return days && *days < min_cover_days; }
};
using ReagentCoverKey = std::pair<std::string, std::string>;  // facility, reagent

// Cover per (facility, reagent) that holds any of a lot, in date or not, or
// used some on the window's days. `lots` is any range of ReagentLot; usage on
// days outside the window (today's included) is ignored, so a caller may pass
// more days than the window.
template <std::ranges::input_range Lots>
std::map<ReagentCoverKey, ReagentCover> reagent_cover(
    const Lots& lots, const std::map<ReagentUsageKey, std::int64_t>& usage, TimeMs now,
    int window_days) {
  std::map<ReagentCoverKey, ReagentCover> out;
  for (const ReagentLot& lot : lots) {
    for (const auto& [facility, q] : lot.on_hand) {
      ReagentCover& c = out[{facility, lot.reagent}];
      if (lot.expires_at > now) c.usable += q;
    }
  }
  const DayWindow window = window_before(now, window_days);
  for (const auto& [k, n] : usage) {
    if (window.contains(k.day)) out[{k.facility, k.reagent}].used += n;
  }
  for (auto& [key, c] : out) c.days = days_of_supply(c.usable, c.used, window_days);
  return out;
}

// The catalogue is ref.reagents().
[[nodiscard]] Result<ReagentApplied> apply_reagent_event(const ReferenceData& ref,
                                                         const ReagentLot* before, const Event& e);

// The aggregate key of a lot, "<reagent>|<lot>".
std::string reagent_lot_key(std::string_view reagent, std::string_view lot);

// The lot's entry in the reagent expiry index: 'y' "<expires:020>|<reagent>|<lot>"
// -> a facility that holds it, while it is not expired and has stock.
std::vector<IndexEntry> reagent_index_entries(const ReagentLot& lot);

// Serialization (cereal portable binary, leading format byte).
std::string encode_reagent_lot(const ReagentLot& lot);
[[nodiscard]] Result<ReagentLot> decode_reagent_lot(std::string_view bytes);

// The ReagentExpired event for a lot, whoever emits it: id
// "reagent-expiry-<reagent>-<lot>", at = the expiry, so that it is applied
// once however often it is produced.
Event reagent_expiry_event(const ReagentLot& lot, const std::string& facility);

}  // namespace hemoledger
