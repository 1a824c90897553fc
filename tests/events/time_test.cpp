#include "events/time.h"

#include <catch2/catch.hpp>
#include <string>

using namespace hemoledger;

namespace {

TimeMs utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
  return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * kMinute + s * 1000 + ms;
}

TimeMs parsed(const std::string& text) {
  auto r = parse_rfc3339(text);
  INFO(text);
  REQUIRE(r.ok());
  return *r;
}

void expect_invalid(const std::string& text) {
  auto r = parse_rfc3339(text);
  INFO("\"" << text << "\" should be rejected");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "invalid_time");
  CHECK_FALSE(r.error().message.empty());
}

}  // namespace

TEST_CASE("the civil calendar counts days from 1970-01-01", "[events][time]") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(1970, 1, 2) == 1);
  CHECK(days_from_civil(1969, 12, 31) == -1);
  CHECK(days_from_civil(2000, 1, 1) == 10957);
  CHECK(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28) == 2);  // 2000 is a leap year
  CHECK(days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28) == 1);  // 2100 is not
}

TEST_CASE("a day count turns back into the civil date it counts", "[events][time]") {
  const CivilDate epoch = civil_from_days(0);
  CHECK((epoch.y == 1970 && epoch.m == 1 && epoch.d == 1));
  const CivilDate before = civil_from_days(-1);
  CHECK((before.y == 1969 && before.m == 12 && before.d == 31));
  const CivilDate leap = civil_from_days(days_from_civil(2024, 2, 29));
  CHECK((leap.y == 2024 && leap.m == 2 && leap.d == 29));
  for (std::int64_t day = days_from_civil(1899, 12, 1); day < days_from_civil(2201, 1, 1);
       day += 97) {
    const CivilDate c = civil_from_days(day);
    INFO(day);
    CHECK(days_from_civil(c.y, c.m, c.d) == day);
  }
}

TEST_CASE("a UTC date-time with Z parses to milliseconds since the epoch", "[events][time]") {
  CHECK(parsed("1970-01-01T00:00:00Z") == 0);
  CHECK(parsed("2026-11-22T08:15:00Z") == utc(2026, 11, 22, 8, 15));
  CHECK(parsed("2026-11-22T08:15:00Z") == 1'795'335'300'000);
  CHECK(parsed("1969-12-31T23:59:59Z") == -1000);
}

TEST_CASE("lower-case t and z and a space separator are accepted", "[events][time]") {
  const TimeMs t = utc(2026, 11, 22, 8, 15);
  CHECK(parsed("2026-11-22t08:15:00z") == t);
  CHECK(parsed("2026-11-22 08:15:00Z") == t);
}

TEST_CASE("offsets are converted to UTC", "[events][time]") {
  const TimeMs t = utc(2026, 11, 22, 8, 15);
  CHECK(parsed("2026-11-22T10:15:00+02:00") == t);
  CHECK(parsed("2026-11-22T13:45:00+05:30") == t);
  CHECK(parsed("2026-11-22T03:15:00-05:00") == t);
  CHECK(parsed("2026-11-22T08:15:00+00:00") == t);
  CHECK(parsed("2026-11-22T08:15:00-00:00") == t);
  // An offset can move the instant into the previous or next day, month and year.
  CHECK(parsed("2027-01-01T01:00:00+02:00") == utc(2026, 12, 31, 23));
  CHECK(parsed("2026-12-31T22:00:00-03:00") == utc(2027, 1, 1, 1));
}

TEST_CASE("fractions of a second keep milliseconds and drop finer digits", "[events][time]") {
  const TimeMs t = utc(2026, 11, 22, 8, 15);
  CHECK(parsed("2026-11-22T08:15:00.5Z") == t + 500);
  CHECK(parsed("2026-11-22T08:15:00.05Z") == t + 50);
  CHECK(parsed("2026-11-22T08:15:00.123Z") == t + 123);
  CHECK(parsed("2026-11-22T08:15:00.123999999Z") == t + 123);
  CHECK(parsed("2026-11-22T10:15:00.250+02:00") == t + 250);
}

TEST_CASE("dates that do not exist are rejected", "[events][time]") {
  expect_invalid("2026-02-30T00:00:00Z");
  expect_invalid("2026-02-29T00:00:00Z");  // 2026 is not a leap year
  expect_invalid("2100-02-29T00:00:00Z");  // nor is 2100
  expect_invalid("2026-04-31T00:00:00Z");
  expect_invalid("2026-13-01T00:00:00Z");
  expect_invalid("2026-00-10T00:00:00Z");
  expect_invalid("2026-01-00T00:00:00Z");
  expect_invalid("2026-01-32T00:00:00Z");
  CHECK(parsed("2024-02-29T00:00:00Z") == utc(2024, 2, 29));
  CHECK(parsed("2000-02-29T00:00:00Z") == utc(2000, 2, 29));
  CHECK(parsed("2026-12-31T23:59:59Z") == utc(2026, 12, 31, 23, 59, 59));
}

TEST_CASE("times of day that do not exist are rejected", "[events][time]") {
  expect_invalid("2026-11-22T24:00:00Z");
  expect_invalid("2026-11-22T08:60:00Z");
  expect_invalid("2026-11-22T08:15:61Z");
}

TEST_CASE("a leap second is read as the last second of its minute", "[events][time]") {
  CHECK(parsed("2016-12-31T23:59:60Z") == utc(2016, 12, 31, 23, 59, 59));
}

