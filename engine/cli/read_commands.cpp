// The read-only views of a data directory: stock, trace, pick, reagents,
// alerts and audit. Each opens the directory as a RocksDB secondary
// (with_data_dir), so a running engine may keep writing, and prints either
// the JSON of the matching HTTP endpoint (--json) or a table.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/ledger/engine.h"
#include "engine/queries/queries.h"
#include "engine/queries/stock_at.h"
#include "engine/security/audit.h"
#include "engine/security/refusal_log.h"

namespace hemoledger {
namespace {

using nlohmann::json;
using Filters = std::map<std::string, std::string>;

// One "--NAME VALUE" option per name, each filling filters[NAME].
void add_filter_options(CLI::App& command, std::initializer_list<const char*> names,
                        Filters& filters) {
  for (const char* f : names) {
    command.add_option_function<std::string>(
        std::string("--") + f, [&filters, f](const std::string& v) { filters[f] = v; },
        std::string("Filter by ") + f);
  }
}

// A string field for printf, and an integer one.
const char* text(const json& j, const char* key) {
  return j[key].get_ref<const std::string&>().c_str();
}

long long number(const json& j, const char* key) {
  return static_cast<long long>(j[key].get<std::int64_t>());
}

// ---- stock ----

struct StockArgs {
  std::string data_dir;
  Filters filters;
  bool as_json = false;
  std::string at;  // RFC 3339; "" for now
};

void print_stock(const json& s) {
  std::printf("total units in stock: %lld", number(s, "total"));
  for (const auto& [k, v] : s["by_status"].items()) {
    std::printf("  %s %lld", k.c_str(), static_cast<long long>(v.get<std::int64_t>()));
  }
  std::printf("\n");
  for (const auto& g : s["governorates"]) {
    std::printf("\n%s  %s / %s   total %lld\n", text(g, "code"), text(g, "name_en"),
                text(g, "name_ar"), number(g, "total"));
    for (const auto& f : g["facilities"]) {
      std::printf("  %-8s %s\n", text(f, "code"), text(f, "name_en"));
      for (const auto& [cat, groups] : f["stock"].items()) {
        for (const auto& [grp, statuses] : groups.items()) {
          std::string line;
          for (const auto& [st, n] : statuses.items()) {
            line += (line.empty() ? "" : ", ") + st + " " + std::to_string(n.get<std::int64_t>());
          }
          std::printf("    %-12s %-4s %s\n", cat.c_str(), grp.c_str(), line.c_str());
        }
      }
    }
  }
}

int show_stock(const StockArgs& a, const ReferenceData& ref, const Store& store) {
  auto f = parse_stock_filter(a.filters, ref);
  if (!f) return fail(f.error());
  Result<StockTable> t = StockTable{};
  if (a.at.empty()) {
    t = total_stock(store);
  } else {
    auto at = parse_rfc3339(a.at);
    if (!at) return fail(at.error());
    auto past = stock_at_instant(store, ref, Rules{}, *at, store.partitions());
    if (!past) return fail(past.error());
    t = std::move(past->stock);
  }
  if (!t) return fail(t.error());
  const json s = stock_json(*t, *f, ref);
  if (a.as_json)
    print_json(s);
  else
    print_stock(s);
  return 0;
}

// ---- trace ----

struct TraceArgs {
  std::string data_dir, din, product;
  bool as_json = false;
};

void print_trace(const json& d) {
  std::printf("donation %s  donor %s  collected %s at %s\n", text(d, "din"), text(d, "donor"),
              text(d, "collected_at"), text(d, "collected_by"));
  std::printf("blood group %s (labelled %s)%s\n", text(d, "abo_rh"), text(d, "labelled_abo_rh"),
              d["screen_positive"].get<bool>() ? "  POSITIVE SCREEN" : "");
  if (!d["release_waits_for"].is_null()) {
    std::printf("release waits for: %s\n", text(d, "release_waits_for"));
  }
  std::printf("\nunits:\n");
  for (const auto& u : d["units"]) {
    const std::string to =
        u.contains("destination") ? " -> " + u["destination"].get<std::string>() : "";
    std::printf("  %s %-10s %-12s held by %-8s expires %s%s\n", text(u, "product"),
                text(u, "category"), text(u, "status"), text(u, "holder"), text(u, "expires_at"),
                to.c_str());
  }
  std::printf("\nhistory:\n");
  for (const auto& h : d["history"]) {
    std::printf("  %s  %-20s %-8s %-9s %s\n", text(h, "at"), text(h, "type"), text(h, "facility"),
                h.value("product", "").c_str(), h.value("detail", "").c_str());
  }
}

int show_trace(const TraceArgs& a, const ReferenceData& ref, const Store& store) {
  auto d = find_donation(store, a.din);
  if (!d) return fail(d.error());
  if (!d->has_value()) return fail(make_error("not_found", "No donation " + a.din + " is known."));
  const json j = donation_json(**d, a.product, ref);
  if (j.is_null()) return fail(make_error("not_found", "No component " + a.product + "."));
  if (a.as_json)
    print_json(j);
  else
    print_trace(j);
  return 0;
}

// ---- pick ----

struct PickArgs {
  std::string data_dir, facility, category, group;
  bool as_json = false;
};

void print_pick(const std::string& facility, const json& j) {
  std::printf("available at %s, soonest expiry first:\n", facility.c_str());
  for (const auto& u : j["units"]) {
    std::printf("  %s %s  %-10s %-4s expires %s (%lld h)%s\n", text(u, "din"), text(u, "product"),
                text(u, "category"), text(u, "abo_rh"), text(u, "expires_at"),
                number(u, "hours_left"), u.value("thawed", false) ? "  THAWED" : "");
  }
  if (j["units"].empty()) std::printf("  none\n");
  if (j["expired_not_recorded"].get<int>() > 0) {
    std::printf("warning: %d unit(s) here are past expiry but not yet recorded as expired\n",
                j["expired_not_recorded"].get<int>());
  }
}

int show_pick(const PickArgs& a, const CommandContext& ctx, const ReferenceData& ref,
              const Store& store) {
  Category category = Category::unknown;
  if (!a.category.empty() && !parse_category(a.category, category)) {
    return fail(make_error("bad_filter", "Unknown category " + a.category + "."));
  }
  AboRh patient = AboRh::unknown;
  if (!a.group.empty()) {
    auto g = parse_abo_rh(a.group);
    if (!g) return fail(make_error("bad_filter", "Unknown blood group " + a.group + "."));
    patient = *g;
  }
  auto j = pick_json(store_picture(store), ref, a.facility, category, patient, ctx.clock.now());
  if (!j) return fail(j.error());
  if (a.as_json)
    print_json(*j);
  else
    print_pick(a.facility, *j);
  return 0;
}

// ---- reagents ----

struct ReagentsArgs {
  std::string data_dir;
  Filters filters;
  bool as_json = false;
};

void print_reagents(const json& j) {
  for (const auto& g : j["governorates"]) {
    for (const auto& fac : g["facilities"]) {
      std::printf("%s  %s\n", text(fac, "code"), text(fac, "name_en"));
      for (const auto& r : fac["reagents"]) {
        const std::string cover = r["days_of_cover"].is_null()
                                      ? std::string("no recent use")
                                      : r["days_of_cover"].dump() + " days of cover";
        std::printf("  %-15s %6lld %-6s %s%s; use first: %s\n", text(r, "reagent"),
                    number(r, "on_hand"), text(r, "unit"), cover.c_str(),
                    r["below_min_cover"].get<bool>() ? " (BELOW MINIMUM)" : "",
                    r["use_first"].is_null() ? "none" : text(r, "use_first"));
      }
    }
  }
  if (j["governorates"].empty()) std::printf("no reagent stock recorded\n");
}

int show_reagents(const ReagentsArgs& a, const CommandContext& ctx, const ReferenceData& ref,
                  const Store& store) {
  auto f = parse_reagent_filter(a.filters, ref);
  if (!f) return fail(f.error());
  auto j = reagents_json(store_picture(store), ref, *f, ctx.clock.now(), ctx.supply.window_days);
  if (!j) return fail(j.error());
  if (a.as_json)
    print_json(*j);
  else
    print_reagents(*j);
  return 0;
}

// ---- alerts ----

struct AlertsArgs {
  std::string data_dir;
  Filters filters;
  bool as_json = false;
};

// Open alerts, or with --since the changes since then.
void print_alerts(const json& j) {
  const json& list = j.contains("changes") ? j["changes"] : j["alerts"];
  for (const auto& item : list) {
    const json& a = item.contains("alert") ? item["alert"] : item;
    const std::string cleared =
        a["cleared_at"].is_string() ? "  (cleared " + a["cleared_at"].get<std::string>() + ")" : "";
    std::printf("%-6s %-8s %-6s %-13s %s%s\n", text(a, "id"),
                item.value("action", a.value("status", "")).c_str(), text(a, "severity"),
                text(a, "kind"), text(a, "message"), cleared.c_str());
  }
  if (list.empty()) std::printf("no alerts\n");
}

int show_alerts(const AlertsArgs& a, const ReferenceData& ref, const Store& store) {
  auto f = parse_alert_filter(a.filters, ref);
  if (!f) return fail(f.error());
  auto j = alerts_json(store, *f);
  if (!j) return fail(j.error());
  if (a.as_json)
    print_json(*j);
  else
    print_alerts(*j);
  return 0;
}

// ---- audit ----

struct AuditArgs {
  std::string data_dir, din, product;
  bool refusals = false;
  bool as_json = false;
};

void print_refusals(const json& j) {
  std::printf("%-24s %-20s %-21s %-6s %-7s %-24s %-4s %s\n", "time", "who", "remote", "via",
              "method", "path", "code", "reason");
  for (const auto& r : j["refusals"]) {
    const std::string path = r.value("path", "");
    std::printf("%-24s %-20s %-21s %-6s %-7s %-24s %-4d %s (%s)\n", r.value("at", "").c_str(),
                r.value("who", "").c_str(), r.value("remote", "").c_str(),
                r.value("channel", "").c_str(), r.value("method", "").c_str(),
                path.empty() ? "-" : path.c_str(), r.value("status", 0),
                r.value("reason", "").c_str(), r.value("code", "").c_str());
  }
  if (j["refusals"].empty()) std::printf("no refusals recorded\n");
}

// "-" for an empty field.
const char* or_dash(const json& j, const char* key) {
  const std::string& s = j[key].get_ref<const std::string&>();
  return s.empty() ? "-" : s.c_str();
}

void print_audit(const std::string& din, const json& j) {
  std::printf("%-24s %-20s %-9s %-8s %-20s %-16s %s\n", "time", "event", "product", "facility",
              "actor", "station", "outcome");
  for (const auto& e : j["entries"]) {
    const std::string outcome = e["outcome"] == "applied"
                                    ? std::string("applied")
                                    : "rejected (" + e.value("code", "") + ")";
    std::printf("%-24s %-20s %-9s %-8s %-20s %-16s %s\n", text(e, "at"), text(e, "type"),
                e.value("product", "").c_str(), text(e, "facility"), or_dash(e, "actor"),
                or_dash(e, "station"), outcome.c_str());
  }
  if (j["entries"].empty()) std::printf("nothing recorded for %s\n", din.c_str());
}

int show_audit(const AuditArgs& a, const Store& store) {
  if (a.refusals) {
    auto j = refusals_json(store);
    if (!j) return fail(j.error());
    if (a.as_json)
      print_json(*j);
    else
      print_refusals(*j);
    return 0;
  }
  if (a.din.empty()) return fail(make_error("bad_arguments", "audit needs a DIN, or --refusals."));
  auto j = audit_json(store, a.din, a.product);
  if (!j) return fail(j.error());
  if (a.as_json)
    print_json(*j);
  else
    print_audit(a.din, *j);
  return 0;
}

}  // namespace

Subcommand add_stock_command(CLI::App& app) {
  auto a = std::make_shared<StockArgs>();
  auto* cmd = app.add_subcommand("stock", "Print stock by governorate and facility");
  add_data_dir_option(*cmd, a->data_dir);
  add_filter_options(*cmd, {"governorate", "facility", "category", "abo_rh", "status"}, a->filters);
  cmd->add_flag("--json", a->as_json, "Print the same JSON as GET /api/stock");
  cmd->add_option("--at", a->at,
                  "Stock as it was at this instant (RFC 3339), from the stock history");
  return {cmd, [a](const CommandContext& ctx) {
            return with_data_dir(ctx.reference_dir, a->data_dir,
                                 [&](const ReferenceData& ref, const Store& store) {
                                   return show_stock(*a, ref, store);
                                 });
          }};
}

Subcommand add_trace_command(CLI::App& app) {
  auto a = std::make_shared<TraceArgs>();
  auto* cmd = app.add_subcommand("trace", "Print a donation's units and history");
  cmd->add_option("DIN", a->din, "13-character donation number")->required();
  cmd->add_option("PRODUCT", a->product, "8-character product code (optional)");
  add_data_dir_option(*cmd, a->data_dir);
  cmd->add_flag("--json", a->as_json, "Print the same JSON as GET /api/units/DIN");
  return {cmd, [a](const CommandContext& ctx) {
            return with_data_dir(ctx.reference_dir, a->data_dir,
                                 [&](const ReferenceData& ref, const Store& store) {
                                   return show_trace(*a, ref, store);
                                 });
          }};
}

Subcommand add_pick_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<PickArgs>();
  auto* cmd = app.add_subcommand(
      "pick", "List available units compatible with a patient, first-expire-first-out");
  cmd->add_option("--facility", a->facility, "Facility code")->required();
  cmd->add_option("--category", a->category, "red_cells, platelets, plasma, ...");
  cmd->add_option("--abo-rh", a->group, "The patient's ABO/RhD group, e.g. O-");
  add_data_dir_option(*cmd, a->data_dir);
  cmd->add_flag("--json", a->as_json, "Print the same JSON as GET /api/pick");
  add_clock_option(*cmd, global.clock_start);
  return {cmd, [a](const CommandContext& ctx) {
            return with_data_dir(ctx.reference_dir, a->data_dir,
                                 [&](const ReferenceData& ref, const Store& store) {
                                   return show_pick(*a, ctx, ref, store);
                                 });
          }};
}

