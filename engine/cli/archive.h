// Archives of the journal for long retention (docs/operations.md, "Archive"):
// a directory of gzip-compressed JSON Lines, one file per partition of the
// events topic, each line one accepted event in the documented JSON encoding
// (docs/events.md, events/json_codec.h) in journal order, with a manifest:
//
//   ARCHIVE/manifest.json          format, versions, range, counts, and per file
//                                  its partition, event count, size and SHA-256
//   ARCHIVE/SHA256SUMS             the same digests for `sha256sum -c`
//   ARCHIVE/events-p00000.jsonl.gz ...
//
// An archive needs nothing of hemoledger to be read (zcat, jq, sha256sum), and
// `hemoledger import` rebuilds an engine's state from one or several.
//
// Errors: "archive_exists" (the target directory is not empty), "bad_archive"
// (no readable manifest, or a line that is not an event), "archive_corrupt"
// (a file's size, digest or count differs from the manifest), "io_error".
// Threading: the calling thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/event.h"
#include "events/result.h"

namespace hemoledger {

class Store;

inline constexpr int kArchiveFormatVersion = 1;

// Events whose `at` (when it happened) lies in [from, to); unset: unbounded.
struct ArchiveRange {
  std::optional<TimeMs> from, to;
  bool contains(TimeMs at) const { return (!from || at >= *from) && (!to || at < *to); }
};

struct ArchiveFile {
  std::string name;  // relative to the archive directory
  std::int32_t partition = 0;
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;  // compressed
  std::string sha256;       // of the compressed file, lower-case hex
};

struct ArchiveManifest {
  std::string hemoledger_version;
  int schema_version = 0;  // the newest event schema the writer knew
  TimeMs created_at = 0;
  ArchiveRange range;
  std::uint64_t events = 0;
  std::vector<ArchiveFile> files;
};

// Writes the journal of `store` (or the events of `range`) into `dir`, which
// is created and must be empty.
[[nodiscard]] Result<ArchiveManifest> export_archive(const Store& store, const std::string& dir,
                                                     const ArchiveRange& range, TimeMs created_at);

// Reads the manifest of `dir` and checks every file against it: size, SHA-256
// and, with `count_events`, the number of lines.
[[nodiscard]] Result<ArchiveManifest> check_archive(const std::string& dir, bool count_events);

// Reads the events of one file of an archive in order, one at a time.
class ArchiveReader {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ArchiveReader>> open(const std::string& dir,
                                                                   const ArchiveFile& file);
  ~ArchiveReader();
  // The next line as written and the event it decodes to; false at the end.
  [[nodiscard]] Result<bool> next(std::string& line, Event& event);
  const ArchiveFile& file() const { return file_; }

 private:
  ArchiveReader() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ArchiveFile file_;
};

}  // namespace hemoledger
