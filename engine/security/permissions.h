// Principal and may_write: who is speaking to the engine, and the one rule
// that says which events they may write (docs/security.md). Pure: no I/O, no
// clock, no tokens; engine/security/token_file.h turns a bearer token into a Principal.
//
//   Principal p{"jem-bench-1", Role::station, "JEM-BB"};
//   if (auto s = may_write(p, event); !s) return forbid(s.error());  // 403
//
// Every authenticated role may read everything but donor records (stock
// visibility across the region is the point of the engine; a donor's
// deferrals are medical data: GET /api/donors/{id} is for lab and admin
// roles only, may_read_donors). Writes are what is restricted:
//
//   station      donation and unit events (not TestResulted, not UnitRecalled,
//                not TypingResolved, not DeferredDonorCollected, not reagent
//                events) and DonorDeferred, whose `facility` is its own
//   lab          TestResulted, TypingResolved and reagent events whose
//                `facility` is its own lab
//   coordinator  TransferDispatched and TransferReceived, any facility;
//                AlertAcknowledged and AlertClosed (the routing file may
//                narrow who answers for a sector, engine/server/alert_routes.cpp)
//   admin        everything
//
// Refusals carry one of the codes wrong_role (the role may never write this
// type) or wrong_facility (the role may, but not for that facility); a lab
// link also wrong_lab. Those are refusals of a known principal (HTTP 403),
// unlike a missing or unknown token (401).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "events/event.h"
#include "events/result.h"

namespace hemoledger {

inline constexpr char kWrongRole[] = "wrong_role";
inline constexpr char kWrongFacility[] = "wrong_facility";
inline constexpr char kWrongLab[] = "wrong_lab";

enum class Role { station, lab, coordinator, admin };

std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view name);
// Whether a principal of role r must be bound to a facility (station, lab).
bool role_has_facility(Role r);

struct Principal {
  std::string name;  // the token's name; recorded as the events' actor
  Role role = Role::station;
  std::string facility;  // station and lab only; "" for coordinator and admin

  bool operator==(const Principal&) const = default;
};

// Ok if p may write e; else wrong_role or wrong_facility with a sentence
// naming the principal, the event type and the facility.
[[nodiscard]] Status may_write(const Principal& p, const Event& e);

// Whether p may read donor records (GET /api/donors/{id}): lab and admin.
[[nodiscard]] Status may_read_donors(const Principal& p);

// Whether p may send lab messages (ASTM, FHIR over HTTP): lab and admin.
[[nodiscard]] Status may_send_lab_messages(const Principal& p);

// The lab a lab link (MLLP, ASTM over TCP) speaks for when p is the client
// (the CN of its certificate names p), given the listener's own binding
// `bound_lab` (`--mllp-lab`, `--astm-lab`; "" = none): a lab principal
// speaks for its own lab, and must match the binding if there is one; an
// admin speaks for the bound lab, or any lab ("") without a binding.
// Refused: wrong_role (station, coordinator), wrong_lab (a lab principal of
// another lab than the binding).
[[nodiscard]] Result<std::string> lab_link_facility(const Principal& p,
                                                    const std::string& bound_lab);

}  // namespace hemoledger