Subcommand add_reagents_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<ReagentsArgs>();
  auto* cmd =
      app.add_subcommand("reagents", "Print laboratory reagent stock, days of cover and lots");
  add_data_dir_option(*cmd, a->data_dir);
  add_filter_options(*cmd, {"governorate", "facility", "reagent"}, a->filters);
  cmd->add_flag("--json", a->as_json, "Print the same JSON as GET /api/reagents");
  add_clock_option(*cmd, global.clock_start);
  return {cmd, [a](const CommandContext& ctx) {
            return with_data_dir(ctx.reference_dir, a->data_dir,
                                 [&](const ReferenceData& ref, const Store& store) {
                                   return show_reagents(*a, ctx, ref, store);
                                 });
          }};
}

Subcommand add_alerts_command(CLI::App& app) {
  auto a = std::make_shared<AlertsArgs>();
  auto* cmd = app.add_subcommand("alerts", "Print open (or cleared) alerts");
  add_data_dir_option(*cmd, a->data_dir);
  add_filter_options(*cmd,
                     {"status", "kind", "severity", "governorate", "facility", "category", "abo_rh",
                      "since", "limit"},
                     a->filters);
  cmd->add_flag("--json", a->as_json, "Print the same JSON as GET /api/alerts");
  return {cmd, [a](const CommandContext& ctx) {
            return with_data_dir(ctx.reference_dir, a->data_dir,
                                 [&](const ReferenceData& ref, const Store& store) {
                                   return show_alerts(*a, ref, store);
                                 });
          }};
}

Subcommand add_audit_command(CLI::App& app) {
  auto a = std::make_shared<AuditArgs>();
  auto* cmd = app.add_subcommand(
      "audit", "Who did what to a donation or unit: accepted and rejected; or --refusals");
  cmd->add_option("DIN", a->din, "13-character donation number");
  cmd->add_flag("--refusals", a->refusals,
                "List the refused API requests (401, 403) and lab connections instead");
  cmd->add_option("PRODUCT", a->product, "8-character product code (optional)");
  add_data_dir_option(*cmd, a->data_dir);
  cmd->add_flag("--json", a->as_json, "Print JSON");
  return {cmd, [a](const CommandContext& ctx) {
            return with_data_dir(
                ctx.reference_dir, a->data_dir,
                [&](const ReferenceData&, const Store& store) { return show_audit(*a, store); });
          }};
}

}  // namespace hemoledger
