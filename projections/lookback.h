// PendingLookback: a positive screen of `din` with a lookback whose recalls of
// the donor's earlier units are not yet all sent (the engine's l/ keys, and
// in scale-out the lookback records of the partials topic). A plain value.
#pragma once

#include <cstdint>
#include <string>

#include "events/time.h"

namespace hemoledger {

struct PendingLookback {
  std::int32_t partition = 0;
  std::string din, donor, test, facility;
  TimeMs at = 0, collected_at = 0;
};

}  // namespace hemoledger
