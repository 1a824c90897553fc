// Backups through RocksDB's BackupEngine (engine/storage/backups.h).
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/utilities/backup_engine.h>

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "engine/storage/backups.h"
#include "engine/storage/store.h"
#include "engine/storage/store_keys.h"

namespace hemoledger {

using namespace store_keys;

namespace {

rocksdb::BackupEngineOptions engine_options(const std::string& dir) {
  rocksdb::BackupEngineOptions o(dir);
  o.share_table_files = true;  // incremental: table files are shared between backups
  o.share_files_with_checksum = true;
  o.sync = true;
  o.destroy_old_data = false;
  return o;
}

BackupInfo info_of(const rocksdb::BackupInfo& b) {
  return BackupInfo{b.backup_id, b.timestamp, b.size, b.number_files, b.app_metadata};
}

// BackupEngine's error, translated; a corruption names the backup's files.
Error backup_error(const rocksdb::Status& s, std::string_view what) {
  if (s.IsCorruption() || s.IsNotFound() || s.IsInvalidArgument()) {
    return make_error("backup_corrupt", std::string(what) + ": " + s.ToString());
  }
  return storage_error(s, what);
}

Result<std::unique_ptr<rocksdb::BackupEngineReadOnly>> open_read_only(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir + "/meta", ec)) {
    return make_error("no_backups", "No hemoledger backup in " + dir + ".");
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  auto s = rocksdb::BackupEngineReadOnly::Open(engine_options(dir), rocksdb::Env::Default(), &raw);
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  if (!s.ok()) return storage_error(s, "cannot read the backups in " + dir);
  return engine;
}

std::vector<rocksdb::BackupInfo> infos(const rocksdb::BackupEngineReadOnly& engine) {
  std::vector<rocksdb::BackupInfo> all;
  engine.GetBackupInfo(&all);
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.backup_id < b.backup_id; });
  return all;
}

// Backups into one directory from this process, one at a time.
std::mutex& backup_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

Result<BackupInfo> Store::backup(const std::string& dir, const std::string& metadata,
                                 std::uint32_t keep) {
  std::lock_guard<std::mutex> lock(backup_mutex());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error("storage_error",
                      "cannot create the backup directory " + dir + ": " + ec.message());
  }
  rocksdb::BackupEngine* raw = nullptr;
  auto s = rocksdb::BackupEngine::Open(engine_options(dir), rocksdb::Env::Default(), &raw);
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  if (!s.ok()) return storage_error(s, "cannot open the backup directory " + dir);
  rocksdb::CreateBackupOptions create;
  // The memtables are flushed first, so the backup is the table files alone
  // at one point in time (everything committed before the call).
  create.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  s = engine->CreateNewBackupWithMetadata(create, db_.get(), metadata, &id);
  if (!s.ok()) return storage_error(s, "cannot back up the database into " + dir);
  if (keep > 0) {
    s = engine->PurgeOldBackups(keep);
    if (!s.ok())
      return storage_error(s, "backup " + std::to_string(id) +
                                  " taken, but older ones "
                                  "could not be deleted");
  }
  rocksdb::BackupInfo info;
  const rocksdb::Status got = engine->GetBackupInfo(id, &info);
  if (!got.ok())
    return storage_error(got, "backup " + std::to_string(id) + " taken but unreadable");
  return info_of(info);
}

Result<std::vector<BackupInfo>> list_backups(const std::string& dir) {
  auto engine = open_read_only(dir);
  if (!engine) return engine.error();
  std::vector<BackupInfo> out;
  for (const auto& b : infos(**engine)) out.push_back(info_of(b));
  if (out.empty()) return make_error("no_backups", "No hemoledger backup in " + dir + ".");
  return out;
}

Result<std::vector<BackupInfo>> verify_backups(const std::string& dir, std::uint32_t id) {
  auto engine = open_read_only(dir);
  if (!engine) return engine.error();
  std::vector<rocksdb::BackupID> corrupt;
  (*engine)->GetCorruptedBackups(&corrupt);
  if (!corrupt.empty() && (id == 0 || std::count(corrupt.begin(), corrupt.end(), id) > 0)) {
    return make_error("backup_corrupt", "Backup " + std::to_string(id ? id : corrupt.front()) +
                                            " in " + dir +
                                            " is corrupt (its metadata is "
                                            "unreadable or a file it names is missing).");
  }
  std::vector<BackupInfo> checked;
  for (const auto& b : infos(**engine)) {
    if (id != 0 && b.backup_id != id) continue;
    auto s = (*engine)->VerifyBackup(b.backup_id, /*verify_with_checksum=*/true);
    if (!s.ok()) return backup_error(s, "backup " + std::to_string(b.backup_id) + " in " + dir);
    checked.push_back(info_of(b));
  }
  if (checked.empty()) {
    return make_error(id ? "no_such_backup" : "no_backups",
                      id ? "No backup " + std::to_string(id) + " in " + dir + "."
                         : "No hemoledger backup in " + dir + ".");
  }
  return checked;
}

Result<BackupInfo> restore_backup(const std::string& dir, std::uint32_t id,
                                  const std::string& db_dir, bool replace) {
  std::error_code ec;
  if (!replace && std::filesystem::exists(db_dir + "/CURRENT", ec)) {
    return make_error("restore_target_in_use",
                      db_dir +
                          " already holds a database; restore into an empty data "
                          "directory (or move it aside).");
  }
  auto engine = open_read_only(dir);
  if (!engine) return engine.error();
  const auto all = infos(**engine);
  if (all.empty()) return make_error("no_backups", "No hemoledger backup in " + dir + ".");
  const rocksdb::BackupInfo* chosen = &all.back();
  if (id != 0) {
    chosen = nullptr;
    for (const auto& b : all) {
      if (b.backup_id == id) chosen = &b;
    }
    if (!chosen) {
      return make_error("no_such_backup", "No backup " + std::to_string(id) + " in " + dir + ".");
    }
  }
  std::filesystem::create_directories(db_dir, ec);
  auto s =
      (*engine)->RestoreDBFromBackup(rocksdb::RestoreOptions(), chosen->backup_id, db_dir, db_dir);
  if (!s.ok()) {
    return backup_error(
        s, "cannot restore backup " + std::to_string(chosen->backup_id) + " into " + db_dir);
  }
  return info_of(*chosen);
}

}  // namespace hemoledger
