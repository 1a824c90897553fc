#include "events/reference_data.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace hemoledger {

namespace {

using nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// How a column's value is written in JSON: text is a string, whole a
// non-negative integer, yes_no true/false (or the CSV's "yes"/"no").
enum class JsonType { text, whole, yes_no };

struct Column {
  std::string_view name;
  JsonType type;
  // Set for an optional column: its value when a file leaves it out (a CSV
  // may omit optional columns at the end of its header, a JSON object the key).
  const char* fallback = nullptr;
};

// One table: its CSV file, its key in an operator's JSON file and its columns,
// which are both the CSV header and the JSON keys.
struct Schema {
  std::string_view file, json_key;
  std::vector<Column> columns;
};

const Schema kGovernorates{"governorates.csv",
                           "governorates",
                           {{"code", JsonType::text},
                            {"name_en", JsonType::text},
                            {"name_ar", JsonType::text},
                            {"population_thousands", JsonType::whole}}};
const Schema kFacilities{"facilities.csv",
                         "facilities",
                         {{"code", JsonType::text},
                          {"name_en", JsonType::text},
                          {"name_ar", JsonType::text},
                          {"governorate", JsonType::text},
                          {"kind", JsonType::text},
                          {"part_of", JsonType::text, ""}}};
const Schema kProducts{"products.csv",
                       "products",
                       {{"code", JsonType::text},
                        {"description", JsonType::text},
                        {"category", JsonType::text},
                        {"shelf_life_days", JsonType::whole},
                        {"thawed_hours", JsonType::whole, "0"},
                        {"thawed_max_hours", JsonType::whole, "0"}}};
const Schema kTests{"tests.csv",
                    "tests",
                    {{"code", JsonType::text},
                     {"name", JsonType::text},
                     {"kind", JsonType::text},
                     {"mandatory", JsonType::yes_no},
                     {"lookback_hours", JsonType::whole, "0"},
                     {"repeats", JsonType::whole, "0"},
                     {"confirmed_by", JsonType::text, ""}}};
const Schema kNeighbours{"neighbours.csv",
                         "neighbours",
                         {{"governorate", JsonType::text}, {"neighbour", JsonType::text}}};

std::string column_list(const Schema& s, std::string_view separator) {
  std::string out;
  for (const auto& c : s.columns) {
    if (!out.empty()) out += separator;
    out += c.name;
  }
  return out;
}

// A data row and where it came from, e.g. "facilities.csv row 4 (line 6)" or
// "ops.json facilities[2]", for error messages.
struct Row {
  std::string where;
  std::vector<std::string> fields;
};
using Table = std::vector<Row>;

Error invalid(std::string message) {
  return make_error("invalid_reference_data", std::move(message));
}

Error bad_row(const Row& row, std::string_view what) {
  return invalid(row.where + ": " + std::string(what));
}

struct CsvRow {
  std::size_t line = 0;  // 1-based line on which the row starts
  std::vector<std::string> fields;
};

Result<std::vector<CsvRow>> parse_csv_rows(std::string_view text) {
  std::vector<CsvRow> rows;
  std::vector<std::string> row;
  std::string field;
  std::size_t line = 1, row_line = 1;
  bool in_quotes = false, field_started = false, line_has_content = false;
  auto end_row = [&] {
    if (line_has_content) {
      row.push_back(std::move(field));
      if (!(row.size() == 1 && !row[0].empty() && row[0][0] == '#')) {
        rows.push_back(CsvRow{row_line, std::move(row)});
      }
    }
    row.clear();
    field.clear();
    line_has_content = field_started = false;
  };
  auto start_content = [&] {
    if (!line_has_content) row_line = line;
    line_has_content = true;
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
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      start_content();
      in_quotes = field_started = true;
    } else if (c == ',') {
      start_content();
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n') {
      end_row();
      ++line;
    } else if (c != '\r') {
      if (!line_has_content && c == '#') {
        // A comment line: skip to just before its end, where the newline is counted.
        while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
        row.clear();
        field.clear();
        continue;
      }
      start_content();
      field += c;
      field_started = true;
    }
  }
  if (in_quotes) {
    return make_error("invalid_csv", "a quoted field that starts on line " +
                                         std::to_string(row_line) + " is never closed.");
  }
  end_row();
  return rows;
}

