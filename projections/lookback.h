// PendingLookback: a marker of `din` with a lookback (repeatedly reactive or
// confirmed positive) whose recalls of
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

// PendingDonorCheck: a collection whose donor's deferrals are still to be
// checked (the engine's c/ keys): the engine looks at the donor's record in
// every partition and, if the donor was deferred at `at`, produces
// DeferredDonorCollected for the donation.
struct PendingDonorCheck {
  std::int32_t partition = 0;
  std::string din, donor, facility;
  TimeMs at = 0;
};

}  // namespace hemoledger
