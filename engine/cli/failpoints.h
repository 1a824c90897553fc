// Failpoints: a testing hook that kills the process with SIGKILL at an exact
// point of a commit, so that crash recovery is proved at the worst moments
// (tests/engine/ledger/crash_recovery_test.cpp).
//
// They exist only in the test build of the command. `hemoledger` links
// failpoints_off.cpp, which has none; `hemoledger_failpoints`, built with the
// tests (tests/CMakeLists.txt), links failpoints_env.cpp, which reads
// HEMOLEDGER_FAILPOINT=before_commit:N or after_commit:N (the N-th batch this
// process applies). The engine calls the hook it is given
// (EngineOptions::failpoint); a null hook costs nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace hemoledger {

using FailpointHook = std::function<void(std::string_view where, std::uint64_t batch)>;

// The hook of this build: null in `hemoledger`.
FailpointHook failpoints_of_this_build();

}  // namespace hemoledger
