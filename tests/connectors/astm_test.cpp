#include "connectors/astm.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <string>

#include "tests/connectors/connector_fixture.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// An E1381 frame built here, independently of the code under test: the
// checksum is the sum of FN..ETX/ETB modulo 256 in two uppercase hex digits.
std::string frame(int fn, const std::string& text, bool last = true) {
  std::string body = std::to_string(fn) + text + (last ? '\x03' : '\x17');
  unsigned sum = 0;
  for (unsigned char c : body) sum += c;
  char hex[3];
  std::snprintf(hex, sizeof hex, "%02X", sum % 256);
  return "\x02" + body + hex + "\r\n";
}

const std::string kAckByte(1, '\x06');
const std::string kNakByte(1, '\x15');

}  // namespace

TEST_CASE("an ASTM analyzer message is split into records, fields and components",
          "[connectors][astm]") {
  auto m = astm::parse(sample("astm_ih500_typing.astm"));
  INFO((m ? std::string() : m.error().message));
  REQUIRE(m.ok());
  REQUIRE(m->records.size() == 10);
  CHECK(m->terminated);
  const auto& h = m->records[0];
  CHECK(h.type() == 'H');
  CHECK(h.value(2) == "\\^&");
  CHECK(h.value(5, 1) == "IH-500");
  CHECK(h.value(5, 2) == "BIO-RAD");
  CHECK(h.value(14) == "20261122094500");
  const auto& o = m->records[2];
  CHECK(o.type() == 'O');
  CHECK(o.value(3) == "G123426000001");
  CHECK(o.value(5, 4, 1) == "ABO");  // repeats split by backslash
  CHECK(o.value(5, 4, 2) == "Rh");
  const auto& r = m->records[3];
  CHECK(r.value(3, 4) == "ABO");
  CHECK(r.value(4) == "A");
  CHECK(r.value(9) == "F");
  CHECK(r.value(13) == "20261122094000");
}

TEST_CASE("ASTM records read from a file's text may end with CR, LF or CRLF",
          "[connectors][astm]") {
  for (const std::string eol : {"\r", "\n", "\r\n"}) {
    auto m = astm::parse("H|\\^&" + eol + "O|1|G123426000001" + eol + "R|1|^^^ABO|A|||||F" + eol +
                         eol + "L|1|N" + eol);
    REQUIRE(m.ok());
    CHECK(m->records.size() == 4);
    CHECK(m->records[2].value(3, 4) == "ABO");
    CHECK(m->records[3].type() == 'L');
  }
}

TEST_CASE("ASTM delimiters come from the header and escapes are decoded", "[connectors][astm]") {
  auto m = astm::parse("H!@#$\rC!1!I!a $F$ b $S$ c $R$ d $E$ e!G\rL!1");
  REQUIRE(m.ok());
  CHECK(m->delimiters.field == '!');
  CHECK(m->delimiters.repeat == '@');
  CHECK(m->delimiters.component == '#');
  CHECK(m->delimiters.escape == '$');
  CHECK(m->records[1].value(4) == "a ! b # c @ d $ e");
}

TEST_CASE("malformed ASTM text is refused with a reason", "[connectors][astm]") {
  const auto refused = [](const std::string& text, const std::string& code) {
    auto m = astm::parse(text);
    INFO(code);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == code);
  };
  refused("", "no_header");
  refused("P|1\rL|1", "no_header");
  refused("H|\\^\r", "bad_delimiters");
  refused("H||^&\r", "bad_delimiters");
  refused("H|A^&\r", "bad_delimiters");
  refused("H|\\^&\rZ|1\r", "bad_record");
  refused("H|\\^&\rR1|x\r", "bad_record");
  refused("H|\\^&\rH|\\^&\r", "bad_record");
  refused(std::string("H|\\^&\rR|1|^^^ABO|A\x02|\r"), "bad_record");
  astm::ParseOptions small;
  small.max_bytes = 10;
  CHECK(astm::parse("H|\\^&|||X|||||||P|1\r", small).error().code == "message_too_large");
}

