#include "projections/entry_digest.h"

namespace hemoledger {

std::uint64_t fnv1a(std::string_view s, std::uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::uint64_t EntryDigest::term(std::string_view key, std::string_view value) {
  return fnv1a(value, fnv1a(std::string_view("\0", 1), fnv1a(key)));
}

std::uint64_t EntryDigest::term(char kind, std::string_view key, std::string_view value) {
  return fnv1a(value,
               fnv1a(std::string_view("\0", 1), fnv1a(key, fnv1a(std::string_view(&kind, 1)))));
}

}  // namespace hemoledger
