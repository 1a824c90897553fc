// The stock area: what is on the shelves and how long it lasts.
//
//   GET /api/stock?governorate=&facility=&category=&abo_rh=&status=&at=
//   GET /api/peer/stock?at=&partitions=         scale-out: the stock at an instant of
//                                               the partitions served here, for a peer
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
#include <vector>

#include "engine/io/clock.h"
#include "engine/queries/peers.h"
#include "engine/queries/stock_at.h"
#include "engine/server/api.h"
#include "engine/server/picture.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"
#include "engine/server/scale_out_routing.h"
#include "engine/server/stock_answers.h"

namespace hemoledger {

using nlohmann::json;

namespace {

// The stock at `at` of the partitions served here (all of this store's
// outside scale-out): from the stock history, or a replay where the history
// is not complete (engine/queries/stock_at.h).
Result<std::map<std::int32_t, PartitionStockAt>> served_stock_at(
    const ApiContext& ctx, TimeMs at, const std::vector<std::int32_t>& partitions) {
  std::map<std::int32_t, PartitionStockAt> out;
  for (auto p : partitions) {
    auto one = stock_at_instant(ctx.engine->store(), ctx.engine->reference(), ctx.engine->rules(),
                                at, {p});
    if (!one) return one.error();
    out[p] = PartitionStockAt{std::move(one->stock), !one->replayed.empty()};
  }
  return out;
}

// Scale-out: every partition of the topic, those served here from the store,
// the others asked of their owners (with the caller's credentials), summed.
// Error partition_unavailable when one has no serving owner now.
Result<std::map<std::int32_t, PartitionStockAt>> national_stock_at(const ApiContext& ctx,
                                                                   const httplib::Request& req,
                                                                   TimeMs at) {
  const Engine& engine = *ctx.engine;
  const std::int32_t count = engine.partition_count();
  if (count <= 0) {
    return make_error("partition_unavailable", "The events topic's partitions are not known yet.");
  }
  auto [here, elsewhere, unowned] = place_partitions(engine, count);
  auto out = served_stock_at(ctx, at, here);
  if (!out) return out.error();
  const std::string auth = req.get_header_value("Authorization");
  for (const auto& [url, parts] : elsewhere) {
    auto theirs = peer_stock_at(url, auth, at, parts);
    if (!theirs) return theirs.error();
    for (auto p : parts) {
      auto it = theirs->find(p);
      if (it == theirs->end()) {
        unowned.push_back(p);
      } else {
        (*out)[p] = std::move(it->second);
      }
    }
  }
  if (!unowned.empty()) {
    std::string list;
    for (auto p : unowned) list += (list.empty() ? "" : ", ") + std::to_string(p);
    return make_error("partition_unavailable", "Partitions " + list +
                                                   " have no serving instance now (moving or "
                                                   "restoring); ask again shortly.");
  }
  return out;
}

// GET /api/stock?at=: the stock at a past instant, from the stock history
// (docs/storage.md, "Stock at a past instant"); national in scale-out.
void stock_at_instant_route(const ApiContext& ctx, const httplib::Request& req,
                            httplib::Response& res, const StockFilter& filter) {
  auto at = parse_rfc3339(req.get_param_value("at"));
  if (!at) return send_error(res, 400, at.error());
  auto parts = ctx.engine->scale_out()
                   ? national_stock_at(ctx, req, *at)
                   : served_stock_at(ctx, *at, ctx.engine->store().partitions());
  if (!parts) return send_national_error(res, parts.error());
  StockTable total;
  json replayed = json::array();
  for (const auto& [p, s] : *parts) {
    total.add(s.stock);
    if (s.replayed) replayed.push_back(p);
  }
  json body = stock_json(total, filter, ctx.engine->reference());
  body["at"] = format_rfc3339(*at);
  if (!replayed.empty()) body["replayed_partitions"] = replayed;
  send_json(res, 200, body);
}

// GET /api/peer/stock?at=<ms>&partitions=1,4: asked by another instance of a
// scale-out group (national_stock_at); answers for the partitions served here.
void get_peer_stock(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  TimeMs at = 0;
  auto asked = parse_partition_list(req.get_param_value("partitions"));
  try {
    at = std::stoll(req.get_param_value("at"));
  } catch (const std::exception&) {
    asked.reset();
  }
  if (!asked) {
    return send_error(res, 400,
                      make_error("bad_filter", "at (milliseconds) and partitions are needed."));
  }
  std::vector<std::int32_t> here, not_served;
  for (auto p : *asked) (ctx.engine->serves(p) ? here : not_served).push_back(p);
  auto served = served_stock_at(ctx, at, here);
  if (!served) return send_error(res, 500, served.error());
  send_json(res, 200, peer_stock_json(at, *served, not_served));
}

void get_stock(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  std::map<std::string, std::string> params;
  for (const auto& [k, v] : req.params) {
    if (k != "at") params[k] = v;
  }
  auto f = parse_stock_filter(params, ctx.engine->reference());
  if (!f) return send_error(res, 400, f.error());
  if (req.has_param("at")) return stock_at_instant_route(ctx, req, res, *f);
  if (ctx.stock_answers) {  // a single instance: the answer made for this stock snapshot
    std::string key;
    for (const auto& [k, v] : params) key += k + "=" + v + "&";
    const auto body = ctx.stock_answers->body(*f, key);
    res.status = 200;
    res.set_content(*body, "application/json; charset=utf-8");
    return;
  }
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
  svr.Get("/api/peer/stock", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_peer_stock(ctx, req, res);
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
