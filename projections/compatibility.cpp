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

std::string groups_text(Category category, AboRh donor, AboRh patient) {
  return std::string(to_string(donor)) + " " + std::string(to_string(category)) + " for a " +
         std::string(to_string(patient)) + " patient";
}

Match match(Category category, AboRh donor, AboRh patient) {
  if (donor == AboRh::unknown || patient == AboRh::unknown) return Match::incompatible;
  const Abo d = abo_of(donor), p = abo_of(patient);
  const auto pi = static_cast<unsigned>(p);
  const bool rhd_mismatch = rhd_of(patient) == RhD::negative && rhd_of(donor) == RhD::positive;
  const bool plasma_ok = (kPlasma[pi] & bit(d)) != 0;
  switch (category) {
    case Category::whole_blood:
      if (d != p) return Match::incompatible;
      return rhd_mismatch ? Match::rhd_needs_approval : Match::compatible;
    case Category::red_cells:
      if ((kRedCells[pi] & bit(d)) == 0) return Match::incompatible;
      return rhd_mismatch ? Match::rhd_needs_approval : Match::compatible;
    case Category::plasma:
    case Category::cryo:
      return plasma_ok ? Match::compatible : Match::incompatible;
    case Category::platelets:
      if (rhd_mismatch) return Match::rhd_needs_approval;
      return plasma_ok ? Match::compatible : Match::plasma_warning;
    case Category::unknown:
      break;
  }
  return Match::incompatible;
}

Status check_compatible(Category category, AboRh donor, AboRh patient) {
  const std::string groups = groups_text(category, donor, patient);
  if (donor == AboRh::unknown || patient == AboRh::unknown) {
    return make_error("incompatible", "Compatibility cannot be checked: " + groups + ".");
  }
  const Match m = match(category, donor, patient);
  if (m == Match::incompatible || m == Match::rhd_needs_approval) {
    return make_error("incompatible", "Incompatible: " + groups + ".");
  }
  return {};
}

}  // namespace hemoledger
