// The scanning station in the browser (docs/station.md): the page and what
// it asks. The page holds no rule: it sends the raw scans, and the engine
// decodes and checks them with the session every bench shares
// (engine/station/station_session.h), reaching the engine's own POST
// /api/events and GET /api/units handlers in process, with the bench's token.
//
//   GET  /station               the page (engine/server/station_page.h)
//   GET  /api/station/session   the bench's facility (from its token), the
//                               action table, groups and facilities
//   POST /api/station/scan      one scan: {"action", "scan", "pending": [...],
//                               "patient", "patient_abo_rh", "to", "reason", "approver",
//                               "reaction", "severity", "imputability", "onset_at"}
//                               -> {"answer", "code", "message", "details",
//                               "pending": [...]}
//
// The bench acts only for the facility its token names: a station token
// without one is refused (403 no_facility). Without a token file (an open
// API, development only) the page names its facility with "facility".
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"
#include "engine/server/station_page.h"
#include "engine/station/station_session.h"

namespace hemoledger {

using nlohmann::json;

namespace {

// The engine's own handlers as the session's backend, called in process with
// the bench's request headers (its token), so authorization, the checks and
// scale-out forwarding are those of the HTTP API.
class InProcessBackend final : public StationBackend {
 public:
  InProcessBackend(const ApiContext& ctx, const httplib::Request& bench)
      : ctx_(ctx), bench_(bench) {}
  BackendReply unit(const std::string& din, const std::string& product) override {
    httplib::Request req =
        request("GET", "/api/units/" + din + (product.empty() ? "" : "/" + product));
    httplib::Response res;
    get_unit(ctx_, din, product, req, res);
    return reply(req, res);
  }
  BackendReply check(const std::string& event_json) override {
    httplib::Request req = request("POST", "/api/events");
    req.body = event_json;
    req.params.emplace("dry_run", "1");
    httplib::Response res;
    post_event(ctx_, req, res);
    return reply(req, res);
  }
  BackendReply record(const std::string& event_json) override {
    httplib::Request req = request("POST", "/api/events");
    req.body = event_json;
    httplib::Response res;
    post_event(ctx_, req, res);
    return reply(req, res);
  }
  std::string where() const override { return "this engine"; }

