// astm::Lis1aReceiver (the LIS1-A / E1381 link layer on a serial line or a
// socket, cut anywhere).
// Invariants: the receiver only ever answers ACK or NAK; a completed message
// is within max_message_bytes; the same bytes fed whole or in random chunk
// splits give the same replies, messages and errors; and any record text sent
// as frames_for() frames inside ENQ ... EOT arrives intact, once.
#include "connectors/astm.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

namespace {

constexpr std::size_t kMax = 2048;

struct Run {
  std::string reply;
  std::vector<std::string> messages;
  std::vector<std::string> errors;
};

Run feed_in_chunks(std::string_view bytes, std::uint64_t seed) {
  astm::Lis1aReceiver link(kMax);
  fuzz::SplitMix rng{seed};
  Run run;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t n = seed == 0 ? bytes.size() : 1 + static_cast<std::size_t>(rng.next() % 23);
    auto out = link.feed(bytes.substr(pos, n));
    pos += std::min(n, bytes.size() - pos);
    run.reply += out.reply;
    for (auto& m : out.messages) run.messages.push_back(std::move(m));
    for (auto& e : out.errors) run.errors.push_back(e.code);
  }
  return run;
}

// The input as record text a sender could frame: no control characters but
// CR, which separates records.
std::string as_records(std::string_view bytes) {
  std::string text;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == astm::kCr || u >= 0x20) text += c;
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::as_text(data, size);
  fuzz::no_escape("Lis1aReceiver", [&] {
    const Run whole = feed_in_chunks(bytes, 0);
    for (char c : whole.reply) HL_FUZZ_CHECK(c == astm::kAck || c == astm::kNak);
    for (const std::string& m : whole.messages) HL_FUZZ_CHECK(!m.empty() && m.size() <= kMax);
    for (std::uint64_t i = 1; i <= 3; ++i) {
      const Run split = feed_in_chunks(bytes, fuzz::seed_of(bytes) + i);
      HL_FUZZ_CHECK(split.reply == whole.reply);
      HL_FUZZ_CHECK(split.messages == whole.messages);
      HL_FUZZ_CHECK(split.errors == whole.errors);
    }

    // A well-behaved sender: what it sends is what arrives.
    const std::string records = as_records(bytes);
    std::string expected;
    std::size_t pos = 0;
    while (pos < records.size()) {
      std::size_t end = records.find(astm::kCr, pos);
      end = end == std::string::npos ? records.size() : end + 1;
      std::string record = records.substr(pos, end - pos);
      pos = end;
      if (record.empty() || record == "\r") continue;
      if (record.back() != astm::kCr) record += astm::kCr;
      expected += record;
    }
    std::string stream(1, astm::kEnq);
    for (const std::string& f : astm::frames_for(records)) stream += f;
    stream += astm::kEot;
    astm::Lis1aReceiver link(kMax);
    auto out = link.feed(stream);
    for (char c : out.reply) HL_FUZZ_CHECK(c == astm::kAck);
    if (expected.empty()) {
      HL_FUZZ_CHECK(out.messages.empty() && out.errors.empty());
    } else if (expected.size() <= kMax) {
      HL_FUZZ_CHECK(out.errors.empty());
      HL_FUZZ_CHECK(out.messages.size() == 1 && out.messages[0] == expected);
    } else {
      HL_FUZZ_CHECK(out.messages.empty());
      HL_FUZZ_CHECK(!out.errors.empty() && out.errors.back().code == "message_too_large");
    }
    HL_FUZZ_CHECK(link.idle());
  });
  return 0;
}
