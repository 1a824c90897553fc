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

std::string partition_list(const std::vector<std::int32_t>& partitions) {
  std::string list;
  for (auto p : partitions) list += (list.empty() ? "" : ",") + std::to_string(p);
  return list;
}

std::optional<std::vector<std::int32_t>> parse_partition_list(const std::string& list) {
  std::vector<std::int32_t> out;
  try {
    for (std::size_t i = 0; i < list.size();) {
      const auto comma = list.find(',', i);
      out.push_back(std::stoi(list.substr(i, comma - i)));
      i = comma == std::string::npos ? list.size() : comma + 1;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return out;
}

Result<std::map<std::int32_t, PartitionStockAt>> peer_stock_at(
    const std::string& url, const std::string& authorization, TimeMs at,
    const std::vector<std::int32_t>& partitions) {
  const std::string list = partition_list(partitions);
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

json peer_report_json(const std::map<std::int32_t, PartitionReport>& served,
                      const std::vector<std::int32_t>& not_served, const AlertReportPart* alerts,
                      const ReferenceData& ref) {
  json parts = json::object();
  for (const auto& [p, part] : served) {
    json counters = json::object(), available = json::object(), demand = json::object();
    for (const auto& [k, n] : part.counters) counters[k] = n;
    for (const auto& [k, n] : part.available.cells()) available[encode_stock_key(k)] = n;
    for (const auto& [k, n] : part.demand) demand[encode_demand_key(k)] = n;
    parts[std::to_string(p)] = {{"counters", std::move(counters)},
                                {"day", part.day},
                                {"available", std::move(available)},
                                {"demand", std::move(demand)}};
  }
  json body = {{"partitions", std::move(parts)}, {"not_served", not_served}};
  if (alerts) {
    json rows = json::array(), open = json::array();
    for (const auto& r : alerts->rows) rows.push_back(json::parse(r, nullptr, false));
    for (const auto& a : alerts->open) open.push_back(alert_json(a, ref));
    body["alerts"] = {
        {"rows", std::move(rows)}, {"open", std::move(open)}, {"clock", alerts->clock}};
  }
  return body;
}

namespace {

Error bad_peer_report(const std::string& what) {
  return make_error("bad_peer_answer", "A peer's report part " + what + ".");
}

// {"key": integer} into `visit(key, n)`; false when not of that form.
template <typename F>
bool each_count(const json& j, F visit) {
  if (!j.is_object()) return false;
  for (const auto& [k, n] : j.items()) {
    if (!n.is_number_integer() || !visit(k, n.template get<std::int64_t>())) return false;
  }
  return true;
}

Result<PartitionReport> partition_report_from_json(const json& j) {
  PartitionReport part;
  if (!j.is_object() || !j.contains("day") || !j["day"].is_number_integer()) {
    return bad_peer_report("has no day");
  }
  part.day = j["day"].get<std::int64_t>();
  const bool ok = each_count(j.value("counters", json()),
                             [&](const std::string& k, std::int64_t n) {
                               ReportKey key;
                               if (!parse_report_key(k, key)) return false;
                               part.counters[k] = n;
                               return true;
                             }) &&
                  each_count(j.value("available", json()),
                             [&](const std::string& k, std::int64_t n) {
                               auto key = decode_stock_key(k);
                               if (!key) return false;
                               part.available.apply(StockDelta{std::move(*key), n});
                               return true;
                             }) &&
                  each_count(j.value("demand", json()), [&](const std::string& k, std::int64_t n) {
                    auto key = decode_demand_key(k);
                    if (!key) return false;
                    part.demand[*key] = n;
                    return true;
                  });
  if (!ok) return bad_peer_report("has a bad counter, stock cell or demand count");
  return part;
}

}  // namespace

Result<PeerReport> peer_report_from_json(const json& body) {
  if (!body.is_object() || !body.contains("partitions") || !body["partitions"].is_object()) {
    return bad_peer_report("names no partitions");
  }
  PeerReport out;
  for (const auto& [text, j] : body["partitions"].items()) {
    std::int32_t p = 0;
    try {
      p = std::stoi(text);
    } catch (const std::exception&) {
      return bad_peer_report("names a bad partition");
    }
    auto part = partition_report_from_json(j);
    if (!part) return part.error();
    out.partitions[p] = std::move(*part);
  }
  if (body.contains("alerts")) {
    const json& a = body["alerts"];
    if (!a.is_object() || !a["rows"].is_array() || !a["open"].is_array() ||
        !a["clock"].is_number_integer()) {
      return bad_peer_report("has malformed alerts");
    }
    AlertReportPart alerts;
    alerts.clock = a["clock"].get<TimeMs>();
    for (const auto& r : a["rows"]) alerts.rows.push_back(r.dump());
    for (const auto& j : a["open"]) {
      auto alert = alert_from_json(j);
      if (!alert) return bad_peer_report("has a malformed alert");
      alerts.open.push_back(std::move(*alert));
    }
    out.alerts = std::move(alerts);
  }
  return out;
}

Result<PeerReport> peer_report(const std::string& url, const std::string& authorization,
                               const ReportRequest& req, int window_days,
                               const std::vector<std::int32_t>& partitions, bool alerts) {
  const std::string list = partition_list(partitions);
  const std::string path = "/api/peer/report?period=" + req.period +
                           "&scope=" + httplib::detail::encode_query_param(req.scope) +
                           "&trend=" + std::to_string(req.trend_months) +
                           "&window=" + std::to_string(window_days) + "&partitions=" + list +
                           (alerts ? "&alerts=1" : "");
  httplib::Client c(url);
  c.set_connection_timeout(2);
  c.set_read_timeout(20);
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  auto r = c.Get(path.c_str(), headers);
  if (!r) return make_error("peer_unreachable", "Instance at " + url + " did not answer.");
  if (r->status != 200) {
    return make_error("peer_refused",
                      "Instance at " + url + " answered " + std::to_string(r->status) + ".");
  }
  return peer_report_from_json(json::parse(r->body, nullptr, false));
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
