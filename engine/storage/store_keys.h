// The key schema of the Store (its layout is drawn in store.h and described in
// docs/storage.md), the encoding of its integer values, and the translation of
// RocksDB's errors: shared by the store*.cpp files of this folder, used by no
// one else.
#pragma once

#include <rocksdb/status.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "events/result.h"
#include "projections/indexes.h"

namespace hemoledger::store_keys {

inline std::string part_prefix(std::int32_t partition) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p%05d/", partition);
  return buf;
}

inline std::string offset_text(std::int64_t offset) { return decimal20(offset); }

// Keys of the alerts, which span partitions: "g/<kind>" or "g/<kind>/<rest>".
inline std::string global_key(char kind, std::string_view rest = {}, bool dir = false) {
  std::string k = "g/";
  k += kind;
  if (dir || !rest.empty()) {
    k += '/';
    k.append(rest);
  }
  return k;
}

inline std::string key(std::int32_t partition, char kind, std::string_view rest = {}) {
  std::string k = part_prefix(partition);
  k += kind;
  if (!rest.empty() || kind == 'a' || kind == 'd' || kind == 'j' || kind == 'n' || kind == 'r' ||
      kind == 'i' || kind == 's' || kind == 'x' || kind == 'k' || kind == 'v' || kind == 'l' ||
      kind == 'g' || kind == 'u' || kind == 'y' || kind == 'b' || kind == 'q' || kind == 'w' ||
      kind == 'c' || kind == 'm' || kind == 't' || kind == 'h' || kind == 'e') {
    k += '/';
    k.append(rest);
  }
  return k;
}

inline std::string encode_i64(std::int64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i)
    s[i] = static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff);
  return s;
}

inline bool decode_i64(std::string_view s, std::int64_t& v) {
  if (s.size() != 8) return false;
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i)
    u |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  v = static_cast<std::int64_t>(u);
  return true;
}

// The value of p<ppppp>/o: the next offset, a zero byte, the base and the
// cluster id (the first format, without the base: the next offset and the
// cluster id). False when damaged.
struct StoredOffsetValue {
  std::int64_t next = 0, base = 0;
  std::string cluster_id;
};
inline bool decode_stored_offset(std::string_view raw, StoredOffsetValue& o) {
  if (!decode_i64(raw.substr(0, 8), o.next)) return false;
  if (raw.size() >= 17 && raw[8] == '\0') {
    if (!decode_i64(raw.substr(9, 8), o.base)) return false;
    o.cluster_id = std::string(raw.substr(17));
  } else {
    o.cluster_id = std::string(raw.substr(8));
  }
  return true;
}

inline Error storage_error(const rocksdb::Status& s, std::string_view what) {
  return make_error("storage_error", std::string(what) + ": " + s.ToString());
}

inline Error corrupt(std::string what) { return make_error("corrupt_state", std::move(what)); }

inline bool parse_offset_key(std::string_view suffix, std::int64_t& out) {
  return parse_decimal20(suffix, out);
}

}  // namespace hemoledger::store_keys
