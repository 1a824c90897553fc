// Backups of the Store's RocksDB database, through RocksDB's BackupEngine:
// consistent (the database is flushed and its live files are copied as one
// point in time, while the engine keeps writing) and incremental (a table
// file already in the backup directory is shared, not copied again; each
// file's checksum is recorded). Nothing of RocksDB leaks past this header.
//
//   auto taken = store.backup("/var/backups/hemoledger", metadata_json, 28);
//   auto ok = verify_backups("/var/backups/hemoledger", 0);   // every backup
//   auto done = restore_backup("/var/backups/hemoledger", 0, "DATA_DIR/db");
//
// Store::backup (store.h) takes a backup of an open store; the functions here
// need no database. A backup directory belongs to one engine's database.
//
// Errors: "no_backups" (the directory holds no backup), "no_such_backup",
// "backup_corrupt" (a file is missing, or its size or checksum differs),
// "restore_target_in_use" (the target already holds a database),
// "storage_error" (RocksDB's own, with its sentence).
// Threading: backups into one directory are serialized within the process
// (Store::backup takes a lock); verify and restore must not run against a
// directory another process is writing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "events/result.h"

namespace hemoledger {

struct BackupInfo {
  std::uint32_t id = 0;          // 1, 2, ... in the order taken
  std::int64_t created_s = 0;    // when RocksDB finished it (seconds, Unix epoch, wall clock)
  std::uint64_t size_bytes = 0;  // files of this backup, shared ones included
  std::uint32_t files = 0;
  std::string metadata;  // what the caller attached (hemoledger: JSON)
};

// The backups in `dir`, oldest first. Error "no_backups" when there is none.
[[nodiscard]] Result<std::vector<BackupInfo>> list_backups(const std::string& dir);

// Checks backup `id` (0: every backup) file by file against the sizes and
// checksums recorded when it was taken. Returns the backups checked.
[[nodiscard]] Result<std::vector<BackupInfo>> verify_backups(const std::string& dir,
                                                             std::uint32_t id);

// Restores backup `id` (0: the newest) into `db_dir`, which must not hold a
// database (a CURRENT file) unless `replace` is set. The restored files are
// checked against their checksums as they are copied.
[[nodiscard]] Result<BackupInfo> restore_backup(const std::string& dir, std::uint32_t id,
                                                const std::string& db_dir, bool replace = false);

}  // namespace hemoledger
