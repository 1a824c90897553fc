#include "engine/cli/command.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <iterator>

#include "engine/cli/cli_support.h"
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
  app.set_config("--config", "",
                 "Read options from this TOML file: global ones at the top, each command's "
                 "under its [section] (docs/operations.md); the command line overrides it");
  // A key that names no option is an error (subcommands added later inherit this).
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_option("--log-format", global.log_format,
                 "text, or json: one JSON object a line (time, level, message), for journald "
                 "or a log collector")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
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

int parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ConfigError& e) {
    const std::string what = e.what();
    const std::string extra = "INI was not able to parse ";
    const std::string file = app.get_config_ptr() ? app.get_config_ptr()->as<std::string>() : "";
    if (what.rfind(extra, 0) == 0) {
      return fail(make_error("bad_config", "The configuration file " + file +
                                               " has an unknown key " + what.substr(extra.size()) +
                                               " (docs/operations.md lists them)."));
    }
    return fail(make_error("bad_config", "The configuration file " + file + ": " + what));
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return -1;
}

Result<CommandContext> resolve_context(const GlobalOptions& global, std::vector<std::string> argv) {
  auto clock = Clock::from_option(global.clock_start);
  if (!clock) return clock.error();
  auto supply = load_supply_config(global.supply_config);
  if (!supply) return supply.error();
  return CommandContext{global.reference_dir, *clock, *supply, std::move(argv)};
}

}  // namespace hemoledger
