#include "connectors/sender_text.h"

#include "events/event.h"

namespace hemoledger {

std::string sender_text(std::string_view text, std::size_t max_chars, Clipped clipped) {
  std::string out(text.substr(0, max_chars));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) c = '?';
  }
  if (clipped == Clipped::marked && text.size() > max_chars) out += "...";
  return out;
}

bool refused_for_sender_text(const Error& validate_error) {
  return validate_error.code == kInvalidText || validate_error.code == kFieldTooLong;
}

}  // namespace hemoledger
