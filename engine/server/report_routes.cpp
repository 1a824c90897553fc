// The reports area (docs/reports.md).
//
//   GET /api/reports?period=2026-11&scope=GZA[&trend=6][&format=csv]
//       the figures as JSON, or as CSV to download ("figure,value" lines)
//   GET /report?period=&scope=&lang=en|ar
//       the printable report page (engine/server/report_page.h): SVG trend
//       lines and wastage by reason, to print or save as PDF from the browser
//   GET /api/peer/report?period=&scope=&trend=&window=&partitions=&alerts=1
//       scale-out: this instance's part of a report (engine/queries/peers.h)
//
// Figures come from the report counters and alert rows
// (engine/queries/reports.h). In scale-out the instance asked reads the
// partitions it serves and asks every other owner for its part, and the
// alert leader for the alerts' (with the caller's credentials), so every
// instance gives the same figures; while a partition is restoring or has no
// serving owner the answer is 503 partition_unavailable: a report is exact or
// not given.
#include <httplib.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "engine/queries/peers.h"
#include "engine/queries/reports.h"
#include "engine/scaleout/partials.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/report_page.h"
#include "engine/server/routes.h"
#include "engine/server/scale_out_routing.h"

namespace hemoledger {

namespace {

std::map<std::string, std::string> params_of(const httplib::Request& req) {
  return {req.params.begin(), req.params.end()};
}

// Scale-out: every partition's part, those served here read from the store,
// the others asked of their owners; the alerts' part from the alert leader.
// Error partition_unavailable while a partition (or the alerts) has no
// serving owner.
Result<ReportInputs> national_report_inputs(const ApiContext& ctx, const httplib::Request& req,
                                            const ReportRequest& r, int window) {
  const Engine& engine = *ctx.engine;
  const std::int32_t count = engine.partition_count();
  const std::int32_t leader = engine.alert_partition();
  if (count <= 0 || leader < 0) {
    return make_error("partition_unavailable", "The events topic's partitions are not known yet.");
  }
  auto [here, elsewhere, unowned] = place_partitions(engine, count);
  std::string leader_url;
  for (const auto& [url, asked] : elsewhere) {
    if (std::find(asked.begin(), asked.end(), leader) != asked.end()) leader_url = url;
  }
  std::map<std::int32_t, PartitionReport> parts;
  for (auto p : here) {
    auto part = partition_report(engine.store(), engine.reference(), r, window, p);
    if (!part) return part.error();
    parts.emplace(p, std::move(*part));
  }
  std::optional<AlertReportPart> alerts;
  if (engine.leads_alerts()) {
    auto mine = alert_report_part(engine.store(), r);
    if (!mine) return mine.error();
    alerts = std::move(*mine);
  }
  const std::string auth = req.get_header_value("Authorization");
  for (const auto& [url, asked] : elsewhere) {
    auto theirs = peer_report(url, auth, r, window, asked, url == leader_url);
    if (!theirs && theirs.error().code == "peer_unreachable") {
      // Gone (the group has not noticed yet): its partitions are about to move.
      unowned.insert(unowned.end(), asked.begin(), asked.end());
      continue;
    }
    if (!theirs) return theirs.error();
    for (auto p : asked) {
      auto it = theirs->partitions.find(p);
      if (it == theirs->partitions.end()) {
        unowned.push_back(p);  // it no longer serves it
      } else {
        parts.emplace(p, std::move(it->second));
      }
    }
    if (url == leader_url && theirs->alerts) alerts = std::move(theirs->alerts);
  }
  if (!unowned.empty() || !alerts) {
    std::string list;
    for (auto p : unowned) list += (list.empty() ? "" : ", ") + std::to_string(p);
    return make_error(
        "partition_unavailable",
        (list.empty() ? std::string("The alert leader's partition") : "Partitions " + list) +
            " have no serving instance now (moving or restoring); a report is "
            "exact or not given: ask again shortly.");
  }
  return combine_report(parts, *alerts, r);
}

void get_report(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto r = parse_report_request(params_of(req), ctx.engine->reference());
  if (!r) return send_error(res, 400, r.error());
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "csv") {
    return send_error(res, 400, make_error("bad_report", "format must be json or csv."));
  }
  const int window = ctx.engine->supply().window_days;
  auto in = ctx.engine->scale_out()
                ? national_report_inputs(ctx, req, *r, window)
                : report_inputs(ctx.engine->store(), ctx.engine->reference(), *r, window);
  if (!in) return send_national_error(res, in.error());
  const nlohmann::json figures = report_json(*in, *r, ctx.engine->reference(), window);
  if (format == "csv") {
    res.set_header("Content-Disposition", "attachment; filename=\"hemoledger-report-" + r->period +
                                              "-" + r->scope + ".csv\"");
    res.set_content(report_csv(figures), "text/csv; charset=utf-8");
    return;
  }
  send_json(res, 200, figures);
}

// GET /api/peer/report: asked by another instance (national_report_inputs);
// answers for the partitions served here, and the alerts when it leads them.
void get_peer_report(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto params = params_of(req);
  std::optional<std::vector<std::int32_t>> asked;
  int window = 0;
  try {
    window = std::stoi(params.at("window"));
    asked = parse_partition_list(params.at("partitions"));
  } catch (const std::exception&) {
    asked.reset();
  }
  if (!asked) {
    return send_error(res, 400, make_error("bad_report", "window and partitions are needed."));
  }
  const bool alerts = params.count("alerts") && params["alerts"] == "1";
  for (const char* k : {"window", "partitions", "alerts"}) params.erase(k);
  auto r = parse_report_request(params, ctx.engine->reference());
  if (!r) return send_error(res, 400, r.error());
  std::map<std::int32_t, PartitionReport> served;
  std::vector<std::int32_t> not_served;
  for (auto p : *asked) {
    if (!ctx.engine->serves(p)) {
      not_served.push_back(p);
      continue;
    }
    auto part = partition_report(ctx.engine->store(), ctx.engine->reference(), *r, window, p);
    if (!part) return send_error(res, 500, part.error());
    served.emplace(p, std::move(*part));
  }
  std::optional<AlertReportPart> mine;
  if (alerts && ctx.engine->leads_alerts()) {
    auto a = alert_report_part(ctx.engine->store(), *r);
    if (!a) return send_error(res, 500, a.error());
    mine = std::move(*a);
  }
  send_json(res, 200,
            peer_report_json(served, not_served, mine ? &*mine : nullptr, ctx.engine->reference()));
}

}  // namespace

void add_report_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Get("/api/reports", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_report(ctx, req, res);
  });
  svr.Get("/api/peer/report", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_peer_report(ctx, req, res);
  });
  svr.Get("/report", [](const httplib::Request&, httplib::Response& res) {
    const std::string_view page = report_page();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
}

}  // namespace hemoledger
