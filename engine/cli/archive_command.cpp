// `hemoledger export` and `hemoledger import` (engine/cli/archive.h,
// docs/operations.md "Archive"):
//
//   export --data-dir DIR --out ARCHIVE [--from T] [--to T]
//       the journal (or the events that happened in [from, to)) as an archive;
//       works while the engine runs (a RocksDB secondary, as `stock` reads)
//   import --data-dir NEW [--check] ARCHIVE...
//       checks every archive (digests, counts, every event decodes), then
//       applies their events, archive after archive, through the engine's own
//       apply path into a new data directory
//
// Exit code 0 on success; import exits 1 when some archived event was
// refused (the archives do not hold a whole history), 2 on an error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <queue>

#include "engine/cli/archive.h"
#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/cli/reference_files.h"
#include "engine/ledger/engine.h"

namespace hemoledger {
namespace {

using nlohmann::json;

struct ExportArgs {
  std::string data_dir, out, from, to;
};

Result<std::optional<TimeMs>> optional_time(const std::string& text, const char* option) {
  if (text.empty()) return std::optional<TimeMs>{};
  auto t = parse_rfc3339(text);
  if (!t) return make_error("bad_time", std::string(option) + ": " + t.error().message);
  return std::optional<TimeMs>(*t);
}

json summary(const ArchiveManifest& m, const std::string& dir) {
  json files = json::array();
  for (const auto& f : m.files) {
    files.push_back({{"name", f.name}, {"events", f.events}, {"sha256", f.sha256}});
  }
  return {{"archive", dir}, {"events", m.events}, {"files", files}};
}

int run_export(const ExportArgs& a, const CommandContext& ctx) {
  auto from = optional_time(a.from, "--from");
  if (!from) return fail(from.error());
  auto to = optional_time(a.to, "--to");
  if (!to) return fail(to.error());
  return with_data_dir(ctx.reference_dir, a.data_dir, [&](const ReferenceData&, const Store& s) {
    auto m = export_archive(s, a.out, ArchiveRange{*from, *to}, ctx.clock.now());
    if (!m) return fail(m.error());
    print_report({"exported " + std::to_string(m->events) + " events into " + a.out},
                 summary(*m, a.out));
    return 0;
  });
}

struct ImportArgs {
  std::string data_dir;
  std::vector<std::string> archives;
  bool check_only = false;
};

// One file's reader and its next event, for the merge across partitions.
struct Head {
  std::unique_ptr<ArchiveReader> reader;
  std::string line;
  Event event;
  std::int64_t offset = 0;  // in the imported partition
};

TimeMs stamp(const Event& e) { return e.recorded_at ? e.recorded_at : e.at; }

// The events of one archive, merged across its files in the order Kafka
// received them (each file's own order kept), applied in batches.
Status import_archive(Engine& engine, const std::string& dir, const ArchiveManifest& m,
                      std::map<std::int32_t, std::int64_t>& next_offset) {
  std::vector<Head> heads;
  for (const auto& f : m.files) {
    auto r = ArchiveReader::open(dir, f);
    if (!r) return r.error();
    heads.emplace_back();
    heads.back().reader = std::move(*r);
  }
  auto advance = [&](std::size_t i) -> Result<bool> {
    Head& h = heads[i];
    auto more = h.reader->next(h.line, h.event);
    if (!more) return more.error();
    if (*more) h.offset = next_offset[h.reader->file().partition]++;
    return *more;
  };
  using Item = std::pair<std::pair<TimeMs, std::int32_t>, std::size_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> order;
  for (std::size_t i = 0; i < heads.size(); ++i) {
    auto more = advance(i);
    if (!more) return more.error();
    if (*more) order.push({{stamp(heads[i].event), heads[i].reader->file().partition}, i});
  }
  std::vector<Record> batch;
  while (!order.empty()) {
    const std::size_t i = order.top().second;
    order.pop();
    Head& h = heads[i];
    batch.push_back(Record{h.reader->file().partition, h.offset, event_key(h.event),
                           std::move(h.line), stamp(h.event)});
    auto more = advance(i);
    if (!more) return more.error();
    if (*more) order.push({{stamp(h.event), h.reader->file().partition}, i});
    if (batch.size() >= EngineOptions{}.max_batch || order.empty()) {
      if (auto s = engine.apply_records(batch); !s) return s;
      batch.clear();
    }
  }
  return {};
}

int run_import(const ImportArgs& a, const CommandContext& ctx) {
  std::vector<ArchiveManifest> manifests;
  for (const auto& dir : a.archives) {
    auto m = check_archive(dir, true);
    if (!m) return fail(m.error());
    std::printf("%s: %llu events in %zu file(s), digests and counts match the manifest\n",
                dir.c_str(), static_cast<unsigned long long>(m->events), m->files.size());
    manifests.push_back(std::move(*m));
  }
  if (a.check_only) return 0;
  std::error_code ec;
  if (std::filesystem::exists(a.data_dir + "/db/CURRENT", ec)) {
    return fail(make_error("import_target_in_use",
                           a.data_dir + " already holds a database; import into a new data "
                                        "directory."));
  }
  auto ref = load_reference_data(ctx.reference_dir);
  if (!ref) return fail(ref.error());
  std::filesystem::create_directories(a.data_dir, ec);
  if (ec) {
    return fail(make_error("io_error", "Cannot create " + a.data_dir + ": " + ec.message() + "."));
  }
  EngineOptions options;
  options.data_dir = a.data_dir;
  options.clock = ctx.clock;
  options.supply = ctx.supply;
  auto engine = Engine::open(options, *ref, nullptr);
  if (!engine) return fail(engine.error());
  std::map<std::int32_t, std::int64_t> next_offset;
  for (std::size_t i = 0; i < a.archives.size(); ++i) {
    if (auto s = import_archive(**engine, a.archives[i], manifests[i], next_offset); !s) {
      return fail(s.error());
    }
  }
  const auto& m = (*engine)->metrics();
  std::printf("imported into %s: %llu events applied, %llu refused, %llu repeated\n",
              a.data_dir.c_str(), static_cast<unsigned long long>(m.applied.load()),
              static_cast<unsigned long long>(m.rejected.load()),
              static_cast<unsigned long long>(m.duplicates.load()));
  if (m.rejected.load() > 0) {
    std::printf(
        "some archived events were refused: the archives do not hold the whole history "
        "(import the earlier archives first); `hemoledger audit` shows why\n");
    return 1;
  }
  return 0;
}

}  // namespace

Subcommand add_export_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand(
      "export",
      "Archive the journal as compressed JSON Lines with a manifest (engine running or not)");
  add_data_dir_option(*cmd, a->data_dir);
  cmd->add_option("--out", a->out, "The archive directory to create (must be new or empty)")
      ->required();
  cmd->add_option("--from", a->from, "Only events that happened at or after this RFC 3339 time");
  cmd->add_option("--to", a->to, "Only events that happened before this RFC 3339 time");
  add_clock_option(*cmd, global.clock_start);  // dates the manifest
  return {cmd, [a](const CommandContext& ctx) { return run_export(*a, ctx); }};
}

Subcommand add_import_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand(
      "import", "Rebuild a new data directory's state from archives (hemoledger export)");
  add_data_dir_option(*cmd, a->data_dir);
  cmd->add_flag("--check", a->check_only,
                "Only check the archives (digests, counts, every event); write nothing");
  cmd->add_option("archives", a->archives, "Archive directories, oldest first")->required();
  add_clock_option(*cmd, global.clock_start);  // the engine's clock while importing
  return {cmd, [a](const CommandContext& ctx) { return run_import(*a, ctx); }};
}

}  // namespace hemoledger
