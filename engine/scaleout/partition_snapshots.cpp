#include "engine/scaleout/partition_snapshots.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "events/event.h"
#include "events/time.h"

namespace hemoledger {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kFormatName[] = "hemoledger-partition-snapshot";

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

std::string hex(const unsigned char* d, unsigned n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += digits[d[i] >> 4];
    out += digits[d[i] & 15];
  }
  return out;
}

// Streams `from` through SHA-256 and, if `to` is given, into a new file
// there (synced). The digest in lower-case hex, or an error naming the file.
Result<std::string> sha256_copy(const std::string& from, const std::string* to) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return make_error("snapshot_io", "SHA-256 is not available.");
  }
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return make_error("snapshot_io", "cannot read " + from);
  int out = -1;
  if (to) out = ::open(to->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto done = [&](std::optional<std::string> failure) -> Result<std::string> {
    ::close(in);
    if (out >= 0 && ::fsync(out) != 0 && !failure) failure = "cannot sync " + *to;
    if (out >= 0) ::close(out);
    if (failure) return make_error("snapshot_io", *failure);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &n);
    return hex(md, n);
  };
  if (to && out < 0) return done("cannot write " + *to);
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) return done("cannot read " + from);
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
    for (ssize_t written = 0; out >= 0 && written < n;) {
      const ssize_t w = ::write(out, buf.data() + written, static_cast<std::size_t>(n - written));
      if (w <= 0) return done("cannot write " + *to);
      written += w;
    }
  }
  return done(std::nullopt);
}

bool sync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Writes `text` to `path` through a temporary name: synced, renamed, the
// directory synced.
Status write_atomically(const std::string& tmp, const std::string& path, const std::string& text) {
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) return make_error("snapshot_io", "cannot write " + tmp);
  }
  std::error_code ec;
  if (!sync_path(tmp)) return make_error("snapshot_io", "cannot sync " + tmp);
  fs::rename(tmp, path, ec);
  if (ec) return make_error("snapshot_io", "cannot rename " + tmp + ": " + ec.message());
  sync_path(fs::path(path).parent_path().string());
  return {};
}

std::string offset_name(std::int64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(offset));
  return buf;
}

// A name unique to this write: the instance and a random number.
std::string temp_name(const std::string& instance) {
  static std::atomic<std::uint64_t> n{std::random_device{}()};
  return ".tmp-" + instance + "-" + std::to_string(n.fetch_add(1)) + "-";
}

struct Found {
  SnapshotManifest manifest;
  std::string manifest_path;
  std::string problem;  // the manifest could not be read
};

// Every manifest of a partition's directory, newest (highest offset) first.
std::vector<Found> manifests_of(const std::string& pdir) {
  std::vector<Found> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(pdir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || entry.path().extension() != ".json") continue;
    Found f;
    f.manifest_path = entry.path().string();
    std::ifstream in(f.manifest_path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto m = parse_manifest(text);
    if (m) {
      f.manifest = std::move(*m);
    } else {
      f.problem = name + ": " + m.error().message;
      // Ordered by the offset its name starts with.
      std::sscanf(name.c_str(), "%" SCNd64, &f.manifest.offset);
    }
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const Found& a, const Found& b) {
    if (a.manifest.offset != b.manifest.offset) return a.manifest.offset > b.manifest.offset;
    return a.manifest_path > b.manifest_path;
  });
  return out;
}

// Keeps the newest `keep` snapshots, deletes the older ones (manifest first,
// so that no manifest names a missing file), and this instance's leftovers
// of interrupted writes.
void prune(const std::string& pdir, std::uint32_t keep, const std::string& instance,
           const std::string& writing) {
  auto all = manifests_of(pdir);
  std::error_code ec;
  for (std::size_t i = std::max<std::uint32_t>(keep, 1); i < all.size(); ++i) {
    fs::remove(all[i].manifest_path, ec);
    if (!all[i].manifest.file.empty()) fs::remove(pdir + "/" + all[i].manifest.file, ec);
  }
  const std::string mine = ".tmp-" + instance + "-";
  for (const auto& entry : fs::directory_iterator(pdir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(mine, 0) == 0 && name.rfind(writing, 0) != 0) fs::remove(entry.path(), ec);
  }
}

