#include "events/reference_data.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "tests/test_reference.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const std::string kGovHeader = "code,name_en,name_ar,population_thousands\n";
const std::string kFacHeader = "code,name_en,name_ar,governorate,kind\n";
const std::string kProdHeader = "code,description,category,shelf_life_days\n";
const std::string kTestHeader = "code,name,kind,mandatory\n";

// A minimal valid data set; each test breaks one file.
struct Files {
  std::string govs = kGovHeader + "NBS,Nablus,نابلس,430\n";
  std::string facs = kFacHeader + "NBS-BB,Nablus Blood Bank,بنك الدم - نابلس,NBS,blood_bank\n";
  std::string prods = kProdHeader + "E0336,RED BLOOD CELLS,red_cells,42\n";
  std::string tests = kTestHeader + "hiv,HIV-1/2 Ag+Ab,screen,yes\n";

  Result<ReferenceData> parse() const { return ReferenceData::parse(govs, facs, prods, tests); }
};

Error rejected(const Files& f) {
  auto r = f.parse();
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK_FALSE(r.error().message.empty());
  return r.error();
}

std::vector<std::vector<std::string>> csv(std::string_view text) {
  auto r = parse_csv(text);
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("the shipped reference data has the 16 Palestinian governorates", "[events][reference]") {
  const auto& ref = shipped_reference();
  REQUIRE(ref.governorates().size() == 16);
  std::set<std::string> codes;
  for (const auto& g : ref.governorates()) codes.insert(g.code);
  CHECK(codes == std::set<std::string>{"JEN", "TUB", "TKM", "NBS", "QQA", "SLT", "RBH", "JRH",
                                       "JEM", "BTH", "HBN", "NGZ", "GZA", "DEB", "KYS", "RFH"});
  const Governorate* hebron = ref.governorate("HBN");
  REQUIRE(hebron != nullptr);
  CHECK(hebron->name_en == "Hebron");
  CHECK(hebron->population_thousands == 800);
  CHECK(ref.governorate("XXX") == nullptr);
  CHECK(ref.governorate("") == nullptr);
}

TEST_CASE("Arabic governorate and facility names load as the exact UTF-8 bytes",
          "[events][reference]") {
  const auto& ref = shipped_reference();
  // جنين spelled out byte by byte, so that an encoding mix-up cannot hide.
  CHECK(ref.governorate("JEN")->name_ar == "\xd8\xac\xd9\x86\xd9\x8a\xd9\x86");
  CHECK(ref.governorate("RBH")->name_ar == "رام الله والبيرة");
  CHECK(ref.governorate("KYS")->name_ar == "خان يونس");
  const Facility* f = ref.facility("GZA-BB");
  REQUIRE(f != nullptr);
  CHECK(f->name_ar == "بنك الدم - غزة");
  CHECK(f->name_en == "Gaza Blood Bank");
}

TEST_CASE("the shipped reference data has 48 facilities, three in each governorate",
          "[events][reference]") {
  const auto& ref = shipped_reference();
  REQUIRE(ref.facilities().size() == 48);
  for (const auto& g : ref.governorates()) {
    INFO(g.code);
    const Facility* bank = ref.facility(g.code + "-BB");
    const Facility* lab = ref.facility(g.code + "-LAB");
    const Facility* hospital = ref.facility(g.code + "-HOS");
    REQUIRE(bank != nullptr);
    REQUIRE(lab != nullptr);
    REQUIRE(hospital != nullptr);
    CHECK(bank->kind == FacilityKind::blood_bank);
    CHECK(lab->kind == FacilityKind::laboratory);
    CHECK(hospital->kind == FacilityKind::hospital);
    CHECK(bank->governorate == g.code);
    CHECK_FALSE(bank->name_ar.empty());
    CHECK(ref.governorate(bank->governorate) != nullptr);
  }
  CHECK(ref.facility("NBS-XX") == nullptr);
}

TEST_CASE("a product is found by its 8-character code or its 5-character description code",
          "[events][reference]") {
  const auto& ref = shipped_reference();
  const Product* rbc = ref.product("E0336V00");
  REQUIRE(rbc != nullptr);
  CHECK(rbc->code == "E0336");
  CHECK(rbc->category == Category::red_cells);
  CHECK(rbc->shelf_life_days == 42);
  // Collection type and division do not change the product description.
  CHECK(ref.product("E0336A0B") == rbc);
  CHECK(ref.product("E0336") == rbc);
  CHECK(ref.product("E2555V00")->category == Category::plasma);
  CHECK(ref.product("E2555V00")->shelf_life_days == 365);
  CHECK(ref.product("E3045V00")->category == Category::platelets);
  CHECK(ref.product("E3586V00")->category == Category::cryo);
  CHECK(ref.product("E0001V00")->category == Category::whole_blood);
  CHECK(ref.product("E0001V00")->shelf_life_days == 35);
  CHECK(ref.product("E9999V00") == nullptr);
  CHECK(ref.product("E033") == nullptr);
  CHECK(ref.product("") == nullptr);
}

TEST_CASE("the shipped test catalogue makes the four screens and ABO/RhD typing mandatory",
          "[events][reference]") {
  const auto& ref = shipped_reference();
  for (const char* screen : {"hiv", "hbv", "hcv", "syphilis"}) {
    const TestDef* t = ref.test(screen);
    INFO(screen);
    REQUIRE(t != nullptr);
    CHECK(t->kind == TestKind::screen);
    CHECK(t->mandatory);
  }
  CHECK(ref.test("abo")->kind == TestKind::abo);
  CHECK(ref.test("rhd")->kind == TestKind::rhd);
  CHECK(ref.test("abo_rh")->kind == TestKind::abo_rh);
  CHECK(ref.test("antibody_screen")->kind == TestKind::info);
  CHECK_FALSE(ref.test("nat")->mandatory);
  CHECK(ref.test("HIV") == nullptr);
}

TEST_CASE("screen results are read in their usual spellings", "[events][reference]") {
  ScreenOutcome o{};
  for (const char* t : {"negative", "Non-Reactive", "nonreactive", "NEG"}) {
    INFO(t);
    REQUIRE(parse_screen_outcome(t, o));
    CHECK(o == ScreenOutcome::negative);
  }
  for (const char* t : {"positive", "Reactive", "POS"}) {
    INFO(t);
    REQUIRE(parse_screen_outcome(t, o));
    CHECK(o == ScreenOutcome::positive);
  }
  for (const char* t : {"indeterminate", "Inconclusive"}) {
    INFO(t);
    REQUIRE(parse_screen_outcome(t, o));
    CHECK(o == ScreenOutcome::indeterminate);
  }
  CHECK_FALSE(parse_screen_outcome("", o));
  CHECK_FALSE(parse_screen_outcome("+", o));
  CHECK_FALSE(parse_screen_outcome("weak", o));
}

TEST_CASE("categories are named and parsed the same way", "[events][reference]") {
  for (Category c : kAllCategories) {
    Category back = Category::unknown;
    REQUIRE(parse_category(to_string(c), back));
    CHECK(back == c);
  }
  Category c = Category::unknown;
  CHECK_FALSE(parse_category("unknown", c));
  CHECK_FALSE(parse_category("Red_Cells", c));
}

TEST_CASE("CSV fields may be quoted, with commas, doubled quotes and newlines inside",
          "[events][reference]") {
  const auto rows = csv("a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\"\n");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == std::vector<std::string>{"a", "b,c", "say \"hi\"", "two\nlines"});
  CHECK(csv("\"\",x\n")[0] == std::vector<std::string>{"", "x"});
}

