// `hemoledger rebuild`: recomputes the projections from the journal of a
// stopped engine's data directory and compares them with the live state;
// without --check the rebuilt ones replace them. Exit code 0 when they were
// equal, 1 when they differed, 2 on an error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/cli/reference_files.h"
#include "engine/ledger/engine.h"

namespace hemoledger {
namespace {

struct RebuildArgs {
  std::string data_dir;
  bool check_only = false;
};

int run_rebuild(const RebuildArgs& a, const CommandContext& ctx) {
  auto ref = load_reference_data(ctx.reference_dir);
  if (!ref) return fail(ref.error());
  auto store = Store::open(a.data_dir + "/db");
  if (!store) return fail(store.error());
  // The replayed donations are kept on disk beside the store while they wait
  // to be compared, not in memory (engine/storage/scratch_store.h).
  ReplayHolding holding;
  holding.scratch_dir = a.data_dir + "/rebuild-scratch";
  auto r = rebuild(**store, *ref, Rules{}, !a.check_only, ctx.supply, holding);
  if (!r) return fail(r.error());
  std::printf("replayed %llu events into %llu donations and %llu reagent lots in %.3f s\n",
              static_cast<unsigned long long>(r->events),
              static_cast<unsigned long long>(r->donations),
              static_cast<unsigned long long>(r->reagent_lots), r->seconds);
  std::printf("rebuilt state %s the live state\n", r->equal ? "equals" : "DIFFERS FROM");
  for (const auto& d : r->differences) std::printf("  %s\n", d.c_str());
  if (!a.check_only && !r->equal) {
    std::printf("the projections were replaced by the rebuilt ones\n");
  }
  return r->equal ? 0 : 1;
}

}  // namespace

Subcommand add_rebuild_command(CLI::App& app) {
  auto a = std::make_shared<RebuildArgs>();
  auto* cmd =
      app.add_subcommand("rebuild", "Recompute projections from the journal (engine stopped)");
  add_data_dir_option(*cmd, a->data_dir);
  cmd->add_flag("--check", a->check_only, "Only compare with the live state; change nothing");
  return {cmd, [a](const CommandContext& ctx) { return run_rebuild(*a, ctx); }};
}

}  // namespace hemoledger
