#include "events/event.h"

#include <catch2/catch.hpp>

#include "tests/event_builders.h"

using namespace hemoledger;
using namespace hemoledger::testing;

TEST_CASE("an event dated more than a day after it reached Kafka is refused as from_the_future",
          "[events][time]") {
  const Event e = unit_issued(kRedCells, kT0);
  const Status late = check_plausible_time(e, kT0 - kMaxFutureSkew - 1);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == "from_the_future");
  CHECK(late.error().message.find("2026-11-22T08:00:00Z") != std::string::npos);
}

TEST_CASE("an event dated up to a day ahead, or in the past, passes the time check",
          "[events][time]") {
  const Event e = unit_issued(kRedCells, kT0);
  CHECK(check_plausible_time(e, kT0).ok());
  CHECK(check_plausible_time(e, kT0 - kMaxFutureSkew).ok());  // a clock a day fast
  CHECK(check_plausible_time(e, kT0 + 30 * kDay).ok());       // a paper record entered late
}

TEST_CASE("a Kafka timestamp outside 1990-2199 is refused as implausible_time", "[events][time]") {
  const Event e = unit_issued(kRedCells, kT0);
  for (TimeMs recorded :
       {TimeMs{0}, TimeMs{-1}, kEarliestPlausibleTime - 1, kLatestPlausibleTime}) {
    INFO("recorded_at " << recorded);
    const Status s = check_plausible_time(e, recorded);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == "implausible_time");
  }
}

TEST_CASE("validate_shape refuses times before 1990 and from 2200 on as implausible_time",
          "[events][time]") {
  Event e = unit_issued(kRedCells, kT0);
  REQUIRE(validate_shape(e).ok());
  e.at = kEarliestPlausibleTime - 1;
  CHECK(validate_shape(e).error().code == "implausible_time");
  e.at = kLatestPlausibleTime;
  CHECK(validate_shape(e).error().code == "implausible_time");
  e.at = kEarliestPlausibleTime;
  CHECK(validate_shape(e).ok());
  e.recorded_at = kLatestPlausibleTime + kDay;
  CHECK(validate_shape(e).error().code == "implausible_time");
}
