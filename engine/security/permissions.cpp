#include "engine/security/permissions.h"

namespace hemoledger {

namespace {

constexpr std::pair<Role, std::string_view> kRoles[] = {
    {Role::station, "station"},
    {Role::lab, "lab"},
    {Role::coordinator, "coordinator"},
    {Role::admin, "admin"},
};

// DeferredDonorCollected is the engine's own finding (and an admin's).
bool station_may(EventType t) {
  return !is_reagent_event(t) && t != EventType::test_resulted && t != EventType::unit_recalled &&
         t != EventType::typing_resolved && t != EventType::deferred_donor_collected;
}

// A laboratory also records a patient's group typed after an emergency release.
bool lab_may(EventType t) {
  return is_reagent_event(t) || t == EventType::test_resulted || t == EventType::typing_resolved ||
         t == EventType::patient_typed;
}

bool coordinator_may(EventType t) {
  return t == EventType::transfer_dispatched || t == EventType::transfer_received;
}

Error wrong_role(const Principal& p, const Event& e) {
  return make_error(kWrongRole, "Token " + p.name + " (role " + std::string(to_string(p.role)) +
                                    ") may not write " + std::string(to_string(e.type)) +
                                    " events.");
}

}  // namespace

std::string_view to_string(Role r) {
  for (const auto& [role, name] : kRoles) {
    if (role == r) return name;
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view name) {
  for (const auto& [role, n] : kRoles) {
    if (n == name) return role;
  }
  return std::nullopt;
}

bool role_has_facility(Role r) { return r == Role::station || r == Role::lab; }

Status may_write(const Principal& p, const Event& e) {
  switch (p.role) {
    case Role::admin:
      return {};
    case Role::coordinator:
      if (!coordinator_may(e.type)) return wrong_role(p, e);
      return {};
    case Role::station:
    case Role::lab:
      if (!(p.role == Role::station ? station_may(e.type) : lab_may(e.type))) {
        return wrong_role(p, e);
      }
      if (e.facility != p.facility) {
        return make_error(kWrongFacility,
                          "Token " + p.name + " writes for " + p.facility + " only, not for " +
                              (e.facility.empty() ? "no facility" : e.facility) + ".");
      }
      return {};
  }
  return wrong_role(p, e);
}

Status may_read_donors(const Principal& p) {
  if (p.role == Role::lab || p.role == Role::admin) return {};
  return make_error(kWrongRole, "Token " + p.name + " (role " + std::string(to_string(p.role)) +
                                    ") may not read donor records; that takes a lab or admin "
                                    "token.");
}

Status may_send_lab_messages(const Principal& p) {
  if (p.role == Role::lab || p.role == Role::admin) return {};
  return make_error(kWrongRole, "Token " + p.name + " (role " + std::string(to_string(p.role)) +
                                    ") may not send lab messages; that takes a lab token.");
}

Result<std::string> lab_link_facility(const Principal& p, const std::string& bound_lab) {
  if (auto s = may_send_lab_messages(p); !s) return s.error();
  if (p.role == Role::admin) return bound_lab;
  if (!bound_lab.empty() && p.facility != bound_lab) {
    return make_error(kWrongLab, "This link speaks for " + bound_lab + " only, but " + p.name +
                                     " is " + p.facility + "'s.");
  }
  return p.facility;
}

}  // namespace hemoledger
