// The alerts area.
//
//   GET /api/alerts?status=&kind=&severity=&governorate=&facility=&category=&abo_rh=&since=&sector=
//   POST /api/alerts/{id}/acknowledge   {"sector"}            -> AlertAcknowledged
//   POST /api/alerts/{id}/close         {"sector", "note"}    -> AlertClosed
//   GET  /api/sectors                   the routing file's sectors (docs/alerts.md)
//
// With a routing file every alert lists its sectors ("sector": the one it is
// with, "sectors": every receiver) and sector= keeps those a sector receives.
// Acknowledging and closing are events (key "alerts"), recorded like any
// POST /api/events (same answers): a coordinator or admin token, named in the
// sector's members when it lists any; the token's name is the actor.
//
// In scale-out the alert leader (the owner of the partition of the key
// "alerts", where the follow-up events go) holds the national alerts and
// applies their follow-up; another instance forwards the request, GET or
// POST, to it with the caller's credentials (engine/server/scale_out_routing.h).
#include <httplib.h>

#include <atomic>
#include <map>
#include <string>

#include "engine/queries/queries.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"
#include "engine/server/scale_out_routing.h"
#include "events/json_codec.h"

namespace hemoledger {

using nlohmann::json;

namespace {

void get_alerts(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!ctx.engine->leads_alerts()) {
    return forward_to_alert_leader(ctx, req, res);
  }
  std::map<std::string, std::string> params(req.params.begin(), req.params.end());
  const AlertRouting& routing = ctx.engine->routing();
  std::string sector;
  if (auto it = params.find("sector"); it != params.end()) {
    sector = it->second;
    params.erase(it);
    if (!sector.empty() && !routing.sector(sector)) {
      return send_error(res, 400,
                        make_error("bad_filter", "No sector \"" + sector.substr(0, 32) +
                                                     "\" in the routing file."));
    }
  }
  auto f = parse_alert_filter(params, ctx.engine->reference());
  if (!f) return send_error(res, 400, f.error());
  auto j = alerts_json(ctx.engine->store(), *f);
  if (!j) return send_error(res, 500, j.error());
  if (!routing.empty() && j->contains("alerts")) {
    json kept = json::array();
    for (auto& a : (*j)["alerts"]) {
      json routed = routed_change({{"alert", a}}, routing);
      const auto to = routed.value("sectors", std::vector<std::string>{});
      if (!sector.empty() && std::find(to.begin(), to.end(), sector) == to.end()) continue;
      a["sector"] = routed["sector"];
      a["sectors"] = to;
      kept.push_back(std::move(a));
    }
    (*j)["alerts"] = std::move(kept);
  }
  send_json(res, 200, *j);
}

// The sector a request answers for: the body's, which must exist (with a
// routing file), receive the alert and admit the token; without a routing
// file any sector code (default "coordinators"). Answered (and nullopt) otherwise.
std::optional<std::string> answering_sector(const ApiContext& ctx, const httplib::Request& req,
                                            const json& body, httplib::Response& res) {
  const AlertRouting& routing = ctx.engine->routing();
  std::string code = body.value("sector", "");
  if (routing.empty()) return code.empty() ? std::string("coordinators") : code;
  const Sector* s = routing.sector(code);
  if (!s) {
    send_error(res, 400,
               make_error("unknown_sector", code.empty() ? "Name the sector you answer for."
                                                         : "No sector \"" + code.substr(0, 32) +
                                                               "\" in the routing file."));
    return std::nullopt;
  }
  if (const auto who = request_principal(ctx, req); who && !routing.may_answer(*s, who->name)) {
    const Error why = make_error("not_a_member",
                                 "Token " + who->name + " is not a member of sector " + code + ".");
    record_refusal(ctx, req, who->name, 403, why);
    send_json(res, 403, {{"outcome", "forbidden"}, {"code", why.code}, {"message", why.message}});
    return std::nullopt;
  }
  return code;
}

void answer_alert(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                  EventType type) {
  if (!ctx.engine->leads_alerts()) {
    return forward_to_alert_leader(ctx, req, res);
  }
  const json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (!body.is_object()) {
    return send_error(res, 400, make_error("malformed_json", "The body must be a JSON object."));
  }
  auto sector = answering_sector(ctx, req, body, res);
  if (!sector) return;
  const std::string id(req.matches[1]);
  json event = {{"type", std::string(to_string(type))},
                {"at", format_rfc3339(ctx.engine->clock().now())},
                {"facility", "hemoledger"},
                {"alert", id},
                {"sector", *sector},
                {"actor", body.value("actor", "dashboard")}};
  if (type == EventType::alert_closed) {
    const std::string note = body.value("note", "");
    if (note.empty()) {
      return send_error(res, 400,
                        make_error("missing_field", "Say in a note why the alert is closed."));
    }
    event["reason"] = note;
  }
  static std::atomic<std::uint64_t> answers{0};
  event["id"] = "answer-" + id + "-" + std::string(to_string(type)) + "-" +
                std::to_string(ctx.engine->clock().now()) + "-" + std::to_string(++answers);
  auto e = decode_json(event.dump());
  if (!e) return send_error(res, 400, e.error());
  post_built_event(ctx, req, res, std::move(*e));
}

json sectors_json(const AlertRouting& routing) {
  json out = json::array();
  for (const auto& s : routing.sectors()) {
    json kinds = json::array(), severities = json::array();
    for (auto k : s.kinds) kinds.push_back(std::string(to_string(k)));
    for (auto v : s.severities) severities.push_back(std::string(to_string(v)));
    out.push_back({{"code", s.code},
                   {"name", s.name},
                   {"kinds", kinds},
                   {"severities", severities},
                   {"governorates", s.governorates},
                   {"facilities", s.facilities},
                   {"acknowledge_within_minutes",
                    s.acknowledge_within % kMinute == 0
                        ? json(s.acknowledge_within / kMinute)
                        : json(static_cast<double>(s.acknowledge_within) / kMinute)},
                   {"acknowledge_within_seconds", s.acknowledge_within / 1000},
                   {"escalate_to", s.escalate_to.empty() ? json(nullptr) : json(s.escalate_to)},
                   {"webhooks", s.webhooks.size()}});
  }
  return {{"sectors", out}};
}

}  // namespace

void add_alert_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Get("/api/alerts", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_alerts(ctx, req, res);
  });
  svr.Post(R"(/api/alerts/([A-Za-z0-9-]{1,64})/acknowledge)",
           [&ctx](const httplib::Request& req, httplib::Response& res) {
             answer_alert(ctx, req, res, EventType::alert_acknowledged);
           });
  svr.Post(R"(/api/alerts/([A-Za-z0-9-]{1,64})/close)",
           [&ctx](const httplib::Request& req, httplib::Response& res) {
             answer_alert(ctx, req, res, EventType::alert_closed);
           });
  svr.Get("/api/sectors", [&ctx](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, sectors_json(ctx.engine->routing()));
  });
}

}  // namespace hemoledger