// Rows after the header, each checked to have the schema's columns. With
// `optional`, a file with no rows at all (empty, or only comments) is an empty
// table rather than an error.
Result<Table> csv_table(const Schema& schema, std::string_view text, bool optional = false) {
  const std::string file(schema.file);
  auto rows = parse_csv_rows(text);
  if (!rows) return make_error(rows.error().code, file + ": " + rows.error().message);
  if (rows->empty()) {
    if (optional) return Table{};
    return invalid(file + " is empty; it needs the header " + column_list(schema, ",") + ".");
  }
  const auto& h = rows->front().fields;
  const auto& cols = schema.columns;
  // The header names the columns in order; optional ones may be left off the end.
  const bool header_ok =
      h.size() <= cols.size() &&
      std::equal(h.begin(), h.end(), cols.begin(),
                 [](const std::string& a, const Column& b) { return a == b.name; }) &&
      std::all_of(cols.begin() + static_cast<std::ptrdiff_t>(h.size()), cols.end(),
                  [](const Column& c) { return c.fallback != nullptr; });
  if (!header_ok) {
    return invalid(file + " row 1: the header must be " + column_list(schema, ",") + ".");
  }
  Table out;
  for (std::size_t i = 1; i < rows->size(); ++i) {
    const CsvRow& r = (*rows)[i];
    Row row{file + " row " + std::to_string(i + 1), r.fields};
    if (r.line != i + 1) row.where += " (line " + std::to_string(r.line) + ")";
    if (r.fields.size() != h.size()) {
      return bad_row(row, "expected " + std::to_string(h.size()) + " fields (" +
                              column_list(schema, ",") + ") but found " +
                              std::to_string(r.fields.size()) + ".");
    }
    for (std::size_t c = h.size(); c < cols.size(); ++c) row.fields.emplace_back(cols[c].fallback);
    out.push_back(std::move(row));
  }
  return out;
}

bool facility_kind(std::string_view text, FacilityKind& out) {
  for (FacilityKind k :
       {FacilityKind::blood_bank, FacilityKind::laboratory, FacilityKind::hospital}) {
    if (to_string(k) == text) {
      out = k;
      return true;
    }
  }
  return false;
}

// "blood_bank" or several kinds joined by '+' ("blood_bank+laboratory"): the
// first is `kind`, all of them `kinds`.
bool facility_kinds(std::string_view text, Facility& f) {
  f.kinds = 0;
  bool first = true;
  for (;;) {
    const auto plus = text.find('+');
    FacilityKind k;
    if (!facility_kind(text.substr(0, plus), k)) return false;
    if (first) f.kind = k;
    first = false;
    f.kinds |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(k));
    if (plus == std::string_view::npos) return true;
    text.remove_prefix(plus + 1);
  }
}

bool test_kind(std::string_view text, TestKind& out) {
  static const std::pair<std::string_view, TestKind> kKinds[] = {
      {"abo", TestKind::abo},       {"rhd", TestKind::rhd},
      {"abo_rh", TestKind::abo_rh}, {"screen", TestKind::screen},
      {"info", TestKind::info},     {"confirmatory", TestKind::confirmatory}};
  for (const auto& [name, kind] : kKinds) {
    if (name == text) {
      out = kind;
      return true;
    }
  }
  return false;
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

std::string_view json_kind(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "true or false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a decimal number";
    default:
      return "something else";
  }
}

// One JSON value as the text a CSV field would hold.
Result<std::string> json_field(const json& v, const Column& c, const std::string& where) {
  auto wrong = [&](std::string_view want) -> Error {
    return invalid(where + ": expected " + std::string(want) + " but found " +
                   std::string(json_kind(v)) + ".");
  };
  switch (c.type) {
    case JsonType::text:
      if (!v.is_string()) return wrong("a string");
      return v.get<std::string>();
    case JsonType::whole:
      if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
      if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
        return std::to_string(v.get<std::int64_t>());
      }
      return wrong("a whole number that is zero or more");
    case JsonType::yes_no:
      if (v.is_boolean()) return std::string(v.get<bool>() ? "yes" : "no");
      if (v.is_string()) return v.get<std::string>();
      return wrong("true or false");
  }
  return wrong("a value");
}

