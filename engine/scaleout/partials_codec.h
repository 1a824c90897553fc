// The records of the partials topic (docs/scale-out.md, engine/scaleout/partials.h)
// and their JSON encoding. Pure: no Kafka, no storage, no clock; outside
// hl_engine so that the fuzz build has it (anyone who can write to the topic
// can send these bytes, so decode_partials refuses malformed input with
// bad_partials, never an exception).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.h"
#include "events/time.h"
#include "projections/alerts.h"
#include "projections/demand.h"
#include "projections/indexes.h"
#include "projections/lookback.h"
#include "projections/reagents.h"
#include "projections/stock.h"

namespace hemoledger {

struct OwnerRecord {
  std::int32_t partition = 0;
  std::string instance;            // --instance of the owner
  std::string url;                 // its API, e.g. http://10.0.0.5:8080 (may be empty)
  bool restoring = false;          // replaying the partition's history from Kafka
  std::int64_t next_offset = 0;    // how far the owner has committed
  std::int64_t target_offset = 0;  // while restoring: the end it replays to
  TimeMs clock = 0;                // the events' clock of the owner's last batch
  TimeMs published_at = 0;         // the owner's wall clock (for the age only)
};

// A partition's share of the national picture: its stock counts and what the
// alert model needs of it (projections/alerts.h), all exact at next_offset.
struct StockRecord {
  std::int32_t partition = 0;
  std::string instance;
  std::int64_t next_offset = 0;  // the counts are exact for offsets below this
  TimeMs published_at = 0;
  StockTable stock;
  TimeMs clock = 0;                          // the events' clock of the owner
  std::map<DemandKey, std::int64_t> demand;  // days the alert window needs
  std::vector<IndexEntry> index;  // kAlertIndexKinds: 'a' (available units), 'k' (open recalls),
                                  // 'q' (attention), 'b' (bedside, without i| entries)
  std::map<std::string, ReagentLot> lots;         // lots with stock, by reagent_lot_key()
  std::map<ReagentUsageKey, std::int64_t> usage;  // days the alert window needs
};

// The alert leader's (docs/scale-out.md) open alerts and sequence, so that a
// new leader continues where the last one stopped.
struct AlertsRecord {
  std::string instance;
  std::uint64_t seq = 0;
  TimeMs clock = 0;
  std::map<std::string, Alert> open;  // by dedup key
};

[[nodiscard]] std::string partials_key_owner(std::int32_t partition);
[[nodiscard]] std::string partials_key_stock(std::int32_t partition);
[[nodiscard]] std::string partials_key_lookback(const PendingLookback& l);
inline constexpr std::string_view kPartialsKeyAlerts = "alerts|state";
[[nodiscard]] std::string encode_alerts(const AlertsRecord& r, const ReferenceData& ref);
[[nodiscard]] std::string encode_owner(const OwnerRecord& r);
[[nodiscard]] std::string encode_lookback(const PendingLookback& l);
[[nodiscard]] std::string encode_stock(const StockRecord& r);
// A partials message, by its key: exactly one of them is set.
struct PartialsMessage {
  std::optional<OwnerRecord> owner;
  std::optional<StockRecord> stock;
  std::optional<PendingLookback> lookback;
  std::optional<AlertsRecord> alerts;
};
[[nodiscard]] Result<PartialsMessage> decode_partials(std::string_view key, std::string_view value);

}  // namespace hemoledger
