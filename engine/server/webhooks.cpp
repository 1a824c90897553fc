#include "engine/server/webhooks.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <thread>

namespace hemoledger {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

struct ParsedUrl {
  std::string origin;  // http://host:port
  std::string path;
};

Result<ParsedUrl> parse_url(const std::string& url) {
  static const std::regex re(R"(^(http://[A-Za-z0-9.\-]+(:[0-9]{1,5})?)(/[^\s]*)?$)");
  std::smatch m;
  if (!std::regex_match(url, m, re)) {
    return make_error("bad_webhook",
                      "The webhook " + url + " is not an http://HOST[:PORT][/PATH] address.");
  }
  return ParsedUrl{m[1].str(), m[3].matched ? m[3].str() : "/"};
}

}  // namespace

Status check_webhook_url(const std::string& url) {
  auto p = parse_url(url);
  if (!p) return p.error();
  return {};
}

struct WebhookSender::Target {
  ParsedUrl where;
  std::string sector;  // empty: every alert (--webhook); else that sector's alerts only
  std::string sink;    // the cursor's name in the Store
  WebhookStatus status;
  SteadyTime next_attempt{};
  int backoff_ms = 0;
};

WebhookSender::WebhookSender(Store& store, WebhookOptions options)
    : store_(store), options_(std::move(options)) {
  auto add = [&](const std::string& url, const std::string& sector) {
    auto p = parse_url(url);
    if (!p) {
      spdlog::error("webhooks: {}", p.error().message);
      return;
    }
    auto t = std::make_unique<Target>();
    t->where = *p;
    t->sector = sector;
    t->sink = sector.empty() ? "webhook:" + url : "webhook:" + sector + ":" + url;
    t->status.url = url;
    t->status.sector = sector;
    auto cursor = store_.alert_cursor(t->sink);
    t->status.next_seq = cursor ? std::max<std::uint64_t>(*cursor, 1) : 1;
    targets_.push_back(std::move(t));
  };
  for (const auto& url : options_.urls) add(url, "");
  if (options_.routing) {
    for (const auto& sector : options_.routing->sectors()) {
      for (const auto& url : sector.webhooks) add(url, sector.code);
    }
  }
}

// The body for a target: the change as stored, or, with routing, with its
// sectors; nullopt when the target's sector does not receive it.
std::optional<std::string> WebhookSender::body_for(const Target& t, std::string_view change) const {
  if (!options_.routing || options_.routing->empty()) return std::string(change);
  nlohmann::json j =
      routed_change(nlohmann::json::parse(change, nullptr, false), *options_.routing);
  if (!t.sector.empty()) {
    const auto& to = j.value("sectors", std::vector<std::string>{});
    if (std::find(to.begin(), to.end(), t.sector) == to.end()) return std::nullopt;
    j["to_sector"] = t.sector;
  }
  return j.dump();
}

WebhookSender::~WebhookSender() = default;

std::size_t WebhookSender::pass() {
  std::size_t delivered = 0;
  for (auto& t : targets_) {
    if (std::chrono::steady_clock::now() < t->next_attempt) continue;
    httplib::Client client(t->where.origin);
    client.set_connection_timeout(std::chrono::milliseconds(options_.timeout_ms));
    client.set_read_timeout(std::chrono::milliseconds(options_.timeout_ms));
    client.set_write_timeout(std::chrono::milliseconds(options_.timeout_ms));
    std::uint64_t next;
    {
      std::lock_guard lock(mu_);
      next = t->status.next_seq;
    }
    std::string problem;
    std::size_t sent = 0;
    std::size_t looked = 0;
    auto scanned = store_.scan_alert_changes(next, [&](std::uint64_t seq, std::string_view v) {
      const auto body = body_for(*t, v);
      if (!body) {  // not this sector's: passed over
        next = seq + 1;
        return ++looked < 10 * options_.max_per_pass;
      }
      httplib::Headers headers = {{"X-Hemoledger-Alert-Seq", std::to_string(seq)}};
      auto res = client.Post(t->where.path, headers, *body, "application/json");
      if (!res) {
        problem = "cannot reach " + t->status.url + ": " + httplib::to_string(res.error());
        return false;
      }
      if (res->status < 200 || res->status >= 300) {
        problem = t->status.url + " answered HTTP " + std::to_string(res->status);
        return false;
      }
      next = seq + 1;
      ++sent;
      return sent < options_.max_per_pass;
    });
    if (!scanned) problem = "cannot read the alert history: " + scanned.error().message;
    if (next != t->status.next_seq) {
      Store::Batch b;
      b.put_alert_cursor(t->sink, next);
      if (auto c = store_.commit(b); !c) {
        spdlog::warn("webhooks: cannot store the cursor of {}: {}", t->status.url,
                     c.error().message);
      }
    }
    {
      std::lock_guard lock(mu_);
      t->status.next_seq = next;
      t->status.delivered += sent;
      if (!problem.empty()) {
        ++t->status.failures;
        if (t->status.problem.empty()) spdlog::warn("webhooks: {}; retrying", problem);
        t->status.problem = problem;
      } else {
        t->status.problem.clear();
      }
    }
    delivered += sent;
    if (!problem.empty()) {
      t->backoff_ms = t->backoff_ms == 0 ? options_.first_retry_ms
                                         : std::min(t->backoff_ms * 2, options_.max_retry_ms);
      t->next_attempt = std::chrono::steady_clock::now() + std::chrono::milliseconds(t->backoff_ms);
    } else {
      t->backoff_ms = 0;
    }
  }
  return delivered;
}

void WebhookSender::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pass();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::vector<WebhookStatus> WebhookSender::status() const {
  std::lock_guard lock(mu_);
  std::vector<WebhookStatus> out;
  for (const auto& t : targets_) out.push_back(t->status);
  return out;
}

}  // namespace hemoledger
