// `hemoledger report --period 2026-11 [--scope GZA] [--format csv|json|text]`:
// the performance report of a period (docs/reports.md), the same figures as
// GET /api/reports, read from the data directory (works while the engine
// runs), or with --api URL asked of a running engine: in scale-out the
// national figures, which a data directory (its instance's partitions) does
// not hold.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/queries/reports.h"

namespace hemoledger {

namespace {

struct ReportArgs {
  std::string data_dir;
  std::string period, scope = "country", format = "text";
  int trend = 6;
  std::string api, token, ca_cert;
};

// A short reading of the figures for a terminal.
void print_text(const nlohmann::json& r) {
  const auto& u = r["units"];
  auto total = [](const nlohmann::json& by) {
    std::int64_t n = 0;
    for (const auto& [k, v] : by.items()) n += v.get<std::int64_t>();
    return n;
  };
  std::cout << "Report " << r["period"].get<std::string>() << " (" << r["from"].get<std::string>()
            << " to " << r["to"].get<std::string>() << "), "
            << r["scope"]["name_en"].get<std::string>()
            << (r["complete"].get<bool>() ? ", closed" : ", still open") << "\n"
            << "  donations collected     " << r["donations"]["total"] << "\n"
            << "  components produced     " << r["components_produced"]["total"] << "\n"
            << "  units issued            " << total(u["issued"]) << "\n"
            << "  units transfused        " << total(u["transfused"]) << "\n"
            << "  units returned          " << total(u["returned"]) << "\n"
            << "  units discarded         " << total(u["discarded_total"]) << "\n"
            << "  units expired           " << total(u["expired"]) << "\n"
            << "  crossmatch:transfusion  " << r["reserved_to_transfused"]["ratio"] << "\n"
            << "  median collection to release (h) " << r["collection_to_release"]["median_hours"]
            << "\n"
            << "  alerts raised           " << r["alerts"]["raised_total"] << ", escalated "
            << r["alerts"]["escalated"] << ", median minutes to acknowledge "
            << r["alerts"]["acknowledged"]["median_minutes"] << "\n"
            << "(--format json or csv for every figure; docs/reports.md)\n";
}

int show_report(const ReportArgs& a, const CommandContext& ctx, const ReferenceData& ref,
                const Store& store) {
  auto req = parse_report_request(
      {{"period", a.period}, {"scope", a.scope}, {"trend", std::to_string(a.trend)}}, ref);
  if (!req) return fail(req.error());
  auto in = report_inputs(store, ref, *req, ctx.supply.window_days);
  if (!in) return fail(in.error());
  const nlohmann::json figures = report_json(*in, *req, ref, ctx.supply.window_days);
  if (a.format == "json") {
    print_json(figures);
  } else if (a.format == "csv") {
    std::cout << report_csv(figures);
  } else {
    print_text(figures);
  }
  return 0;
}

// GET /api/reports of a running engine.
int report_through_api(const ReportArgs& a) {
  auto client = api_client(a.api, a.token, a.ca_cert);
  httplib::Client& http = *client;
  http.set_read_timeout(60, 0);
  const std::string path = "/api/reports?period=" + httplib::detail::encode_query_param(a.period) +
                           "&scope=" + httplib::detail::encode_query_param(a.scope) +
                           "&trend=" + std::to_string(a.trend) +
                           (a.format == "csv" ? "&format=csv" : "");
  auto r = http.Get(path.c_str());
  if (!r) {
    return fail(make_error("unreachable", "The engine at " + a.api + " cannot be reached (" +
                                              httplib::to_string(r.error()) + ")."));
  }
  if (r->status != 200) {
    const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
    const std::string code = j.is_object() ? j.value("code", "report_failed") : "report_failed";
    return fail(make_error(code, j.is_object() ? j.value("message", r->body) : r->body));
  }
  if (a.format == "csv") {
    std::cout << r->body;
    return 0;
  }
  const nlohmann::json figures = nlohmann::json::parse(r->body, nullptr, false);
  if (!figures.is_object()) {
    return fail(make_error("bad_answer", "The engine at " + a.api + " sent no report."));
  }
  if (a.format == "json") {
    print_json(figures);
  } else {
    print_text(figures);
  }
  return 0;
}

}  // namespace

Subcommand add_report_command(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand(
      "report", "A period's performance figures for the country, a governorate or a facility");
  cmd->add_option("--period", a->period, "2026-11 (month), 2026-Q4 (quarter) or 2026 (year)")
      ->required();
  cmd->add_option("--scope", a->scope, "country, a governorate code or a facility code")
      ->capture_default_str();
  cmd->add_option("--format", a->format, "text, json (as GET /api/reports) or csv")
      ->check(CLI::IsMember({"text", "json", "csv"}))
      ->capture_default_str();
  cmd->add_option("--trend", a->trend, "months of trend lines (0-24)")->capture_default_str();
  add_data_dir_option(*cmd, a->data_dir);
  cmd->add_option("--api", a->api,
                  "A running engine's HTTP API instead of a data directory (in scale-out: the "
                  "national figures)");
  cmd->add_option("--token", a->token,
                  "With --api: an API token (default: the HEMOLEDGER_TOKEN environment variable)");
  cmd->add_option("--ca-cert", a->ca_cert, "For an https:// API: the CA certificate (PEM)");
  return {cmd, [a](const CommandContext& ctx) {
            if (!a->api.empty()) return report_through_api(*a);
            return with_data_dir(ctx.reference_dir, a->data_dir,
                                 [&](const ReferenceData& ref, const Store& store) {
                                   return show_report(*a, ctx, ref, store);
                                 });
          }};
}

}  // namespace hemoledger
