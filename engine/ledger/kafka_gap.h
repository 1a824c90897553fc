// KafkaGap: a range of the events topic this data directory never applied
// and Kafka no longer holds. The engine finds them (Engine::status().missing)
// and /health reports them; nothing can fill them but the events themselves,
// produced again from their source or an archive (docs/operations.md).
#pragma once

#include <cstdint>

namespace hemoledger {

// Offsets [from, to] of a partition. Found when
// the stored next offset lies below Kafka's low watermark (after a restore
// from an old backup, or an engine stopped for longer than the retention) or
// when consumption jumps over offsets.
struct KafkaGap {
  std::int32_t partition = 0;
  std::int64_t from = 0, to = 0;  // inclusive
  std::int64_t count() const { return to - from + 1; }
};

}  // namespace hemoledger
