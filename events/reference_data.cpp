#include "events/reference_data.h"

#include <algorithm>
#include <cctype>

namespace hemoledger {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error bad_file(std::string_view file, std::size_t row, std::string what) {
  return make_error("invalid_reference_data",
                    std::string(file) + " row " + std::to_string(row) + ": " + what);
}

// Rows after the header, each checked to have exactly `columns` fields.
Result<std::vector<std::vector<std::string>>> rows_of(std::string_view file, std::string_view text,
                                                      std::vector<std::string_view> header) {
  auto rows = parse_csv(text);
  if (!rows) return make_error(rows.error().code, std::string(file) + ": " + rows.error().message);
  if (rows->empty()) return bad_file(file, 0, "the file is empty");
  const auto& h = rows->front();
  if (h.size() != header.size() || !std::equal(h.begin(), h.end(), header.begin())) {
    std::string want;
    for (auto c : header) want += (want.empty() ? "" : ",") + std::string(c);
    return bad_file(file, 1, "the header must be " + want);
  }
  std::vector<std::vector<std::string>> out(rows->begin() + 1, rows->end());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i].size() != header.size()) {
      return bad_file(file, i + 2, "expected " + std::to_string(header.size()) + " fields");
    }
  }
  return out;
}

bool to_int(const std::string& s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string_view to_string(FacilityKind k) {
  switch (k) {
    case FacilityKind::blood_bank: return "blood_bank";
    case FacilityKind::laboratory: return "laboratory";
    case FacilityKind::hospital: return "hospital";
  }
  return "unknown";
}

std::string_view to_string(Category c) {
  switch (c) {
    case Category::whole_blood: return "whole_blood";
    case Category::red_cells: return "red_cells";
    case Category::platelets: return "platelets";
    case Category::plasma: return "plasma";
    case Category::cryo: return "cryo";
    case Category::unknown: break;
  }
  return "unknown";
}

bool parse_category(std::string_view text, Category& out) {
  for (Category c : kAllCategories) {
    if (to_string(c) == text) {
      out = c;
      return true;
    }
  }
  return false;
}

bool parse_screen_outcome(std::string_view text, ScreenOutcome& out) {
  const std::string t = lower(text);
  if (t == "negative" || t == "non-reactive" || t == "nonreactive" || t == "neg") {
    out = ScreenOutcome::negative;
  } else if (t == "positive" || t == "reactive" || t == "pos") {
    out = ScreenOutcome::positive;
  } else if (t == "indeterminate" || t == "inconclusive") {
    out = ScreenOutcome::indeterminate;
  } else {
    return false;
  }
  return true;
}

Result<std::vector<std::vector<std::string>>> parse_csv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, field_started = false, line_has_content = false;
  auto end_row = [&] {
    if (line_has_content) {
      row.push_back(std::move(field));
      if (!(row.size() == 1 && !row[0].empty() && row[0][0] == '#')) rows.push_back(std::move(row));
    }
    row.clear();
    field.clear();
    line_has_content = field_started = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = field_started = line_has_content = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
      line_has_content = true;
    } else if (c == '\n') {
      end_row();
    } else if (c != '\r') {
      if (!line_has_content && c == '#') {
        // a comment line: skip to its end
        while (i < text.size() && text[i] != '\n') ++i;
        row.clear();
        field.clear();
        continue;
      }
      field += c;
      field_started = line_has_content = true;
    }
  }
  if (in_quotes) return make_error("invalid_csv", "a quoted field is not closed");
  end_row();
  return rows;
}

