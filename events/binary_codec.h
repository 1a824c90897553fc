// The engine's own encoding of an Event: cereal's portable binary archive
// (little-endian, fixed-width integers), behind a 3-byte frame header.
//
//   frame   := 'H' 'L' format(uint8 = 1) cereal-portable-binary(body)
//   body    := schema_version(u16) then the fields of that version, in order
//   string  := length(u32) bytes      (each string at most kMaxStringBytes)
//   instant := i64 milliseconds since the Unix epoch, UTC
//
// The field order per schema version is written once, in binary_codec.cpp, and
// described in docs/events.md. A reader accepts every schema version up to its
// own; fields added by later versions are read only when the version has them.
// Decoding never throws and never trusts a length it has not checked.
#pragma once

#include <string>
#include <string_view>

#include "events/event.h"

namespace hemoledger {

inline constexpr char kBinaryMagic0 = 'H';
inline constexpr char kBinaryMagic1 = 'L';
inline constexpr std::uint8_t kBinaryFormat = 1;
inline constexpr std::uint32_t kMaxStringBytes = 4096;

std::string encode_binary(const Event& e);

// Decodes and validates the shape; errors have code "undecodable" or a
// validate_shape() code.
[[nodiscard]] Result<Event> decode_binary(std::string_view bytes);
// The same into `e` (every field is set), reusing its strings' storage: for
// a reader of many events, such as a replay of the journal. On an error `e`
// holds a partial event.
[[nodiscard]] Status decode_binary_into(std::string_view bytes, Event& e);

bool looks_binary(std::string_view bytes);  // starts with the frame header

// Any message from the events topic: binary if it starts with the frame
// header, JSON otherwise.
[[nodiscard]] Result<Event> decode_event(std::string_view bytes);

}  // namespace hemoledger
