#include "events/facility_roles.h"

#include <array>

namespace hemoledger {

namespace {

constexpr unsigned bit(FacilityKind k) { return 1u << static_cast<unsigned>(k); }
constexpr unsigned kBank = bit(FacilityKind::blood_bank);
constexpr unsigned kLab = bit(FacilityKind::laboratory);
constexpr unsigned kHospital = bit(FacilityKind::hospital);
constexpr unsigned kAll = kBank | kLab | kHospital;

struct Role {
  EventType type;
  unsigned kinds;
  std::string_view doing;  // for the sentence: "collect a donation"
};

// Indexed by EventType - 1; facility_roles.h draws it.
constexpr std::array<Role, kEventTypeCount> kRoles = {{
    {EventType::donation_collected, kBank, "collect a donation"},
    {EventType::component_produced, kBank, "produce a component"},
    {EventType::test_resulted, kLab, "record a test result"},
    {EventType::unit_released, kBank, "release a unit"},
    {EventType::unit_quarantined, kBank, "quarantine a unit"},
    {EventType::transfer_dispatched, kBank, "dispatch a transfer"},
    {EventType::transfer_received, kBank, "receive a transfer"},
    {EventType::unit_reserved, kBank, "reserve a unit"},
    {EventType::reservation_released, kBank, "release a reservation"},
    {EventType::unit_issued, kBank, "issue a unit"},
    {EventType::unit_returned, kBank | kHospital, "return a unit"},
    {EventType::unit_transfused, kHospital, "record a transfusion"},
    {EventType::unit_discarded, kBank | kHospital, "discard a unit"},
    {EventType::unit_expired, kAll, "expire a unit"},
    {EventType::unit_recalled, kAll, "recall a unit"},
    {EventType::reagent_received, kLab, "receive reagents"},
    {EventType::reagent_consumed, kLab, "use reagents"},
    {EventType::reagent_transferred, kLab, "transfer reagents"},
    {EventType::reagent_discarded, kLab, "discard reagents"},
    {EventType::reagent_expired, kLab, "expire reagents"},
    {EventType::clock_ticked, 0, "tick the clock"},
    {EventType::donor_deferred, kBank | kLab, "defer a donor"},
    {EventType::deferred_donor_collected, kBank, "flag a collection from a deferred donor"},
    {EventType::typing_resolved, kBank | kLab, "resolve a typing discrepancy"},
    {EventType::recipient_notified, kAll, "record a recipient's notification"},
    {EventType::unit_thawed, kBank | kHospital, "thaw a unit"},
    {EventType::patient_typed, kAll, "record a patient's group"},
    {EventType::transfusion_reaction, kHospital, "report a transfusion reaction"},
}};

const Role* role(EventType t) {
  const auto i = static_cast<std::size_t>(t);
  return i >= 1 && i <= kRoles.size() ? &kRoles[i - 1] : nullptr;
}

std::string kinds_text(const Facility& f) {
  std::string out;
  for (FacilityKind k :
       {FacilityKind::blood_bank, FacilityKind::laboratory, FacilityKind::hospital}) {
    if (!f.is(k)) continue;
    std::string name(to_string(k));
    for (char& c : name) c = c == '_' ? ' ' : c;
    out += (out.empty() ? "" : " and ") + name;
  }
  return out.empty() ? "of no kind" : "a " + out;
}

}  // namespace

bool kind_may(FacilityKind k, EventType t) {
  const Role* r = role(t);
  return r && (r->kinds & bit(k)) != 0;
}

Status check_facility_may(const Facility& f, EventType t) {
  for (FacilityKind k :
       {FacilityKind::blood_bank, FacilityKind::laboratory, FacilityKind::hospital}) {
    if (f.is(k) && kind_may(k, t)) return {};
  }
  const Role* r = role(t);
  return make_error("facility_role", f.code + " is " + kinds_text(f) + "; it may not " +
                                         std::string(r ? r->doing : "do this") + ".");
}

}  // namespace hemoledger
