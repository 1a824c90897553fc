// Small text helpers shared by the line-oriented connectors (HL7 v2, ASTM).
#pragma once

#include <initializer_list>
#include <string>
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

// `text` with the pieces at `indexes` (0-based after splitting a line on
// `sep`: index 0 is the record or segment name) of every line named `name`
// replaced by `mask`; empty pieces stay empty. Lines end with CR or LF, both
// kept as they were; every other byte is unchanged. For redacting what must
// not be stored (hl7::redact_identity, astm::redact_identity).
inline std::string mask_pieces(std::string_view text, std::string_view name, char sep,
                               std::initializer_list<int> indexes, std::string_view mask) {
  std::string out;
  out.reserve(text.size());
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line.size() > name.size() && line.substr(0, name.size()) == name &&
        line[name.size()] == sep) {
      int index = 0;
      std::size_t p = 0;
      while (true) {
        const std::size_t q = line.find(sep, p);
        const std::string_view field =
            line.substr(p, q == std::string_view::npos ? std::string_view::npos : q - p);
        bool masked = false;
        for (int i : indexes) masked = masked || (i == index);
        out += masked && !field.empty() ? mask : field;
        if (q == std::string_view::npos) break;
        out += sep;
        p = q + 1;
        ++index;
      }
    } else {
      out += line;
    }
    const std::size_t next = text.find_first_not_of("\r\n", end);
    const std::size_t stop = next == std::string_view::npos ? text.size() : next;
    out += text.substr(end, stop - end);
    start = stop;
  }
  return out;
}

}  // namespace hemoledger