TEST_CASE("ASTM results become TestResulted events through the lab mapping", "[connectors][astm]") {
  auto m = astm::parse(sample("astm_ih500_typing.astm"));
  REQUIRE(m.ok());
  const auto r = astm::map_results(*m, shipped_mapping(), utc(2026, 11, 22, 8));
  INFO(r.summary());
  REQUIRE(r.ok());
  REQUIRE(r.events.size() == 4);
  const struct {
    const char* din;
    const char* test;
    const char* result;
  } expected[] = {{"G123426000001", "abo", "A"},
                  {"G123426000001", "rhd", "pos"},
                  {"G123426000002", "abo", "O"},
                  {"G123426000002", "rhd", "neg"}};
  for (std::size_t i = 0; i < 4; ++i) {
    INFO(i);
    const Event& e = r.events[i];
    CHECK(e.type == EventType::test_resulted);
    CHECK(e.din == expected[i].din);
    CHECK(e.test == expected[i].test);
    CHECK(e.result == expected[i].result);
    CHECK(e.facility == "NBS-LAB");
    CHECK(e.actor == "IH-500");
    CHECK(e.station == "IH500-01");
    CHECK(validate_shape(e).ok());
  }
  CHECK(r.events[0].at == utc(2026, 11, 22, 7, 40));  // 09:40 at the mapping's +02:00
  CHECK(r.events[0].id == "astm-NBS-LAB-G123426000001-abo-20261122074000");
  // The same transmission again: the same ids.
  const auto again = astm::map_results(*m, shipped_mapping(), utc(2026, 11, 22, 9));
  CHECK(again.events == r.events);
}

TEST_CASE("ASTM corrections get a new id and preliminary results are not recorded",
          "[connectors][astm]") {
  const std::string head = "H|\\^&|||IH-500|||||||P|LIS2-A2|20261122094500\rO|1|G123426000001\r";
  auto corrected = astm::parse(head + "R|1|^^^ABO|B|||||C||||20261122094000\rL|1|N\r");
  REQUIRE(corrected.ok());
  const auto c = astm::map_results(*corrected, shipped_mapping(), 1);
  REQUIRE(c.ok());
  CHECK(c.events[0].id == "astm-NBS-LAB-G123426000001-abo-20261122074000-c");
  auto prelim = astm::parse(head + "R|1|^^^ABO|B|||||P||||20261122094000\rL|1|N\r");
  REQUIRE(prelim.ok());
  const auto p = astm::map_results(*prelim, shipped_mapping(), 1);
  REQUIRE(p.ok());
  CHECK(p.events.empty());
  CHECK(p.notes == std::vector<std::string>{"R 1 (ABO) has status P and was not recorded."});
}

TEST_CASE("ASTM results that cannot be mapped are refused with the record and field",
          "[connectors][astm]") {
  const std::string head = "H|\\^&|||IH-500|||||||P|LIS2-A2|20261122094500\r";
  const auto mapped = [&](const std::string& body) {
    auto m = astm::parse(head + body + "L|1|N\r");
    REQUIRE(m.ok());
    return astm::map_results(*m, shipped_mapping(), 1);
  };
  const auto unknown = mapped("O|1|G123426000001\rR|1|^^^KELL|POS|||||F\r");
  CHECK(unknown.code == hl7::AckCode::error);
  CHECK(unknown.error_code == "unknown_test");
  CHECK(unknown.error->segment == "R");
  CHECK(unknown.error->field == 3);
  CHECK(unknown.error->message.find("KELL") != std::string::npos);
  const auto bad_check = mapped("O|1|G12341765432171\rR|1|^^^ABO|A|||||F\r");
  CHECK(bad_check.error_code == "check_failed");
  CHECK(bad_check.error->segment == "O");
  CHECK(bad_check.events.empty());
  const auto no_order = mapped("R|1|^^^ABO|A|||||F\r");
  CHECK(no_order.error_code == "missing_field");
  const auto bad_value = mapped("O|1|G123426000001\rR|1|^^^Rh|weak|||||F\r");
  CHECK(bad_value.error_code == "unknown_result");
  CHECK(bad_value.error->field == 4);
}

