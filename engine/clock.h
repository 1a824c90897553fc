// The wall clock, in one place. Projections never read it: they take times
// from events. The engine's edges (HTTP queries, the station, the demo feed)
// read it here, and pass the instant on as a value.
#pragma once

#include <chrono>

#include "events/time.h"

namespace hemoledger {

inline TimeMs wall_clock_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace hemoledger
