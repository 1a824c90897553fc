// ReferenceData: governorates, facilities, the product catalogue, the test
// catalogue and which governorates are neighbours, the one home of each table.
// Loaded from the CSV files in data/ (or data/egypt/, or an operator's single
// JSON file; all documented in docs/reference-data.md) and read-only
// afterwards, so it may be shared between threads without locking.
//
// Parsing is pure: callers hand in the file contents; engine/cli/reference_files.h
// reads the files.
//
//   auto ref = ReferenceData::parse(governorates, facilities, products, tests,
//                                   neighbours);
//   if (!ref) { log(ref.error().message); return; }  // names file and row
//   ref->are_neighbours("GZA", "DEB");                // true, either order
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.h"
#include "events/reagent_catalogue.h"
#include "events/result.h"

namespace hemoledger {

enum class FacilityKind : std::uint8_t { blood_bank = 1, laboratory = 2, hospital = 3 };

// Numeric values are serialized: never renumber.
enum class Category : std::uint8_t {
  unknown = 0,
  whole_blood = 1,
  red_cells = 2,
  platelets = 3,
  plasma = 4,
  cryo = 5,
};
inline constexpr Category kAllCategories[] = {Category::whole_blood, Category::red_cells,
                                              Category::platelets, Category::plasma,
                                              Category::cryo};

std::string_view to_string(FacilityKind k);
std::string_view to_string(Category c);
bool parse_category(std::string_view text, Category& out);

enum class TestKind : std::uint8_t {
  abo = 1,     // result O, A, B or AB
  rhd = 2,     // result pos or neg
  abo_rh = 3,  // result O+, A-, ... (a typing panel)
  screen = 4,  // infectious-disease screen: negative, positive or indeterminate
  info = 5,    // recorded, no effect on release (e.g. antibody screen)
  // A confirmatory assay (negative, positive or indeterminate) that answers a
  // screen's repeatedly reactive result: the screen's row names it in
  // confirmed_by. It decides the donor's deferral, never the unit's release.
  confirmatory = 6,
};

enum class ScreenOutcome : std::uint8_t { negative = 1, positive = 2, indeterminate = 3 };
// "negative"/"non-reactive", "positive"/"reactive", "indeterminate"/"inconclusive".
bool parse_screen_outcome(std::string_view text, ScreenOutcome& out);

struct Governorate {
  std::string code, name_en, name_ar;
  int population_thousands = 0;
};

struct Facility {
  std::string code, name_en, name_ar, governorate;
  FacilityKind kind = FacilityKind::blood_bank;  // the first kind listed
  // Every kind it has, a bit per FacilityKind (a blood bank with its own
  // laboratory is "blood_bank+laboratory" in facilities.csv).
  std::uint8_t kinds = 1u << static_cast<unsigned>(FacilityKind::blood_bank);
  // The hospital a ward belongs to; empty for a facility of its own.
  std::string part_of;

  bool is(FacilityKind k) const { return (kinds & (1u << static_cast<unsigned>(k))) != 0; }
};

struct Product {
  std::string code;  // 5-character product description code, e.g. E0336
  std::string description;
  Category category = Category::unknown;
  int shelf_life_days = 0;  // from collection; collection day is day 0
  // Frozen components (plasma, cryo): the hours a thawed unit may be used
  // for (24 for FFP, 6 for cryo), and the longest a thawed expiry may be set
  // to where local policy allows (120 for thawed plasma); 0 for components
  // that are not frozen.
  int thawed_hours = 0;
  int thawed_max_hours = 0;

  bool frozen() const { return thawed_hours > 0; }
};

struct TestDef {
  std::string code;  // as in TestResulted.test, e.g. "hiv"
  std::string name;
  TestKind kind = TestKind::info;
  bool mandatory = false;  // must be negative (screens) or known (typing) before release
  // A positive result recalls the in-date components of the donor's earlier
  // donations within this many hours (DOMAIN.md "Lookback"); 0: no lookback.
  int lookback_hours = 0;
  // Screens: how many repeats (in duplicate: 2) an initially reactive result
  // needs before the donation counts as non-reactive; 0: a reactive result is
  // final (repeatedly reactive at once). projections/markers.h.
  int repeats = 0;
  // Screens: the code of the confirmatory test that answers a repeatedly
  // reactive result ("" for none).
  std::string confirmed_by;
};

class ReferenceData {
 public:
  // Each argument is the text of the CSV file of that name. On error, the
  // message names the file and the row (and the line when comments make the
  // two differ); the code is "invalid_csv" or "invalid_reference_data".
  [[nodiscard]] static Result<ReferenceData> parse(std::string_view governorates_csv,
                                                   std::string_view facilities_csv,
                                                   std::string_view products_csv,
                                                   std::string_view tests_csv);
  // As above, with neighbours.csv. Empty text (or only comments) means no
  // neighbours; a governorate code the data does not know is an error.
  [[nodiscard]] static Result<ReferenceData> parse(std::string_view governorates_csv,
                                                   std::string_view facilities_csv,
                                                   std::string_view products_csv,
                                                   std::string_view tests_csv,
                                                   std::string_view neighbours_csv);

