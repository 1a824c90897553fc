// load_reference_data on real directories and files: the shipped data sets,
// a directory that leaves out the shared catalogues, and an operator's JSON file.
#include "engine/cli/reference_files.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

std::string shipped(const std::string& name) {
  std::ifstream in(default_reference_dir() + "/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  REQUIRE(out);
  out << text;
}

// A reference directory with Egypt's governorates and facilities only.
struct EgyptDir {
  TempDir dir;
  EgyptDir() {
    write(dir.path() + "/governorates.csv", shipped("egypt/governorates.csv"));
    write(dir.path() + "/facilities.csv", shipped("egypt/facilities.csv"));
  }
  std::string file(const std::string& name) const { return dir.path() + "/" + name; }
};

const std::string kOperatorJson = R"({
  "governorates": [
    {"code": "CAI", "name_en": "Cairo", "name_ar": "القاهرة", "population_thousands": 10300},
    {"code": "GIZ", "name_en": "Giza", "name_ar": "الجيزة", "population_thousands": 9400}
  ],
  "facilities": [
    {"code": "CAI-BB", "name_en": "Cairo Blood Bank", "name_ar": "بنك الدم - القاهرة",
     "governorate": "CAI", "kind": "blood_bank"},
    {"code": "GIZ-HOS", "name_en": "Giza Hospital", "name_ar": "مستشفى الجيزة",
     "governorate": "GIZ", "kind": "hospital"}
  ],
  "neighbours": [["CAI", "GIZ"]]
})";

}  // namespace

TEST_CASE("the shipped Palestinian and Egypt directories load with their neighbours",
          "[engine][reference]") {
  auto palestine = load_reference_data(default_reference_dir());
  INFO((palestine.ok() ? "" : palestine.error().message));
  REQUIRE(palestine.ok());
  CHECK(palestine->governorates().size() == 16);
  CHECK(palestine->are_neighbours("KYS", "RFH"));

  auto egypt = load_reference_data(default_reference_dir() + "/egypt");
  INFO((egypt.ok() ? "" : egypt.error().message));
  REQUIRE(egypt.ok());
  CHECK(egypt->governorates().size() == 27);
  CHECK(egypt->facilities().size() == 81);
  CHECK(egypt->are_neighbours("GIZ", "CAI"));
  // Egypt ships no catalogues of its own: they are the defaults.
  CHECK(egypt->products().size() == palestine->products().size());
  CHECK(egypt->tests().size() == palestine->tests().size());
}

TEST_CASE("a reference directory without products.csv and tests.csv takes them from the defaults",
          "[engine][reference]") {
  EgyptDir d;
  auto r = load_reference_data(d.dir.path());
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  CHECK(r->governorates().size() == 27);
  CHECK(r->product("E0336V00") != nullptr);
  CHECK(r->test("hiv")->mandatory);
  // No neighbours.csv: no neighbours, and none borrowed from the defaults.
  CHECK(r->neighbours("CAI").empty());
}

TEST_CASE("a reference directory's own products.csv and tests.csv replace the defaults",
          "[engine][reference]") {
  EgyptDir d;
  write(d.file("products.csv"),
        "code,description,category,shelf_life_days\nE0336,RED BLOOD CELLS,red_cells,35\n");
  write(d.file("tests.csv"), "code,name,kind,mandatory\nhiv,HIV-1/2 Ag+Ab,screen,yes\n");
  auto r = load_reference_data(d.dir.path());
  REQUIRE(r.ok());
  CHECK(r->products().size() == 1);
  CHECK(r->product("E0336V00")->shelf_life_days == 35);
  CHECK(r->tests().size() == 1);
  CHECK(r->test("abo") == nullptr);
}

TEST_CASE("a bad neighbours.csv in a reference directory stops loading", "[engine][reference]") {
  EgyptDir d;
  write(d.file("neighbours.csv"), "governorate,neighbour\nCAI,GIZ\nCAI,JEN\n");
  auto r = load_reference_data(d.dir.path());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "invalid_reference_data");
  CHECK_THAT(r.error().message,
             Catch::Contains("neighbours.csv row 3") && Catch::Contains("unknown governorate JEN"));
}

TEST_CASE("a reference directory without facilities.csv is refused by name",
          "[engine][reference]") {
  TempDir dir;
  write(dir.path() + "/governorates.csv", shipped("egypt/governorates.csv"));
  auto r = load_reference_data(dir.path());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "missing_reference_data");
  CHECK(r.error().message == "The reference directory " + dir.path() + " has no facilities.csv.");
}

TEST_CASE("an operator's JSON reference file loads, with the default catalogues",
          "[engine][reference]") {
  TempDir dir;
  const std::string path = dir.path() + "/cairo.json";
  write(path, kOperatorJson);
  auto r = load_reference_data(path);
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  CHECK(r->governorates().size() == 2);
  CHECK(r->governorate("CAI")->name_ar == "القاهرة");
  CHECK(r->facility("GIZ-HOS")->kind == FacilityKind::hospital);
  CHECK(r->facility("CAI-BB")->name_ar == "بنك الدم - القاهرة");
  CHECK(r->are_neighbours("GIZ", "CAI"));
  CHECK(r->product("E0336V00")->shelf_life_days == 42);
  CHECK(r->test("hiv")->mandatory);
  // The extension is matched without regard to case.
  const std::string upper = dir.path() + "/CAIRO.JSON";
  write(upper, kOperatorJson);
  CHECK(load_reference_data(upper).ok());
}

TEST_CASE("a broken JSON reference file is refused with its path and position",
          "[engine][reference]") {
  TempDir dir;
  const std::string path = dir.path() + "/ops.json";
  write(path, "{\n  \"governorates\": [\n    {\"code\": \"CAI\",}\n  ]\n}\n");
  auto r = load_reference_data(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "invalid_json");
  CHECK_THAT(r.error().message,
             Catch::StartsWith(path + " is not valid JSON") && Catch::Contains("line 3"));

  write(path, R"({"governorates": [], "facilities": [{"code": "X-BB", "name_en": "X",
    "name_ar": "س", "governorate": "CAI", "kind": "blood_bank"}]})");
  r = load_reference_data(path);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message,
             Catch::StartsWith(path + " facilities[0]: unknown governorate CAI"));
}

TEST_CASE("a reference path that is missing, or neither a directory nor JSON, is refused",
          "[engine][reference]") {
  TempDir dir;
  auto missing = load_reference_data(dir.path() + "/nowhere");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "missing_reference_data");
  CHECK_THAT(missing.error().message, Catch::Contains(dir.path() + "/nowhere does not exist"));

  auto missing_json = load_reference_data(dir.path() + "/nowhere.json");
  REQUIRE_FALSE(missing_json.ok());
  CHECK(missing_json.error().code == "missing_reference_data");

  write(dir.path() + "/reference.yaml", "governorates: []\n");
  auto other = load_reference_data(dir.path() + "/reference.yaml");
  REQUIRE_FALSE(other.ok());
  CHECK_THAT(other.error().message,
             Catch::Contains("neither a directory of CSV files nor a file ending in .json"));
}