// Why a manifest cannot be installed here, or "" when it can.
std::string refusal(const SnapshotManifest& m, std::int32_t partition,
                    const std::string& cluster_id) {
  if (m.version != kSnapshotFormatVersion) {
    return "format version " + std::to_string(m.version) + ", this build reads " +
           std::to_string(kSnapshotFormatVersion);
  }
  if (m.partition != partition) return "it is of partition " + std::to_string(m.partition);
  if (m.event_schema > kSchemaVersion) {
    return "written with event schema " + std::to_string(m.event_schema) +
           ", newer than this build's " + std::to_string(kSchemaVersion);
  }
  if (m.cluster_id != cluster_id) {
    return "its offsets belong to Kafka cluster " + m.cluster_id + ", not " + cluster_id;
  }
  return "";
}

}  // namespace

std::string manifest_json(const SnapshotManifest& m) {
  return json{{"format", kFormatName},
              {"version", m.version},
              {"partition", m.partition},
              {"offset", m.offset},
              {"base", m.base},
              {"cluster_id", m.cluster_id},
              {"event_schema", m.event_schema},
              {"keys", m.keys},
              {"bytes", m.bytes},
              {"sha256", m.sha256},
              {"file", m.file},
              {"instance", m.instance},
              {"taken_at", format_rfc3339(m.taken_at)}}
      .dump(2);
}

Result<SnapshotManifest> parse_manifest(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  auto bad = [](std::string why) { return make_error("snapshot_manifest", std::move(why)); };
  if (!j.is_object() || j.value("format", "") != kFormatName) {
    return bad("not a hemoledger partition snapshot manifest");
  }
  SnapshotManifest m;
  try {
    m.version = j.at("version").get<int>();
    m.partition = j.at("partition").get<std::int32_t>();
    m.offset = j.at("offset").get<std::int64_t>();
    m.base = j.at("base").get<std::int64_t>();
    m.cluster_id = j.at("cluster_id").get<std::string>();
    m.event_schema = j.at("event_schema").get<int>();
    m.keys = j.at("keys").get<std::uint64_t>();
    m.bytes = j.at("bytes").get<std::uint64_t>();
    m.sha256 = j.at("sha256").get<std::string>();
    m.file = j.at("file").get<std::string>();
    m.instance = j.value("instance", "");
    auto at = parse_rfc3339(j.value("taken_at", ""));
    m.taken_at = at ? *at : 0;
  } catch (const json::exception& e) {
    return bad(std::string("a field is missing or of the wrong type (") + e.what() + ")");
  }
  if (m.file.empty() || m.file.find('/') != std::string::npos || m.file[0] == '.') {
    return bad("the file it names is not in its directory");
  }
  return m;
}

std::string snapshot_partition_dir(const std::string& dir, std::int32_t partition) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p%05d", partition);
  return dir + "/" + buf;
}

