// The lab area: results from laboratory systems over HTTP, and FHIR views
// of the stock (docs/connectors.md).
//
//   POST /api/lab/astm                  ASTM E1394 records (text) -> JSON per-result outcomes
//   POST /api/fhir/Observation          FHIR R4 Observation -> OperationOutcome
//   POST /api/fhir/Bundle               FHIR R4 Bundle of Observations -> OperationOutcome
//   GET  /api/fhir/BiologicallyDerivedProduct/{din}/{product}
//   GET  /api/fhir/InventoryReport?facility=F
//
// POST answers 200 when every event was recorded (or already was), 422 when
// the message could not be mapped or the engine refused an event, 503 when
// Kafka or the engine did not answer in time; 400 for ASTM text that does not
// parse. The POST endpoints answer 503 when the server has no lab gateway.
// With tokens, only lab tokens (bound to their lab) and admin tokens may post.
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "connectors/fhir.h"
#include "engine/io/clock.h"
#include "engine/labs/lab_messages.h"
#include "engine/queries/queries.h"
#include "engine/security/permissions.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"

namespace hemoledger {

using nlohmann::json;

namespace {

constexpr const char* kFhirJson = "application/fhir+json; charset=utf-8";

void send_outcome(httplib::Response& res, int status, const std::string& severity,
                  const std::string& code, const std::string& text) {
  json oo = {
      {"resourceType", "OperationOutcome"},
      {"issue", json::array({{{"severity", severity}, {"code", code}, {"diagnostics", text}}})}};
  res.status = status;
  res.set_content(oo.dump(2) + "\n", kFhirJson);
}

bool no_gateway(const ApiContext& ctx, httplib::Response& res) {
  if (ctx.lab) return false;
  send_outcome(res, 503, "error", "not-supported", "This server has no lab gateway.");
  return true;
}

// The lab sender of an HTTP lab message: with tokens, only lab (bound to its
// lab) and admin tokens may send; false when the request was answered 403.
bool lab_sender(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                LabSender& sender) {
  const auto who = request_principal(ctx, req);
  if (!who) return true;
  if (auto s = may_send_lab_messages(*who); !s) {
    send_forbidden(ctx, req, res, *who, s.error());
    return false;
  }
  sender = LabSender{who->name, who->facility};
  return true;
}

// A lab message refused for another lab's results (403 wrong_lab) is a
// refusal like any other 403.
void record_lab_refusal(const ApiContext& ctx, const httplib::Request& req, const LabSender& sender,
                        const LabReply& r) {
  if (r.http_status != 403) return;
  spdlog::warn("api: lab message refused for token {}: another lab's results", sender.actor);
  record_refusal(ctx, req, sender.actor, 403,
                 make_error(kWrongLab, "The message has results of another lab than " +
                                           sender.facility + "; nothing was recorded."));
}

void post_fhir(const ApiContext& ctx, const std::string& type, const httplib::Request& req,
               httplib::Response& res) {
  LabSender sender;
  if (!lab_sender(ctx, req, res, sender)) return;
  if (no_gateway(ctx, res)) return;
  const json in = json::parse(req.body, nullptr, false);
  if (in.is_object() && in.contains("resourceType") && in["resourceType"] != type) {
    return send_outcome(
        res, 422, "error", "invalid",
        "resourceType: this endpoint takes a " + type + ", got " + in["resourceType"].dump() + ".");
  }
  const LabReply r = deliver_fhir(*ctx.lab, req.body, ctx.engine->clock().now(), sender);
  record_lab_refusal(ctx, req, sender, r);
  res.status = r.http_status;
  res.set_content(r.body, kFhirJson);
}

void post_astm(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  LabSender sender;
  if (!lab_sender(ctx, req, res, sender)) return;
  if (ctx.lab == nullptr) {
    res.status = 503;
    res.set_content(R"({"outcome":"rejected","message":"This server has no lab gateway."})",
                    "application/json");
    return;
  }
  const LabReply r =
      deliver_astm(*ctx.lab, req.body, ctx.engine->clock().now(), "astm-http", sender);
  record_lab_refusal(ctx, req, sender, r);
  res.status = r.http_status;
  res.set_content(r.body, "application/json; charset=utf-8");
}

void get_product(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string din = req.matches[1], product = req.matches[2];
  auto d = find_donation(ctx.engine->store(), din);
  if (!d) return send_outcome(res, 500, "error", "exception", d.error().message);
  const UnitState* u = d->has_value() ? (*d)->unit(product) : nullptr;
  if (!u) {
    return send_outcome(res, 404, "error", "not-found",
                        "No unit " + din + " " + product + " is known.");
  }
  const json bdp = fhir::biologically_derived_product(**d, *u, &ctx.engine->reference());
  res.set_content(bdp.dump(2) + "\n", kFhirJson);
}

void get_inventory_report(const ApiContext& ctx, const httplib::Request& req,
                          httplib::Response& res) {
  const std::string facility = req.get_param_value("facility");
  if (!facility.empty() && ctx.engine->reference().facility(facility) == nullptr) {
    return send_outcome(res, 400, "error", "value", "facility: no facility " + facility + ".");
  }
  std::vector<fhir::StockLine> lines;
  const StockTable stock = ctx.engine->stock();
  for (const auto& [k, n] : stock.cells()) {
    if (!facility.empty() && k.facility != facility) continue;
    lines.push_back({k.facility, k.category, k.group, k.status, n});
  }
  const json report = fhir::inventory_report(lines, ctx.engine->clock().now());
  res.set_content(report.dump(2) + "\n", kFhirJson);
}

}  // namespace

void add_lab_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Post("/api/lab/astm", [&ctx](const httplib::Request& req, httplib::Response& res) {
    post_astm(ctx, req, res);
  });
  svr.Post("/api/fhir/Observation", [&ctx](const httplib::Request& req, httplib::Response& res) {
    post_fhir(ctx, "Observation", req, res);
  });
  svr.Post("/api/fhir/Bundle", [&ctx](const httplib::Request& req, httplib::Response& res) {
    post_fhir(ctx, "Bundle", req, res);
  });
  svr.Get(
      R"(/api/fhir/BiologicallyDerivedProduct/([^/]+)/([^/]+))",
      [&ctx](const httplib::Request& req, httplib::Response& res) { get_product(ctx, req, res); });
  svr.Get("/api/fhir/InventoryReport", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_inventory_report(ctx, req, res);
  });
}

}  // namespace hemoledger