TEST_CASE("the link layer acknowledges an analyzer transfer frame by frame", "[connectors][astm]") {
  const std::string records[] = {"H|\\^&|||IH-500|||||||P|LIS2-A2|20261122094500\r",
                                 "O|1|G123426000001\r", "R|1|^^^ABO|A|||||F||||20261122094000\r",
                                 "L|1|N\r"};
  astm::Lis1aReceiver link;
  CHECK(link.idle());
  auto out = link.feed("\x05");
  CHECK(out.reply == kAckByte);
  std::string message;
  for (int i = 0; i < 4; ++i) {
    auto f = link.feed(frame(i + 1, records[i]));
    CHECK(f.reply == kAckByte);
    CHECK(f.errors.empty());
    message += records[i];
  }
  auto end = link.feed("\x04");
  CHECK(end.reply.empty());
  REQUIRE(end.messages.size() == 1);
  CHECK(end.messages[0] == message);
  CHECK(link.idle());
  auto parsed = astm::parse(end.messages[0]);
  REQUIRE(parsed.ok());
  CHECK(astm::map_results(*parsed, shipped_mapping(), 1).events.size() == 1);
}

TEST_CASE("the link layer's own frames agree with frames built by hand", "[connectors][astm]") {
  const std::string msg = "H|\\^&\rL|1|N\r";
  const auto frames = astm::frames_for(msg);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0] == frame(1, "H|\\^&\r"));
  CHECK(frames[1] == frame(2, "L|1|N\r"));
  CHECK(astm::checksum("1H|\\^&\r\x03") == frame(1, "H|\\^&\r").substr(9, 2));
  CHECK(astm::checksum(std::string(300, '\xff')).size() == 2);
}

TEST_CASE("a long record travels in ETB frames and frame numbers wrap from 7 to 0",
          "[connectors][astm]") {
  const std::string comment = "C|1|I|" + std::string(1000, 'x') + "|G\r";
  const std::string msg = "H|\\^&\r" + comment + "L|1|N\r";
  const auto frames = astm::frames_for(msg);
  REQUIRE(frames.size() == 1 + 5 + 1);  // 1007 characters: four full frames and one more
  CHECK(frames[1][2 + 240] == '\x17');  // ETB after 240 characters of text
  CHECK(frames[5][1] == '6');
  CHECK(frames[6][1] == '7');
  astm::Lis1aReceiver link;
  std::string replies = link.feed("\x05").reply;
  for (const auto& f : frames) replies += link.feed(f).reply;
  CHECK(replies == std::string(8, '\x06'));
  // Frame 8 of a transfer is numbered 0.
  replies = link.feed(frame(0, "P|1\r")).reply;
  CHECK(replies == kAckByte);
  auto end = link.feed("\x04");
  REQUIRE(end.messages.size() == 1);
  CHECK(end.messages[0] == msg + "P|1\r");
}

TEST_CASE("a frame with a bad checksum is refused and its retransmission accepted",
          "[connectors][astm]") {
  astm::Lis1aReceiver link;
  (void)link.feed("\x05");
  std::string bad = frame(1, "H|\\^&\r");
  bad[bad.size() - 3] = bad[bad.size() - 3] == '0' ? '1' : '0';  // corrupt the checksum
  auto out = link.feed(bad);
  CHECK(out.reply == kNakByte);
  REQUIRE(out.errors.size() == 1);
  CHECK(out.errors[0].code == "bad_checksum");
  std::string corrupted_text = frame(1, "H|\\^&\r");
  corrupted_text[3] = '#';  // a byte changed in transit
  CHECK(link.feed(corrupted_text).reply == kNakByte);
  CHECK(link.feed(frame(1, "H|\\^&\r")).reply == kAckByte);
  CHECK(link.feed(frame(2, "L|1|N\r")).reply == kAckByte);
  auto end = link.feed("\x04");
  REQUIRE(end.messages.size() == 1);
  CHECK(end.messages[0] == "H|\\^&\rL|1|N\r");
}

TEST_CASE("a frame with the wrong number is refused and a repeat of the last one is not kept twice",
          "[connectors][astm]") {
  astm::Lis1aReceiver link;
  (void)link.feed("\x05");
  auto wrong = link.feed(frame(2, "H|\\^&\r"));
  CHECK(wrong.reply == kNakByte);
  REQUIRE(wrong.errors.size() == 1);
  CHECK(wrong.errors[0].code == "wrong_frame_number");
  CHECK(link.feed(frame(1, "H|\\^&\r")).reply == kAckByte);
  CHECK(link.feed(frame(1, "H|\\^&\r")).reply == kAckByte);  // our ACK was lost
  CHECK(link.feed(frame(3, "L|1|N\r")).reply == kNakByte);   // skipped a number
  CHECK(link.feed(frame(2, "L|1|N\r")).reply == kAckByte);
  auto end = link.feed("\x04");
  REQUIRE(end.messages.size() == 1);
  CHECK(end.messages[0] == "H|\\^&\rL|1|N\r");
}

