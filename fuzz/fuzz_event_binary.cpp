// decode_binary / decode_event (the events topic, the journal).
// Invariants: a decoded event passes validate_shape; the encoding is
// canonical (encode_binary(decode_binary(b)) == b); and the event survives
// both codecs: decode_binary(encode_binary(e)) == e, decode_json(encode_json(e)) == e.
#include "events/binary_codec.h"
#include "events/json_codec.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::as_text(data, size);
  fuzz::no_escape("decode_binary", [&] {
    auto r = decode_binary(bytes);
    auto routed = decode_event(bytes);
    if (looks_binary(bytes)) {
      HL_FUZZ_CHECK(routed.ok() == r.ok());
    }
    if (!r) {
      HL_FUZZ_CHECK(!r.error().code.empty() && !r.error().message.empty());
      return;
    }
    const Event& e = *r;
    HL_FUZZ_CHECK(validate_shape(e).ok());
    const std::string encoded = encode_binary(e);
    HL_FUZZ_CHECK(encoded == bytes);
    auto again = decode_binary(encoded);
    HL_FUZZ_CHECK(again.ok());
    HL_FUZZ_CHECK(*again == e);
    auto json = decode_json(encode_json(e));
    if (!json) {
      std::fprintf(stderr, "JSON round trip refused: %s: %s\n", json.error().code.c_str(),
                   json.error().message.c_str());
    }
    HL_FUZZ_CHECK(json.ok());
    HL_FUZZ_CHECK(*json == e);
  });
  return 0;
}
