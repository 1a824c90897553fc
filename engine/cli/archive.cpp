#include "engine/cli/archive.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/storage/store.h"
#include "events/binary_codec.h"
#include "events/json_codec.h"

namespace hemoledger {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Error io_error(const std::string& what) { return make_error("io_error", what); }

std::string file_name(std::int32_t partition) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "events-p%05d.jsonl.gz", partition);
  return buf;
}

// SHA-256 of a file, lower-case hex; "" when it cannot be read.
std::string sha256_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    EVP_DigestUpdate(ctx.get(), buf, static_cast<std::size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

json time_or_null(const std::optional<TimeMs>& t) {
  return t ? json(format_rfc3339(*t)) : json(nullptr);
}

Result<std::optional<TimeMs>> time_from(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<TimeMs>{};
  if (!j[key].is_string()) return make_error("bad_archive", std::string(key) + " is not a time.");
  auto t = parse_rfc3339(j[key].get<std::string>());
  if (!t) return make_error("bad_archive", std::string(key) + ": " + t.error().message);
  return std::optional<TimeMs>(*t);
}

json manifest_json(const ArchiveManifest& m) {
  json files = json::array();
  for (const auto& f : m.files) {
    files.push_back({{"name", f.name},
                     {"partition", f.partition},
                     {"events", f.events},
                     {"bytes", f.bytes},
                     {"sha256", f.sha256}});
  }
  return {{"format", "hemoledger-archive"},
          {"format_version", kArchiveFormatVersion},
          {"hemoledger", m.hemoledger_version},
          {"schema_version", m.schema_version},
          {"created_at", format_rfc3339(m.created_at)},
          {"encoding", "gzip-compressed JSON Lines, one event a line (docs/events.md)"},
          {"range", {{"from", time_or_null(m.range.from)}, {"to", time_or_null(m.range.to)}}},
          {"events", m.events},
          {"files", files}};
}

Result<ArchiveManifest> parse_manifest(const json& j) {
  if (!j.is_object() || j.value("format", "") != "hemoledger-archive") {
    return make_error("bad_archive", "manifest.json is not a hemoledger archive manifest.");
  }
  if (j.value("format_version", 0) > kArchiveFormatVersion) {
    return make_error("bad_archive", "The archive's format version " +
                                         std::to_string(j.value("format_version", 0)) +
                                         " is newer than this hemoledger reads.");
  }
  ArchiveManifest m;
  m.hemoledger_version = j.value("hemoledger", "");
  m.schema_version = j.value("schema_version", 0);
  auto created = time_from(j, "created_at");
  if (!created) return created.error();
  m.created_at = created->value_or(0);
  if (j.contains("range") && j["range"].is_object()) {
    auto from = time_from(j["range"], "from");
    auto to = time_from(j["range"], "to");
    if (!from) return from.error();
    if (!to) return to.error();
    m.range = ArchiveRange{*from, *to};
  }
  m.events = j.value("events", std::uint64_t{0});
  if (!j.contains("files") || !j["files"].is_array()) {
    return make_error("bad_archive", "manifest.json lists no files.");
  }
  for (const auto& f : j["files"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string()) {
      return make_error("bad_archive", "manifest.json has a file without a name.");
    }
    ArchiveFile a{f["name"].get<std::string>(), f.value("partition", 0),
                  f.value("events", std::uint64_t{0}), f.value("bytes", std::uint64_t{0}),
                  f.value("sha256", "")};
    if (a.name.find('/') != std::string::npos || a.name.rfind("..", 0) == 0) {
      return make_error("bad_archive",
                        "manifest.json names a file outside the archive: " + a.name + ".");
    }
    m.files.push_back(std::move(a));
  }
  return m;
}

// One partition's journal, the events of `range`, into `path`.
Result<ArchiveFile> export_partition(const Store& store, std::int32_t p, const std::string& dir,
                                     const ArchiveRange& range) {
  ArchiveFile f;
  f.name = file_name(p);
  f.partition = p;
  const std::string path = dir + "/" + f.name;
  GzFile gz(gzopen(path.c_str(), "wb9"));
  if (!gz) return io_error("Cannot write " + path + ".");
  Event e;
  Status failure;
  auto s = store.scan_journal(p, 0, [&](std::int64_t pos, std::string_view value) {
    if (auto d = decode_binary_into(value, e); !d) {
      failure = make_error("corrupt_state", "journal entry " + std::to_string(pos) +
                                                " of partition " + std::to_string(p) +
                                                " cannot be decoded: " + d.error().message);
      return false;
    }
    if (!range.contains(e.at)) return true;
    const std::string line = encode_json(e) + "\n";
    if (gzwrite(gz.get(), line.data(), static_cast<unsigned>(line.size())) !=
        static_cast<int>(line.size())) {
      failure = io_error("Cannot write " + path + ".");
      return false;
    }
    ++f.events;
    return true;
  });
  if (!s) return s.error();
  if (!failure) return failure.error();
  if (gzclose(gz.release()) != Z_OK) return io_error("Cannot finish " + path + ".");
  std::error_code ec;
  f.bytes = fs::file_size(path, ec);
  f.sha256 = sha256_of(path);
  if (ec || f.sha256.empty()) return io_error("Cannot read back " + path + ".");
  return f;
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) return io_error("Cannot write " + path + ".");
  return {};
}

}  // namespace

