// HTTP helpers for tests that drive a running `hemoledger serve`.
#pragma once

#include <httplib.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "projections/stock.h"

namespace hemoledger::testing {

// `token`, when given, is sent as "Authorization: Bearer" (docs/security.md).
inline std::optional<nlohmann::json> get_json(int port, const std::string& path,
                                              int* status = nullptr,
                                              const std::string& token = "") {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2);
  c.set_read_timeout(10);
  if (!token.empty()) c.set_bearer_token_auth(token.c_str());
  auto r = c.Get(path.c_str());
  if (!r) return std::nullopt;
  if (status) *status = r->status;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// The body of GET `path` as text ("" when it cannot be had).
inline std::string get_text(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2);
  c.set_read_timeout(10);
  auto r = c.Get(path.c_str());
  return r ? r->body : std::string();
}

// Waits until GET /health answers at all (the engine is up).
inline bool wait_for_api(int port, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (get_json(port, "/health")) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Sum of the committed next offsets over all partitions, from /health.
inline std::int64_t committed_messages(int port) {
  auto h = get_json(port, "/health");
  if (!h) return -1;
  std::int64_t sum = 0;
  for (const auto& [p, v] : (*h)["partitions"].items()) sum += v["next_offset"].get<std::int64_t>();
  return sum;
}

// The stock cells of GET /api/stock, flattened.
inline std::map<StockKey, std::int64_t> stock_cells_of(const nlohmann::json& s) {
  std::map<StockKey, std::int64_t> out;
  for (const auto& g : s["governorates"]) {
    for (const auto& f : g["facilities"]) {
      for (const auto& [cat, groups] : f["stock"].items()) {
        for (const auto& [grp, statuses] : groups.items()) {
          for (const auto& [st, n] : statuses.items()) {
            StockKey k;
            k.facility = f["code"].get<std::string>();
            parse_category(cat, k.category);
            k.group = parse_abo_rh(grp).value_or(AboRh::unknown);
            parse_unit_status(st, k.status);
            out[k] = n.get<std::int64_t>();
          }
        }
      }
    }
  }
  return out;
}

}  // namespace hemoledger::testing