TEST_CASE("CSV comment lines, blank lines and CRLF endings are skipped", "[events][reference]") {
  const auto rows = csv("# a comment, with a comma\r\ncode,name\r\n\r\n\nA,1\r\n# another\nB,2");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == std::vector<std::string>{"code", "name"});
  CHECK(rows[1] == std::vector<std::string>{"A", "1"});
  CHECK(rows[2] == std::vector<std::string>{"B", "2"});
  // '#' only starts a comment at the beginning of a line.
  CHECK(csv("a,#b\n")[0] == std::vector<std::string>{"a", "#b"});
  // An empty last field is still a field.
  CHECK(csv("a,b,\n")[0] == std::vector<std::string>{"a", "b", ""});
  CHECK(csv("").empty());
}

TEST_CASE("a CSV quoted field that is never closed is an error", "[events][reference]") {
  auto r = parse_csv("a,\"b\nc,d\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "invalid_csv");
  Files f;
  f.facs += "X-BB,\"Unclosed,x,NBS,blood_bank\n";
  const Error e = rejected(f);
  CHECK(e.code == "invalid_csv");
  CHECK(e.message.find("facilities.csv") != std::string::npos);
}

TEST_CASE("names in Arabic, Persian and Vietnamese round-trip through CSV unchanged",
          "[events][reference]") {
  Files f;
  f.govs += "THR,Tehran,تهران,9000\nHAN,Hà Nội,\"Hà Nội, Việt Nam\",8000\n";
  f.facs += "THR-BB,سازمان انتقال خون,\"بانک خون \"\"تهران\"\"\",THR,blood_bank\n";
  auto r = f.parse();
  REQUIRE(r.ok());
  CHECK(r->governorate("THR")->name_ar == "تهران");
  CHECK(r->governorate("HAN")->name_en == "Hà Nội");
  CHECK(r->governorate("HAN")->name_ar == "Hà Nội, Việt Nam");
  CHECK(r->facility("THR-BB")->name_en == "سازمان انتقال خون");
  CHECK(r->facility("THR-BB")->name_ar == "بانک خون \"تهران\"");
}

TEST_CASE("the minimal reference data set used below is valid", "[events][reference]") {
  auto r = Files{}.parse();
  REQUIRE(r.ok());
  CHECK(r->facility("NBS-BB")->governorate == "NBS");
  CHECK(r->product("E0336V00")->shelf_life_days == 42);
  CHECK(r->test("hiv")->mandatory);
}

TEST_CASE("reference files with a wrong header are rejected", "[events][reference]") {
  Files f;
  f.govs = "code,name,name_ar,population_thousands\nNBS,Nablus,نابلس,430\n";
  Error e = rejected(f);
  CHECK(e.code == "invalid_reference_data");
  CHECK(e.message.find("governorates.csv") != std::string::npos);
  CHECK(e.message.find("code,name_en,name_ar,population_thousands") != std::string::npos);

  f = Files{};
  f.prods = "code,description,category\nE0336,RBC,red_cells\n";
  CHECK(rejected(f).code == "invalid_reference_data");
  f = Files{};
  f.tests = "hiv,HIV,screen,yes\n";  // no header at all
  CHECK(rejected(f).code == "invalid_reference_data");
  f = Files{};
  f.facs = "";
  CHECK(rejected(f).code == "invalid_reference_data");
}

TEST_CASE("a reference row with the wrong number of fields is rejected", "[events][reference]") {
  Files f;
  f.facs += "NBS-LAB,Nablus Laboratory,NBS,laboratory\n";
  const Error e = rejected(f);
  CHECK(e.code == "invalid_reference_data");
  CHECK(e.message.find("row 3") != std::string::npos);
}

TEST_CASE("duplicate codes in reference data are rejected", "[events][reference]") {
  Files f;
  f.govs += "NBS,Nablus again,نابلس,1\n";
  Error e = rejected(f);
  CHECK(e.code == "invalid_reference_data");
  CHECK(e.message.find("duplicate code NBS") != std::string::npos);

  f = Files{};
  f.facs += "NBS-BB,Second bank,بنك,NBS,blood_bank\n";
  CHECK(rejected(f).message.find("duplicate code NBS-BB") != std::string::npos);
  f = Files{};
  f.prods += "E0336,Other red cells,red_cells,35\n";
  CHECK(rejected(f).message.find("duplicate code E0336") != std::string::npos);
  f = Files{};
  f.tests += "hiv,HIV again,screen,no\n";
  CHECK(rejected(f).message.find("duplicate code hiv") != std::string::npos);
}

TEST_CASE("a facility in an unknown governorate is rejected", "[events][reference]") {
  Files f;
  f.facs += "XYZ-BB,Nowhere Blood Bank,لا مكان,XYZ,blood_bank\n";
  const Error e = rejected(f);
  CHECK(e.code == "invalid_reference_data");
  CHECK(e.message.find("unknown governorate XYZ") != std::string::npos);
}

TEST_CASE("reference rows with bad values are rejected", "[events][reference]") {
  Files f;
  f.facs += "NBS-PH,Nablus Pharmacy,صيدلية,NBS,pharmacy\n";
  CHECK(rejected(f).code == "invalid_reference_data");
  f = Files{};
  f.govs += "TUB,Tubas,طوباس,many\n";
  CHECK(rejected(f).code == "invalid_reference_data");
  f = Files{};
  f.prods += "E03,Short code,red_cells,42\n";
  CHECK(rejected(f).code == "invalid_reference_data");
  f = Files{};
  f.prods += "E2555,Plasma,plasma_frozen,365\n";
  CHECK(rejected(f).code == "invalid_reference_data");
  f = Files{};
  f.prods += "E2555,Plasma,plasma,0\n";
  CHECK(rejected(f).code == "invalid_reference_data");
  f = Files{};
  f.prods += "E2555,Plasma,plasma,-3\n";
  CHECK(rejected(f).code == "invalid_reference_data");
  f = Files{};
  f.tests += "hbv,HBsAg,serology,yes\n";
  CHECK(rejected(f).code == "invalid_reference_data");
  f = Files{};
  f.tests += "hbv,HBsAg,screen,maybe\n";
  CHECK(rejected(f).code == "invalid_reference_data");
}

TEST_CASE("neighbouring governorates are symmetric and unknown codes are refused",
          "[events][reference]") {
  ReferenceData ref = shipped_reference();
  REQUIRE(ref.set_neighbours(read_data_file("neighbours.csv")).ok());
  CHECK(ref.are_neighbours("GZA", "DEB"));
  CHECK(ref.are_neighbours("DEB", "GZA"));
  CHECK_FALSE(ref.are_neighbours("GZA", "JEN"));
  CHECK(ref.neighbours("RFH") == std::vector<std::string>{"KYS"});
  CHECK(ref.neighbours("nowhere").empty());
  auto bad = ref.set_neighbours("governorate,neighbour\nGZA,ATL\n");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("neighbours.csv row 2"));
}
