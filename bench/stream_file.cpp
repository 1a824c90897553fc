#include "bench/stream_file.h"

#include <stdexcept>

namespace hemoledger::bench {

namespace {

void put_u32(std::FILE* f, std::uint32_t v) {
  unsigned char b[4] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8),
                        static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 24)};
  std::fwrite(b, 1, 4, f);
}

bool get_u32(std::FILE* f, std::uint32_t& v) {
  unsigned char b[4];
  if (std::fread(b, 1, 4, f) != 4) return false;
  v = static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
      static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
  return true;
}

}  // namespace

StreamWriter::StreamWriter(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {
  if (!f_) throw std::runtime_error("cannot create " + path);
}

void StreamWriter::append(std::string_view key, std::string_view value) {
  put_u32(f_.get(), static_cast<std::uint32_t>(key.size()));
  std::fwrite(key.data(), 1, key.size(), f_.get());
  put_u32(f_.get(), static_cast<std::uint32_t>(value.size()));
  std::fwrite(value.data(), 1, value.size(), f_.get());
  ++records_;
  bytes_ += key.size() + value.size();
}

void StreamWriter::close() { f_.reset(); }

StreamReader::StreamReader(const std::string& path) : f_(std::fopen(path.c_str(), "rb")) {
  if (!f_) throw std::runtime_error("cannot open " + path);
}

bool StreamReader::next(std::string& key, std::string& value) {
  std::uint32_t n = 0;
  if (!get_u32(f_.get(), n)) return false;
  key.resize(n);
  if (std::fread(key.data(), 1, n, f_.get()) != n) return false;
  if (!get_u32(f_.get(), n)) return false;
  value.resize(n);
  return std::fread(value.data(), 1, n, f_.get()) == n;
}

}  // namespace hemoledger::bench
