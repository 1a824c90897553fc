#include "projections/compatibility.h"

namespace hemoledger {

namespace {

// Bit per ABO group, indexed by Abo.
constexpr unsigned bit(Abo a) { return 1u << static_cast<unsigned>(a); }
constexpr unsigned O = bit(Abo::o), A = bit(Abo::a), B = bit(Abo::b), AB = bit(Abo::ab);

// Donor groups acceptable for each recipient group, indexed by Abo.
constexpr unsigned kRedCells[] = {0, O, A | O, B | O, AB | A | B | O};
constexpr unsigned kPlasma[] = {0, O | A | B | AB, A | AB, B | AB, AB};

}  // namespace

Status check_compatible(Category category, AboRh donor, AboRh patient) {
  const std::string groups = std::string(to_string(donor)) + " " +
                             std::string(to_string(category)) + " for a " +
                             std::string(to_string(patient)) + " patient";
  if (donor == AboRh::unknown || patient == AboRh::unknown) {
    return make_error("incompatible", "Compatibility cannot be checked: " + groups + ".");
  }
  const Abo d = abo_of(donor), p = abo_of(patient);
  const auto pi = static_cast<unsigned>(p);
  bool ok = true;
  switch (category) {
    case Category::whole_blood:
      ok = d == p && !(rhd_of(patient) == RhD::negative && rhd_of(donor) == RhD::positive);
      break;
    case Category::red_cells:
      ok = (kRedCells[pi] & bit(d)) != 0 &&
           !(rhd_of(patient) == RhD::negative && rhd_of(donor) == RhD::positive);
      break;
    case Category::plasma:
    case Category::cryo:
      ok = (kPlasma[pi] & bit(d)) != 0;
      break;
    case Category::platelets:
      ok = true;
      break;
    case Category::unknown:
      ok = false;
      break;
  }
  if (!ok) return make_error("incompatible", "Incompatible: " + groups + ".");
  return {};
}

}  // namespace hemoledger
