// StreamFile: the benchmark's event stream, recorded once and replayed to every
// consumer so that the ceiling, the engine and PostgreSQL read the same bytes.
//
// Format: a sequence of records, each a little-endian uint32 key length, the
// key (the DIN), a little-endian uint32 value length and the value (the
// event's JSON, exactly as the demo feed produces it to Kafka).
//
// Threading: one writer or one reader per object.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace hemoledger::bench {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

class StreamWriter {
 public:
  // Throws std::runtime_error if the file cannot be created (a start-up failure).
  explicit StreamWriter(const std::string& path);
  void append(std::string_view key, std::string_view value);
  std::uint64_t records() const { return records_; }
  std::uint64_t bytes() const { return bytes_; }
  void close();

 private:
  FilePtr f_;
  std::uint64_t records_ = 0, bytes_ = 0;
};

class StreamReader {
 public:
  explicit StreamReader(const std::string& path);
  // The next record; false at the end of the file.
  bool next(std::string& key, std::string& value);

 private:
  FilePtr f_;
};

}  // namespace hemoledger::bench
