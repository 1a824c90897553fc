// `hemoledger scan`, the terminal scanning station: a technician's bench
// session (engine/station/station_session.h, the rules every bench shares)
// that reads scans line by line from a keyboard-wedge scanner on standard
// input and talks to a running engine over its HTTP API.
//
// For every unit it prints one unmistakable line: "OK ..." when the engine
// has applied the action, "STOP ... [code]" with the reason otherwise,
// "UNCONFIRMED ..." when the engine has not confirmed what was sent. On a
// terminal OK is green and STOP is red with a bell.
//
// The actions are the one table of engine/station/station_actions.h.
#pragma once

#include <istream>
#include <ostream>
#include <string>

#include "engine/io/clock.h"
#include "engine/station/station_actions.h"
#include "events/blood_group.h"
#include "events/result.h"

namespace hemoledger {

struct StationConfig {
  std::string api = "http://127.0.0.1:8080";  // the engine's HTTP API
  std::string facility;                       // where the bench is
  StationAction action = StationAction::issue;
  AboRh patient = AboRh::unknown;  // the patient's group (--patient-abo-rh)
  std::string patient_id;          // the patient's pseudonymous id (--patient)
  std::string to;                  // dispatch, issue, emergency, return: destination facility
  std::string reason;              // discard: reason code; emergency, RhD exception, reaction: why
  std::string approver;            // emergency, RhD exception: the approving physician
  // reaction: the ISBT category, severity and imputability
  // (events/haemovigilance.h) and the onset time.
  ReactionCategory reaction = ReactionCategory::none;
  ReactionSeverity severity = ReactionSeverity::none;
  Imputability imputability = Imputability::none;
  TimeMs onset_at = 0;
  std::string actor, station;  // recorded with every event (without tokens)
  // The API token (`scan --token`, or HEMOLEDGER_TOKEN), sent as
  // "Authorization: Bearer"; with tokens the engine records its name as the
  // actor. "" sends none.
  std::string token;
  // For an https:// API: a PEM file of the CA (or the self-signed
  // certificate) to trust instead of the system's (`scan --ca-cert`).
  std::string ca_cert;
  bool terminal = false;  // colour and bell
  // The label's expiry is judged and events are dated on this clock
  // (`scan --clock-start`; the real clock by default).
  Clock clock;
};

// Checks the configuration against the action's needs (validate() of
// engine/station/station_session.h).
[[nodiscard]] Status validate(const StationConfig& config);

// Runs a session until end of input. Returns the number of units that were
// not recorded (STOP or unconfirmed); 0 means every unit was recorded.
int run_station(const StationConfig& config, std::istream& in, std::ostream& out);

}  // namespace hemoledger