Result<ArchiveManifest> export_archive(const Store& store, const std::string& dir,
                                       const ArchiveRange& range, TimeMs created_at) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return make_error("archive_exists", dir + " is not empty; export into a new directory.");
  }
  fs::create_directories(dir, ec);
  if (ec) return io_error("Cannot create " + dir + ": " + ec.message() + ".");
  ArchiveManifest m;
  m.hemoledger_version = HEMOLEDGER_VERSION;
  m.schema_version = kSchemaVersion;
  m.created_at = created_at;
  m.range = range;
  std::string sums;
  for (auto p : store.partitions()) {
    auto f = export_partition(store, p, dir, range);
    if (!f) return f.error();
    m.events += f->events;
    sums += f->sha256 + "  " + f->name + "\n";
    m.files.push_back(std::move(*f));
  }
  if (auto s = write_text(dir + "/SHA256SUMS", sums); !s) return s.error();
  if (auto s = write_text(dir + "/manifest.json", manifest_json(m).dump(2) + "\n"); !s) {
    return s.error();
  }
  return m;
}

Result<ArchiveManifest> check_archive(const std::string& dir, bool count_events) {
  std::ifstream in(dir + "/manifest.json", std::ios::binary);
  if (!in) return make_error("bad_archive", "No manifest.json in " + dir + ".");
  const json j = json::parse(in, nullptr, false);
  auto m = parse_manifest(j);
  if (!m) return m.error();
  std::uint64_t total = 0;
  for (const auto& f : m->files) {
    const std::string path = dir + "/" + f.name;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec || size != f.bytes) {
      return make_error("archive_corrupt", path + (ec ? " is missing."
                                                      : " has " + std::to_string(size) +
                                                            " bytes, the manifest "
                                                            "says " +
                                                            std::to_string(f.bytes) + "."));
    }
    if (sha256_of(path) != f.sha256) {
      return make_error("archive_corrupt", path + ": its SHA-256 differs from the manifest's.");
    }
    if (count_events) {
      auto reader = ArchiveReader::open(dir, f);
      if (!reader) return reader.error();
      std::uint64_t n = 0;
      std::string line;
      Event e;
      for (;;) {
        auto more = (*reader)->next(line, e);
        if (!more) return more.error();
        if (!*more) break;
        ++n;
      }
      if (n != f.events) {
        return make_error("archive_corrupt", path + " holds " + std::to_string(n) +
                                                 " events, the manifest says " +
                                                 std::to_string(f.events) + ".");
      }
    }
    total += f.events;
  }
  if (total != m->events) {
    return make_error("archive_corrupt", "The manifest's files hold " + std::to_string(total) +
                                             " events, its total says " +
                                             std::to_string(m->events) + ".");
  }
  return m;
}

struct ArchiveReader::Impl {
  GzFile gz;
  std::string path;
  std::uint64_t lines = 0;
};

ArchiveReader::~ArchiveReader() = default;

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::open(const std::string& dir,
                                                           const ArchiveFile& file) {
  std::unique_ptr<ArchiveReader> r(new ArchiveReader());
  r->impl_ = std::make_unique<Impl>();
  r->impl_->path = dir + "/" + file.name;
  r->impl_->gz.reset(gzopen(r->impl_->path.c_str(), "rb"));
  if (!r->impl_->gz) return io_error("Cannot read " + r->impl_->path + ".");
  r->file_ = file;
  return r;
}

Result<bool> ArchiveReader::next(std::string& line, Event& event) {
  Impl& d = *impl_;
  line.clear();
  char buf[1 << 14];
  bool got = false;
  while (gzgets(d.gz.get(), buf, sizeof buf) != nullptr) {
    got = true;
    line += buf;
    if (line.back() == '\n') break;
  }
  int err = Z_OK;
  gzerror(d.gz.get(), &err);
  if (err != Z_OK && err != Z_STREAM_END) {
    return make_error("archive_corrupt", d.path + " cannot be decompressed.");
  }
  if (!got) return false;
  ++d.lines;
  if (line.back() == '\n') line.pop_back();
  auto e = decode_json(line);
  if (!e) {
    return make_error("bad_archive", d.path + " line " + std::to_string(d.lines) +
                                         " is not an event: " + e.error().message);
  }
  event = std::move(*e);
  return true;
}

}  // namespace hemoledger
