// The alerts area.
//
//   GET /api/alerts?status=&kind=&severity=&governorate=&facility=&category=&abo_rh=&since=
//
// In scale-out the alert leader (the instance serving partition 0) holds the
// national alerts; another instance forwards the request to it
// (engine/server/scale_out_routing.h).
#include <httplib.h>

#include <map>
#include <string>

#include "engine/queries/queries.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"
#include "engine/server/scale_out_routing.h"

namespace hemoledger {

namespace {

void get_alerts(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (ctx.engine->scale_out() && !ctx.engine->serves(0)) {
    return forward_to_alert_leader(ctx, req, res);
  }
  std::map<std::string, std::string> params(req.params.begin(), req.params.end());
  auto f = parse_alert_filter(params, ctx.engine->reference());
  if (!f) return send_error(res, 400, f.error());
  auto j = alerts_json(ctx.engine->store(), *f);
  if (!j) return send_error(res, 500, j.error());
  send_json(res, 200, *j);
}

}  // namespace

void add_alert_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Get("/api/alerts", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_alerts(ctx, req, res);
  });
}

}  // namespace hemoledger
