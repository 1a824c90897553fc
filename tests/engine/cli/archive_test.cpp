// `hemoledger export` and `import` (engine/cli/archive.h): an engine's journal
// archived as compressed JSON Lines, then imported into a new data directory
// whose state must equal the original's. Real binary, mock cluster, RocksDB.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/storage/store.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

std::pair<int, std::string> run_tool(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> full{HEMOLEDGER_BINARY};
  full.insert(full.end(), args.begin(), args.end());
  std::remove(log.c_str());
  Child c(full, {}, log);
  const int status = c.wait();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(log)};
}

// The decompressed lines of an archive file.
std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  gzFile gz = gzopen(path.c_str(), "rb");
  REQUIRE(gz != nullptr);
  char buf[1 << 16];
  while (gzgets(gz, buf, sizeof buf)) {
    std::string l = buf;
    if (!l.empty() && l.back() == '\n') l.pop_back();
    out.push_back(l);
  }
  gzclose(gz);
  return out;
}

// Everything a data directory's projections hold, partition by partition.
struct Projected {
  std::map<std::int32_t, std::map<std::string, std::string>> donations;
  std::map<std::int32_t, StockTable> stock;
  std::map<std::int32_t, std::vector<IndexEntry>> indexes;
  std::size_t journal = 0;
  bool operator==(const Projected&) const = default;
};

Projected projected(const std::string& data_dir) {
  auto store = Store::open(data_dir + "/db");
  REQUIRE(store.ok());
  Projected p;
  for (auto part : (*store)->partitions()) {
    REQUIRE((*store)
                ->scan_donations(part,
                                 [&](std::string_view din, std::string_view value) {
                                   p.donations[part][std::string(din)] = std::string(value);
                                   return true;
                                 })
                .ok());
    auto stock = (*store)->stock(part);
    REQUIRE(stock.ok());
    p.stock[part] = *stock;
    auto index = (*store)->index_in(part);
    REQUIRE(index.ok());
    p.indexes[part] = *index;
    REQUIRE((*store)
                ->scan_journal(part, 0,
                               [&](std::int64_t, std::string_view) {
                                 ++p.journal;
                                 return true;
                               })
                .ok());
  }
  return p;
}

}  // namespace