  // Supplies the text of a default CSV file ("products.csv" or "tests.csv").
  using DefaultCsv = std::function<Result<std::string>(std::string_view file_name)>;

  // An operator's single JSON file (docs/reference-data.md):
  //   {"governorates": [{"code", "name_en", "name_ar", "population_thousands"}],
  //    "facilities": [{"code", "name_en", "name_ar", "governorate", "kind"}],
  //    "neighbours": [["A", "B"], ...],               (optional)
  //    "products": [...], "tests": [...]}              (optional)
  // Row objects use the CSV column names as keys. Without "products" or
  // "tests", read_default is called with "products.csv" or "tests.csv" and its
  // text parsed as CSV; an error it returns is returned unchanged. `source`
  // (usually the file name) starts every error message, followed by a JSON
  // path such as facilities[3].kind (indices count from 0); the code is
  // "invalid_json" for text that is not JSON, else "invalid_reference_data".
  [[nodiscard]] static Result<ReferenceData> parse_json(std::string_view json_text,
                                                        std::string_view source,
                                                        const DefaultCsv& read_default);

  const Governorate* governorate(std::string_view code) const;
  const Facility* facility(std::string_view code) const;
  // The facility a ward is part of, or the facility itself; null if unknown.
  const Facility* site_of(std::string_view code) const;
  // Looks up by the first five characters of an 8-character product code.
  const Product* product(std::string_view product_code) const;
  const TestDef* test(std::string_view code) const;

  // Governorates that share a border (neighbours.csv, optional). Rows
  // "governorate,neighbour" list each pair once, in either order; the relation
  // is symmetric. Replaces the neighbours held so far; on error (unknown code,
  // a governorate paired with itself, a pair listed twice) keeps them.
  [[nodiscard]] Status set_neighbours(std::string_view neighbours_csv);
  // In the order the file lists them; empty for an unknown code.
  const std::vector<std::string>& neighbours(std::string_view governorate) const;
  bool are_neighbours(std::string_view a, std::string_view b) const;

  const std::vector<Governorate>& governorates() const { return governorates_; }
  const std::vector<Facility>& facilities() const { return facilities_; }
  const std::vector<Product>& products() const { return products_; }
  const std::vector<TestDef>& tests() const { return tests_; }

  // The minimum interval between whole-blood donations, in days, for a donor
  // of sex `s` (data/donor_intervals.csv, the "any" row where the sex is not
  // recorded or has no row of its own); 0 when no interval is set.
  int donation_interval_days(DonorSex s) const;
  // Rows "sex,interval_days" (sex: male, female or any). Replaces the
  // intervals held so far only if every row is valid.
  [[nodiscard]] Status set_donation_intervals(std::string_view csv);

  // Laboratory reagents and test kits (data/reagents.csv); empty unless set.
  const ReagentCatalogue& reagents() const { return reagents_; }
  void set_reagents(ReagentCatalogue reagents) { reagents_ = std::move(reagents); }

 private:
  struct Builder;  // fills the tables from parsed rows (reference_data.cpp)

  ReagentCatalogue reagents_;
  int interval_days_[3] = {0, 0, 0};  // by DonorSex: "any", male, female
  std::vector<Governorate> governorates_;
  std::vector<Facility> facilities_;
  std::vector<Product> products_;
  std::vector<TestDef> tests_;
  std::map<std::string, std::size_t, std::less<>> gov_index_, facility_index_, product_index_,
      test_index_;
  std::map<std::string, std::vector<std::string>, std::less<>> neighbours_;
};

// Splits CSV text into rows of fields (RFC 4180 quoting, '#' comment lines and
// blank lines skipped). The first row is the header.
[[nodiscard]] Result<std::vector<std::vector<std::string>>> parse_csv(std::string_view text);

}  // namespace hemoledger
