// The audit trail of a donation or one unit: who did what to it, read from
// the journal (accepted events) and the rejections (refused ones) of a store,
// in the order the engine processed them. `hemoledger audit DIN [PRODUCT]`
// prints it (docs/security.md).
//
//   auto a = audit_json(store, "G123426000001", "E0382V00");
//   // {"din": ..., "product": ..., "entries": [{"position", "at", "type",
//   //   "facility", "actor", "station", "event_id", "outcome": "applied" |
//   //   "rejected", "code", "message"}]}
//
// With a product, the donation's own events (no product: DonationCollected,
// TestResulted, ...) are listed too, since they decide the unit's fate. The
// actor and station of a rejected message come from the message as sent;
// refusals of the HTTP API (401, 403) are not produced and so are not here
// (they are in the engine's log). Safe on a secondary (read-only) store.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/storage/store.h"
#include "events/result.h"

namespace hemoledger {

[[nodiscard]] Result<nlohmann::json> audit_json(const Store& store, const std::string& din,
                                                const std::string& product);

}  // namespace hemoledger
