// How the `hemoledger` command is put together: main.cpp creates the CLI11
// app and its global options, asks each subcommand module to add itself
// (the add_*_command functions below, one file each under engine/cli/),
// parses, resolves the global options once into a CommandContext, and runs
// the one subcommand that was chosen.
//
// Contract: an add_*_command() binds its options to storage it owns (held by
// the returned Subcommand's `run`), so the Subcommand must outlive parsing.
// `run` returns the process's exit code: 0 success, 2 for an error printed
// by fail() (engine/cli/cli_support.h), and the few codes a command
// documents itself (1: rebuild differs, a station unit not recorded).
// Everything here runs on the main thread, before and after parsing.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/io/clock.h"
#include "projections/demand.h"

namespace CLI {
class App;
}

namespace hemoledger {

// The options every subcommand shares, as CLI11 fills them in.
struct GlobalOptions {
  std::string reference_dir;        // --reference-dir (default: the shipped data/)
  std::string supply_config;        // --supply-config: "" for the defaults
  std::string clock_start;          // --clock-start / HEMOLEDGER_CLOCK_START: "" for the real clock
  std::string log_format = "text";  // --log-format: text or json (one JSON object a line)
};

// The global options resolved after parsing, and the process's arguments
// (serve restarts itself in place with them after a storage fault).
struct CommandContext {
  std::string reference_dir;
  Clock clock;
  SupplyConfig supply;
  std::vector<std::string> argv;
};

// Resolves the clock, then the supply settings; the first error found.
[[nodiscard]] Result<CommandContext> resolve_context(const GlobalOptions& global,
                                                     std::vector<std::string> argv);

// One subcommand: the CLI11 subcommand it added (owned by the app), and what
// to run when the command line chose it.
struct Subcommand {
  CLI::App* command = nullptr;
  std::function<int(const CommandContext&)> run;
};

// Adds --config, --reference-dir, --supply-config and --log-format to the
// app. --config FILE (TOML, docs/operations.md) gives any option: global ones
// at the top, a command's own under [serve], [backup], ...; the command line
// overrides the file, and a key that names no option is an error.
void add_global_options(CLI::App& app, GlobalOptions& global);

// Parses the command line (and the --config file) into the app. Returns -1
// when the command should run, else the exit code: 0 after --help, 2 after
// an error (printed; an unknown key of the file is named with the file).
int parse_command_line(CLI::App& app, int argc, char** argv);

// --clock-start for the commands that read the current time (serve, scan,
// pick, reagents): the one clock starts at that instant and runs forward in
// real time (docs/reliability.md, "Time"). HEMOLEDGER_CLOCK_START is read
// when the option is not given.
void add_clock_option(CLI::App& command, std::string& start);

// --data-dir for the commands that read a data directory; its default is
// where serve keeps its data (EngineOptions::data_dir).
void add_data_dir_option(CLI::App& command, std::string& data_dir);

// The subcommands, each in its own file under engine/cli/.
Subcommand add_serve_command(CLI::App& app, GlobalOptions& global);   // serve_command.cpp
Subcommand add_kafka_command(CLI::App& app);                          // kafka_command.cpp
Subcommand add_label_command(CLI::App& app);                          // label_command.cpp
Subcommand add_scan_command(CLI::App& app, GlobalOptions& global);    // scan_command.cpp
Subcommand add_token_command(CLI::App& app);                          // token_command.cpp
Subcommand add_echo_command(CLI::App& app);                           // echo_command.cpp
Subcommand add_rebuild_command(CLI::App& app);                        // rebuild_command.cpp
Subcommand add_backup_command(CLI::App& app, GlobalOptions& global);  // backup_command.cpp
Subcommand add_restore_command(CLI::App& app);                        // backup_command.cpp
Subcommand add_export_command(CLI::App& app, GlobalOptions& global);  // archive_command.cpp
Subcommand add_import_command(CLI::App& app, GlobalOptions& global);  // archive_command.cpp
// Partition snapshots of a stopped engine, in snapshot_command.cpp.
Subcommand add_snapshot_command(CLI::App& app, GlobalOptions& global);

// The read-only views of a data directory, in read_commands.cpp.
Subcommand add_stock_command(CLI::App& app);
Subcommand add_trace_command(CLI::App& app);
Subcommand add_pick_command(CLI::App& app, GlobalOptions& global);
Subcommand add_reagents_command(CLI::App& app, GlobalOptions& global);
Subcommand add_alerts_command(CLI::App& app);
Subcommand add_report_command(CLI::App& app);
Subcommand add_audit_command(CLI::App& app);

}  // namespace hemoledger
