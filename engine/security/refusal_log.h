// RefusalLog: every request the API refuses with 401 or 403, and every lab
// link connection refused (failed TLS handshake, no or unknown client
// certificate, wrong role or lab), kept durably in the Store under z/
// (docs/storage.md) so that an attempt to write for another facility is on
// record, not only in a log file that rotates away. Read back with
// `hemoledger audit --refusals` and GET /api/audit/refusals (admin).
//
//   RefusalLog refusals(engine.store(), clock);
//   refusals.record({.who = "jem-bench", .remote = "10.0.0.7:51234", .channel = "http",
//                    .method = "POST", .path = "/api/events", .status = 403,
//                    .code = "wrong_facility", .reason = "..."});
//
// Each refusal is one key in its own small WriteBatch (WAL synced), the way
// the lab gateway keeps m/ records; never in the engine's batch. The key is
// z/<time:020>|<seq:010>: the time (on the engine's clock) in ms and a per-process
// counter, so keys sort by time. A refusal that cannot be stored is logged
// and the refusal itself still stands.
//
// Threading: record() is safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/io/clock.h"
#include "engine/storage/store.h"
#include "events/time.h"

namespace hemoledger {

struct Refusal {
  TimeMs at = 0;        // set by record() when 0
  std::string who;      // the token's or certificate's name, or "anonymous"
  std::string remote;   // the client's address, "IP:PORT" or "IP"
  std::string channel;  // http, mllp, astm
  std::string method;   // HTTP method; "connect" for a lab link
  std::string path;     // HTTP path; "" for a lab link
  int status = 0;       // 401 (no or unknown credential) or 403 (not allowed)
  std::string code;     // missing_token, unknown_token, wrong_role, wrong_facility, wrong_lab,
                        // tls_handshake, no_certificate, unknown_certificate
  std::string reason;   // the sentence given to the client
};

// {"at": RFC 3339, "who", "remote", "channel", "method", "path", "status",
//  "code", "reason"}
nlohmann::json refusal_json(const Refusal& r);

class RefusalLog {
 public:
  RefusalLog(Store& store, Clock clock);
  // Stores the refusal; an error only when the store refused the write.
  [[nodiscard]] Status record(Refusal r);

 private:
  Store& store_;
  Clock clock_;
  std::atomic<std::uint64_t> seq_{0};
};

// Every stored refusal, oldest first: {"refusals": [refusal_json...]}; at
// most `limit` (the newest are kept when there are more).
[[nodiscard]] Result<nlohmann::json> refusals_json(const Store& store, std::size_t limit = 10000);

}  // namespace hemoledger
