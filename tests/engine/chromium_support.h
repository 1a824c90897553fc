// Headless Chromium for the page tests (Debian's `chromium` package): where
// it is, the flags every test starts it with, and one run of it with a
// timeout (chromium(): --dump-dom, --screenshot=, --print-to-pdf=).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/engine/support.h"

namespace hemoledger::testing {

inline constexpr const char* kChromium = "/usr/bin/chromium";

// argv for headless Chromium with the profile in `profile_dir`, English UI,
// and every network feature that would reach outside the machine turned off;
// the caller appends its own flags and the URL.
inline std::vector<std::string> headless_chromium_args(const std::string& profile_dir) {
  return {kChromium,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--lang=en-US",
          "--user-data-dir=" + profile_dir};
}

// Runs a command in its own process group with stdout and stderr in files;
// kills the whole group if it outlives `seconds`. Returns the wait status, or
// -1 if it could not be started or timed out.
inline int run_with_timeout(std::vector<std::string> args, const std::string& out,
                            const std::string& err, double seconds) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return -1;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// Headless Chromium with a fresh profile, network features that would reach
// outside the machine turned off, and `extra` flags (--dump-dom,
// --screenshot=...). Returns what it printed on standard output.
inline std::string chromium(const std::vector<std::string>& extra, const std::string& url,
                            const std::string& work_dir, const std::string& name) {
  TempDir profile;
  std::vector<std::string> args = headless_chromium_args(profile.path());
  args.push_back("--virtual-time-budget=5000");
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(url);
  const std::string out = work_dir + "/" + name + ".out", err = work_dir + "/" + name + ".err";
  const int status = run_with_timeout(args, out, err, 120);
  INFO("chromium " << name << " stderr:\n" << read_file(err));
  REQUIRE(status != -1);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return read_file(out);
}

}  // namespace hemoledger::testing
