#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "connectors/hl7.h"

using namespace hemoledger;

namespace {

const std::string kMsg1 = "MSH|^~\\&|BBLIS|NBS-LAB|HL|NBS-BB|20261122||ORU^R01|1|P|2.5\rPID|1\r";
const std::string kMsg2 = "MSH|^~\\&|BBLIS|NBS-LAB|HL|NBS-BB|20261122||ORU^R01|2|P|2.5\rPID|2\r";

std::vector<std::string> codes(const hl7::MllpDecoder::Output& out) {
  std::vector<std::string> c;
  for (const auto& e : out.errors) c.push_back(e.code);
  return c;
}

}  // namespace

TEST_CASE("mllp_frame wraps a message in the start and end bytes", "[connectors][mllp]") {
  const std::string f = hl7::mllp_frame("MSH|x\r");
  CHECK(f == std::string("\x0bMSH|x\r\x1c\x0d"));
}

TEST_CASE("MLLP frames are reassembled however the bytes are cut", "[connectors][mllp]") {
  const std::string stream = hl7::mllp_frame(kMsg1) + hl7::mllp_frame(kMsg2);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    INFO("chunk " << chunk);
    hl7::MllpDecoder d;
    std::vector<std::string> got;
    for (std::size_t i = 0; i < stream.size(); i += chunk) {
      auto out = d.feed(std::string_view(stream).substr(i, chunk));
      CHECK(out.errors.empty());
      for (auto& m : out.messages) got.push_back(m);
    }
    REQUIRE(got.size() == 2);
    CHECK(got[0] == kMsg1);
    CHECK(got[1] == kMsg2);
    CHECK_FALSE(d.in_frame());
    CHECK(d.finish().ok());
  }
}

TEST_CASE("bytes outside a frame are discarded and reported once per run", "[connectors][mllp]") {
  hl7::MllpDecoder d;
  auto out = d.feed("garbage\r\n" + hl7::mllp_frame(kMsg1) + "xx" + hl7::mllp_frame(kMsg2));
  REQUIRE(out.messages.size() == 2);
  CHECK(out.messages[0] == kMsg1);
  CHECK(codes(out) == std::vector<std::string>{"bytes_outside_frame", "bytes_outside_frame"});
}

TEST_CASE("a truncated MLLP frame is dropped and the next frame still arrives",
          "[connectors][mllp]") {
  hl7::MllpDecoder d;
  auto out = d.feed(
      "\x0b"
      "MSH|^~\\&|half a mess" +
      hl7::mllp_frame(kMsg2));
  REQUIRE(out.messages.size() == 1);
  CHECK(out.messages[0] == kMsg2);
  CHECK(codes(out) == std::vector<std::string>{"truncated_frame"});

  auto open = d.feed(
      "\x0b"
      "MSH|^~\\&|cut by a closed connection");
  CHECK(open.messages.empty());
  CHECK(d.in_frame());
  auto fin = d.finish();
  REQUIRE_FALSE(fin.ok());
  CHECK(fin.error().code == "truncated_frame");
  CHECK_FALSE(d.in_frame());
}

TEST_CASE("an end byte without its carriage return drops the frame", "[connectors][mllp]") {
  hl7::MllpDecoder d;
  auto out = d.feed("\x0b" + kMsg1 +
                    "\x1c"
                    "X" +
                    hl7::mllp_frame(kMsg2));
  REQUIRE(out.messages.size() == 1);
  CHECK(out.messages[0] == kMsg2);
  REQUIRE_FALSE(out.errors.empty());
  CHECK(out.errors[0].code == "bad_frame_end");
}

TEST_CASE("an oversized MLLP frame is refused and skipped to its end", "[connectors][mllp]") {
  hl7::MllpDecoder d(100);
  const std::string big = hl7::mllp_frame("MSH|" + std::string(500, 'x'));
  auto out = d.feed(big.substr(0, 250));
  CHECK(out.messages.empty());
  CHECK(codes(out) == std::vector<std::string>{"frame_too_large"});
  auto rest = d.feed(big.substr(250) + hl7::mllp_frame("MSH|small"));
  REQUIRE(rest.messages.size() == 1);
  CHECK(rest.messages[0] == "MSH|small");
  CHECK(rest.errors.empty());
  CHECK(d.finish().ok());
}

TEST_CASE("random bytes never make the MLLP decoder return an oversized or framed message",
          "[connectors][mllp]") {
  std::mt19937 rng(2575);
  const char alphabet[] = {'\x0b', '\x1c', '\x0d', 'M', 'S', 'H', '|', 'x'};
  hl7::MllpDecoder d(64);
  std::size_t frames = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string chunk;
    const std::size_t n = rng() % 40;
    for (std::size_t i = 0; i < n; ++i) chunk += alphabet[rng() % sizeof alphabet];
    hl7::MllpDecoder::Output out;
    REQUIRE_NOTHROW(out = d.feed(chunk));
    for (const auto& m : out.messages) {
      ++frames;
      CHECK(m.size() <= 64);
      CHECK(m.find('\x0b') == std::string::npos);
      CHECK(m.find('\x1c') == std::string::npos);
    }
  }
  CHECK(frames > 0);
}
