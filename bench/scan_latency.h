// Scan latency: what a technician waits for between POST /api/events and the
// engine's durable verdict (issue 21). Starts an engine on its embedded Kafka,
// as `./run.sh demo` does, and times the round trip of DonationCollected
// events with fresh DINs:
//   idle          one client, requests in a row;
//   concurrent    16 and 64 clients at once, 50 requests each;
//   under load    one client in a row while a recorded stream is produced to
//                 the engine's topic at a set rate (the ingest rate the engine
//                 reached meanwhile is reported beside it).
// Each with p50, p99, max and verdicts per second. Every answer must be 200
// applied; any other answer counts as a failure and is reported.
//
// Threading: one call at a time; it starts and joins its own client threads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace hemoledger::bench {

struct ScanLatencySettings {
  std::string hemoledger;  // the binary
  std::string dir;         // scratch: engine data and log
  std::string stream;      // the recorded stream produced as load
  int partitions = 6;
  double load_events_per_second = 50000;
  int idle_requests = 300;
  int load_requests = 300;
};

nlohmann::json scan_latency(const ScanLatencySettings& s);

}  // namespace hemoledger::bench
