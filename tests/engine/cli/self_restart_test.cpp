// with_clock_start: the command line a self-restart runs again, so that a
// started clock keeps its reading instead of jumping back to its first start.
#include "engine/cli/self_restart.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace hemoledger;

TEST_CASE("a self-restart moves --clock-start to the clock's reading in both of its forms",
          "[cli][restart]") {
  const std::string now = "2031-12-06T09:30:00Z";
  CHECK(with_clock_start({"hemoledger", "serve", "--clock-start", "2031-12-06T08:00:00Z"}, now) ==
        std::vector<std::string>{"hemoledger", "serve", "--clock-start", now});
  CHECK(with_clock_start({"hemoledger", "serve", "--clock-start=2031-12-06T08:00:00Z"}, now) ==
        std::vector<std::string>{"hemoledger", "serve", "--clock-start=" + now});
}

TEST_CASE("a self-restart keeps every other argument as it was given", "[cli][restart]") {
  const std::vector<std::string> args = {
      "/usr/bin/hemoledger", "--reference-dir", "data/egypt",   "serve", "--brokers",
      "127.0.0.1:9092",      "--listen",        "0.0.0.0:8080", "-X",    "acks=all"};
  CHECK(with_clock_start(args, "2031-12-06T09:30:00Z") == args);
}

TEST_CASE("a --clock-start with no value after it is left for the restart to refuse",
          "[cli][restart]") {
  const std::vector<std::string> args = {"hemoledger", "serve", "--clock-start"};
  CHECK(with_clock_start(args, "2031-12-06T09:30:00Z") == args);
}
