// The permission rule (engine/security/permissions.h) as a table, and the token file
// (engine/security/token_file.h): pure, no engine.
#include "engine/security/permissions.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "engine/security/token_file.h"
#include "tests/engine/support.h"

using namespace hemoledger;

namespace {

Event event(EventType type, const std::string& facility) {
  Event e;
  e.id = "e1";
  e.type = type;
  e.facility = facility;
  e.din = "G123426000001";
  return e;
}

struct Case {
  Principal who;
  EventType type;
  std::string facility;
  std::string expected;  // "" = allowed, else the code
};

}  // namespace

TEST_CASE("who may write which event: the permission table", "[auth][permissions]") {
  const Principal bench{"jem-bench", Role::station, "JEM-BB"};
  const Principal lab{"jem-lab", Role::lab, "JEM-LAB"};
  const Principal coord{"coord", Role::coordinator, ""};
  const Principal admin{"root", Role::admin, ""};
  using T = EventType;
  const std::vector<Case> cases = {
      {bench, T::donation_collected, "JEM-BB", ""},
      {bench, T::unit_issued, "JEM-BB", ""},
      {bench, T::transfer_dispatched, "JEM-BB", ""},
      {bench, T::unit_issued, "GZA-BB", "wrong_facility"},
      {bench, T::test_resulted, "JEM-BB", "wrong_role"},
      {bench, T::unit_recalled, "JEM-BB", "wrong_role"},
      {bench, T::reagent_received, "JEM-BB", "wrong_role"},
      {lab, T::test_resulted, "JEM-LAB", ""},
      {lab, T::reagent_consumed, "JEM-LAB", ""},
      {lab, T::test_resulted, "NBS-LAB", "wrong_facility"},
      {lab, T::unit_issued, "JEM-LAB", "wrong_role"},
      {lab, T::unit_released, "JEM-LAB", "wrong_role"},
      {coord, T::transfer_dispatched, "GZA-BB", ""},
      {coord, T::transfer_received, "RBH-BB", ""},
      {coord, T::unit_issued, "GZA-BB", "wrong_role"},
      {coord, T::test_resulted, "JEM-LAB", "wrong_role"},
      {admin, T::unit_issued, "GZA-BB", ""},
      {admin, T::test_resulted, "NBS-LAB", ""},
      {admin, T::reagent_expired, "NBS-LAB", ""},
  };
  for (const auto& c : cases) {
    const Status s = may_write(c.who, event(c.type, c.facility));
    INFO(c.who.name << " writes " << to_string(c.type) << " at " << c.facility);
    if (c.expected.empty()) {
      CHECK(s.ok());
    } else {
      REQUIRE(!s.ok());
      CHECK(s.error().code == c.expected);
      CHECK(s.error().message.find(c.who.name) != std::string::npos);
    }
  }
  CHECK(may_send_lab_messages(lab).ok());
  CHECK(may_send_lab_messages(admin).ok());
  CHECK(!may_send_lab_messages(bench).ok());
  CHECK(!may_send_lab_messages(coord).ok());
}

TEST_CASE("a token file names each token's role and facility and keeps only hashes",
          "[auth][tokens]") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/tokens.json";
  const auto& ref = testing::shipped_engine_reference();
  auto t1 = add_token(path, {"jem-bench", Role::station, "JEM-BB"}, &ref);
  REQUIRE(t1);
  auto t2 = add_token(path, {"coord", Role::coordinator, ""}, &ref);
  REQUIRE(t2);
  CHECK(*t1 != *t2);
  CHECK(t1->size() == 3 + 64);

  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find(*t1) == std::string::npos);
  CHECK(text.find(*sha256_hex(*t1)) != std::string::npos);

  auto file = TokenFile::load(path, &ref);
  REQUIRE(file);
  REQUIRE(file->entries().size() == 2);
  const auto who = file->authenticate(*t1);
  REQUIRE(who);
  CHECK(*who == Principal{"jem-bench", Role::station, "JEM-BB"});
  CHECK(file->authenticate(*t2)->role == Role::coordinator);
  CHECK(!file->authenticate("hl_not-a-token"));
  CHECK(!file->authenticate(""));

  // The same name twice, a station without facility, unknown facilities.
  CHECK(add_token(path, {"coord", Role::admin, ""}, &ref).error().code == "duplicate_token_name");
  CHECK(!add_token(path, {"bench2", Role::station, ""}, &ref));
  CHECK(!add_token(path, {"bench3", Role::station, "NOWHERE"}, &ref));
  CHECK(TokenFile::load(path, &ref)->entries().size() == 2);
}

TEST_CASE("a broken token file is refused with the file and the entry", "[auth][tokens]") {
  const auto& ref = testing::shipped_engine_reference();
  auto bad = [&](const std::string& text) {
    auto f = TokenFile::parse(text, "t.json", &ref);
    REQUIRE(!f);
    CHECK(f.error().code == "bad_token_file");
    CHECK(f.error().message.rfind("t.json: ", 0) == 0);
    return f.error().message;
  };
  const std::string h(64, 'a');
  bad("[]");
  CHECK(bad(R"({"tokens":[{"name":"x","role":"boss","sha256":")" + h + R"("}]})").find("role") !=
        std::string::npos);
  CHECK(bad(R"({"tokens":[{"name":"x","role":"admin","sha256":"abc"}]})").find("64 hex") !=
        std::string::npos);
  bad(R"({"tokens":[{"name":"x","role":"admin","sha256":")" + h +
      R"("},{"name":"y","role":"admin","sha256":")" + h + R"("}]})");
  bad(R"({"tokens":[{"name":"x","role":"admin","facility":"JEM-BB","sha256":")" + h + R"("}]})");
  CHECK(TokenFile::parse(R"({"tokens":[]})", "t.json", &ref));
}

TEST_CASE("SHA-256 of a token is the standard digest", "[auth][tokens]") {
  CHECK(*sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE(
    "a lab link speaks for the lab of its client certificate's principal: lab tokens for their "
    "own lab, admin for the bound lab, others never",
    "[auth][permissions][lab]") {
  const Principal bench{"jem-bench", Role::station, "JEM-BB"};
  const Principal lab{"nbs-lab", Role::lab, "NBS-LAB"};
  const Principal coord{"coord", Role::coordinator, ""};
  const Principal admin{"root", Role::admin, ""};
  CHECK(*lab_link_facility(lab, "") == "NBS-LAB");
  CHECK(*lab_link_facility(lab, "NBS-LAB") == "NBS-LAB");
  CHECK(lab_link_facility(lab, "JEM-LAB").error().code == "wrong_lab");
  CHECK(*lab_link_facility(admin, "") == "");  // any lab
  CHECK(*lab_link_facility(admin, "JEM-LAB") == "JEM-LAB");
  CHECK(lab_link_facility(bench, "").error().code == "wrong_role");
  CHECK(lab_link_facility(coord, "NBS-LAB").error().code == "wrong_role");
}

TEST_CASE("a token file entry is found by its name, as a client certificate's CN names it",
          "[auth][tokens]") {
  const std::string h(64, 'a');
  auto f = TokenFile::parse(
      R"({"tokens":[{"name":"root","role":"admin","sha256":")" + h + R"("}]})", "t.json", nullptr);
  REQUIRE(f);
  REQUIRE(f->principal_named("root"));
  CHECK(f->principal_named("root")->role == Role::admin);
  CHECK(!f->principal_named("roo"));
  CHECK(!f->principal_named(""));
}
