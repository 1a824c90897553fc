// The release build has no failpoints (engine/cli/failpoints.h).
#include "engine/cli/failpoints.h"

namespace hemoledger {

FailpointHook failpoints_of_this_build() { return {}; }

}  // namespace hemoledger
