// Facility roles: what each kind of facility may do, as it does in life
// (DOMAIN.md "Facility roles"). The one table of it:
//
//   event                          blood_bank  laboratory  hospital
//   DonationCollected                  x
//   ComponentProduced                  x
//   TestResulted                                   x
//   UnitReleased, UnitQuarantined      x
//   TransferDispatched/Received        x
//   UnitReserved, ReservationReleased  x
//   UnitIssued                         x
//   UnitReturned                       x                       x
//   UnitTransfused                                             x
//   UnitDiscarded, UnitThawed          x                       x
//   UnitExpired, UnitRecalled          x           x           x
//   PatientTyped                       x           x           x
//   TransfusionReaction                                        x
//   Reagent*                                       x
//   ClockTicked                        (the engine's own; no facility)
//
// A facility with several kinds (facilities.csv "blood_bank+laboratory") may
// do what any of its kinds may. The blood bank returns a unit when it takes it
// back from a hospital; the engine emits UnitExpired and UnitRecalled for
// whoever holds the unit. Pure and thread-safe.
#pragma once

#include "events/event.h"
#include "events/reference_data.h"

namespace hemoledger {

// Whether a facility of kind k may record events of type t.
bool kind_may(FacilityKind k, EventType t);

// OK when one of f's kinds may record t; otherwise "facility_role" with a
// sentence naming the facility, what it is and what it tried.
[[nodiscard]] Status check_facility_may(const Facility& f, EventType t);

}  // namespace hemoledger
