// WebhookSender: POSTs every committed alert change (the JSON of the alerts
// topic, docs/alerts.md) to each configured URL, in sequence order, at least
// once. With a routing file (projections/alert_routing.h) each change carries
// its sectors, and a sector's own webhooks receive only the changes of the
// alerts routed (or escalated) to that sector. Each URL has its own cursor in the Store
// (g/w/webhook:<url>), so a restart resumes where delivery stopped; a URL configured for the first
// time receives the history from the first change.
//
// A failing receiver never blocks the engine or the other receivers: it is
// retried with exponential backoff (first_retry_ms doubling up to
// max_retry_ms) on its own schedule, and its problem is reported by status()
// (and so by /health) until a delivery succeeds. A 2xx answer is delivery;
// anything else, or no answer within timeout_ms, is a failure.
//
// Threading: run() on its own thread; status() from any thread. Only plain
// http:// URLs are supported.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/storage/store.h"
#include "events/result.h"
#include "projections/alert_routing.h"

namespace hemoledger {

struct WebhookOptions {
  std::vector<std::string> urls;          // every alert (--webhook)
  const AlertRouting* routing = nullptr;  // the sectors' webhooks; must outlive the sender
  int timeout_ms = 5000;
  int first_retry_ms = 500;
  int max_retry_ms = 60000;
  std::size_t max_per_pass = 200;
};

struct WebhookStatus {
  std::string url;
  std::string sector;          // empty: every alert
  std::uint64_t next_seq = 0;  // the next change to deliver
  std::uint64_t delivered = 0, failures = 0;
  std::string problem;  // empty while deliveries succeed
};

// Checks that `url` is http://HOST[:PORT][/PATH].
[[nodiscard]] Status check_webhook_url(const std::string& url);

class WebhookSender {
 public:
  WebhookSender(Store& store, WebhookOptions options);
  ~WebhookSender();
  void run(const std::atomic<bool>& stop);
  // One round over the receivers that are due; returns deliveries made.
  std::size_t pass();
  std::vector<WebhookStatus> status() const;

 private:
  struct Target;
  std::optional<std::string> body_for(const Target& t, std::string_view change) const;
  Store& store_;
  WebhookOptions options_;
  std::vector<std::unique_ptr<Target>> targets_;
  mutable std::mutex mu_;  // guards the WebhookStatus inside each Target
};

}  // namespace hemoledger