// The array root[schema.json_key] as rows in column order.
Result<Table> json_table(const json& root, const Schema& schema, const std::string& source) {
  const std::string key(schema.json_key);
  const json& array = root.at(key);
  if (!array.is_array()) {
    return invalid(source + " " + key + ": expected an array of objects but found " +
                   std::string(json_kind(array)) + ".");
  }
  Table out;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json& item = array[i];
    Row row{source + " " + key + "[" + std::to_string(i) + "]", {}};
    if (!item.is_object()) {
      return bad_row(row, "expected an object with the keys " + column_list(schema, ", ") +
                              " but found " + std::string(json_kind(item)) + ".");
    }
    for (auto it = item.begin(); it != item.end(); ++it) {
      const bool known = std::any_of(schema.columns.begin(), schema.columns.end(),
                                     [&](const Column& c) { return c.name == it.key(); });
      if (!known) {
        return bad_row(row, "unknown key \"" + it.key() + "\"; the keys are " +
                                column_list(schema, ", ") + ".");
      }
    }
    for (const Column& c : schema.columns) {
      auto it = item.find(std::string(c.name));
      if (it == item.end() && c.fallback) {
        row.fields.emplace_back(c.fallback);
        continue;
      }
      if (it == item.end()) {
        return bad_row(row, "the key \"" + std::string(c.name) + "\" is missing.");
      }
      auto value = json_field(*it, c, row.where + "." + std::string(c.name));
      if (!value) return value.error();
      row.fields.push_back(std::move(*value));
    }
    out.push_back(std::move(row));
  }
  return out;
}

// "neighbours": [["A", "B"], ...] as rows of two fields.
Result<Table> json_neighbours(const json& array, const std::string& source) {
  if (!array.is_array()) {
    return invalid(source +
                   " neighbours: expected an array of pairs such as [\"CAI\", \"GIZ\"] "
                   "but found " +
                   std::string(json_kind(array)) + ".");
  }
  Table out;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json& pair = array[i];
    Row row{source + " neighbours[" + std::to_string(i) + "]", {}};
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      return bad_row(row, "expected a pair of governorate codes such as [\"CAI\", \"GIZ\"].");
    }
    row.fields = {pair[0].get<std::string>(), pair[1].get<std::string>()};
    out.push_back(std::move(row));
  }
  return out;
}

// Parses an operator's JSON text, refusing a key repeated within one object
// (nlohmann would keep the last silently). Exceptions stay inside.
Result<json> parse_json_text(std::string_view text, const std::string& source) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  std::string repeated;
  const json::parser_callback_t watch = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (event == json::parse_event_t::key && !keys.empty() &&
               !keys.back().insert(parsed.get<std::string>()).second && repeated.empty()) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  try {
    json j = json::parse(text.begin(), text.end(), watch);
    if (!repeated.empty()) {
      return invalid(source + ": the key \"" + repeated +
                     "\" appears twice in one object; give each key once.");
    }
    return j;
  } catch (const json::exception& e) {
    // what() reads "[json.exception.parse_error.101] parse error at line 3, column 5: ...";
    // a number too large for a double throws out_of_range.406 instead.
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what.erase(0, pos + 2);
    if (!what.empty() && what.back() != '.') what += '.';
    return make_error("invalid_json", source + " is not valid JSON: " + what);
  }
}

}  // namespace

// Fills a ReferenceData from parsed rows; shared by the CSV and JSON parsers so
// that both apply the same rules and word errors the same way.
struct ReferenceData::Builder {
  static Status governorates(ReferenceData& rd, const Table& rows) {
    for (const Row& r : rows) {
      Governorate g{r.fields[0], r.fields[1], r.fields[2], 0};
      if (g.code.empty()) return bad_row(r, "the code is empty.");
      if (!to_int(r.fields[3], g.population_thousands)) {
        return bad_row(r,
                       "population_thousands must be a whole number, not \"" + r.fields[3] + "\".");
      }
      if (!rd.gov_index_.emplace(g.code, rd.governorates_.size()).second) {
        return bad_row(r, "duplicate code " + g.code + "; each governorate is listed once.");
      }
      rd.governorates_.push_back(std::move(g));
    }
    return {};
  }