TEST_CASE("an exported journal imported into a new data directory gives the same state",
          "[engine][archive]") {
  TempDir dir;
  const std::string data = dir.path() + "/data", archive = dir.path() + "/archive",
                    imported = dir.path() + "/imported", log = dir.path() + "/tool.log";
  TestKafka kafka;
  const KnownStream stream = known_stream(120, "arc");
  for (const auto& e : stream.events) {
    REQUIRE(kafka.producer->produce("hemoledger.events", e.din, encode_json(e)));
  }
  REQUIRE(kafka.producer->flush(10000));
  const int port = free_port();
  {
    Child engine(with_clock({HEMOLEDGER_BINARY, "serve", "--brokers", kafka.kafka.brokers,
                             "--data-dir", data, "--listen", "127.0.0.1:" + std::to_string(port)}),
                 {}, dir.path() + "/engine.log");
    REQUIRE(wait_for_api(port, 30));
    REQUIRE(eventually(
        [&] { return committed_messages(port) == static_cast<std::int64_t>(stream.events.size()); },
        60));
    engine.signal(SIGTERM);
    REQUIRE(engine.wait_for(30));
  }
  const Projected original = projected(data);
  REQUIRE(original.journal >= static_cast<std::size_t>(stream.accepted));

  const auto [export_status, export_out] =
      run_tool(with_clock({"export", "--data-dir", data, "--out", archive}), log);
  INFO(export_out);
  REQUIRE(export_status == 0);
  const auto manifest = nlohmann::json::parse(read_file(archive + "/manifest.json"));
  CHECK(manifest["format"] == "hemoledger-archive");
  CHECK(manifest["events"] == original.journal);
  std::size_t lines = 0;
  for (const auto& f : manifest["files"]) {
    const std::string path = archive + "/" + f["name"].get<std::string>();
    const auto file_lines = lines_of(path);
    CHECK(file_lines.size() == f["events"].get<std::size_t>());
    CHECK(f["bytes"] == std::filesystem::file_size(path));
    for (const auto& l : file_lines) REQUIRE(decode_json(l).ok());  // the documented format
    lines += file_lines.size();
  }
  CHECK(lines == original.journal);
  // The digests are checkable without hemoledger.
  CHECK_THAT(run_command("cd " + archive + " && sha256sum -c SHA256SUMS 2>&1"),
             Catch::Contains(": OK"));

  const auto [import_status, import_out] =
      run_tool(with_clock({"import", "--data-dir", imported, archive}), log);
  INFO(import_out);
  REQUIRE(import_status == 0);
  CHECK_THAT(import_out,
             Catch::Contains(std::to_string(original.journal) + " events applied, 0 refused"));
  CHECK(projected(imported) == original);
  const auto [rebuild_status, rebuild_out] =
      run_tool({"rebuild", "--check", "--data-dir", imported}, log);
  INFO(rebuild_out);
  CHECK(rebuild_status == 0);
  CHECK_THAT(rebuild_out, Catch::Contains("equals the live state"));

  // A damaged archive is refused before anything is written.
  const std::string first = archive + "/" + manifest["files"][0]["name"].get<std::string>();
  {
    std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x7f');
  }
  const auto [bad_status, bad_out] =
      run_tool({"import", "--check", "--data-dir", dir.path() + "/never", archive}, log);
  CHECK(bad_status == 2);
  CHECK_THAT(bad_out, Catch::Contains("archive_corrupt"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/never"));
}

TEST_CASE("an export of a time range holds only the events that happened in it",
          "[engine][archive]") {
  TempDir dir;
  const std::string data = dir.path() + "/data", archive = dir.path() + "/archive",
                    log = dir.path() + "/tool.log";
  TestKafka kafka;
  const KnownStream stream = known_stream(40, "rng");
  for (const auto& e : stream.events) {
    REQUIRE(kafka.producer->produce("hemoledger.events", e.din, encode_json(e)));
  }
  REQUIRE(kafka.producer->flush(10000));
  const int port = free_port();
  {
    Child engine(with_clock({HEMOLEDGER_BINARY, "serve", "--brokers", kafka.kafka.brokers,
                             "--data-dir", data, "--listen", "127.0.0.1:" + std::to_string(port)}),
                 {}, dir.path() + "/engine.log");
    REQUIRE(wait_for_api(port, 30));
    REQUIRE(eventually(
        [&] { return committed_messages(port) == static_cast<std::int64_t>(stream.events.size()); },
        60));
    engine.signal(SIGTERM);
    REQUIRE(engine.wait_for(30));
  }
  const TimeMs from = stream.events[stream.events.size() / 4].at;
  const TimeMs to = stream.events[stream.events.size() / 2].at;
  const auto [status, out] =
      run_tool(with_clock({"export", "--data-dir", data, "--out", archive, "--from",
                           format_rfc3339(from), "--to", format_rfc3339(to)}),
               log);
  INFO(out);
  REQUIRE(status == 0);
  const auto manifest = nlohmann::json::parse(read_file(archive + "/manifest.json"));
  CHECK(manifest["range"]["from"] == format_rfc3339(from));
  std::size_t seen = 0;
  for (const auto& f : manifest["files"]) {
    for (const auto& l : lines_of(archive + "/" + f["name"].get<std::string>())) {
      auto e = decode_json(l);
      REQUIRE(e.ok());
      CHECK(e->at >= from);
      CHECK(e->at < to);
      ++seen;
    }
  }
  CHECK(seen == manifest["events"].get<std::size_t>());
  CHECK(seen > 0);
  CHECK(seen < stream.events.size());
}
