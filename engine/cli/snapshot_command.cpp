// `hemoledger snapshot` (docs/scale-out.md, "Handover from a snapshot"):
// writes partition snapshots of a stopped engine's data directory into a
// snapshot directory, exactly as a serving instance's publisher does, so that
// the instances of a new scale-out group start from them (a single instance
// growing into a group) instead of replaying each partition's history.
//
//   snapshot --snapshot-dir S [--data-dir DIR] [--partition P]... [--keep N]
//
// Prints a line per partition written, then the manifests as JSON
// (print_report). Exit code 0 on success, 2 on an error.
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/scaleout/partition_snapshots.h"
#include "engine/storage/store.h"

namespace hemoledger {
namespace {

using nlohmann::json;

struct SnapshotArgs {
  std::string data_dir;
  std::string snapshot_dir;
  std::vector<std::int32_t> partitions;  // empty: every partition stored
  std::uint32_t keep = SnapshotOptions{}.keep;
  std::string instance = "offline";
};

int run_snapshot(const SnapshotArgs& a, const Clock& clock) {
  if (a.keep < 1) {
    return fail(make_error("bad_snapshot_option", "--keep must be at least 1."));
  }
  auto store = Store::open(a.data_dir + "/db");
  if (!store) return fail(store.error());
  SnapshotOptions options;
  options.dir = a.snapshot_dir;
  options.keep = a.keep;
  const auto partitions = a.partitions.empty() ? (*store)->partitions() : a.partitions;
  json written = json::array();
  std::vector<std::string> lines;
  for (auto p : partitions) {
    auto m = write_partition_snapshot(**store, p, options, a.instance, clock.now());
    if (!m) return fail(m.error());
    lines.push_back("partition " + std::to_string(p) + ": offset " + std::to_string(m->offset) +
                    ", " + std::to_string(m->keys) + " keys, " + std::to_string(m->bytes) +
                    " bytes -> " + snapshot_partition_dir(a.snapshot_dir, p) + "/" + m->file);
    written.push_back(json::parse(manifest_json(*m)));
  }
  print_report(lines, written);
  return 0;
}

}  // namespace

Subcommand add_snapshot_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<SnapshotArgs>();
  auto* cmd = app.add_subcommand(
      "snapshot",
      "Write partition snapshots of a stopped engine's data directory for scale-out handover");
  add_data_dir_option(*cmd, a->data_dir);
  cmd->add_option("--snapshot-dir", a->snapshot_dir,
                  "The snapshot directory the instances read (serve --snapshot-dir)")
      ->required();
  cmd->add_option("--partition", a->partitions, "Only this partition (repeatable)");
  cmd->add_option("--keep", a->keep, "Newest snapshots kept per partition")->capture_default_str();
  cmd->add_option("--instance", a->instance, "The writer's name in the manifests")
      ->capture_default_str();
  add_clock_option(*cmd, global.clock_start);  // dates the manifests
  return {cmd, [a](const CommandContext& ctx) { return run_snapshot(*a, ctx.clock); }};
}

}  // namespace hemoledger
