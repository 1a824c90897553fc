#include "engine/ledger/backup_schedule.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/ledger/engine.h"
#include "events/event.h"

namespace hemoledger {

using nlohmann::json;

Result<TimeMs> parse_duration(std::string_view text) {
  auto bad = [&] {
    return make_error("bad_duration",
                      "A duration is a whole number and a unit (s, m, h or d), "
                      "e.g. 6h or 30m; got \"" +
                          std::string(text) + "\".");
  };
  if (text.size() < 2) return bad();
  TimeMs unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1000;
      break;
    case 'm':
      unit = kMinute;
      break;
    case 'h':
      unit = kHour;
      break;
    case 'd':
      unit = kDay;
      break;
    default:
      return bad();
  }
  TimeMs n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9' || n > kDay * 365) return bad();
    n = n * 10 + (c - '0');
  }
  if (n == 0) return bad();
  return n * unit;
}

TimeMs backup_taken_at(const BackupInfo& info) {
  const json m = json::parse(info.metadata, nullptr, false);
  if (!m.is_object() || !m.contains("taken_at") || !m["taken_at"].is_string()) return 0;
  auto t = parse_rfc3339(m["taken_at"].get<std::string>());
  return t ? *t : 0;
}

BackupSchedule::BackupSchedule(Engine& engine, BackupOptions options, Clock clock)
    : engine_(engine), options_(std::move(options)), clock_(std::move(clock)) {
  MutexLock lock(mu_);
  status_.dir = options_.dir;
  status_.every_ms = options_.every_ms;
  if (!enabled()) return;
  // The newest backup already there, so that a restart does not take one early.
  auto existing = list_backups(options_.dir);
  if (existing && !existing->empty()) {
    status_.last_id = existing->back().id;
    status_.last_success = backup_taken_at(existing->back());
    status_.last_size_bytes = existing->back().size_bytes;
  }
}

Result<BackupInfo> BackupSchedule::take_now() {
  if (!enabled()) {
    return make_error("no_backup_dir",
                      "This engine has no backup directory: start it with --backup-dir DIR "
                      "(or backup-dir in its configuration file).");
  }
  const TimeMs taken_at = clock_.now();
  const json metadata = {{"taken_at", format_rfc3339(taken_at)},
                         {"hemoledger", HEMOLEDGER_VERSION},
                         {"schema_version", kSchemaVersion},
                         {"data_dir", engine_.data_dir()}};
  const auto t0 = std::chrono::steady_clock::now();
  auto taken = engine_.store().backup(options_.dir, metadata.dump(), options_.keep);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MutexLock lock(mu_);
  if (!taken) {
    ++status_.failures;
    status_.problem = taken.error().message;
    spdlog::error("backup into {} failed: {}", options_.dir, taken.error().message);
    return taken.error();
  }
  ++status_.taken;
  status_.last_success = taken_at;
  status_.last_id = taken->id;
  status_.last_size_bytes = taken->size_bytes;
  status_.last_seconds = seconds;
  status_.problem.clear();
  spdlog::info("backup {} taken into {} ({} files, {} bytes, {:.1f} s)", taken->id, options_.dir,
               taken->files, taken->size_bytes, seconds);
  return taken;
}

void BackupSchedule::run(const std::atomic<bool>& stop) {
  if (!enabled() || options_.every_ms <= 0) return;
  TimeMs retry_at = 0;  // after a failure, wait a minute before trying again
  while (!stop.load()) {
    TimeMs last = 0;
    {
      MutexLock lock(mu_);
      last = status_.last_success;
    }
    const TimeMs now = clock_.now();
    if (now - last >= options_.every_ms && now >= retry_at) {
      if (!take_now()) retry_at = now + std::min<TimeMs>(kMinute, options_.every_ms);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

BackupStatus BackupSchedule::status() const {
  MutexLock lock(mu_);
  return status_;
}

}  // namespace hemoledger
