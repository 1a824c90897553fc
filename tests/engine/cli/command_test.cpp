// The hemoledger binary's wiring: global options resolved before a command
// runs, and its errors reported as "hemoledger: SENTENCE [code]" on standard
// error with exit code 2, before anything is started or opened.
#include "engine/cli/command.h"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

TEST_CASE(
    "a clock start that is not an instant is refused with its code, from option or "
    "environment",
    "[cli]") {
  TempDir dir;
  const Outcome option =
      run_binary("pick --facility X --data-dir " + dir.path() + " --clock-start yesterday");
  CHECK(option.exit_code == 2);
  CHECK_THAT(option.output,
             Catch::Contains("\"yesterday\"") && Catch::Contains("[bad_clock_start]"));
  const Outcome env =
      run_binary("reagents --data-dir " + dir.path(), "HEMOLEDGER_CLOCK_START=soon");
  CHECK(env.exit_code == 2);
  CHECK_THAT(env.output, Catch::Contains("[bad_clock_start]"));
}

TEST_CASE("a read command on a directory without hemoledger data names the directory", "[cli]") {
  TempDir dir;
  for (const std::string cmd : {"stock", "trace DIN0000000000", "alerts", "audit --refusals"}) {
    const Outcome o = run_binary(cmd + " --data-dir " + dir.path());
    CHECK(o.exit_code == 2);
    CHECK_THAT(o.output, Catch::StartsWith("hemoledger: No hemoledger data in " + dir.path()) &&
                             Catch::Contains("[no_data]"));
  }
}

TEST_CASE("serve refuses a listen address that is not HOST:PORT before it starts anything",
          "[cli]") {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const Outcome o = run_binary("serve --listen nowhere --data-dir " + data);
  CHECK(o.exit_code == 2);
  CHECK_THAT(o.output,
             Catch::Contains("--listen must be HOST:PORT") && Catch::Contains("[bad_listen]"));
  CHECK_FALSE(std::filesystem::exists(data));
}

TEST_CASE("unreadable supply settings stop every command before it runs", "[cli]") {
  const Outcome o = run_binary("--supply-config /nonexistent/supply.json label =G12341765432170");
  CHECK(o.exit_code == 2);
  CHECK_THAT(o.output, Catch::Contains("[bad_supply_config]"));
}

TEST_CASE("resolving the global options reads the clock before the supply settings", "[cli]") {
  GlobalOptions global;
  global.clock_start = "not a time";
  global.supply_config = "/nonexistent/supply.json";
  auto ctx = resolve_context(global, {"hemoledger"});
  REQUIRE_FALSE(ctx);
  CHECK(ctx.error().code == "bad_clock_start");

  global.clock_start = "2031-12-06T08:00:00Z";
  global.supply_config.clear();
  ctx = resolve_context(global, {"hemoledger", "stock"});
  REQUIRE(ctx);
  CHECK_FALSE(ctx->clock.is_real());
  CHECK(ctx->argv == std::vector<std::string>{"hemoledger", "stock"});
}