  static Status facilities(ReferenceData& rd, const Table& rows) {
    for (const Row& r : rows) {
      Facility f;
      f.code = r.fields[0];
      f.name_en = r.fields[1];
      f.name_ar = r.fields[2];
      f.governorate = r.fields[3];
      const std::string& kind = r.fields[4];
      if (!facility_kinds(kind, f)) {
        return bad_row(r,
                       "kind must be blood_bank, laboratory or hospital (or several joined by "
                       "'+', e.g. blood_bank+laboratory), not \"" +
                           kind + "\".");
      }
      f.part_of = r.fields[5];
      if (f.code.empty()) return bad_row(r, "the code is empty.");
      if (!rd.gov_index_.count(f.governorate)) {
        return bad_row(
            r, "unknown governorate " + f.governorate + "; list it in the governorates first.");
      }
      if (!rd.facility_index_.emplace(f.code, rd.facilities_.size()).second) {
        return bad_row(r, "duplicate code " + f.code + "; each facility is listed once.");
      }
      rd.facilities_.push_back(std::move(f));
    }
    // A ward is part of a hospital listed in the same data.
    for (const Facility& f : rd.facilities_) {
      if (f.part_of.empty()) continue;
      const auto it = rd.facility_index_.find(f.part_of);
      if (it == rd.facility_index_.end() || f.part_of == f.code ||
          !rd.facilities_[it->second].is(FacilityKind::hospital) ||
          !rd.facilities_[it->second].part_of.empty() || !f.is(FacilityKind::hospital)) {
        return invalid(std::string(kFacilities.file) + ": " + f.code + " is part_of \"" +
                       f.part_of +
                       "\", which must be another hospital listed here (not itself a ward), and "
                       "a ward must be of kind hospital.");
      }
    }
    return {};
  }

  static Status products(ReferenceData& rd, const Table& rows) {
    for (const Row& r : rows) {
      Product p;
      p.code = r.fields[0];
      p.description = r.fields[1];
      if (p.code.size() != 5) {
        return bad_row(r, "the code must be a 5-character product description code such as E0336.");
      }
      if (!parse_category(r.fields[2], p.category)) {
        return bad_row(r, "category must be whole_blood, red_cells, platelets, plasma or cryo.");
      }
      if (!to_int(r.fields[3], p.shelf_life_days) || p.shelf_life_days <= 0) {
        return bad_row(r, "shelf_life_days must be a whole number of days greater than zero.");
      }
      if (!to_int(r.fields[4], p.thawed_hours) || !to_int(r.fields[5], p.thawed_max_hours) ||
          p.thawed_hours < 0 || p.thawed_max_hours < p.thawed_hours ||
          (p.thawed_hours == 0 && p.thawed_max_hours != 0) ||
          (p.thawed_hours > 0 && p.category != Category::plasma && p.category != Category::cryo)) {
        return bad_row(r,
                       "thawed_hours and thawed_max_hours are whole hours, given for frozen "
                       "plasma and cryo only, with thawed_max_hours at least thawed_hours.");
      }
      if (!rd.product_index_.emplace(p.code, rd.products_.size()).second) {
        return bad_row(r, "duplicate code " + p.code + "; each product is listed once.");
      }
      rd.products_.push_back(std::move(p));
    }
    return {};
  }

  static Status tests(ReferenceData& rd, const Table& rows) {
    for (const Row& r : rows) {
      const std::string &kind = r.fields[2], &mandatory = r.fields[3];
      TestDef t{r.fields[0], r.fields[1], TestKind::info, mandatory == "yes", 0, 0, ""};
      if (!test_kind(kind, t.kind)) {
        return bad_row(r, "kind must be abo, rhd, abo_rh, screen, confirmatory or info, not \"" +
                              kind + "\".");
      }
      if (mandatory != "yes" && mandatory != "no") {
        return bad_row(r, "mandatory must be yes or no, not \"" + mandatory + "\".");
      }
      if (!to_int(r.fields[4], t.lookback_hours) || t.lookback_hours < 0 ||
          (t.lookback_hours > 0 && t.kind != TestKind::screen)) {
        return bad_row(r,
                       "lookback_hours must be a whole number of hours (0 for none), and only "
                       "a screen can trigger a lookback.");
      }
      t.confirmed_by = r.fields[6];
      if (!to_int(r.fields[5], t.repeats) || t.repeats < 0 || t.repeats > 9 ||
          ((t.repeats > 0 || !t.confirmed_by.empty()) && t.kind != TestKind::screen)) {
        return bad_row(r,
                       "repeats must be a whole number from 0 to 9, and only a screen has "
                       "repeats or a confirmatory test.");
      }
      if (!rd.test_index_.emplace(t.code, rd.tests_.size()).second) {
        return bad_row(r, "duplicate code " + t.code + "; each test is listed once.");
      }
      rd.tests_.push_back(std::move(t));
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const TestDef& t = rd.tests_[rd.tests_.size() - rows.size() + i];
      if (t.confirmed_by.empty()) continue;
      const TestDef* c = rd.test(t.confirmed_by);
      if (!c || c->kind != TestKind::confirmatory) {
        return bad_row(rows[i], "confirmed_by must name a test of kind confirmatory, not \"" +
                                    t.confirmed_by + "\".");
      }
    }
    return {};
  }

