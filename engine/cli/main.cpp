// hemoledger: the command line. Subcommands, one file each under engine/cli/:
//   serve         run the engine, its HTTP API and (with --demo) the demo feed
//   stock         print stock from a data directory
//   trace         print a donation's units and history
//   pick          available compatible units, first-expire-first-out
//   rebuild       recompute projections from the journal and compare with live state
//   kafka         run librdkafka's mock cluster on its own, for tests and kcat
//   label         decode ISBT 128 scans as JSON, or print a unit's label (--print)
//   scan          the technician's scanning station (reads scans from stdin)
//   token         create API tokens (token new), appending only their hashes
//   audit         who did what to a donation or unit, from the journal
//   webhook-echo  receive alert webhooks and print them
//   reagents      laboratory reagent stock and days of cover
//   alerts        open (or cleared) alerts
//   backup        back up the engine's RocksDB, list or verify backups
//   restore       a data directory from a backup
//   export        archive the journal as compressed JSON Lines with a manifest
//   import        a new data directory's state from archives
//   snapshot      partition snapshots of a stopped engine, for scale-out handover
// This file is the CLI11 wiring only (engine/cli/command.h).
#include <CLI/CLI.hpp>
#include <vector>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"

int main(int argc, char** argv) {
  using namespace hemoledger;  // NOLINT: a program's main function
  CLI::App app{"hemoledger: event-sourced blood bank and lab inventory engine"};
  app.require_subcommand(1);
  GlobalOptions global;
  add_global_options(app, global);
  // In the order `hemoledger --help` lists them.
  const std::vector<Subcommand> commands = {
      add_serve_command(app, global),
      add_stock_command(app),
      add_trace_command(app),
      add_pick_command(app, global),
      add_rebuild_command(app),
      add_kafka_command(app),
      add_label_command(app),
      add_scan_command(app, global),
      add_token_command(app),
      add_audit_command(app),
      add_echo_command(app),
      add_reagents_command(app, global),
      add_alerts_command(app),
      add_backup_command(app, global),
      add_restore_command(app),
      add_export_command(app, global),
      add_import_command(app, global),
      add_report_command(app),
      add_snapshot_command(app, global),
  };
  if (const int code = parse_command_line(app, argc, argv); code >= 0) return code;
  if (auto s = use_log_format(global.log_format); !s) return fail(s.error());
  auto context = resolve_context(global, std::vector<std::string>(argv, argv + argc));
  if (!context) return fail(context.error());
  for (const auto& c : commands) {
    if (c.command->parsed()) return c.run(*context);
  }
  return 0;
}
