#include "projections/entry_digest.h"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

using namespace hemoledger;

namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

EntryDigest digest_of(const Entries& entries) {
  EntryDigest d;
  for (const auto& [k, v] : entries) d.add(k, v);
  return d;
}

}  // namespace

TEST_CASE("an entry digest does not depend on the order the entries come in", "[projections]") {
  const Entries entries = {{"a|1", "x"}, {"a|2", "y"}, {"b|1", ""}, {"c", "z"}};
  Entries reversed(entries.rbegin(), entries.rend());
  CHECK(digest_of(entries) == digest_of(reversed));
  CHECK(digest_of(entries).count == 4);
  EntryDigest halves = digest_of({entries[0], entries[1]});
  halves += digest_of({entries[2], entries[3]});
  CHECK(halves == digest_of(entries));
}

TEST_CASE("an entry digest changes with a changed, missing or extra entry", "[projections]") {
  const Entries entries = {{"a|1", "x"}, {"a|2", "y"}, {"b|1", "w"}};
  const EntryDigest d = digest_of(entries);
  const Entries changed = {entries[0], {"a|2", "Y"}, entries[2]};
  CHECK(digest_of(changed) != d);
  const Entries moved = {{"a|1x", ""}, entries[1], entries[2]};  // the same bytes, split elsewhere
  CHECK(digest_of(moved) != d);
  CHECK(digest_of({entries[0], entries[1]}) != d);
  const Entries extra = {entries[0], entries[1], entries[2], {"c", ""}};
  CHECK(digest_of(extra) != d);
  // Two entries swapped for two others with the same count still differ.
  CHECK(digest_of({entries[0], {"q", "1"}, {"r", "2"}}) != d);
}

TEST_CASE("an index entry's digest term is that of its kind followed by its key", "[projections]") {
  CHECK(EntryDigest::term('a', "NBS|0001", "O+") == EntryDigest::term("aNBS|0001", "O+"));
  CHECK(EntryDigest::term('a', "NBS|0001", "O+") != EntryDigest::term('x', "NBS|0001", "O+"));
  EntryDigest by_kind, by_key;
  by_kind.add('v', "donor|G1234", "00000000000000000001");
  by_key.add("vdonor|G1234", "00000000000000000001");
  CHECK(by_kind == by_key);
}
