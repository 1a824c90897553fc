// The reports area (docs/reports.md).
//
//   GET /api/reports?period=2026-11&scope=GZA[&trend=6][&format=csv]
//       the figures as JSON, or as CSV to download ("figure,value" lines)
//   GET /report?period=&scope=&lang=en|ar
//       the printable report page (engine/server/report_page.h): SVG trend
//       lines and wastage by reason, to print or save as PDF from the browser
//
// Figures come from the report counters of this engine's store
// (engine/queries/reports.h); in scale-out, from the partitions this
// instance serves (docs/reports.md says what a scale-out report covers).
#include <httplib.h>

#include <map>
#include <string>

#include "engine/queries/reports.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/report_page.h"
#include "engine/server/routes.h"

namespace hemoledger {

namespace {

void get_report(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  std::map<std::string, std::string> params(req.params.begin(), req.params.end());
  auto r = parse_report_request(params, ctx.engine->reference());
  if (!r) return send_error(res, 400, r.error());
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "csv") {
    return send_error(res, 400, make_error("bad_report", "format must be json or csv."));
  }
  const int window = ctx.engine->supply().window_days;
  auto in = report_inputs(ctx.engine->store(), ctx.engine->reference(), *r, window);
  if (!in) return send_error(res, 500, in.error());
  const nlohmann::json figures = report_json(*in, *r, ctx.engine->reference(), window);
  if (format == "csv") {
    res.set_header("Content-Disposition", "attachment; filename=\"hemoledger-report-" + r->period +
                                              "-" + r->scope + ".csv\"");
    res.set_content(report_csv(figures), "text/csv; charset=utf-8");
    return;
  }
  send_json(res, 200, figures);
}

}  // namespace

void add_report_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Get("/api/reports", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_report(ctx, req, res);
  });
  svr.Get("/report", [](const httplib::Request&, httplib::Response& res) {
    const std::string_view page = report_page();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
}

}  // namespace hemoledger
