// decode_json (Kafka messages from any client, POST /api/events bodies).
// Invariants: a decoded event passes validate_shape, came from at most
// kMaxJsonBytes, and survives both codecs unchanged:
// decode_json(encode_json(e)) == e and decode_binary(encode_binary(e)) == e.
// decode_event routes text that is not a binary frame to decode_json.
#include <nlohmann/json.hpp>

#include "events/binary_codec.h"
#include "events/json_codec.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::no_escape("decode_json", [&] {
    auto r = decode_json(text);
    if (!looks_binary(text)) {
      auto routed = decode_event(text);
      HL_FUZZ_CHECK(routed.ok() == r.ok());
      if (!r) HL_FUZZ_CHECK(routed.error() == r.error());
    }
    if (!r) {
      HL_FUZZ_CHECK(!r.error().code.empty() && !r.error().message.empty());
      return;
    }
    const Event& e = *r;
    HL_FUZZ_CHECK(text.size() <= kMaxJsonBytes);
    HL_FUZZ_CHECK(validate_shape(e).ok());
    auto again = decode_json(encode_json(e));
    HL_FUZZ_CHECK(again.ok());
    HL_FUZZ_CHECK(*again == e);
    auto bin = decode_binary(encode_binary(e));
    HL_FUZZ_CHECK(bin.ok());
    HL_FUZZ_CHECK(*bin == e);
  });
  // The HTTP API parses the body once itself (to add a missing id) before
  // decode_json: that parse must not throw or blow the stack either.
  fuzz::no_escape("json::parse", [&] {
    if (text.size() > kMaxJsonBytes) return;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_object() && !j.contains("id")) {
      j["id"] = "fuzz-id";
      (void)decode_json(j.dump());
    }
  });
  return 0;
}
