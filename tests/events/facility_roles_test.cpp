#include "events/facility_roles.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/test_reference.h"

using namespace hemoledger;

namespace {

// What each kind does in life (DOMAIN.md "Facility roles", issue 17), written out
// here independently of the table in facility_roles.cpp: B blood bank, L laboratory,
// H hospital.
struct Expected {
  EventType type;
  const char* kinds;
};
const std::vector<Expected> kExpected = {
    {EventType::donation_collected, "B"},
    {EventType::component_produced, "B"},
    {EventType::test_resulted, "L"},
    {EventType::unit_released, "B"},
    {EventType::unit_quarantined, "B"},
    {EventType::transfer_dispatched, "B"},
    {EventType::transfer_received, "B"},
    {EventType::unit_reserved, "B"},
    {EventType::reservation_released, "B"},
    {EventType::unit_issued, "B"},
    {EventType::unit_returned, "BH"},
    {EventType::unit_transfused, "H"},
    {EventType::unit_discarded, "BH"},
    {EventType::unit_expired, "BLH"},
    {EventType::unit_recalled, "BLH"},
    {EventType::reagent_received, "L"},
    {EventType::reagent_consumed, "L"},
    {EventType::reagent_transferred, "L"},
    {EventType::reagent_discarded, "L"},
    {EventType::reagent_expired, "L"},
    {EventType::clock_ticked, ""},
    {EventType::donor_deferred, "BL"},
    {EventType::deferred_donor_collected, "B"},
    {EventType::typing_resolved, "BL"},
    {EventType::recipient_notified, "BLH"},
    {EventType::unit_thawed, "BH"},
    {EventType::patient_typed, "BLH"},
    {EventType::transfusion_reaction, "H"},
};

char letter(FacilityKind k) {
  return k == FacilityKind::blood_bank ? 'B' : k == FacilityKind::laboratory ? 'L' : 'H';
}

}  // namespace

TEST_CASE("the expectations cover every event type", "[events][roles]") {
  CHECK(kExpected.size() == static_cast<std::size_t>(kEventTypeCount));
}

TEST_CASE("each kind of facility may record only what it does in life", "[events][roles]") {
  for (const auto& x : kExpected) {
    for (FacilityKind k :
         {FacilityKind::blood_bank, FacilityKind::laboratory, FacilityKind::hospital}) {
      const bool expected = std::string(x.kinds).find(letter(k)) != std::string::npos;
      DYNAMIC_SECTION(to_string(x.type) << " by a " << to_string(k)) {
        CHECK(kind_may(k, x.type) == expected);
      }
    }
  }
}

TEST_CASE("a refused role names the facility, its kind and what it tried", "[events][roles]") {
  const Facility* hospital = testing::shipped_reference().facility("NBS-HOS");
  REQUIRE(hospital);
  auto s = check_facility_may(*hospital, EventType::donation_collected);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == "facility_role");
  CHECK(s.error().message == "NBS-HOS is a hospital; it may not collect a donation.");
  CHECK(check_facility_may(*hospital, EventType::unit_transfused).ok());
}

TEST_CASE("a facility with several kinds may do what any of them may", "[events][roles]") {
  auto ref = ReferenceData::parse(
      "code,name_en,name_ar,population_thousands\nNBS,Nablus,نابلس,430\n",
      "code,name_en,name_ar,governorate,kind\n"
      "NBS-BB,Nablus Blood Bank,بنك الدم,NBS,blood_bank+laboratory\n",
      testing::read_data_file("products.csv"), testing::read_data_file("tests.csv"));
  REQUIRE(ref.ok());
  const Facility& f = *ref->facility("NBS-BB");
  CHECK(f.kind == FacilityKind::blood_bank);
  CHECK(check_facility_may(f, EventType::donation_collected).ok());
  CHECK(check_facility_may(f, EventType::test_resulted).ok());
  auto s = check_facility_may(f, EventType::unit_transfused);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message ==
        "NBS-BB is a blood bank and laboratory; it may not record a transfusion.");
}
