#include "engine/cli/self_restart.h"

#include <unistd.h>

#include <cstdlib>

namespace hemoledger {

std::vector<std::string> with_clock_start(std::vector<std::string> args, const std::string& start) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--clock-start" && i + 1 < args.size()) {
      args[i + 1] = start;
    } else if (args[i].rfind("--clock-start=", 0) == 0) {
      args[i] = "--clock-start=" + start;
    }
  }
  return args;
}

void restart_in_place(const std::vector<std::string>& args, const Clock& clock) {
  std::vector<std::string> next = args;
  if (!clock.is_real()) {
    const std::string now = format_rfc3339(clock.now());
    setenv("HEMOLEDGER_CLOCK_START", now.c_str(), 1);
    next = with_clock_start(std::move(next), now);
  }
  std::vector<char*> argv;
  for (auto& a : next) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
}

}  // namespace hemoledger
