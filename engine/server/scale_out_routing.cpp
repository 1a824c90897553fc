#include "engine/server/scale_out_routing.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "engine/kafka/kafka.h"
#include "engine/scaleout/partials.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"

namespace hemoledger {

using nlohmann::json;

std::string query_of(const httplib::Request& req) {
  std::string query;
  for (const auto& [k, v] : req.params) {
    query += (query.empty() ? "?" : "&") + httplib::detail::encode_query_param(k) + "=" +
             httplib::detail::encode_query_param(v);
  }
  return query;
}

bool answered_elsewhere(const ApiContext& ctx, const std::string& key, const httplib::Request& req,
                        httplib::Response& res) {
  const Engine& engine = *ctx.engine;
  if (!engine.scale_out() || engine.partition_count() <= 0) return false;
  const std::int32_t p = partition_for_key(key, engine.partition_count());
  if (engine.serves(p)) return false;
  if (engine.restoring(p)) {
    res.set_header("Retry-After", "2");
    send_json(res, 503,
              {{"code", "restoring"},
               {"partition", p},
               {"instance", engine.instance()},
               {"message", "This instance is still restoring partition " + std::to_string(p) +
                               " from Kafka; ask again shortly."}});
    return true;
  }
  const auto owner = engine.partials() ? engine.partials()->owner(p) : std::nullopt;
  if (!owner || owner->instance == engine.instance() || owner->url.empty() || owner->restoring) {
    res.set_header("Retry-After", "2");
    send_json(res, 503,
              {{"code", "no_owner"},
               {"partition", p},
               {"message", "Partition " + std::to_string(p) +
                               " is moving between instances; ask again shortly."}});
    return true;
  }
  const std::string target = owner->url + req.path + query_of(req);
  res.set_header("Location", target);
  send_json(res, 307,
            {{"code", "elsewhere"},
             {"partition", p},
             {"owner", owner->instance},
             {"url", target},
             {"message", "Partition " + std::to_string(p) + " is served by instance " +
                             owner->instance + "."}});
  return true;
}

void forward_to_alert_leader(const ApiContext& ctx, const httplib::Request& req,
                             httplib::Response& res) {
  const std::int32_t p = ctx.engine->alert_partition();
  const auto leader =
      ctx.engine->partials() && p >= 0 ? ctx.engine->partials()->owner(p) : std::nullopt;
  if (!leader || leader->url.empty() || leader->instance == ctx.engine->instance() ||
      leader->restoring) {
    res.set_header("Retry-After", "2");
    return send_json(res, 503,
                     {{"code", "no_alert_leader"},
                      {"message",
                       "The instance that keeps the national alerts is "
                       "changing; ask again shortly."}});
  }
  httplib::Client c(leader->url);
  c.set_connection_timeout(2);
  c.set_read_timeout(5);
  httplib::Headers headers;
  if (req.has_header("Authorization")) {
    headers.emplace("Authorization", req.get_header_value("Authorization"));
  }
  const std::string target = req.path + query_of(req);
  const std::string type = req.get_header_value("Content-Type");
  auto r = req.method == "POST" ? c.Post(target.c_str(), headers, req.body,
                                         type.empty() ? "application/json" : type.c_str())
                                : c.Get(target.c_str(), headers);
  if (!r) {
    return send_json(res, 502,
                     {{"code", "leader_unreachable"},
                      {"message", "The alert leader " + leader->instance + " (" + leader->url +
                                      ") did not answer."}});
  }
  res.status = r->status;
  res.set_header("X-Hemoledger-Answered-By", leader->instance);
  res.set_content(r->body, r->get_header_value("Content-Type").empty()
                               ? "application/json"
                               : r->get_header_value("Content-Type"));
}

PartitionPlaces place_partitions(const Engine& engine, std::int32_t count) {
  PartitionPlaces out;
  for (std::int32_t p = 0; p < count; ++p) {
    if (engine.serves(p)) {
      out.here.push_back(p);
      continue;
    }
    const auto owner = engine.partials() ? engine.partials()->owner(p) : std::nullopt;
    if (!owner || owner->url.empty() || owner->restoring || owner->instance == engine.instance()) {
      out.unowned.push_back(p);
    } else {
      out.elsewhere[owner->url].push_back(p);
    }
  }
  return out;
}

void send_national_error(httplib::Response& res, const Error& e) {
  if (e.code == "partition_unavailable") {
    res.set_header("Retry-After", "2");
    return send_error(res, 503, e);
  }
  send_error(res, e.code.rfind("peer_", 0) == 0 || e.code == "bad_peer_answer" ? 502 : 500, e);
}

}  // namespace hemoledger
