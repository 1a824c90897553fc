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
#include <string>
#include <vector>

#include "events/event.h"
#include "events/reference_data.h"
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

// The catalogue is ref.reagents().
[[nodiscard]] Result<ReagentApplied> apply_reagent_event(const ReferenceData& ref,
                                                         const ReagentLot* before,
                                                         const Event& e);

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
