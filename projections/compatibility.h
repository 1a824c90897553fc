// ABO/RhD compatibility of a component with a patient: the one home of the
// table in DOMAIN.md.
//
//   recipient | red cells      | plasma and cryo
//   O         | O              | O, A, B, AB
//   A         | A, O           | A, AB
//   B         | B, O           | B, AB
//   AB        | AB, A, B, O    | AB
//
// Red cells: RhD-negative recipients get RhD-negative units (RhD-positive only
// in a declared shortage, with approval: Match::rhd_needs_approval). Whole
// blood carries both red cells and plasma, so it must be ABO-identical.
// Plasma and cryo: RhD does not matter. Platelets: RhD-positive platelets for
// an RhD-negative patient need approval as red cells do; platelets whose
// plasma is ABO-incompatible with the patient are given with a warning
// (Match::plasma_warning), since ABO is a preference for platelets.
#pragma once

#include <cstdint>
#include <string>

#include "events/blood_group.h"
#include "events/reference_data.h"
#include "events/result.h"

namespace hemoledger {

enum class Match : std::uint8_t {
  compatible = 1,
  rhd_needs_approval = 2,  // RhD-positive red cells, whole blood or platelets, RhD-negative patient
  plasma_warning = 3,      // platelets whose plasma is ABO-incompatible with the patient
  incompatible = 4,        // ABO (or an unknown group)
};
Match match(Category category, AboRh donor, AboRh patient);

// OK, or an Error with code "incompatible" and a sentence naming both groups.
// An unknown donor or patient group is never compatible; an RhD mismatch that
// an approval could allow is incompatible here (the projector asks match()).
[[nodiscard]] Status check_compatible(Category category, AboRh donor, AboRh patient);

// "O+ red cells for a A- patient", for sentences.
std::string groups_text(Category category, AboRh donor, AboRh patient);

}  // namespace hemoledger