 private:
  httplib::Request request(const std::string& method, const std::string& path) const {
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.headers = bench_.headers;
    req.remote_addr = bench_.remote_addr;
    req.remote_port = bench_.remote_port;
    return req;
  }
  // A 307 (scale-out: another instance owns the DIN) is asked there, with
  // the bench's token; anything that is not JSON counts as unreachable.
  static BackendReply reply(const httplib::Request& req, const httplib::Response& res) {
    if (res.status == 307 && res.has_header("Location")) return follow(req, res);
    json body = json::parse(res.body, nullptr, false);
    if (body.is_discarded()) return {};
    return {res.status, std::move(body)};
  }
  static BackendReply follow(const httplib::Request& req, const httplib::Response& res) {
    const std::string location = res.get_header_value("Location");
    const auto slash = location.find('/', location.find("//") + 2);
    httplib::Client peer(location.substr(0, slash));
    peer.set_connection_timeout(3);
    peer.set_read_timeout(30);
    httplib::Headers headers;
    if (req.has_header("Authorization")) {
      headers.emplace("Authorization", req.get_header_value("Authorization"));
    }
    const std::string path = location.substr(slash);
    auto r = req.method == "GET" ? peer.Get(path.c_str(), headers)
                                 : peer.Post(path.c_str(), headers, req.body, "application/json");
    if (!r) return {};
    json body = json::parse(r->body, nullptr, false);
    if (body.is_discarded()) return {};
    return {r->status, std::move(body)};
  }
  const ApiContext& ctx_;
  const httplib::Request& bench_;
};

// The facility the bench acts for: its token's, or (open API) the one it
// names. Answered (403 or 400) and nullopt when there is none.
std::optional<const Facility*> bench_facility(const ApiContext& ctx, const httplib::Request& req,
                                              httplib::Response& res, const std::string& named) {
  std::string code = named;
  if (auto who = request_principal(ctx, req)) {
    if (who->facility.empty()) {
      send_forbidden(ctx, req, res, *who,
                     make_error("no_facility", "The token " + who->name +
                                                   " names no facility; a bench signs in with "
                                                   "the station token of its facility."));
      return std::nullopt;
    }
    code = who->facility;
  }
  const Facility* f = ctx.engine->reference().facility(code);
  if (f == nullptr) {
    send_error(res, 400,
               make_error("unknown_facility", code.empty() ? "The bench must name its facility."
                                                           : "No facility " + code + " is known."));
    return std::nullopt;
  }
  return f;
}

json facility_json(const Facility& f) {
  return {{"code", f.code},
          {"name_en", f.name_en},
          {"name_ar", f.name_ar},
          {"governorate", f.governorate}};
}

void get_session(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string named = req.has_param("facility") ? req.get_param_value("facility") : "";
  auto f = bench_facility(ctx, req, res, named);
  if (!f) return;
  json j = station_actions_json();
  j["facility"] = facility_json(**f);
  j["open"] = ctx.tokens == nullptr;
  if (auto who = request_principal(ctx, req)) j["token_name"] = who->name;
  j["groups"] = json::array();
  for (AboRh g : kAllGroups) j["groups"].push_back(std::string(to_string(g)));
  j["facilities"] = json::array();
  for (const auto& other : ctx.engine->reference().facilities()) {
    j["facilities"].push_back(facility_json(other));
  }
  send_json(res, 200, j);
}

// A transfusion reaction's codes and onset from the scan's body, if given.
Status reaction_of(const json& body, StationSettings& s) {
  const auto code = [&](const char* key, auto parse, std::string_view options,
                        auto& out) -> Status {
    const std::string text = body.value(key, "");
    if (text.empty() || parse(text, out)) return {};
    return make_error("bad_station", "Unknown " + std::string(key) + " \"" + text.substr(0, 40) +
                                         "\"; use one of: " + std::string(options) + ".");
  };
  if (auto r = code("reaction", parse_reaction_category, reaction_categories_text(), s.reaction);
      !r) {
    return r;
  }
  if (auto r = code("severity", parse_reaction_severity, reaction_severities_text(), s.severity);
      !r) {
    return r;
  }
  if (auto r = code("imputability", parse_imputability, imputabilities_text(), s.imputability);
      !r) {
    return r;
  }
  const std::string onset = body.value("onset_at", "");
  if (onset.empty()) return {};
  auto t = parse_rfc3339(onset);
  if (!t) return make_error("bad_station", "onset_at: " + t.error().message);
  s.onset_at = *t;
  return {};
}

// The bench's settings from the scan's body; answered 400 and nullopt when
// they do not make a valid station.
std::optional<StationSettings> settings_of(const ApiContext& ctx, const httplib::Request& req,
                                           httplib::Response& res, const json& body) {
  auto f = bench_facility(ctx, req, res, body.value("facility", ""));
  if (!f) return std::nullopt;
  StationSettings s;
  s.facility = (*f)->code;
  auto action = parse_station_action(body.value("action", ""));
  if (!action) {
    send_error(res, 400, action.error());
    return std::nullopt;
  }
  s.action = *action;
  const std::string group = body.value("patient_abo_rh", "");
  if (!group.empty()) s.patient_group = parse_abo_rh(group).value_or(AboRh::unknown);
  s.patient = body.value("patient", "");
  s.to = body.value("to", "");
  s.reason = body.value("reason", "");
  s.approver = body.value("approver", "");
  if (auto r = reaction_of(body, s); !r) {
    send_error(res, 400, r.error());
    return std::nullopt;
  }
  s.station = body.value("station", "");
  if (auto v = validate(s); !v) {
    send_error(res, 400, v.error());
    return std::nullopt;
  }
  return s;
}

void post_scan(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("scan") || !body["scan"].is_string()) {
    return send_error(
        res, 400, make_error("invalid", "A scan is a JSON object with \"scan\" and \"action\"."));
  }
  auto settings = settings_of(ctx, req, res, body);
  if (!settings) return;
  InProcessBackend backend(ctx, req);
  StationSession session(*settings, backend, ctx.engine->clock());
  // The labels of the unit being assembled, sent back by the page: each is
  // read again; a list that no longer assembles is answered as it fails.
  if (body.contains("pending") && body["pending"].is_array()) {
    for (const auto& p : body["pending"]) {
      if (!p.is_string()) continue;
      StationAnswer a = session.scan(p.get<std::string>());
      if (a.kind != AnswerKind::incomplete) {
        json j = to_json(a);
        j["pending"] = session.pending();
        return send_json(res, 200, j);
      }
    }
  }
  const StationAnswer a = session.scan(body["scan"].get<std::string>());
  json j = to_json(a);
  j["pending"] = session.pending();
  send_json(res, 200, j);
}

}  // namespace

void add_station_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Get("/station", [](const httplib::Request&, httplib::Response& res) {
    const std::string_view page = station_page();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  svr.Get("/api/station/session", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_session(ctx, req, res);
  });
  svr.Post("/api/station/scan", [&ctx](const httplib::Request& req, httplib::Response& res) {
    post_scan(ctx, req, res);
  });
}

}  // namespace hemoledger