  // Replaces rd's neighbours only if every row is valid.
  static Status neighbours(ReferenceData& rd, const Table& rows) {
    std::map<std::string, std::vector<std::string>, std::less<>> pairs;
    for (const Row& r : rows) {
      const std::string &a = r.fields[0], &b = r.fields[1];
      for (const std::string* code : {&a, &b}) {
        if (!rd.governorate(*code)) {
          return bad_row(
              r, "unknown governorate " + *code + "; neighbours must be listed governorates.");
        }
      }
      if (a == b) return bad_row(r, "a governorate cannot be its own neighbour (" + a + ").");
      auto& of_a = pairs[a];
      if (std::find(of_a.begin(), of_a.end(), b) != of_a.end()) {
        return bad_row(r, "the pair " + a + "," + b +
                              " is listed twice; list each pair once, in either order.");
      }
      of_a.push_back(b);
      pairs[b].push_back(a);
    }
    rd.neighbours_ = std::move(pairs);
    return {};
  }
};

std::string_view to_string(FacilityKind k) {
  switch (k) {
    case FacilityKind::blood_bank:
      return "blood_bank";
    case FacilityKind::laboratory:
      return "laboratory";
    case FacilityKind::hospital:
      return "hospital";
  }
  return "unknown";
}

std::string_view to_string(Category c) {
  switch (c) {
    case Category::whole_blood:
      return "whole_blood";
    case Category::red_cells:
      return "red_cells";
    case Category::platelets:
      return "platelets";
    case Category::plasma:
      return "plasma";
    case Category::cryo:
      return "cryo";
    case Category::unknown:
      break;
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

int ReferenceData::donation_interval_days(DonorSex s) const {
  const int own = interval_days_[static_cast<int>(s)];
  return s != DonorSex::unknown && own > 0 ? own : interval_days_[0];
}

Status ReferenceData::set_donation_intervals(std::string_view csv) {
  auto rows = parse_csv(csv);
  if (!rows) return make_error(rows.error().code, "donor_intervals.csv: " + rows.error().message);
  int days[3] = {0, 0, 0};
  const auto bad = [](std::size_t row, const std::string& what) {
    return invalid("donor_intervals.csv row " + std::to_string(row + 1) + ": " + what);
  };
  if (rows->empty() || (*rows)[0] != std::vector<std::string>{"sex", "interval_days"}) {
    return invalid("donor_intervals.csv row 1: the header must be sex,interval_days.");
  }
  for (std::size_t i = 1; i < rows->size(); ++i) {
    const auto& r = (*rows)[i];
    if (r.size() != 2) return bad(i, "expected 2 fields (sex,interval_days).");
    int slot = r[0] == "any" ? 0 : r[0] == "male" ? 1 : r[0] == "female" ? 2 : -1;
    if (slot < 0) return bad(i, "sex must be male, female or any, not \"" + r[0] + "\".");
    int n = 0;
    if (!to_int(r[1], n) || n < 1 || n > 3650) {
      return bad(i, "interval_days must be a whole number of days from 1 to 3650.");
    }
    if (days[slot] != 0) return bad(i, "the sex " + r[0] + " is listed twice.");
    days[slot] = n;
  }
  std::copy(days, days + 3, interval_days_);
  return {};
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
  auto rows = parse_csv_rows(text);
  if (!rows) return rows.error();
  std::vector<std::vector<std::string>> out;
  out.reserve(rows->size());
  for (auto& r : *rows) out.push_back(std::move(r.fields));
  return out;
}

Result<ReferenceData> ReferenceData::parse(std::string_view governorates_csv,
                                           std::string_view facilities_csv,
                                           std::string_view products_csv,
                                           std::string_view tests_csv) {
  struct File {
    const Schema& schema;
    std::string_view text;
    Status (*fill)(ReferenceData&, const Table&);
  };
  const File files[] = {{kGovernorates, governorates_csv, &Builder::governorates},
                        {kFacilities, facilities_csv, &Builder::facilities},
                        {kProducts, products_csv, &Builder::products},
                        {kTests, tests_csv, &Builder::tests}};
  ReferenceData rd;
  for (const File& f : files) {
    auto table = csv_table(f.schema, f.text);
    if (!table) return table.error();
    if (auto s = f.fill(rd, *table); !s) return s.error();
  }
  return rd;
}

Result<ReferenceData> ReferenceData::parse(std::string_view governorates_csv,
                                           std::string_view facilities_csv,
                                           std::string_view products_csv,
                                           std::string_view tests_csv,
                                           std::string_view neighbours_csv) {
  auto rd = parse(governorates_csv, facilities_csv, products_csv, tests_csv);
  if (!rd) return rd;
  if (auto s = rd->set_neighbours(neighbours_csv); !s) return s.error();
  return rd;
}

Result<ReferenceData> ReferenceData::parse_json(std::string_view json_text,
                                                std::string_view source_name,
                                                const DefaultCsv& read_default) {
  const std::string source(source_name);
  auto root = parse_json_text(json_text, source);
  if (!root) return root.error();
  if (!root->is_object()) {
    return invalid(source +
                   ": expected a JSON object with \"governorates\" and \"facilities\" "
                   "arrays but found " +
                   std::string(json_kind(*root)) + ".");
  }
  for (auto it = root->begin(); it != root->end(); ++it) {
    const std::string& k = it.key();
    if (k != "governorates" && k != "facilities" && k != "neighbours" && k != "products" &&
        k != "tests") {
      return invalid(source + ": unknown key \"" + k +
                     "\"; the keys are governorates, facilities, neighbours, products and tests.");
    }
  }
  for (const Schema* required : {&kGovernorates, &kFacilities}) {
    if (!root->contains(std::string(required->json_key))) {
      return invalid(source + " has no \"" + std::string(required->json_key) + "\" array.");
    }
  }

  ReferenceData rd;
  const std::pair<const Schema*, Status (*)(ReferenceData&, const Table&)> tables[] = {
      {&kGovernorates, &Builder::governorates},
      {&kFacilities, &Builder::facilities},
      {&kProducts, &Builder::products},
      {&kTests, &Builder::tests}};
  for (const auto& [schema, fill] : tables) {
    Result<Table> table = Table{};
    if (root->contains(std::string(schema->json_key))) {
      table = json_table(*root, *schema, source);
    } else {
      auto text = read_default(schema->file);
      if (!text) return text.error();
      table = csv_table(*schema, *text);
    }
    if (!table) return table.error();
    if (auto s = fill(rd, *table); !s) return s.error();
  }
  if (auto it = root->find("neighbours"); it != root->end()) {
    auto table = json_neighbours(*it, source);
    if (!table) return table.error();
    if (auto s = Builder::neighbours(rd, *table); !s) return s.error();
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

const Facility* ReferenceData::site_of(std::string_view code) const {
  const Facility* f = facility(code);
  return f && !f->part_of.empty() ? facility(f->part_of) : f;
}

const Product* ReferenceData::product(std::string_view product_code) const {
  auto it = product_index_.find(product_code.substr(0, 5));
  return it == product_index_.end() ? nullptr : &products_[it->second];
}

const TestDef* ReferenceData::test(std::string_view code) const {
  auto it = test_index_.find(code);
  return it == test_index_.end() ? nullptr : &tests_[it->second];
}

Status ReferenceData::set_neighbours(std::string_view neighbours_csv) {
  auto table = csv_table(kNeighbours, neighbours_csv, /*optional=*/true);
  if (!table) return table.error();
  return Builder::neighbours(*this, *table);
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
