// `hemoledger report --period 2026-11 [--scope GZA] [--format csv|json|text]`:
// the performance report of a period (docs/reports.md), the same figures as
// GET /api/reports, read from the data directory (works while the engine runs).
#include <CLI/CLI.hpp>
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
  return {cmd, [a](const CommandContext& ctx) {
            return with_data_dir(ctx.reference_dir, a->data_dir,
                                 [&](const ReferenceData& ref, const Store& store) {
                                   return show_report(*a, ctx, ref, store);
                                 });
          }};
}

}  // namespace hemoledger
