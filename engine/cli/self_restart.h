// The self-restart of `hemoledger serve` after a storage fault: RocksDB stays
// read-only after one, and the offsets stored with the state say where to
// resume, so the process starts again in place (same pid, same arguments).
// A clock that is not the real one keeps its reading across the restart: its
// --clock-start becomes the instant it reads when the restart begins.
//
// Threading: call restart_in_place() from the main thread once every other
// thread has stopped and the store is closed (RocksDB's lock would survive
// the exec).
#pragma once

#include <string>
#include <vector>

#include "engine/io/clock.h"

namespace hemoledger {

// `args` with the value of every "--clock-start VALUE" and
// "--clock-start=VALUE" replaced by `start`; nothing else changes.
[[nodiscard]] std::vector<std::string> with_clock_start(std::vector<std::string> args,
                                                        const std::string& start);

// Replaces this process with /proc/self/exe run with `args` (args[0]
// included). With a clock that is not the real one, --clock-start on the
// command line and HEMOLEDGER_CLOCK_START in the environment become the
// clock's reading now. Returns only when execv failed.
void restart_in_place(const std::vector<std::string>& args, const Clock& clock);

}  // namespace hemoledger
