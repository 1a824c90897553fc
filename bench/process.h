// Child processes and /proc readings for the benchmarks: spawn the hemoledger
// binary, stop and continue it, read its resident memory, wait for it with
// its resource usage.
//
// Threading: a ChildProcess belongs to one thread; proc readers are free functions.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hemoledger::bench {

struct Memory {
  std::uint64_t rss_kib = 0;  // VmRSS
  std::uint64_t hwm_kib = 0;  // VmHWM, the peak
};
Memory read_memory(pid_t pid);
// CPU time the process has used so far (user + system, all threads), seconds.
double read_cpu_seconds(pid_t pid);

class ChildProcess {
 public:
  // Starts argv[0] with stdout and stderr appended to `log`. Throws
  // std::runtime_error if it cannot be started.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log);
  ~ChildProcess();  // SIGKILL if still running
  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for exit; returns the wait status and fills `usage`.
  int wait(rusage* usage = nullptr);
  bool running();

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

// A loopback port nobody listens on (the socket is closed again, so that only
// the engine listens there). Throws std::runtime_error if there is none.
int free_port();

// The whole file at `path` ("" if it cannot be read), e.g. an engine's log.
std::string read_text(const std::string& path);

// Bytes of every regular file below `dir`.
std::uint64_t directory_bytes(const std::string& dir);

}  // namespace hemoledger::bench
