#include "engine/cli/command.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <iterator>

#include "engine/cli/reference_files.h"
#include "engine/ledger/engine.h"

namespace hemoledger {
namespace {

// The operator's supply and alert settings (docs/alerts.md), or the defaults.
Result<SupplyConfig> load_supply_config(const std::string& path) {
  if (path.empty()) return SupplyConfig{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("bad_supply_config", "Cannot read the supply settings " + path + ".");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto c = parse_supply_config(text);
  if (!c) return make_error(c.error().code, path + ": " + c.error().message);
  return c;
}

}  // namespace

void add_global_options(CLI::App& app, GlobalOptions& global) {
  global.reference_dir = default_reference_dir();
  app.add_option("--reference-dir", global.reference_dir,
                 "Reference data: a directory (governorates.csv, facilities.csv, optional "
                 "neighbours.csv, products.csv, tests.csv) or an operator's .json file "
                 "(docs/reference-data.md); data/egypt/ is a second shipped set");
  app.add_option("--supply-config", global.supply_config,
                 "Supply and alert settings (JSON: window_days, recover_factor, thresholds, "
                 "expiring_hours; docs/alerts.md)");
}

void add_clock_option(CLI::App& command, std::string& start) {
  command
      .add_option("--clock-start", start,
                  "Start the clock at this RFC 3339 instant and let it run forward in real time "
                  "(tests, replaying a past scenario); default: the real clock")
      ->envname("HEMOLEDGER_CLOCK_START");
}

void add_data_dir_option(CLI::App& command, std::string& data_dir) {
  data_dir = EngineOptions{}.data_dir;
  command.add_option("--data-dir", data_dir)->capture_default_str();
}

Result<CommandContext> resolve_context(const GlobalOptions& global, std::vector<std::string> argv) {
  auto clock = Clock::from_option(global.clock_start);
  if (!clock) return clock.error();
  auto supply = load_supply_config(global.supply_config);
  if (!supply) return supply.error();
  return CommandContext{global.reference_dir, *clock, *supply, std::move(argv)};
}

}  // namespace hemoledger
