// Small text helpers shared by the line-oriented connectors (HL7 v2, ASTM).
#pragma once

#include <string_view>

namespace hemoledger {

// The n-th (1-based) piece of s split on sep, or "" when there are fewer.
inline std::string_view piece(std::string_view s, char sep, int n) {
  if (n < 1) return {};
  std::size_t start = 0;
  for (int k = 1; k < n; ++k) {
    const std::size_t i = s.find(sep, start);
    if (i == std::string_view::npos) return {};
    start = i + 1;
  }
  const std::size_t end = s.find(sep, start);
  return s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

}  // namespace hemoledger
