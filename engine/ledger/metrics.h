// EngineMetrics: the apply loop's counters and timings, for GET /metrics
// (docs/api.md). Written by the apply thread, read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace hemoledger {

struct EngineMetrics {
  std::atomic<std::uint64_t> applied{0}, rejected{0}, duplicates{0}, batches{0};
  std::atomic<std::uint64_t> commit_micros_total{0}, commit_micros_last{0};
  // Where the apply loop's time goes besides: reading from Kafka (polls that
  // returned messages), the RocksDB write inside each commit, and handing
  // recalls, alert changes and scale-out records to Kafka between batches.
  std::atomic<std::uint64_t> poll_micros_total{0}, write_micros_total{0}, send_micros_total{0};
  // What the commits wrote: RocksDB operations (puts and deletes) and bytes.
  std::atomic<std::uint64_t> written_keys_total{0}, written_bytes_total{0};
  std::atomic<std::uint64_t> alert_units{0};  // available units the alert model holds
  std::atomic<std::uint64_t> forwarded_rejections{0};
  std::atomic<std::uint64_t> alert_changes{0}, alerts_forwarded{0}, recalls_produced{0};
  // When the last batch was committed, on the engine's clock (0: none yet).
  std::atomic<std::int64_t> last_batch_ms{0};
};

// Microseconds since `t0`, for the timings above.
inline std::uint64_t micros_since(std::chrono::steady_clock::time_point t0) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count());
}

}  // namespace hemoledger
