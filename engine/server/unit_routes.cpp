// The units area: a donation and its components, by DIN.
//
//   GET /api/units/{din}             the donation, its units and history
//   GET /api/units/{din}/{product}   one unit
//   GET /api/issued?facility=F[&fate=unknown]
//                                    what a bank issued to hospitals, and the fate of each
//   GET /api/units/{din}/{product}/label?format=svg|pdf&flags=FF
//                                    its ISBT 128 base label (connectors/isbt128_label.h)
//
// In scale-out a DIN whose partition another instance serves is sent there
// (engine/server/scale_out_routing.h).
#include <httplib.h>

#include <string>

#include "connectors/isbt128_label.h"
#include "engine/kafka/kafka.h"
#include "engine/queries/queries.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"
#include "engine/server/scale_out_routing.h"

namespace hemoledger {

namespace {

// The donation, read first from the partition the DIN's key goes to (one
// read instead of one per partition), then from any.
Result<std::optional<Donation>> stored_donation(const Engine& engine, const std::string& din) {
  if (const std::int32_t count = engine.partition_count(); count > 0) {
    auto d = engine.store().donation(partition_for_key(din, count), din);
    if (!d || d->has_value()) return d;
  }
  return find_donation(engine.store(), din);
}

}  // namespace

void get_unit(const ApiContext& ctx, const std::string& din, const std::string& product,
              const httplib::Request& req, httplib::Response& res) {
  if (answered_elsewhere(ctx, din, req, res)) return;
  auto d = stored_donation(*ctx.engine, din);
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

void get_issued(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string facility = req.get_param_value("facility");
  if (facility.empty()) {
    return send_error(res, 400, make_error("bad_filter", "Name the issuing bank: ?facility=F."));
  }
  const std::string fate = req.get_param_value("fate");
  if (!fate.empty() && fate != "unknown") {
    return send_error(res, 400, make_error("bad_filter", "fate=unknown is the only fate filter."));
  }
  auto j = issued_json(ctx.engine->store(), ctx.engine->reference(), facility, fate == "unknown",
                       ctx.engine->clock().now(), ctx.engine->supply().fate_hours);
  if (!j) return send_error(res, j.error().code == "bad_filter" ? 400 : 500, j.error());
  send_json(res, 200, *j);
}

namespace {

// The unit's base label, SVG unless ?format=pdf; ?flags= the DIN's flag
// characters (default 00; "check" for the type-3 check flags).
void get_label(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string din = req.matches[1], product = req.matches[2];
  if (answered_elsewhere(ctx, din, req, res)) return;
  auto format = parse_label_format(req.has_param("format") ? req.get_param_value("format") : "svg");
  if (!format) return send_error(res, 400, format.error());
  const std::string flags = req.has_param("flags") ? req.get_param_value("flags") : "00";
  auto d = find_donation(ctx.engine->store(), din);
  if (!d) return send_error(res, 500, d.error());
  if (!d->has_value()) {
    return send_error(res, 404, make_error("not_found", "No donation " + din + " is known."));
  }
  auto label = base_label(**d, product, ctx.engine->reference(), flags == "check" ? "" : flags);
  if (!label) return send_error(res, label.error().code == "not_found" ? 404 : 400, label.error());
  auto rendered = render_label(*label, *format);
  if (!rendered) return send_error(res, 500, rendered.error());
  res.set_content(*rendered, std::string(media_type(*format)));
}

}  // namespace

void add_unit_routes(httplib::Server& svr, const ApiContext& ctx) {
  const auto handler = [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_unit(ctx, req.matches[1], req.matches.size() > 2 ? std::string(req.matches[2]) : "", req,
             res);
  };
  svr.Get(R"(/api/units/([^/]+))", handler);
  svr.Get(R"(/api/units/([^/]+)/([^/]+))", handler);
  svr.Get("/api/issued", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_issued(ctx, req, res);
  });
  svr.Get(
      R"(/api/units/([^/]+)/([^/]+)/label)",
      [&ctx](const httplib::Request& req, httplib::Response& res) { get_label(ctx, req, res); });
}

}  // namespace hemoledger
