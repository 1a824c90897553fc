// The test build's failpoints (engine/cli/failpoints.h): HEMOLEDGER_FAILPOINT.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "engine/cli/failpoints.h"

namespace hemoledger {

FailpointHook failpoints_of_this_build() {
  const char* spec = std::getenv("HEMOLEDGER_FAILPOINT");
  if (spec == nullptr || *spec == '\0') return {};
  const std::string text = spec;
  const auto colon = text.find(':');
  const std::string at = text.substr(0, colon);
  const std::uint64_t n =
      colon == std::string::npos ? 0 : std::strtoull(text.c_str() + colon + 1, nullptr, 10);
  spdlog::warn("failpoint armed: {} of batch {}", at, n);
  return [at, n](std::string_view where, std::uint64_t batch) {
    if (where != at || batch != n) return;
    spdlog::warn("failpoint {} reached at batch {}: killing the process", where, n);
    std::raise(SIGKILL);
  };
}

}  // namespace hemoledger
