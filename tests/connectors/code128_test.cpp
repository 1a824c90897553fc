#include "connectors/code128.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace hemoledger;

namespace {

// The symbol character table of ISO/IEC 15417 (Code 128): bar and space
// widths, in modules, of values 0-105, then the stop pattern. Used as an
// independent reader of the symbols Zint draws.
const std::vector<std::string> kWidths = {
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232"};
const std::string kStop = "2331112";

// The symbol as alternating bar and space widths, from the bars Zint drew.
std::string widths_of(const Code128& c) {
  std::string w;
  int at = 0;
  for (const auto& b : c.bars) {
    if (b.start > at) w += std::to_string(b.start - at);  // the space before the bar
    w += std::to_string(b.width);
    at = b.start + b.width;
  }
  return w;
}

// The symbol character values of a symbol read with the table; the stop
// pattern must close it.
std::vector<int> values_of(const Code128& c) {
  const std::string w = widths_of(c);
  REQUIRE(w.size() >= kStop.size());
  REQUIRE(w.substr(w.size() - kStop.size()) == kStop);
  REQUIRE((w.size() - kStop.size()) % 6 == 0);
  std::vector<int> values;
  for (std::size_t i = 0; i + kStop.size() < w.size(); i += 6) {
    int v = -1;
    for (std::size_t k = 0; k < kWidths.size(); ++k) {
      if (kWidths[k] == w.substr(i, 6)) v = static_cast<int>(k);
    }
    INFO("symbol character at " << i << ": " << w.substr(i, 6));
    REQUIRE(v >= 0);
    values.push_back(v);
  }
  return values;
}

// The modulo 103 check: the start value plus each data value times its position.
int check_of(const std::vector<int>& values) {
  long sum = values[0];
  for (std::size_t i = 1; i + 1 < values.size(); ++i) sum += values[i] * static_cast<long>(i);
  return static_cast<int>(sum % 103);
}

}  // namespace

TEST_CASE("letters are drawn in code set B with the modulo 103 check character",
          "[code128][labels]") {
  auto c = encode_code128("Wikipedia");
  REQUIRE(c);
  const auto v = values_of(*c);
  // Start B, then each character's code set B value (ASCII - 32), then the check.
  const std::vector<int> data = {104,      'W' - 32, 'i' - 32, 'k' - 32, 'i' - 32,
                                 'p' - 32, 'e' - 32, 'd' - 32, 'i' - 32, 'a' - 32};
  REQUIRE(v.size() == data.size() + 1);
  CHECK(std::vector<int>(v.begin(), v.end() - 1) == data);
  CHECK(v.back() == check_of(v));
  CHECK(c->modules == 11 * static_cast<int>(v.size()) + 13);
}

TEST_CASE("a run of digits is drawn two to a symbol character in code set C", "[code128][labels]") {
  auto c = encode_code128("123456");
  REQUIRE(c);
  const auto v = values_of(*c);
  CHECK(v == std::vector<int>{105, 12, 34, 56, check_of(v)});
  CHECK(v.back() == (105 + 12 * 1 + 34 * 2 + 56 * 3) % 103);
}

TEST_CASE("an ISBT 128 donation number is one symbol that ends in the stop pattern",
          "[code128][labels]") {
  auto c = encode_code128("=G12341765432170");
  REQUIRE(c);
  const auto v = values_of(*c);
  CHECK(v.back() == check_of(v));
  CHECK(c->modules == 11 * static_cast<int>(v.size()) + 13);
  CHECK(c->bars.front().start == 0);
}

TEST_CASE("data that is not printable ASCII is not drawn", "[code128][labels]") {
  for (const std::string& bad : {std::string(), std::string("=G1\n"), std::string("Ärzte")}) {
    auto c = encode_code128(bad);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == "not_encodable");
  }
}