Result<SnapshotManifest> write_partition_snapshot(const Store& store, std::int32_t partition,
                                                  const SnapshotOptions& options,
                                                  const std::string& instance, TimeMs now) {
  const std::string pdir = snapshot_partition_dir(options.dir, partition);
  std::error_code ec;
  fs::create_directories(pdir, ec);
  if (ec) return make_error("snapshot_io", "cannot create " + pdir + ": " + ec.message());
  const std::string tmp = temp_name(instance);
  const std::string tmp_sst = pdir + "/" + tmp + "sst";
  auto exported = store.export_partition(partition, tmp_sst);
  if (!exported) {
    fs::remove(tmp_sst, ec);
    return exported.error();
  }
  auto cleanup = [&](Error e) -> Result<SnapshotManifest> {
    fs::remove(tmp_sst, ec);
    return e;
  };
  const auto existing = manifests_of(pdir);
  if (!existing.empty() && existing.front().manifest.offset >= exported->offset.next) {
    return cleanup(make_error(
        "snapshot_stale", "Partition " + std::to_string(partition) + " has a snapshot at offset " +
                              std::to_string(existing.front().manifest.offset) + " already."));
  }
  auto sha = sha256_copy(tmp_sst, nullptr);
  if (!sha) return cleanup(sha.error());
  if (!sync_path(tmp_sst)) return cleanup(make_error("snapshot_io", "cannot sync " + tmp_sst));
  SnapshotManifest m;
  m.partition = partition;
  m.offset = exported->offset.next;
  m.base = exported->offset.base;
  m.cluster_id = exported->offset.cluster_id;
  m.event_schema = kSchemaVersion;
  m.keys = exported->keys;
  m.bytes = exported->bytes;
  m.sha256 = *sha;
  m.instance = instance;
  m.taken_at = now;
  const std::string stem = offset_name(m.offset) + "-" + instance;
  m.file = stem + ".sst";
  fs::rename(tmp_sst, pdir + "/" + m.file, ec);
  if (ec)
    return cleanup(make_error("snapshot_io", "cannot rename " + tmp_sst + ": " + ec.message()));
  if (auto s = write_atomically(pdir + "/" + tmp + "json", pdir + "/" + stem + ".json",
                                manifest_json(m));
      !s) {
    fs::remove(pdir + "/" + m.file, ec);
    return s.error();
  }
  prune(pdir, options.keep, instance, tmp);
  return m;
}

SnapshotInstall install_latest_snapshot(Store& store, std::int32_t partition,
                                        const std::string& dir, const std::string& cluster_id,
                                        const std::string& scratch) {
  SnapshotInstall out;
  const std::string pdir = snapshot_partition_dir(dir, partition);
  const auto found = manifests_of(pdir);
  if (found.empty()) {
    out.reason = "no snapshot of partition " + std::to_string(partition) + " in " + dir;
    return out;
  }
  std::error_code ec;
  fs::remove_all(scratch, ec);  // copies an interrupted install left
  fs::create_directories(scratch, ec);
  std::vector<std::string> faults;
  for (const Found& f : found) {
    const SnapshotManifest& m = f.manifest;
    if (!f.problem.empty()) {
      faults.push_back("unreadable manifest " + f.problem);
      continue;
    }
    if (auto why = refusal(m, partition, cluster_id); !why.empty()) {
      faults.push_back(m.file + ": " + why);
      continue;
    }
    const std::string copy = scratch + "/" + m.file;
    auto sha = sha256_copy(pdir + "/" + m.file, &copy);
    if (!sha) {
      fs::remove(copy, ec);
      faults.push_back(m.file + ": " + sha.error().message);
      continue;
    }
    if (*sha != m.sha256) {
      fs::remove(copy, ec);
      faults.push_back(m.file + ": its SHA-256 does not match its manifest (damaged file)");
      continue;
    }
    if (auto s = store.ingest_partition(partition, copy); !s) {
      fs::remove(copy, ec);
      faults.push_back(m.file + ": " + s.error().message);
      continue;
    }
    fs::remove(copy, ec);  // moved into the database already, unless it was copied
    out.installed = true;
    out.manifest = m;
    if (!faults.empty()) {
      spdlog::warn("snapshots: partition {}: newer snapshots skipped: {}", partition,
                   joined(faults));
    }
    return out;
  }
  out.reason = "no usable snapshot of partition " + std::to_string(partition) + " in " + dir +
               ": " + joined(faults);
  return out;
}

// ---------------------------------------------------------------------------
// The publisher

