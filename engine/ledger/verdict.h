// Verdict: what became of one message the engine consumed, as POST
// /api/events and the lab gateway learn it (Engine::verdict) and as one
// instance of a scale-out group tells another (GET /api/verdict,
// engine/queries/peers.h). The status keeps its string form on the wire and
// in the docs: "applied", "rejected", "duplicate". Plain values and pure
// functions: safe from any thread.
//
//   if (v.status == VerdictStatus::duplicate) ...;          // already applied
//   json j = {{"status", to_string(v.status)}};              // "duplicate"
//   auto s = parse_verdict_status("applied");                // nullopt if unknown
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace hemoledger {

// The code of a rejection that repeats an event already applied (its id was
// seen before): counted as a duplicate, and its verdict is `duplicate`, not
// `rejected`. The repeat changes nothing.
inline constexpr char kDuplicateEvent[] = "duplicate_event";

enum class VerdictStatus { applied, rejected, duplicate };

constexpr std::string_view to_string(VerdictStatus s) {
  switch (s) {
    case VerdictStatus::applied:
      return "applied";
    case VerdictStatus::rejected:
      return "rejected";
    case VerdictStatus::duplicate:
      return "duplicate";
  }
  return "rejected";  // unreachable: every enumerator is handled above
}

// The status named by `text` (exactly as to_string writes it), or nullopt.
constexpr std::optional<VerdictStatus> parse_verdict_status(std::string_view text) {
  for (auto s : {VerdictStatus::applied, VerdictStatus::rejected, VerdictStatus::duplicate}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

struct Verdict {
  VerdictStatus status = VerdictStatus::rejected;
  std::string code;     // of a rejection; kDuplicateEvent for a duplicate
  std::string message;  // the engine's sentence for a rejection
};

}  // namespace hemoledger
