// `hemoledger backup` and `hemoledger restore` (docs/operations.md):
//
//   backup --api URL [--token T]           a running engine backs itself up into
//                                          its --backup-dir (POST /api/admin/backup)
//   backup --backup-dir D [--data-dir DIR] a stopped engine's data directory
//   backup --list --backup-dir D           the backups there
//   backup --verify --backup-dir D [--id N]   checks every file's size and checksum
//   restore --backup-dir D [--id N] --data-dir DIR   an empty data directory from a backup
//
// Exit code 0 on success, 2 on an error (a corrupt backup included).
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/ledger/backup_schedule.h"
#include "engine/ledger/engine.h"
#include "engine/storage/store.h"

namespace hemoledger {
namespace {

using nlohmann::json;

struct BackupArgs {
  std::string data_dir;
  std::string backup_dir;
  std::uint32_t keep = 0;
  std::uint32_t id = 0;
  bool list = false, verify = false;
  std::string api, token, ca_cert;
};

json backup_json(const BackupInfo& b) {
  const TimeMs taken = backup_taken_at(b);
  json j = {{"id", b.id}, {"files", b.files}, {"size_bytes", b.size_bytes}};
  j["taken_at"] = taken ? json(format_rfc3339(taken)) : json(nullptr);
  const json meta = json::parse(b.metadata, nullptr, false);
  if (meta.is_object()) {
    j["hemoledger"] = meta.value("hemoledger", "");
    j["schema_version"] = meta.value("schema_version", 0);
  }
  return j;
}

// POST /api/admin/backup of a running engine.
int backup_through_api(const BackupArgs& a) {
  auto client = api_client(a.api, a.token, a.ca_cert);
  httplib::Client& http = *client;
  http.set_read_timeout(3600, 0);  // a first backup of a large store takes a while
  auto r = http.Post("/api/admin/backup", "", "application/json");
  if (!r) {
    return fail(make_error("unreachable", "The engine at " + a.api + " cannot be reached (" +
                                              httplib::to_string(r.error()) + ")."));
  }
  const json j = json::parse(r->body, nullptr, false);
  if (r->status != 200) {
    const std::string code = j.is_object() ? j.value("code", "backup_failed") : "backup_failed";
    return fail(make_error(code, j.is_object() ? j.value("message", r->body) : r->body));
  }
  print_json(j);
  return 0;
}

// A stopped engine's data directory, opened here.
int backup_data_dir(const BackupArgs& a, const Clock& clock) {
  auto store = Store::open(a.data_dir + "/db");
  if (!store) {
    if (store.error().message.find("lock") != std::string::npos) {
      return fail(make_error("engine_running",
                             "The engine is running on " + a.data_dir +
                                 ": ask it for the backup with --api URL (it writes into its "
                                 "own --backup-dir)."));
    }
    return fail(store.error());
  }
  const json metadata = {{"taken_at", format_rfc3339(clock.now())},
                         {"hemoledger", HEMOLEDGER_VERSION},
                         {"schema_version", kSchemaVersion},
                         {"data_dir", a.data_dir}};
  auto taken = (*store)->backup(a.backup_dir, metadata.dump(), a.keep);
  if (!taken) return fail(taken.error());
  json j = backup_json(*taken);
  j["dir"] = a.backup_dir;
  print_json(j);
  return 0;
}

int run_backup(const BackupArgs& a, const Clock& clock) {
  if (a.list || a.verify) {
    if (a.backup_dir.empty()) {
      return fail(make_error("bad_backup", "--list and --verify need --backup-dir."));
    }
    auto backups = a.verify ? verify_backups(a.backup_dir, a.id) : list_backups(a.backup_dir);
    if (!backups) return fail(backups.error());
    json out = json::array();
    for (const auto& b : *backups) out.push_back(backup_json(b));
    std::vector<std::string> lines;
    if (a.verify) {
      lines.push_back(std::to_string(backups->size()) + " backup(s) in " + a.backup_dir +
                      " verified: every file's size and checksum match");
    }
    print_report(lines, out);
    return 0;
  }
  if (!a.api.empty()) return backup_through_api(a);
  if (a.backup_dir.empty()) {
    return fail(make_error("bad_backup",
                           "Give --api URL (a running engine backs itself up into its "
                           "--backup-dir) or --backup-dir DIR (a stopped engine's --data-dir)."));
  }
  return backup_data_dir(a, clock);
}

struct RestoreArgs {
  std::string backup_dir, data_dir;
  std::uint32_t id = 0;
};

int run_restore(const RestoreArgs& a) {
  auto restored = restore_backup(a.backup_dir, a.id, a.data_dir + "/db");
  if (!restored) return fail(restored.error());
  auto store = Store::open(a.data_dir + "/db");
  if (!store) return fail(store.error());
  auto offsets = (*store)->offsets();
  if (!offsets) return fail(offsets.error());
  json j = backup_json(*restored);
  j["data_dir"] = a.data_dir;
  json resume = json::object();
  for (const auto& [p, o] : *offsets) resume[std::to_string(p)] = o.next;
  j["resumes_at"] = resume;  // the engine consumes Kafka from these offsets on
  print_report({"restored backup " + std::to_string(restored->id) + " into " + a.data_dir +
                "; the engine resumes from the offsets stored with it"},
               j);
  return 0;
}

}  // namespace

Subcommand add_backup_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<BackupArgs>();
  auto* cmd = app.add_subcommand(
      "backup", "Back up the engine's RocksDB (consistent, incremental), list or verify backups");
  add_data_dir_option(*cmd, a->data_dir);
  cmd->add_option("--backup-dir", a->backup_dir, "The backup directory");
  cmd->add_option("--api", a->api,
                  "A running engine's HTTP API: it backs itself up into its --backup-dir");
  cmd->add_option("--token", a->token,
                  "Admin API token (default: the HEMOLEDGER_TOKEN environment variable)");
  cmd->add_option("--ca-cert", a->ca_cert, "For an https:// API: the CA certificate (PEM)");
  cmd->add_option("--keep", a->keep, "Keep only the newest N backups (0: all)");
  cmd->add_flag("--list", a->list, "List the backups in --backup-dir");
  cmd->add_flag("--verify", a->verify,
                "Check the backups' files against their recorded sizes and checksums");
  cmd->add_option("--id", a->id, "With --verify: only this backup");
  add_clock_option(*cmd, global.clock_start);  // dates a stopped engine's backup
  return {cmd, [a](const CommandContext& ctx) { return run_backup(*a, ctx.clock); }};
}

Subcommand add_restore_command(CLI::App& app) {
  auto a = std::make_shared<RestoreArgs>();
  auto* cmd = app.add_subcommand(
      "restore", "Restore a data directory from a backup (the engine stopped, the directory new)");
  cmd->add_option("--backup-dir", a->backup_dir, "The backup directory")->required();
  cmd->add_option("--id", a->id, "The backup to restore (default: the newest)");
  cmd->add_option("--data-dir", a->data_dir, "The data directory to create")->required();
  return {cmd, [a](const CommandContext&) { return run_restore(*a); }};
}

}  // namespace hemoledger
