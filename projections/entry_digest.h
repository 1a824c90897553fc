// EntryDigest: an order-independent digest of a set of stored key-value
// entries, so that a replay can be compared with what the store holds
// without holding either side as a map (engine/ledger/replay.cpp: the stock
// history, the indexes). It is the count of the entries and the sum
// (mod 2^64) of a 64-bit FNV-1a hash of each entry's key, a zero byte and
// its value: the same set visited in any order gives the same digest, and a
// changed, missing or extra entry changes it (unless two hashes collide).
// Not a defence against a forger: it detects accidents and bugs.
//
//   EntryDigest replayed, stored;
//   for (const auto& e : index_entries(d)) replayed.add(e.kind, e.key, e.value);
//   store.scan_index_in(p, [&](char kind, auto key, auto value) {
//     stored.add(kind, key, value); return true; });
//   if (replayed != stored) { /* they differ */ }
//
// Pure; values only.
#pragma once

#include <cstdint>
#include <string_view>

namespace hemoledger {

// FNV-1a, 64 bits, continuing from `h`: fnv1a(b, fnv1a(a)) == fnv1a(a + b).
// Stable across builds and machines, unlike std::hash.
std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull);

struct EntryDigest {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;

  // The term one entry adds to `sum`. With `kind`, the entry's key is `kind`
  // followed by `key` (the form of an index entry, projections/indexes.h):
  // term(k, key, value) == term(std::string(1, k) + key, value).
  static std::uint64_t term(std::string_view key, std::string_view value);
  static std::uint64_t term(char kind, std::string_view key, std::string_view value);

  void add(std::string_view key, std::string_view value) { add_term(term(key, value)); }
  void add(char kind, std::string_view key, std::string_view value) {
    add_term(term(kind, key, value));
  }
  void add_term(std::uint64_t t) {
    ++count;
    sum += t;
  }
  EntryDigest& operator+=(const EntryDigest& other) {
    count += other.count;
    sum += other.sum;
    return *this;
  }
  EntryDigest& operator-=(const EntryDigest& other) {
    count -= other.count;
    sum -= other.sum;
    return *this;
  }
  bool operator==(const EntryDigest&) const = default;
};

}  // namespace hemoledger
