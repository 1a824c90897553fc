// The scanning station's actions: the one table of what a technician can do
// at a bench, the event each records and what it needs from the bench besides
// the unit's labels. The terminal station (`hemoledger scan`,
// engine/cli/station.h) and the browser's (`/station`,
// engine/server/station_routes.cpp) both read this table, so an action added
// here (one line) appears in both, with the same checks.
//
// Pure data and lookups; thread-safe.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>

#include "events/event.h"
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
  emergency,         // UnitIssued as an emergency release: no patient group, approved
  thaw,              // UnitThawed: frozen plasma or cryo
  type_patient,      // PatientTyped: the patient's group, after an emergency release
  reaction,          // TransfusionReaction reported by the hospital
};

// What an action takes from the bench besides the unit's labels.
enum class Need : unsigned {
  patient = 1u << 0,         // the patient's pseudonymous id (typed, or a wristband scan)
  patient_group = 1u << 1,   // the patient's ABO/RhD
  to = 1u << 2,              // a destination facility
  discard_reason = 1u << 3,  // a discard reason code (events/event.h)
  reason = 1u << 4,          // free text: why (an emergency release, an RhD exception)
  approver = 1u << 5,        // the physician approving an emergency release or RhD exception
  reaction = 1u << 6,        // a reaction's category, severity, imputability and onset
};

struct StationActionInfo {
  StationAction action;
  std::string_view name;  // as typed and sent: "receive-transfer"
  EventType type;
  std::string_view verb;  // for messages: "issued"
  unsigned needs;         // Need bits the bench must give
  unsigned may;           // Need bits the bench may give
  // The unit goes to a patient or back into stock: a label whose expiry has
  // passed is stopped before the engine is asked.
  bool refuses_expired_label;
};

// Every action, in the order a bench offers them.
std::span<const StationActionInfo> station_actions();
const StationActionInfo& station_action_info(StationAction a);
[[nodiscard]] Result<StationAction> parse_station_action(std::string_view name);
// "collect, receive, ..." for help texts and errors.
std::string station_action_names();
// Whether the action needs, or needs or may take, `n`.
bool needs(const StationActionInfo& a, Need n);
bool takes(const StationActionInfo& a, Need n);
// The table for a page: [{"name": "issue", "event": "UnitIssued",
// "needs": ["patient_group"], "may": ["patient"]}, ...], and the discard
// reason codes a bench may choose from.
nlohmann::json station_actions_json();

}  // namespace hemoledger
