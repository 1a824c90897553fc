#include "engine/queries/peers.h"

#include <httplib.h>

#include <thread>

#include "engine/queries/queries.h"
#include "engine/scaleout/partials.h"

namespace hemoledger {

using nlohmann::json;

json verdict_json(const Verdict& v) {
  return {{"status", to_string(v.status)}, {"code", v.code}, {"message", v.message}};
}

Result<Verdict> verdict_from_json(const json& j) {
  if (!j.is_object() || !j.contains("status") || !j["status"].is_string()) {
    return make_error("bad_verdict", "A verdict needs a status.");
  }
  const std::string text = j["status"].get<std::string>();
  const auto status = parse_verdict_status(text);
  if (!status) return make_error("bad_verdict", "Unknown verdict status " + text + ".");
  return Verdict{*status, j.value("code", ""), j.value("message", "")};
}

Result<std::optional<Donation>> donation_anywhere(const Engine& engine,
                                                  const std::string& peer_token,
                                                  const std::string& din) {
  const std::int32_t p = engine.scale_out() ? partition_for_key(din, engine.partition_count()) : -1;
  if (!engine.scale_out() || engine.serves(p)) return find_donation(engine.store(), din);
  const auto owner = engine.partials() ? engine.partials()->owner(p) : std::nullopt;
  if (!owner || owner->url.empty() || owner->instance == engine.instance()) {
    return make_error("no_owner", "Partition " + std::to_string(p) + " has no serving owner now.");
  }
  httplib::Client c(owner->url);
  c.set_connection_timeout(1);
  c.set_read_timeout(5);
  if (!peer_token.empty()) c.set_bearer_token_auth(peer_token);
  auto r = c.Get(("/api/peer/donations/" + din).c_str());
  if (!r) return make_error("peer_unreachable", "Instance " + owner->instance + " did not answer.");
  if (r->status == 404) return std::optional<Donation>{};
  if (r->status != 200) {
    return make_error("peer_refused", "Instance " + owner->instance + " answered " +
                                          std::to_string(r->status) + ".");
  }
  auto d = decode_donation(r->body);
  if (!d) return d.error();
  return std::optional<Donation>{std::move(*d)};
}

json peer_stock_json(TimeMs at, const std::map<std::int32_t, PartitionStockAt>& served,
                     const std::vector<std::int32_t>& not_served) {
  json parts = json::object();
  for (const auto& [p, s] : served) {
    json cells = json::object();
    for (const auto& [k, n] : s.stock.cells()) cells[encode_stock_key(k)] = n;
    parts[std::to_string(p)] = {{"cells", std::move(cells)}, {"replayed", s.replayed}};
  }
  return {{"at", format_rfc3339(at)}, {"partitions", std::move(parts)}, {"not_served", not_served}};
}

Result<std::map<std::int32_t, PartitionStockAt>> peer_stock_at(
    const std::string& url, const std::string& authorization, TimeMs at,
    const std::vector<std::int32_t>& partitions) {
  std::string list;
  for (auto p : partitions) list += (list.empty() ? "" : ",") + std::to_string(p);
  httplib::Client c(url);
  c.set_connection_timeout(2);
  c.set_read_timeout(10);
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  auto r =
      c.Get(("/api/peer/stock?at=" + std::to_string(at) + "&partitions=" + list).c_str(), headers);
  if (!r) return make_error("peer_unreachable", "Instance at " + url + " did not answer.");
  if (r->status != 200) {
    return make_error("peer_refused",
                      "Instance at " + url + " answered " + std::to_string(r->status) + ".");
  }
  const json body = json::parse(r->body, nullptr, false);
  if (!body.is_object() || !body["partitions"].is_object()) {
    return make_error("bad_peer_answer", "Instance at " + url + " sent no partitions.");
  }
  std::map<std::int32_t, PartitionStockAt> out;
  for (const auto& [text, part] : body["partitions"].items()) {
    PartitionStockAt s;
    s.replayed = part.value("replayed", false);
    if (!part["cells"].is_object())
      return make_error("bad_peer_answer", "A partition has no cells.");
    for (const auto& [cell, n] : part["cells"].items()) {
      auto key = decode_stock_key(cell);
      if (!key || !n.is_number_integer()) {
        return make_error("bad_peer_answer", "Instance at " + url + " sent a bad stock cell.");
      }
      s.stock.apply(StockDelta{std::move(*key), n.get<std::int64_t>()});
    }
    try {
      out[std::stoi(text)] = std::move(s);
    } catch (const std::exception&) {
      return make_error("bad_peer_answer", "Instance at " + url + " sent a bad partition.");
    }
  }
  return out;
}

Result<std::optional<Verdict>> await_verdict(const Engine& engine, const std::string& peer_token,
                                             std::int32_t partition, std::int64_t offset,
                                             std::chrono::steady_clock::time_point deadline) {
  using std::chrono::steady_clock;
  auto left_ms = [&] {
    return std::max<TimeMs>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now())
               .count());
  };
  for (;;) {
    if (!engine.scale_out() || engine.serves(partition)) {
      if (!engine.wait_processed(partition, offset, left_ms())) {
        if (engine.scale_out() && !engine.serves(partition) && steady_clock::now() < deadline) {
          continue;  // the partition moved away meanwhile: ask its new owner
        }
        return std::optional<Verdict>{};
      }
      return engine.verdict(partition, offset);
    }
    const auto owner = engine.partials() ? engine.partials()->owner(partition) : std::nullopt;
    if (owner && !owner->url.empty() && owner->instance != engine.instance() && !owner->restoring) {
      httplib::Client c(owner->url);
      c.set_connection_timeout(1);
      c.set_read_timeout(5);
      if (!peer_token.empty()) c.set_bearer_token_auth(peer_token);
      auto r = c.Get(("/api/verdict?partition=" + std::to_string(partition) +
                      "&offset=" + std::to_string(offset))
                         .c_str());
      if (r && r->status == 200) {
        auto v = verdict_from_json(json::parse(r->body, nullptr, false));
        if (!v) return v.error();
        return std::optional<Verdict>{std::move(*v)};
      }
      if (r && (r->status == 401 || r->status == 403)) {
        return make_error("peer_refused", "Instance " + owner->instance +
                                              " refused this instance's peer token (" +
                                              std::to_string(r->status) + ").");
      }
    }
    if (steady_clock::now() >= deadline) return std::optional<Verdict>{};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace hemoledger
