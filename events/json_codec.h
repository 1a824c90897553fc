// The JSON encoding of an Event, for any Kafka client (kcat) and the HTTP API.
// Field by field in docs/events.md. Example:
//
//   {"id":"c0a8-17","type":"UnitIssued","at":"2026-11-22T08:15:00Z",
//    "facility":"NBS-BB","din":"G123426000017","product":"E0336V00"}
//
// Decoding is strict, because a typo in a safety record must not pass
// silently: unknown fields, fields that do not apply to the type, wrong JSON
// types, messages over kMaxJsonBytes and nesting deeper than kMaxJsonDepth are
// rejected with a reason. Never throws.
#pragma once

#include <string>
#include <string_view>

#include "events/event.h"

namespace hemoledger {

inline constexpr std::size_t kMaxJsonBytes = 64 * 1024;
inline constexpr int kMaxJsonDepth = 16;

std::string encode_json(const Event& e);

// Whether no object or array in `text` opens more than `limit` levels deep,
// counted without parsing (brackets inside strings do not count), so that
// deep input is refused before a parser sees it. Shared with the other JSON
// readers of outside data (connectors/fhir.h).
bool json_nesting_within(std::string_view text, int limit);
[[nodiscard]] Result<Event> decode_json(std::string_view text);

}  // namespace hemoledger
