#include "projections/compatibility.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

using namespace hemoledger;

namespace {

// DOMAIN.md, "Red cell and plasma compatibility": recipient ABO -> acceptable donor ABO.
const std::map<std::string, std::set<std::string>> kRedCellTable = {
    {"O", {"O"}},
    {"A", {"A", "O"}},
    {"B", {"B", "O"}},
    {"AB", {"AB", "A", "B", "O"}},
};
const std::map<std::string, std::set<std::string>> kPlasmaTable = {
    {"O", {"O", "A", "B", "AB"}},
    {"A", {"A", "AB"}},
    {"B", {"B", "AB"}},
    {"AB", {"AB"}},
};

bool compatible(Category c, AboRh donor, AboRh patient) {
  return check_compatible(c, donor, patient).ok();
}

std::string abo(AboRh g) { return std::string(to_string(abo_of(g))); }

}  // namespace

TEST_CASE("red cells follow the ABO table and RhD-negative patients get RhD-negative units",
          "[projections][compatibility]") {
  int accepted = 0;
  for (AboRh patient : kAllGroups) {
    for (AboRh donor : kAllGroups) {
      const bool abo_ok = kRedCellTable.at(abo(patient)).count(abo(donor)) == 1;
      const bool rhd_ok = !(rhd_of(patient) == RhD::negative && rhd_of(donor) == RhD::positive);
      INFO(to_string(donor) << " red cells for a " << to_string(patient) << " patient");
      CHECK(compatible(Category::red_cells, donor, patient) == (abo_ok && rhd_ok));
      accepted += compatible(Category::red_cells, donor, patient) ? 1 : 0;
    }
  }
  // 9 ABO pairs x (pos<-pos, pos<-neg, neg<-neg) = 27 of the 64 combinations.
  CHECK(accepted == 27);
}

TEST_CASE("red cells: O- is the universal donor and AB+ the universal recipient",
          "[projections][compatibility]") {
  for (AboRh g : kAllGroups) {
    CHECK(compatible(Category::red_cells, AboRh::o_neg, g));
    CHECK(compatible(Category::red_cells, g, AboRh::ab_pos));
  }
  CHECK_FALSE(compatible(Category::red_cells, AboRh::o_pos, AboRh::o_neg));
  CHECK_FALSE(compatible(Category::red_cells, AboRh::a_pos, AboRh::o_pos));
  CHECK_FALSE(compatible(Category::red_cells, AboRh::ab_neg, AboRh::a_neg));
}

TEST_CASE("plasma and cryo follow the plasma table and ignore RhD",
          "[projections][compatibility]") {
  for (Category c : {Category::plasma, Category::cryo}) {
    int accepted = 0;
    for (AboRh patient : kAllGroups) {
      for (AboRh donor : kAllGroups) {
        const bool expected = kPlasmaTable.at(abo(patient)).count(abo(donor)) == 1;
        INFO(to_string(donor) << " " << to_string(c) << " for a " << to_string(patient)
                              << " patient");
        CHECK(compatible(c, donor, patient) == expected);
        accepted += compatible(c, donor, patient) ? 1 : 0;
      }
    }
    // 9 ABO pairs x 4 RhD combinations.
    CHECK(accepted == 36);
  }
  // RhD-positive plasma for an RhD-negative patient is fine.
  CHECK(compatible(Category::plasma, AboRh::ab_pos, AboRh::o_neg));
  CHECK(compatible(Category::cryo, AboRh::a_pos, AboRh::a_neg));
  // AB plasma is the universal plasma; O plasma only for O patients.
  CHECK_FALSE(compatible(Category::plasma, AboRh::o_neg, AboRh::a_neg));
}

TEST_CASE("whole blood must be ABO-identical and respects RhD", "[projections][compatibility]") {
  for (AboRh patient : kAllGroups) {
    for (AboRh donor : kAllGroups) {
      const bool expected = abo_of(donor) == abo_of(patient) &&
                            !(rhd_of(patient) == RhD::negative && rhd_of(donor) == RhD::positive);
      INFO(to_string(donor) << " whole blood for a " << to_string(patient) << " patient");
      CHECK(compatible(Category::whole_blood, donor, patient) == expected);
    }
  }
  // Red cells would be fine here; whole blood carries O plasma and is not.
  CHECK(compatible(Category::red_cells, AboRh::o_neg, AboRh::a_neg));
  CHECK_FALSE(compatible(Category::whole_blood, AboRh::o_neg, AboRh::a_neg));
}

TEST_CASE("platelets: an RhD mismatch needs approval and incompatible plasma is a warning",
          "[projections][compatibility]") {
  for (AboRh patient : kAllGroups) {
    for (AboRh donor : kAllGroups) {
      const bool rhd = rhd_of(patient) == RhD::negative && rhd_of(donor) == RhD::positive;
      const bool plasma_ok = kPlasmaTable.at(abo(patient)).count(abo(donor)) == 1;
      INFO(to_string(donor) << " platelets for a " << to_string(patient) << " patient");
      const Match expected = rhd         ? Match::rhd_needs_approval
                             : plasma_ok ? Match::compatible
                                         : Match::plasma_warning;
      CHECK(match(Category::platelets, donor, patient) == expected);
      // Either way they are never refused for ABO: only the RhD mismatch needs an approval.
      CHECK(compatible(Category::platelets, donor, patient) == !rhd);
    }
  }
}

TEST_CASE("red cells and whole blood with only an RhD mismatch may be given with approval",
          "[projections][compatibility]") {
  CHECK(match(Category::red_cells, AboRh::o_pos, AboRh::o_neg) == Match::rhd_needs_approval);
  CHECK(match(Category::red_cells, AboRh::a_pos, AboRh::o_neg) == Match::incompatible);
  CHECK(match(Category::whole_blood, AboRh::a_pos, AboRh::a_neg) == Match::rhd_needs_approval);
  CHECK(match(Category::whole_blood, AboRh::o_pos, AboRh::a_neg) == Match::incompatible);
  CHECK(match(Category::plasma, AboRh::a_pos, AboRh::o_neg) == Match::compatible);
  CHECK(match(Category::cryo, AboRh::o_pos, AboRh::a_pos) == Match::incompatible);
}

TEST_CASE("an unknown donor or patient group is never compatible", "[projections][compatibility]") {
  for (Category c : kAllCategories) {
    INFO(to_string(c));
    CHECK_FALSE(compatible(c, AboRh::unknown, AboRh::ab_pos));
    CHECK_FALSE(compatible(c, AboRh::o_neg, AboRh::unknown));
    CHECK_FALSE(compatible(c, AboRh::unknown, AboRh::unknown));
  }
  // An unknown component category is never compatible either.
  CHECK_FALSE(compatible(Category::unknown, AboRh::o_neg, AboRh::o_neg));
}

TEST_CASE("an incompatible pairing is reported with both groups named",
          "[projections][compatibility]") {
  auto s = check_compatible(Category::red_cells, AboRh::a_pos, AboRh::o_neg);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == "incompatible");
  CHECK(s.error().message.find("A+") != std::string::npos);
  CHECK(s.error().message.find("O-") != std::string::npos);
  CHECK(s.error().message.find("red_cells") != std::string::npos);

  auto unknown = check_compatible(Category::plasma, AboRh::unknown, AboRh::b_neg);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "incompatible");
  CHECK(unknown.error().message.find("cannot be checked") != std::string::npos);
}
