// MllpDecoder (HL7 over TCP, cut anywhere by the network).
// Invariants: the same bytes fed whole or in random chunk splits yield the
// same messages and the same errors; a message never carries a framing byte
// and never exceeds max_frame_bytes; finish() errs only when a frame is
// open; and each message framed again by mllp_frame decodes to itself.
#include "connectors/hl7.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

namespace {

constexpr std::size_t kMax = 256;

struct Run {
  std::vector<std::string> messages;
  std::vector<std::string> errors;
  bool open = false;
};

Run feed_in_chunks(std::string_view bytes, std::uint64_t seed) {
  hl7::MllpDecoder d(kMax);
  fuzz::SplitMix rng{seed};
  Run run;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t n = seed == 0 ? bytes.size() : 1 + static_cast<std::size_t>(rng.next() % 17);
    auto out = d.feed(bytes.substr(pos, n));
    pos += std::min(n, bytes.size() - pos);
    for (auto& m : out.messages) run.messages.push_back(std::move(m));
    for (auto& e : out.errors) run.errors.push_back(e.code);
  }
  run.open = d.in_frame();
  // An oversized frame being skipped is open but already reported: finish()
  // errs only for a frame whose message would be lost silently.
  const Status end = d.finish();
  HL_FUZZ_CHECK(end.ok() || run.open);
  HL_FUZZ_CHECK(!d.in_frame());
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::as_text(data, size);
  fuzz::no_escape("MllpDecoder", [&] {
    const Run whole = feed_in_chunks(bytes, 0);
    for (const std::string& m : whole.messages) {
      HL_FUZZ_CHECK(m.size() <= kMax);
      HL_FUZZ_CHECK(m.find(hl7::kMllpStart) == std::string::npos);
      HL_FUZZ_CHECK(m.find(hl7::kMllpEnd) == std::string::npos);
      hl7::MllpDecoder again(kMax);
      auto out = again.feed(hl7::mllp_frame(m));
      HL_FUZZ_CHECK(out.errors.empty() && out.messages.size() == 1 && out.messages[0] == m);
    }
    for (std::uint64_t i = 1; i <= 3; ++i) {
      const Run split = feed_in_chunks(bytes, fuzz::seed_of(bytes) + i);
      HL_FUZZ_CHECK(split.messages == whole.messages);
      HL_FUZZ_CHECK(split.errors == whole.errors);
      HL_FUZZ_CHECK(split.open == whole.open);
    }
  });
  return 0;
}