TEST_CASE("a date-time without an offset or with a malformed one is rejected", "[events][time]") {
  expect_invalid("2026-11-22T08:15:00");
  expect_invalid("2026-11-22T08:15:00.123");
  expect_invalid("2026-11-22T08:15:00+02");
  expect_invalid("2026-11-22T08:15:00+0200");
  expect_invalid("2026-11-22T08:15:00+24:00");
  expect_invalid("2026-11-22T08:15:00+02:60");
  expect_invalid("2026-11-22T08:15:00+2:00");
  expect_invalid("2026-11-22T08:15:00 UTC");
  expect_invalid("2026-11-22T08:15:00GMT");
}

TEST_CASE("text that is not an RFC 3339 date-time is rejected", "[events][time]") {
  expect_invalid("");
  expect_invalid("2026");
  expect_invalid("2026-11-22");
  expect_invalid("yesterday");
  expect_invalid("22/11/2026 08:15");
  expect_invalid("2026-11-22T08:15Z");
  expect_invalid("2026-11-22X08:15:00Z");
  expect_invalid("2026/11/22T08:15:00Z");
  expect_invalid(" 2026-11-22T08:15:00Z");
  expect_invalid("2026-11-22T08:15:00Z ");
  expect_invalid("2026-11-22T08:15:00ZZ");
  expect_invalid("2026-11-22T08:15:00.Z");
  expect_invalid("2026-1a-22T08:15:00Z");
  expect_invalid("+2026-11-22T08:15:00Z");
  expect_invalid(std::string("2026-11-22T08:15:00\0Z", 21));
}

TEST_CASE("the error for a bad time quotes the text and shows the expected form",
          "[events][time]") {
  auto r = parse_rfc3339("2026-02-30T00:00:00Z");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("2026-02-30T00:00:00Z") != std::string::npos);
  CHECK(r.error().message.find("2026-11-22T08:15:00Z") != std::string::npos);

  // A very long input is not copied whole into the message.
  auto long_input = parse_rfc3339(std::string(10'000, '9'));
  REQUIRE_FALSE(long_input.ok());
  CHECK(long_input.error().message.size() < 200);
}

TEST_CASE("instants are formatted as UTC with Z and milliseconds only when set", "[events][time]") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(utc(2026, 11, 22, 8, 15)) == "2026-11-22T08:15:00Z");
  CHECK(format_rfc3339(utc(2026, 11, 22, 8, 15, 0, 7)) == "2026-11-22T08:15:00.007Z");
  CHECK(format_rfc3339(utc(2026, 11, 22, 8, 15, 0, 120)) == "2026-11-22T08:15:00.120Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(utc(2024, 2, 29, 23, 59, 59)) == "2024-02-29T23:59:59Z");
}

TEST_CASE("an input with an offset is written back as the same instant in UTC", "[events][time]") {
  CHECK(format_rfc3339(parsed("2026-11-22T10:15:00.250+02:00")) == "2026-11-22T08:15:00.250Z");
  CHECK(format_rfc3339(parsed("2026-01-01T01:30:00+03:00")) == "2025-12-31T22:30:00Z");
}

TEST_CASE("format then parse returns the same instant", "[events][time]") {
  // Instants from 1900 to 2200, with odd milliseconds, including before the epoch.
  const TimeMs from = utc(1900, 1, 1);
  const TimeMs to = utc(2200, 1, 1);
  const TimeMs step = 7 * kDay + 3 * kHour + 11 * kMinute + 13'007;
  int checked = 0;
  for (TimeMs t = from; t < to; t += step) {
    auto back = parse_rfc3339(format_rfc3339(t));
    INFO(format_rfc3339(t));
    REQUIRE(back.ok());
    REQUIRE(*back == t);
    ++checked;
  }
  CHECK(checked > 10'000);
}

TEST_CASE("parse then format returns canonical UTC text unchanged", "[events][time]") {
  for (const char* text :
       {"2026-11-22T08:15:00Z", "2026-11-22T08:15:00.001Z", "2000-02-29T12:00:00Z",
        "1999-12-31T23:59:59.999Z", "1960-06-15T06:30:00Z", "9999-12-31T23:59:59.999Z",
        "0001-01-01T00:00:00Z"}) {
    CHECK(format_rfc3339(parsed(text)) == text);
  }
}

TEST_CASE("end_of_day_after gives the last millisecond of the day n days later", "[events][time]") {
  const TimeMs morning = utc(2026, 11, 22, 8, 15);
  CHECK(end_of_day_after(morning, 0) == utc(2026, 11, 22, 23, 59, 59, 999));
  CHECK(end_of_day_after(morning, 1) == utc(2026, 11, 23, 23, 59, 59, 999));
  CHECK(end_of_day_after(morning, 42) == utc(2027, 1, 3, 23, 59, 59, 999));
  // Collection at midnight or at the last millisecond of a day is still that day (day 0).
  CHECK(end_of_day_after(utc(2026, 11, 22), 0) == utc(2026, 11, 22, 23, 59, 59, 999));
  CHECK(end_of_day_after(utc(2026, 11, 22, 23, 59, 59, 999), 0) ==
        utc(2026, 11, 22, 23, 59, 59, 999));
  // Before the epoch the day is still the calendar day, not rounded toward zero.
  CHECK(end_of_day_after(utc(1969, 12, 31, 12), 0) == -1);
  CHECK(end_of_day_after(-1, 1) == kDay - 1);
}
