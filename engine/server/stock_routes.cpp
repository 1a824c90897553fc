// The stock area: what is on the shelves and how long it lasts.
//
//   GET /api/stock?governorate=&facility=&category=&abo_rh=&status=&at=
//   GET /api/pick?facility=&category=&abo_rh=   compatible units, soonest expiry first
//   GET /api/supply?category=                   days of supply and phases
//   GET /api/expiring                           units expiring soon, with transfers
//   GET /api/reagents?governorate=&facility=&reagent=   reagent stock and days of cover
//
// In scale-out each answers from the national picture (engine/server/picture.h)
// and says how fresh each partition's share is.
#include <httplib.h>

#include <map>
#include <string>

#include "engine/io/clock.h"
#include "engine/server/api.h"
#include "engine/server/picture.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"

namespace hemoledger {

using nlohmann::json;

namespace {

// GET /api/stock?at=: the stock at a past instant, replayed from the journal
// (not in scale-out, where no instance holds the whole journal).
void stock_at_instant(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                      const StockFilter& filter) {
  if (ctx.engine->scale_out()) {
    return send_error(res, 400,
                      make_error("not_in_scale_out",
                                 "Stock at a past instant replays the whole journal, "
                                 "which no instance of a group holds; ask a "
                                 "single-instance rebuild (docs/scale-out.md)."));
  }
  auto at = parse_rfc3339(req.get_param_value("at"));
  if (!at) return send_error(res, 400, at.error());
  auto past = stock_at(ctx.engine->store(), ctx.engine->reference(), ctx.engine->rules(), *at);
  if (!past) return send_error(res, 500, past.error());
  json body = stock_json(*past, filter, ctx.engine->reference());
  body["at"] = format_rfc3339(*at);
  send_json(res, 200, body);
}

void get_stock(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  std::map<std::string, std::string> params;
  for (const auto& [k, v] : req.params) {
    if (k != "at") params[k] = v;
  }
  auto f = parse_stock_filter(params, ctx.engine->reference());
  if (!f) return send_error(res, 400, f.error());
  if (req.has_param("at")) return stock_at_instant(ctx, req, res, *f);
  // Scale-out: the national picture, with the freshness of each partition.
  const auto pic = picture_of(ctx);
  json body = stock_json(pic->stock, *f, ctx.engine->reference());
  add_freshness(body, *pic, ctx);
  send_json(res, 200, body);
}

void get_pick(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Category category = Category::unknown;
  AboRh patient = AboRh::unknown;
  const std::string facility = req.get_param_value("facility");
  if (req.has_param("category") && !parse_category(req.get_param_value("category"), category)) {
    return send_error(res, 400, make_error("bad_filter", "Unknown category."));
  }
  if (req.has_param("abo_rh")) {
    auto g = parse_abo_rh(req.get_param_value("abo_rh"));
    if (!g) return send_error(res, 400, make_error("bad_filter", "Unknown blood group."));
    patient = *g;
  }
  const auto pic = picture_of(ctx);
  auto j = pick_json(pic->source, ctx.engine->reference(), facility, category, patient,
                     ctx.engine->clock().now());
  if (!j) return send_error(res, 400, j.error());
  add_freshness(*j, *pic, ctx);
  send_json(res, 200, *j);
}

void get_supply(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Category category = Category::red_cells;
  if (req.has_param("category") && !parse_category(req.get_param_value("category"), category)) {
    return send_error(res, 400, make_error("bad_filter", "Unknown category."));
  }
  const auto pic = picture_of(ctx);
  auto j = supply_json(pic->source, pic->stock, ctx.engine->reference(), category,
                       ctx.engine->clock().now(), ctx.engine->supply());
  if (!j) return send_error(res, 500, j.error());
  add_freshness(*j, *pic, ctx);
  send_json(res, 200, *j);
}

void get_expiring(const ApiContext& ctx, httplib::Response& res) {
  const auto pic = picture_of(ctx);
  auto j = expiring_json(pic->source, pic->stock, ctx.engine->reference(),
                         ctx.engine->clock().now(), ctx.engine->supply());
  if (!j) return send_error(res, 500, j.error());
  add_freshness(*j, *pic, ctx);
  send_json(res, 200, *j);
}

void get_reagents(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  std::map<std::string, std::string> params(req.params.begin(), req.params.end());
  auto f = parse_reagent_filter(params, ctx.engine->reference());
  if (!f) return send_error(res, 400, f.error());
  const auto pic = picture_of(ctx);
  auto j = reagents_json(pic->source, ctx.engine->reference(), *f, ctx.engine->clock().now(),
                         ctx.engine->supply().window_days);
  if (!j) return send_error(res, 500, j.error());
  add_freshness(*j, *pic, ctx);
  send_json(res, 200, *j);
}

}  // namespace

void add_stock_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Get("/api/stock", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_stock(ctx, req, res);
  });
  svr.Get("/api/pick",
          [&ctx](const httplib::Request& req, httplib::Response& res) { get_pick(ctx, req, res); });
  svr.Get("/api/supply", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_supply(ctx, req, res);
  });
  svr.Get("/api/expiring",
          [&ctx](const httplib::Request&, httplib::Response& res) { get_expiring(ctx, res); });
  svr.Get("/api/reagents", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_reagents(ctx, req, res);
  });
}

}  // namespace hemoledger
