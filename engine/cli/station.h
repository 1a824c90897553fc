// The scanning station: a technician's bench session. It reads scans line by
// line (keyboard-wedge scanners type the data and Enter), assembles a unit
// from its DIN, product, blood group and expiry labels (in any order, or from
// one compound 2-D scan), checks it, and only then records the action.
//
// For every unit it prints one unmistakable line: "OK ..." when the engine
// has applied the action, "STOP ..." with the reason otherwise. On a terminal
// OK is green and STOP is red with a bell. Nothing unsafe is ever sent:
//   1. the station's own label checks: one DIN per unit, the label's blood
//      group against the engine's typing, the label's expiry against the
//      record and the clock, special label codes (quarantine, discard, ...);
//   2. the engine's own rules, asked with POST /api/events?dry_run=1 (status,
//      holder, expiry, quarantine, ABO/RhD compatibility with the patient),
//      and its warnings: for `collect`, a deferred donor is STOP with the
//      reason before the needle (donor_deferred);
//   3. the real POST /api/events, confirmed only once the engine has
//      committed it. If Kafka or the engine cannot be reached the station says
//      so and never reports success it does not have.
//
// Lines that are not scans: an empty line or "cancel" drops the unit being
// assembled; for `collect`, "donor:ID" gives the pseudonymous donor id.
#pragma once

#include <istream>
#include <ostream>
#include <string>

#include "engine/io/clock.h"
#include "events/blood_group.h"
#include "events/result.h"

namespace hemoledger {

enum class StationAction {
  collect,           // DonationCollected: DIN (+ blood group) + donor id
  receive,           // ComponentProduced: a labelled component enters the bank's inventory
  release,           // UnitReleased
  reserve,           // UnitReserved for a patient
  issue,             // UnitIssued to a patient
  return_unit,       // UnitReturned
  transfuse,         // UnitTransfused
  discard,           // UnitDiscarded with a reason
  dispatch,          // TransferDispatched to another facility
  receive_transfer,  // TransferReceived
};

[[nodiscard]] Result<StationAction> parse_station_action(std::string_view name);

struct StationConfig {
  std::string api = "http://127.0.0.1:8080";  // the engine's HTTP API
  std::string facility;                       // where the bench is
  StationAction action = StationAction::issue;
  AboRh patient = AboRh::unknown;  // reserve and issue: required
  std::string to;                  // dispatch: destination facility
  std::string reason;              // discard: reason code
  std::string actor, station;      // recorded with every event (without tokens)
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

// Checks the configuration (facility given, patient group for reserve and
// issue, destination for dispatch, reason for discard).
[[nodiscard]] Status validate(const StationConfig& config);

// Runs a session until end of input. Returns the number of units that were
// not recorded (STOP or unconfirmed); 0 means every unit was recorded.
int run_station(const StationConfig& config, std::istream& in, std::ostream& out);

}  // namespace hemoledger
