#include "connectors/label_command.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace hemoledger;

namespace {

struct Run {
  int code;
  nlohmann::json out;
  std::string err;
};

Run run(const std::vector<std::string>& scans) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = run_label_command(scans, out, err);
  INFO(out.str());
  REQUIRE(nlohmann::json::accept(out.str()));
  return Run{code, nlohmann::json::parse(out.str()), err.str()};
}

}  // namespace

TEST_CASE("valid scans print one decoded object each and the command succeeds",
          "[isbt128][label_command]") {
  const Run r = run({"=G12341765432170", "=%9500", "D1234567D"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  REQUIRE(r.out.is_array());
  REQUIRE(r.out.size() == 3);
  CHECK(r.out[0]["data"] == "=G12341765432170");
  CHECK(r.out[0]["din"] == "G123417654321");
  CHECK(r.out[0]["din_check_ok"] == true);
  CHECK(r.out[1]["abo_rh"] == "O-");
  CHECK(r.out[2]["legacy"] == true);
  CHECK(r.out[2]["unit_number"] == "1234567");
  for (const auto& o : r.out) CHECK_FALSE(o.contains("error"));
}

TEST_CASE("a refused scan is reported with its code and message and the command fails",
          "[isbt128][label_command]") {
  const Run r = run({"=G12341765432170", "=G12341765432171", "=>023366"});
  CHECK(r.code == 1);
  REQUIRE(r.out.size() == 3);
  CHECK(r.out[0]["din"] == "G123417654321");
  CHECK(r.out[1] == nlohmann::json{{"data", "=G12341765432171"},
                                   {"error", "check_failed"},
                                   {"message", r.out[1]["message"]}});
  CHECK_FALSE(r.out[1]["message"].get<std::string>().empty());
  CHECK(r.out[2]["error"] == "bad_date");
  CHECK(r.err.find("scan 2") != std::string::npos);
  CHECK(r.err.find("check_failed") != std::string::npos);
  CHECK(r.err.find("scan 3") != std::string::npos);
  CHECK(r.err.find("scan 1") == std::string::npos);
}

TEST_CASE("a label command given no scans does not report success", "[isbt128][label_command]") {
  const Run r = run({});
  CHECK(r.code == 1);
  CHECK(r.out == nlohmann::json::array());
  CHECK_FALSE(r.err.empty());
}

TEST_CASE("scans that are not UTF-8 still produce valid JSON", "[isbt128][label_command]") {
  const Run r = run({"\xff\xfe=G1", "=%5100\r\n"});
  CHECK(r.code == 1);
  REQUIRE(r.out.size() == 2);
  CHECK(r.out[0]["error"] == "unknown_identifier");
  CHECK(r.out[1]["abo_rh"] == "O+");
  CHECK(r.out[1]["data"] == "=%5100\r\n");
}
