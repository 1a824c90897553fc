// ScratchStore: where rebuild keeps the replayed donations it holds encoded.
#include "engine/storage/scratch_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

TEST_CASE("a scratch store keeps each partition's values by DIN and visits them in DIN order",
          "[engine][storage][rebuild]") {
  TempDir dir;
  const std::string path = dir.path() + "/scratch";
  {
    auto opened = ScratchStore::open(path);
    REQUIRE(opened.ok());
    auto p0 = (*opened)->donations(0);
    auto p1 = (*opened)->donations(1);
    p0->put("G123426000033", "c");
    p0->put("G123426000017", "a");
    p0->put("G123426000025", std::string("b\0b", 3));
    p1->put("G123426000017", "other partition");
    p0->put("G123426000017", "a2");  // replaces
    p0->erase("G123426000033");
    CHECK(p0->get("G123426000017") == "a2");
    CHECK(p0->get("G123426000033") == std::nullopt);
    CHECK(p1->get("G123426000017") == "other partition");
    CHECK(p1->get("G123426000025") == std::nullopt);
    std::vector<std::pair<std::string, std::string>> seen;
    for (auto c = p0->cursor(); c->valid(); c->next()) seen.emplace_back(c->din(), c->value());
    CHECK(seen == std::vector<std::pair<std::string, std::string>>{
                      {"G123426000017", "a2"}, {"G123426000025", std::string("b\0b", 3)}});
    CHECK((*opened)->status().ok());
  }
  CHECK_FALSE(std::filesystem::exists(path));  // removed with the store
}

TEST_CASE("the scratch left by an interrupted rebuild is emptied when the next one opens",
          "[engine][storage][rebuild]") {
  TempDir dir;
  const std::string path = dir.path() + "/scratch";
  std::filesystem::create_directories(path);
  { std::ofstream(path + "/leftover") << "from a run that was killed"; }
  auto opened = ScratchStore::open(path);
  REQUIRE(opened.ok());
  CHECK_FALSE(std::filesystem::exists(path + "/leftover"));
  CHECK_FALSE((*opened)->donations(0)->cursor()->valid());
}