SnapshotPublisher::SnapshotPublisher(const Store& store, SnapshotOptions options,
                                     std::string instance, Clock clock)
    : store_(store),
      options_(std::move(options)),
      instance_(std::move(instance)),
      clock_(std::move(clock)) {
  worker_ = std::thread([this] { run(); });
}

SnapshotPublisher::~SnapshotPublisher() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void SnapshotPublisher::serving(std::map<std::int32_t, std::int64_t> next_offsets) {
  MutexLock lock(mu_);
  serving_ = std::move(next_offsets);
}

void SnapshotPublisher::finish(std::map<std::int32_t, std::int64_t> next_offsets) {
  {
    MutexLock lock(mu_);
    serving_ = std::move(next_offsets);
    finishing_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

SnapshotStatus SnapshotPublisher::status() const {
  MutexLock lock(mu_);
  return status_;
}

void SnapshotPublisher::run() {
  for (;;) {
    std::map<std::int32_t, std::int64_t> serving;
    bool finishing = false;
    {
      MutexLock lock(mu_);
      if (stop_) return;
      if (!finishing_) {
        lock.wait_until(wake_, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      }
      if (stop_) return;
      serving = serving_;
      finishing = finishing_;
    }
    if (finishing) {
      publish_final(serving);
      return;
    }
    for (auto p : due(serving)) {
      {
        MutexLock lock(mu_);
        if (stop_ || finishing_) break;
      }
      publish(p);
    }
  }
}

void SnapshotPublisher::publish_final(const std::map<std::int32_t, std::int64_t>& serving) {
  for (const auto& [p, next] : serving) {
    auto t = tracks_.find(p);
    if (t != tracks_.end() && next <= t->second.offset) continue;  // nothing new since
    publish(p);  // "snapshot_stale" when the directory already covers it: nothing written
  }
}

std::vector<std::int32_t> SnapshotPublisher::due(
    const std::map<std::int32_t, std::int64_t>& serving) {
  const TimeMs now = clock_.now();
  for (auto it = tracks_.begin(); it != tracks_.end();) {
    it = serving.count(it->first) ? std::next(it) : tracks_.erase(it);
  }
  std::vector<std::int32_t> out;
  for (const auto& [p, next] : serving) {
    auto [it, fresh] = tracks_.try_emplace(p);
    if (fresh) {
      // Counting starts at the newest snapshot there is (whoever wrote it).
      const auto existing = manifests_of(snapshot_partition_dir(options_.dir, p));
      it->second = Track{existing.empty() ? 0 : existing.front().manifest.offset, now};
    }
    const Track& t = it->second;
    if (next <= t.offset) continue;
    if (next - t.offset >= options_.every_events || now - t.at >= options_.every_ms) {
      out.push_back(p);
    }
  }
  return out;
}

void SnapshotPublisher::publish(std::int32_t p) {
  const TimeMs now = clock_.now();
  auto m = write_partition_snapshot(store_, p, options_, instance_, now);
  Track& t = tracks_[p];
  t.at = now;  // after a failure too: tried again when due again, not at once
  MutexLock lock(mu_);
  if (m) {
    t.offset = m->offset;
    status_.published[p] = *m;
    status_.problem.clear();
    spdlog::info("snapshots: partition {} at offset {} ({} keys, {} bytes) -> {}", p, m->offset,
                 m->keys, m->bytes, options_.dir);
    return;
  }
  if (m.error().code == "partition_empty") return;  // dropped meanwhile: no longer ours
  if (m.error().code == "snapshot_stale") {
    // Someone wrote one as new (a previous owner, or this instance before a
    // restart): count from there.
    const auto existing = manifests_of(snapshot_partition_dir(options_.dir, p));
    if (!existing.empty()) t.offset = std::max(t.offset, existing.front().manifest.offset);
    return;
  }
  status_.problem = "partition " + std::to_string(p) + ": " + m.error().message;
  spdlog::warn("snapshots: cannot write a snapshot of partition {}: {}", p, m.error().message);
}

}  // namespace hemoledger