Result<ReferenceData> ReferenceData::parse(std::string_view governorates_csv,
                                           std::string_view facilities_csv,
                                           std::string_view products_csv,
                                           std::string_view tests_csv) {
  ReferenceData rd;
  auto govs = rows_of("governorates.csv", governorates_csv,
                      {"code", "name_en", "name_ar", "population_thousands"});
  if (!govs) return govs.error();
  for (std::size_t i = 0; i < govs->size(); ++i) {
    const auto& r = (*govs)[i];
    Governorate g{r[0], r[1], r[2], 0};
    if (g.code.empty() || !to_int(r[3], g.population_thousands)) {
      return bad_file("governorates.csv", i + 2, "needs a code and a whole population");
    }
    if (!rd.gov_index_.emplace(g.code, rd.governorates_.size()).second) {
      return bad_file("governorates.csv", i + 2, "duplicate code " + g.code);
    }
    rd.governorates_.push_back(std::move(g));
  }

  auto facs = rows_of("facilities.csv", facilities_csv,
                      {"code", "name_en", "name_ar", "governorate", "kind"});
  if (!facs) return facs.error();
  for (std::size_t i = 0; i < facs->size(); ++i) {
    const auto& r = (*facs)[i];
    Facility f{r[0], r[1], r[2], r[3], FacilityKind::blood_bank};
    if (r[4] == "blood_bank") f.kind = FacilityKind::blood_bank;
    else if (r[4] == "laboratory") f.kind = FacilityKind::laboratory;
    else if (r[4] == "hospital") f.kind = FacilityKind::hospital;
    else return bad_file("facilities.csv", i + 2, "kind must be blood_bank, laboratory or hospital");
    if (!rd.gov_index_.count(f.governorate)) {
      return bad_file("facilities.csv", i + 2, "unknown governorate " + f.governorate);
    }
    if (!rd.facility_index_.emplace(f.code, rd.facilities_.size()).second) {
      return bad_file("facilities.csv", i + 2, "duplicate code " + f.code);
    }
    rd.facilities_.push_back(std::move(f));
  }

  auto prods = rows_of("products.csv", products_csv,
                       {"code", "description", "category", "shelf_life_days"});
  if (!prods) return prods.error();
  for (std::size_t i = 0; i < prods->size(); ++i) {
    const auto& r = (*prods)[i];
    Product p{r[0], r[1], Category::unknown, 0};
    if (p.code.size() != 5 || !parse_category(r[2], p.category) ||
        !to_int(r[3], p.shelf_life_days) || p.shelf_life_days <= 0) {
      return bad_file("products.csv", i + 2,
                      "needs a 5-character code, a category and a positive shelf life");
    }
    if (!rd.product_index_.emplace(p.code, rd.products_.size()).second) {
      return bad_file("products.csv", i + 2, "duplicate code " + p.code);
    }
    rd.products_.push_back(std::move(p));
  }

  auto tests = rows_of("tests.csv", tests_csv, {"code", "name", "kind", "mandatory"});
  if (!tests) return tests.error();
  for (std::size_t i = 0; i < tests->size(); ++i) {
    const auto& r = (*tests)[i];
    TestDef t{r[0], r[1], TestKind::info, r[3] == "yes"};
    if (r[2] == "abo") t.kind = TestKind::abo;
    else if (r[2] == "rhd") t.kind = TestKind::rhd;
    else if (r[2] == "abo_rh") t.kind = TestKind::abo_rh;
    else if (r[2] == "screen") t.kind = TestKind::screen;
    else if (r[2] == "info") t.kind = TestKind::info;
    else return bad_file("tests.csv", i + 2, "kind must be abo, rhd, abo_rh, screen or info");
    if (r[3] != "yes" && r[3] != "no") return bad_file("tests.csv", i + 2, "mandatory is yes or no");
    if (!rd.test_index_.emplace(t.code, rd.tests_.size()).second) {
      return bad_file("tests.csv", i + 2, "duplicate code " + t.code);
    }
    rd.tests_.push_back(std::move(t));
  }
  return rd;
}

const Governorate* ReferenceData::governorate(std::string_view code) const {
  auto it = gov_index_.find(code);
  return it == gov_index_.end() ? nullptr : &governorates_[it->second];
}

const Facility* ReferenceData::facility(std::string_view code) const {
  auto it = facility_index_.find(code);
  return it == facility_index_.end() ? nullptr : &facilities_[it->second];
}

const Product* ReferenceData::product(std::string_view product_code) const {
  auto it = product_index_.find(product_code.substr(0, 5));
  return it == product_index_.end() ? nullptr : &products_[it->second];
}

const TestDef* ReferenceData::test(std::string_view code) const {
  auto it = test_index_.find(code);
  return it == test_index_.end() ? nullptr : &tests_[it->second];
}

}  // namespace hemoledger

namespace hemoledger {

Status ReferenceData::set_neighbours(std::string_view neighbours_csv) {
  auto rows = rows_of("neighbours.csv", neighbours_csv, {"governorate", "neighbour"});
  if (!rows) return rows.error();
  neighbours_.clear();
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& r = (*rows)[i];
    if (!governorate(r[0]) || !governorate(r[1]) || r[0] == r[1]) {
      return bad_file("neighbours.csv", i + 2, "needs two different known governorates");
    }
    if (!are_neighbours(r[0], r[1])) {
      neighbours_[r[0]].push_back(r[1]);
      neighbours_[r[1]].push_back(r[0]);
    }
  }
  return {};
}

const std::vector<std::string>& ReferenceData::neighbours(std::string_view g) const {
  static const std::vector<std::string> kNone;
  auto it = neighbours_.find(g);
  return it == neighbours_.end() ? kNone : it->second;
}

bool ReferenceData::are_neighbours(std::string_view a, std::string_view b) const {
  const auto& n = neighbours(a);
  return std::find(n.begin(), n.end(), b) != n.end();
}

}  // namespace hemoledger
