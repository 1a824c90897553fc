// ReferenceData: governorates, facilities, the product catalogue and the test
// catalogue, the one home of each table. Loaded from the CSV files in data/
// (documented in docs/reference-data.md) and read-only afterwards, so it may be
// shared between threads without locking.
//
// Parsing is pure: callers hand in the file contents; engine/reference_files.h
// reads the files.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

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
  FacilityKind kind = FacilityKind::blood_bank;
};

struct Product {
  std::string code;  // 5-character product description code, e.g. E0336
  std::string description;
  Category category = Category::unknown;
  int shelf_life_days = 0;  // from collection; collection day is day 0
};

struct TestDef {
  std::string code;  // as in TestResulted.test, e.g. "hiv"
  std::string name;
  TestKind kind = TestKind::info;
  bool mandatory = false;  // must be negative (screens) or known (typing) before release
};

class ReferenceData {
 public:
  [[nodiscard]] static Result<ReferenceData> parse(std::string_view governorates_csv,
                                                   std::string_view facilities_csv,
                                                   std::string_view products_csv,
                                                   std::string_view tests_csv);

  const Governorate* governorate(std::string_view code) const;
  const Facility* facility(std::string_view code) const;
  // Looks up by the first five characters of an 8-character product code.
  const Product* product(std::string_view product_code) const;
  const TestDef* test(std::string_view code) const;

  // Governorates that share a border (data/neighbours.csv, optional). Rows
  // "governorate,neighbour" list each pair once; the relation is symmetric.
  [[nodiscard]] Status set_neighbours(std::string_view neighbours_csv);
  const std::vector<std::string>& neighbours(std::string_view governorate) const;
  bool are_neighbours(std::string_view a, std::string_view b) const;

  const std::vector<Governorate>& governorates() const { return governorates_; }
  const std::vector<Facility>& facilities() const { return facilities_; }
  const std::vector<Product>& products() const { return products_; }
  const std::vector<TestDef>& tests() const { return tests_; }

 private:
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
