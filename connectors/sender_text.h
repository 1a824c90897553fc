// Sender text: what a connector keeps of, or quotes from, bytes an outside
// sender chose (a label scan, an HL7 field, an ASTM record, a FHIR element).
// One rule for every connector: printable ASCII (0x20-0x7E) is kept, every
// other byte becomes '?', and at most `max_chars` characters are kept, so
// that no control byte or stray UTF-8 reaches a log, a terminal, an event or
// an answer. Pure functions: no I/O, no state, safe from any thread.
//
//   e.actor = sender_text(msh_3, 128);                             // kept in an event
//   "\"" + sender_text(scan, 40, Clipped::marked) + "\" is not..."  // quoted: "=G12...".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "events/result.h"

namespace hemoledger {

// Whether text cut at max_chars says so: `marked` appends "..." (quoting in a
// message), `silently` does not (a value kept in an event or an id).
enum class Clipped { silently, marked };

// `text` with every byte outside printable ASCII replaced by '?', cut to its
// first `max_chars` bytes (then followed by "..." when `clipped` is marked).
[[nodiscard]] std::string sender_text(std::string_view text, std::size_t max_chars,
                                      Clipped clipped = Clipped::silently);

// Whether validate_shape() refused an event because of free text its sender
// chose (not UTF-8, or too long: events/event.h's kInvalidText and
// kFieldTooLong), which the connector reports as the sender's data error
// rather than as its own mapping bug.
[[nodiscard]] bool refused_for_sender_text(const Error& validate_error);

}  // namespace hemoledger
