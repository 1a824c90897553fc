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
// in a declared shortage, with approval, which is outside this check). Whole
// blood carries both red cells and plasma, so it must be ABO-identical.
// Plasma and cryo: RhD does not matter. Platelets: ABO and RhD are
// preferences, not hard rules, so every typed platelet unit is compatible.
#pragma once

#include <string>

#include "events/blood_group.h"
#include "events/reference_data.h"
#include "events/result.h"

namespace hemoledger {

// OK, or an Error with code "incompatible" and a sentence naming both groups.
// An unknown donor or patient group is never compatible.
[[nodiscard]] Status check_compatible(Category category, AboRh donor, AboRh patient);

}  // namespace hemoledger
