// Every key and value of one partition's range (p<ppppp>/) in a RocksDB
// database on disk, read with RocksDB itself (read-only, the engine stopped),
// so that tests compare stores byte for byte without going through the Store.
#pragma once

#include <rocksdb/db.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace hemoledger::testing {

// key -> value of partition `p` in the database at `db_path`, without the
// keys whose kind (the letter after "p<ppppp>/") is in `skip_kinds`.
inline std::map<std::string, std::string> partition_keys(const std::string& db_path, int p,
                                                         const std::set<char>& skip_kinds = {}) {
  rocksdb::Options o;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::OpenForReadOnly(o, db_path, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  INFO(s.ToString());
  REQUIRE(s.ok());
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "p%05d/", p);
  std::map<std::string, std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  const std::string pre(prefix);
  for (it->Seek(pre); it->Valid() && it->key().starts_with(pre); it->Next()) {
    const std::string k = it->key().ToString();
    if (k.size() > pre.size() && skip_kinds.count(k[pre.size()])) continue;
    out.emplace(k, it->value().ToString());
  }
  REQUIRE(it->status().ok());
  return out;
}

// The first key where two ranges differ, for a failure message ("" if equal).
inline std::string first_difference(const std::map<std::string, std::string>& a,
                                    const std::map<std::string, std::string>& b) {
  auto i = a.begin();
  auto j = b.begin();
  for (; i != a.end() && j != b.end(); ++i, ++j) {
    if (i->first != j->first) return "key " + i->first + " against " + j->first;
    if (i->second != j->second) return "value of " + i->first;
  }
  if (i != a.end()) return "only in the first: " + i->first;
  if (j != b.end()) return "only in the second: " + j->first;
  return "";
}

}  // namespace hemoledger::testing
