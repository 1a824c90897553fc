// --log-format (engine/cli/cli_support.h): spdlog's text pattern, or one JSON
// object a line for journald or a log collector.
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "engine/cli/cli_support.h"

namespace hemoledger {
namespace {

// %* : the message, escaped as the inside of a JSON string.
class JsonEscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static const char* hex = "0123456789abcdef";
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        dest.push_back('\\');
        dest.push_back(c);
      } else if (c == '\n') {
        append(dest, "\\n");
      } else if (c == '\r') {
        append(dest, "\\r");
      } else if (c == '\t') {
        append(dest, "\\t");
      } else if (u < 0x20) {
        append(dest, "\\u00");
        dest.push_back(hex[u >> 4]);
        dest.push_back(hex[u & 15]);
      } else {
        dest.push_back(c);  // UTF-8 passes as it is
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }

 private:
  static void append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
  }
};

}  // namespace

Status use_log_format(const std::string& format) {
  if (format == "text") return {};
  if (format != "json") {
    return make_error("bad_log_format", "--log-format is text or json, not " + format + ".");
  }
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  f->add_flag<JsonEscapedMessage>('*').set_pattern(
      R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","message":"%*"})");
  spdlog::set_formatter(std::move(f));
  return {};
}

}  // namespace hemoledger
