#include "projections/stock.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/test_reference.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

StockKey key(const std::string& facility, Category c, AboRh g, UnitStatus s) {
  return StockKey{facility, c, g, s};
}

// A table with red cells and plasma in Nablus and Gaza, in several groups and statuses.
StockTable sample_table() {
  StockTable t;
  t.apply({key("NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available), 5});
  t.apply({key("NBS-BB", Category::red_cells, AboRh::o_pos, UnitStatus::available), 12});
  t.apply({key("NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::quarantined), 3});
  t.apply({key("NBS-HOS", Category::red_cells, AboRh::o_neg, UnitStatus::issued), 2});
  t.apply({key("NBS-BB", Category::plasma, AboRh::ab_pos, UnitStatus::available), 7});
  t.apply({key("GZA-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available), 1});
  t.apply({key("GZA-BB", Category::platelets, AboRh::a_pos, UnitStatus::in_transit), 4});
  return t;
}

std::int64_t total(const std::vector<std::pair<StockKey, std::int64_t>>& cells) {
  std::int64_t n = 0;
  for (const auto& c : cells) n += c.second;
  return n;
}

}  // namespace

TEST_CASE("applying deltas adds and removes units from a stock cell", "[projections][stock]") {
  StockTable t;
  const StockKey k = key("NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available);
  CHECK(t.count(k) == 0);
  t.apply({k, 3});
  t.apply({k, 2});
  CHECK(t.count(k) == 5);
  t.apply({k, -4});
  CHECK(t.count(k) == 1);
  // A cell of another status or group is separate.
  CHECK(t.count(key("NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::reserved)) == 0);
  CHECK(t.count(key("NBS-BB", Category::red_cells, AboRh::o_pos, UnitStatus::available)) == 0);
}

TEST_CASE("a stock cell that reaches zero is erased", "[projections][stock]") {
  StockTable t;
  const StockKey k = key("NBS-BB", Category::plasma, AboRh::a_neg, UnitStatus::available);
  t.apply({k, 2});
  REQUIRE(t.cells().size() == 1);
  t.apply({k, -2});
  CHECK(t.cells().empty());
  CHECK(t.count(k) == 0);
  CHECK(t == StockTable{});
}

TEST_CASE("adding stock tables sums their cells and erases cancelled ones",
          "[projections][stock]") {
  const StockKey a = key("NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available);
  const StockKey b = key("GZA-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available);
  StockTable p0, p1;
  p0.apply({a, 4});
  p0.apply({b, 1});
  p1.apply({a, 2});
  p1.apply({b, -1});  // a partition may hold a partial, negative count
  StockTable sum;
  sum.add(p0);
  sum.add(p1);
  CHECK(sum.count(a) == 6);
  CHECK(sum.count(b) == 0);
  CHECK(sum.cells().size() == 1);
}

TEST_CASE("selecting stock with no filter returns every non-zero cell in key order",
          "[projections][stock]") {
  const StockTable t = sample_table();
  const auto all = t.select(StockFilter{}, shipped_reference());
  CHECK(all.size() == 7);
  CHECK(total(all) == 34);
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].first < all[i].first);
}

TEST_CASE("stock can be selected by facility, category, group and status", "[projections][stock]") {
  const StockTable t = sample_table();
  const auto& ref = shipped_reference();

  StockFilter by_facility;
  by_facility.facility = "NBS-BB";
  CHECK(total(t.select(by_facility, ref)) == 27);

  StockFilter by_category;
  by_category.category = Category::red_cells;
  CHECK(total(t.select(by_category, ref)) == 23);

  StockFilter by_group;
  by_group.group = AboRh::o_neg;
  CHECK(total(t.select(by_group, ref)) == 11);

  StockFilter available_o_neg_red_cells;
  available_o_neg_red_cells.category = Category::red_cells;
  available_o_neg_red_cells.group = AboRh::o_neg;
  available_o_neg_red_cells.has_status = true;
  available_o_neg_red_cells.status = UnitStatus::available;
  const auto cells = t.select(available_o_neg_red_cells, ref);
  REQUIRE(cells.size() == 2);
  CHECK(total(cells) == 6);

  // Without has_status, the status field is ignored.
  StockFilter status_ignored;
  status_ignored.status = UnitStatus::issued;
  CHECK(total(t.select(status_ignored, ref)) == 34);
}

TEST_CASE("stock is selected by governorate through the facilities' reference data",
          "[projections][stock]") {
  StockTable t = sample_table();
  // A cell at a facility that is not in reference data belongs to no governorate.
  t.apply({key("XYZ-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available), 9});
  const auto& ref = shipped_reference();

  StockFilter nablus;
  nablus.governorate = "NBS";
  const auto cells = t.select(nablus, ref);
  CHECK(total(cells) == 29);  // the blood bank and the hospital
  for (const auto& c : cells) CHECK(ref.facility(c.first.facility)->governorate == "NBS");

  StockFilter gaza_o_neg;
  gaza_o_neg.governorate = "GZA";
  gaza_o_neg.group = AboRh::o_neg;
  CHECK(total(t.select(gaza_o_neg, ref)) == 1);

  StockFilter nowhere;
  nowhere.governorate = "XYZ";
  CHECK(t.select(nowhere, ref).empty());
}

TEST_CASE("a stock key is written as facility|category|group|status and read back",
          "[projections][stock]") {
  CHECK(encode_stock_key(key("NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available)) ==
        "NBS-BB|red_cells|O-|available");
  CHECK(encode_stock_key(key("GZA-HOS", Category::plasma, AboRh::unknown,
                             UnitStatus::quarantined)) == "GZA-HOS|plasma|unknown|quarantined");

  int checked = 0;
  for (Category c : kAllCategories) {
    for (AboRh g : {AboRh::unknown, AboRh::o_pos, AboRh::o_neg, AboRh::a_pos, AboRh::a_neg,
                    AboRh::b_pos, AboRh::b_neg, AboRh::ab_pos, AboRh::ab_neg}) {
      for (UnitStatus s : kStockStatuses) {
        const StockKey k = key("KYS-BB", c, g, s);
        auto back = decode_stock_key(encode_stock_key(k));
        INFO(encode_stock_key(k));
        REQUIRE(back.ok());
        CHECK(*back == k);
        ++checked;
      }
    }
  }
  CHECK(checked == 5 * 9 * 5);
}

TEST_CASE("a damaged stock key is an error, not a guess", "[projections][stock]") {
  for (const char* text :
       {"", "NBS-BB", "NBS-BB|red_cells|O-", "NBS-BB|red_cells|O-|available|extra",
        "|red_cells|O-|available", "NBS-BB|blood|O-|available", "NBS-BB|red_cells|O|available",
        "NBS-BB|red_cells|O-|lost", "NBS-BB|unknown|O-|available"}) {
    auto r = decode_stock_key(text);
    INFO(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "corrupt_state");
  }
}