TEST_CASE("the link layer survives bytes cut anywhere, noise and aborted transfers",
          "[connectors][astm]") {
  astm::Lis1aReceiver link;
  auto noise = link.feed("junk");
  REQUIRE(noise.errors.size() == 1);
  CHECK(noise.errors[0].code == "bytes_outside_transfer");
  CHECK(noise.reply.empty());

  const std::string stream =
      std::string("\x05") + frame(1, "H|\\^&\r") + frame(2, "L|1|N\r") + "\x04";
  std::string replies;
  std::vector<std::string> messages;
  for (char c : stream) {
    auto out = link.feed(std::string(1, c));
    replies += out.reply;
    for (auto& m : out.messages) messages.push_back(m);
  }
  CHECK(replies == std::string(3, '\x06'));
  REQUIRE(messages.size() == 1);

  (void)link.feed("\x05");
  (void)link.feed(frame(1, "H|\\^&\r"));
  auto aborted = link.feed(
      "\x02"
      "2L|1");                  // frame cut off...
  aborted = link.feed("\x04");  // ...by EOT
  CHECK(aborted.messages.empty());
  REQUIRE(aborted.errors.size() == 1);
  CHECK(aborted.errors[0].code == "transfer_aborted");
  CHECK(link.idle());

  (void)link.feed("\x05");
  (void)link.feed(frame(1, "C|1|I|part one", false));
  auto incomplete = link.feed("\x04");
  CHECK(incomplete.messages.empty());
  REQUIRE(incomplete.errors.size() == 1);
  CHECK(incomplete.errors[0].code == "incomplete_record");

  (void)link.feed("\x05");
  auto layout = link.feed(
      "\x02"
      "1no terminator\r\n");
  CHECK(layout.reply == kNakByte);
  CHECK(layout.errors[0].code == "bad_frame");
}

TEST_CASE("random bytes never throw in the ASTM link layer, parser or mapping",
          "[connectors][astm]") {
  std::mt19937 rng(1381);
  const std::string alphabet =
      std::string("\x05\x02\x03\x17\x04\r\n|\\^&HPORL0123456789ABCDEF", 32);
  const std::string good = sample("astm_ih500_typing.astm");
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const std::size_t n = rng() % 200;
    for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    astm::Lis1aReceiver link;
    REQUIRE_NOTHROW((void)link.feed(s));
    std::string mangled = good;
    for (int k = 0; k < 4; ++k) mangled[rng() % mangled.size()] = alphabet[rng() % alphabet.size()];
    REQUIRE_NOTHROW([&] {
      auto m = astm::parse(mangled);
      if (m) {
        auto r = astm::map_results(*m, shipped_mapping(), 1);
        if (!r.ok()) CHECK(r.events.empty());
      }
    }());
  }
}

TEST_CASE(
    "the stored copy of ASTM records has no patient name, address or phone, and keeps the ids "
    "and the results",
    "[connectors][astm][privacy]") {
  const std::string text =
      "H|\\^&|||IH-500^BIO-RAD^4.2|||||||P|LIS2-A2|20261122094500\r\n"
      "P|1|PRAC-1|DNR-90|ID3|Saleh^Ahmad|Maiden|19800101|M||12 Nile St||+20 2 555-0101\r\n"
      "O|1|G123426100020||^^^ABO\\^^^Rh|R\r\n"
      "R|1|^^^ABO|A|||||F\r\n"
      "L|1|N\r\n";
  const std::string kept = astm::redact_identity(text);
  CHECK(kept.find("Saleh") == std::string::npos);
  CHECK(kept.find("Maiden") == std::string::npos);
  CHECK(kept.find("Nile") == std::string::npos);
  CHECK(kept.find("555-0101") == std::string::npos);
  CHECK(kept.find("P|1|PRAC-1|DNR-90|ID3|***|***|19800101|M||***||***\r\n") != std::string::npos);
  CHECK(kept.substr(kept.find("O|1")) == text.substr(text.find("O|1")));
  auto m = astm::parse(kept);
  REQUIRE(m.ok());
  // Records without names are left as they are.
  const std::string plain = "H|\\^&\rP|1||DNR-90\rL|1\r";
  CHECK(astm::redact_identity(plain) == plain);
}
