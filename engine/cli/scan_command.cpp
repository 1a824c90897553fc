// `hemoledger scan`: the technician's scanning station (engine/cli/station.h),
// reading scans line by line from standard input. Exit code 0 when every unit
// was recorded, 1 when one was not, 2 for a bad configuration.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/cli/station.h"

namespace hemoledger {
namespace {

struct ScanArgs {
  StationConfig station;
  std::string action = "issue";
  std::string patient;                                  // ABO/RhD, for reserve and issue
  std::string reaction, severity, imputability, onset;  // for reaction
};

// The station's configuration: the action and patient group parsed, the
// token from HEMOLEDGER_TOKEN when --token is not given, the clock.
Result<StationConfig> station_config(const ScanArgs& a, const Clock& clock) {
  StationConfig station = a.station;
  station.clock = clock;
  station.token = api_token(station.token);
  auto action = parse_station_action(a.action);
  if (!action) return action.error();
  station.action = *action;
  if (!a.patient.empty()) {
    auto g = parse_abo_rh(a.patient);
    if (!g) return make_error("bad_station", "Unknown patient group " + a.patient + ".");
    station.patient = *g;
  }
  if (!a.reaction.empty() && !parse_reaction_category(a.reaction, station.reaction)) {
    return make_error("bad_station", "Unknown reaction " + a.reaction + "; use one of: " +
                                         std::string(reaction_categories_text()) + ".");
  }
  if (!a.severity.empty() && !parse_reaction_severity(a.severity, station.severity)) {
    return make_error("bad_station", "Unknown severity " + a.severity + "; use one of: " +
                                         std::string(reaction_severities_text()) + ".");
  }
  if (!a.imputability.empty() && !parse_imputability(a.imputability, station.imputability)) {
    return make_error("bad_station", "Unknown imputability " + a.imputability + "; use one of: " +
                                         std::string(imputabilities_text()) + ".");
  }
  if (!a.onset.empty()) {
    auto t = parse_rfc3339(a.onset);
    if (!t) return make_error("bad_station", "--onset: " + t.error().message);
    station.onset_at = *t;
  }
  station.terminal = isatty(STDOUT_FILENO) != 0;
  if (auto s = validate(station); !s) return s.error();
  return station;
}

int run_scan(const ScanArgs& a, const CommandContext& ctx) {
  auto station = station_config(a, ctx.clock);
  if (!station) return fail(station.error());
  if (station->terminal) {
    std::cout << "hemoledger station at " << station->facility << ": " << a.action
              << ". Scan each unit's labels (DIN, product, blood group, expiry), or one 2-D "
                 "label. Empty line: start the unit again. Ctrl-D: end.\n";
  }
  return run_station(*station, std::cin, std::cout) == 0 ? 0 : 1;
}

}  // namespace

Subcommand add_scan_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<ScanArgs>();
  StationConfig& s = a->station;
  auto* cmd = app.add_subcommand(
      "scan", "The scanning station: reads scans line by line from standard input");
  cmd->add_option("--facility", s.facility, "This bench's facility")->required();
  cmd->add_option("--action", a->action, station_action_names())->capture_default_str();
  cmd->add_option("--patient-abo-rh", a->patient,
                  "Patient group for reserve, issue and type-patient");
  cmd->add_option(
      "--patient", s.patient_id,
      "The patient's pseudonymous id (never a name): reserve, issue, transfuse, emergency, "
      "type-patient, reaction");
  cmd->add_option("--to", s.to,
                  "Destination: the facility of a dispatch, the hospital or ward of an issue, "
                  "the blood bank of a return");
  cmd->add_option("--reason", s.reason,
                  "Discard reason code; the reason of an emergency release or RhD exception");
  cmd->add_option("--approver", s.approver,
                  "The physician approving an emergency release or an RhD exception");
  cmd->add_option("--reaction", a->reaction, "reaction: the ISBT category (e.g. trali)");
  cmd->add_option("--severity", a->severity,
                  "reaction: non_severe, severe, life_threatening or death");
  cmd->add_option("--imputability", a->imputability,
                  "reaction: not_assessable, excluded, unlikely, possible, probable or certain");
  cmd->add_option("--onset", a->onset, "reaction: when it began (RFC 3339)");
  cmd->add_option("--api", s.api, "The engine's HTTP API")->capture_default_str();
  cmd->add_option("--actor", s.actor, "Who is scanning (recorded with each event)");
  cmd->add_option("--station", s.station, "This bench's name (recorded)");
  cmd->add_option("--token", s.token,
                  "API token (default: the HEMOLEDGER_TOKEN environment variable)");
  cmd->add_option("--ca-cert", s.ca_cert, "For an https:// API: the CA certificate (PEM) to trust");
  add_clock_option(*cmd, global.clock_start);
  return {cmd, [a](const CommandContext& ctx) { return run_scan(*a, ctx); }};
}

}  // namespace hemoledger
