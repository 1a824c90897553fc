// BackupSchedule: the running engine's backups (engine/storage/backups.h),
// taken on request (POST /api/admin/backup, `hemoledger backup --api`) or
// every `every_ms` on the engine's clock (`serve --backup-dir D
// --backup-every 6h --backup-keep 28`), keeping the newest `keep`.
//
//   BackupSchedule backups(engine, {"/var/lib/hemoledger/backups", 6 * kHour, 28}, clock);
//   std::thread t([&] { backups.run(stop); });   // only if every_ms > 0
//   auto taken = backups.take_now();             // from any thread
//
// Each backup carries JSON metadata: when it was taken (the engine's clock),
// the hemoledger version and the event schema version that wrote it. At
// start the schedule reads the newest backup in the directory, so that a
// restart neither takes one early nor reports backups as overdue.
//
// Threading: take_now() and status() from any thread; run() on its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "engine/io/clock.h"
#include "engine/io/mutex.h"
#include "engine/storage/backups.h"

namespace hemoledger {

class Engine;

struct BackupOptions {
  std::string dir;         // "": no backups
  TimeMs every_ms = 0;     // 0: on request only
  std::uint32_t keep = 0;  // backups kept in dir; 0: all
};

struct BackupStatus {
  std::string dir;
  TimeMs every_ms = 0;
  std::uint64_t taken = 0, failures = 0;  // by this process
  TimeMs last_success = 0;                // engine's clock; 0: none in dir
  std::uint32_t last_id = 0;
  std::uint64_t last_size_bytes = 0;
  double last_seconds = 0;  // how long the last one took
  std::string problem;      // the last failure's sentence, cleared by a success
};

// "30s", "15m", "6h", "1d" -> milliseconds; error "bad_duration".
[[nodiscard]] Result<TimeMs> parse_duration(std::string_view text);

class BackupSchedule {
 public:
  BackupSchedule(Engine& engine, BackupOptions options, Clock clock);

  bool enabled() const { return !options_.dir.empty(); }
  // Takes a backup now. Error "no_backup_dir" when no directory is configured.
  [[nodiscard]] Result<BackupInfo> take_now();
  // Takes one whenever the newest is `every_ms` old, until `stop`.
  void run(const std::atomic<bool>& stop);
  BackupStatus status() const;

 private:
  Engine& engine_;
  const BackupOptions options_;
  const Clock clock_;
  mutable Mutex mu_;
  BackupStatus status_ HL_GUARDED_BY(mu_);
};

// The time a backup's metadata says it was taken (0 if it does not say).
TimeMs backup_taken_at(const BackupInfo& info);

}  // namespace hemoledger
