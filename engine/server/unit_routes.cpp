// The units area: a donation and its components, by DIN.
//
//   GET /api/units/{din}             the donation, its units and history
//   GET /api/units/{din}/{product}   one unit
//
// In scale-out a DIN whose partition another instance serves is sent there
// (engine/server/scale_out_routing.h).
#include <httplib.h>

#include <string>

#include "engine/queries/queries.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"
#include "engine/server/scale_out_routing.h"

namespace hemoledger {

namespace {

void get_unit(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string din = req.matches[1];
  const std::string product = req.matches.size() > 2 ? std::string(req.matches[2]) : "";
  if (answered_elsewhere(ctx, din, req, res)) return;
  auto d = find_donation(ctx.engine->store(), din);
  if (!d) return send_error(res, 500, d.error());
  if (!d->has_value()) {
    return send_error(res, 404, make_error("not_found", "No donation " + din + " is known."));
  }
  nlohmann::json j = donation_json(**d, product, ctx.engine->reference());
  if (j.is_null()) {
    return send_error(
        res, 404,
        make_error("not_found", "Donation " + din + " has no component " + product + "."));
  }
  send_json(res, 200, j);
}

}  // namespace

void add_unit_routes(httplib::Server& svr, const ApiContext& ctx) {
  const auto handler = [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_unit(ctx, req, res);
  };
  svr.Get(R"(/api/units/([^/]+))", handler);
  svr.Get(R"(/api/units/([^/]+)/([^/]+))", handler);
}

}  // namespace hemoledger
