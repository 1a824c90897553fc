#include "connectors/sender_text.h"

#include <catch2/catch.hpp>
#include <string>

#include "events/event.h"

using namespace hemoledger;

TEST_CASE("sender text keeps printable ASCII and shows every other byte as '?'",
          "[connectors][sender_text]") {
  CHECK(sender_text("NBS-LAB ~ 1.2", 40) == "NBS-LAB ~ 1.2");
  CHECK(sender_text(std::string("a\0b", 3), 40) == "a?b");
  CHECK(sender_text("tab\there\r\nESC\x1b DEL\x7f", 40) == "tab?here??ESC? DEL?");
  CHECK(sender_text("caf\xc3\xa9", 40) == "caf??");  // UTF-8 is two bytes, two '?'
  CHECK(sender_text("", 40).empty());
}

TEST_CASE("sender text is cut to its limit, and says so only when quoted",
          "[connectors][sender_text]") {
  CHECK(sender_text("G123426000001", 5) == "G1234");
  CHECK(sender_text("G123426000001", 5, Clipped::marked) == "G1234...");
  CHECK(sender_text("G1234", 5, Clipped::marked) == "G1234");  // not cut: no mark
  CHECK(sender_text("\x01\x02\x03\x04\x05\x06", 3, Clipped::marked) == "???...");
}

TEST_CASE("an event refused for its free text is the sender's fault, any other refusal is not",
          "[connectors][sender_text]") {
  Event e;
  e.id = "hl7-NBS-LAB-1-1";
  e.type = EventType::test_resulted;
  e.at = kEarliestPlausibleTime + kDay;
  e.facility = "NBS-LAB";
  e.din = "G123426000001";
  e.test = "hiv";
  e.result = "negative";
  e.actor = std::string(129, 'a');
  auto too_long = validate_shape(e);
  REQUIRE_FALSE(too_long.ok());
  CHECK(refused_for_sender_text(too_long.error()));
  e.actor = "lab";
  e.result = "neg\xff";
  auto not_utf8 = validate_shape(e);
  REQUIRE_FALSE(not_utf8.ok());
  CHECK(refused_for_sender_text(not_utf8.error()));
  CHECK_FALSE(refused_for_sender_text(make_error("invalid_din", "not a DIN")));
}
