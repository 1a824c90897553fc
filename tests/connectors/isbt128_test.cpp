#include "connectors/isbt128.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/connectors/connector_fixture.h"

using namespace hemoledger;
using namespace hemoledger::isbt128;
using hemoledger::testing::utc;

namespace {

Scan decoded(const std::string& data) {
  auto r = decode(data);
  INFO("\"" << data << "\" should decode; got "
            << (r ? std::string("ok") : r.error().code + ": " + r.error().message));
  REQUIRE(r.ok());
  return *r;
}

void expect_refused(const std::string& data, const std::string& code) {
  auto r = decode(data);
  INFO("\"" << data << "\" should be refused with " << code);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == code);
  REQUIRE_FALSE(r.error().message.empty());
  CHECK(r.error().message.back() == '.');
}

// Mod 37-2 in the weighted-sum form printed in the UK Red Book (Annex 2):
// sum of value * 2^(position from the right), mod 37, subtracted from 38, mod 37.
// An independent formulation to cross-check din_check_value().
int weighted_sum_check(const std::string& din) {
  const std::string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < din.size(); ++i) {
    sum += static_cast<std::int64_t>(alphabet.find(din[i])) << (din.size() - i);
  }
  return static_cast<int>((38 - sum % 37) % 37);
}

}  // namespace

// ---- check character -----------------------------------------------------------

TEST_CASE("the standard's worked example has check value 10, character A and flag 70",
          "[isbt128]") {
  CHECK(din_check_value("G123417654321") == 10);
  CHECK(din_check_character("G123417654321") == 'A');
}

TEST_CASE("check characters match published and independently computed values", "[isbt128]") {
  CHECK(din_check_value("G123498654321") == 17);  // UK Red Book, Annex 2
  CHECK(din_check_character("G123498654321") == 'H');
  CHECK(din_check_character("A999925000001") == 'P');
  CHECK(din_check_character("W000025123456") == 'G');
  CHECK(din_check_character("1234525000000") == '5');
  CHECK(din_check_character("D000124123456") == 'S');
  CHECK(din_check_character("G123425000028") == '*');  // value 36
  CHECK(din_check_character("G123425000198") == '0');  // value 0

  for (const std::string prefix : {"A0001", "G1234", "N9999", "P0000", "Z5555", "10000", "98765"}) {
    for (int n = 0; n < 200; n += 7) {
      std::string seq = std::to_string(100000 + n * 4999 % 900000);
      const std::string din = prefix + "25" + seq;
      INFO(din);
      REQUIRE(din.size() == 13);
      CHECK(din_check_value(din) == weighted_sum_check(din));
    }
  }
}

TEST_CASE("the check of something that is not 13 check-alphabet characters is refused",
          "[isbt128]") {
  CHECK(din_check_value("G12341765432") == -1);
  CHECK(din_check_value("G1234176543210") == -1);
  CHECK(din_check_value("g123417654321") == -1);
  CHECK(din_check_value("G12341765432-") == -1);
  CHECK(din_check_character("") == '\0');
}

// ---- 001 DIN -------------------------------------------------------------------

TEST_CASE("a scanned DIN with correct type-3 check flags is decoded", "[isbt128]") {
  const Scan s = decoded("=G12341765432170");
  CHECK(s.din == "G123417654321");
  CHECK(s.din_flags == "70");
  CHECK(s.din_flag_kind == FlagKind::check_value);
  CHECK(s.din_check_ok);
  CHECK_FALSE(s.container.has_value());
  CHECK(s.structures == std::vector<Structure>{Structure::din});
  CHECK_FALSE(s.legacy);
  CHECK_FALSE(s.abo_rh.has_value());
  CHECK_FALSE(s.product.has_value());
  CHECK_FALSE(s.expires_at.has_value());

  CHECK(decoded("=G12349865432177").din == "G123498654321");
  CHECK(decoded("=G12342500002896").din == "G123425000028");  // check value 36
  CHECK(decoded("=G12342500019860").din == "G123425000198");  // check value 0
}

TEST_CASE("a scanned DIN whose check flags disagree is refused", "[isbt128]") {
  expect_refused("=G12341765432171", "check_failed");
  expect_refused("=G12341765432169", "check_failed");
  expect_refused("=G12349865432170", "check_failed");
  expect_refused("=G12341765432160", "check_failed");
  expect_refused("=G12341765432196", "check_failed");
  expect_refused("=G12341765532170", "check_failed");  // one digit misread
  expect_refused("=G12341756432170", "check_failed");  // two digits swapped
}

TEST_CASE("DIN flags with a documented meaning are accepted without a check", "[isbt128]") {
  struct Case {
    std::string flags;
    FlagKind kind;
    std::optional<int> container;
  };
  const std::vector<Case> cases = {
      {"00", FlagKind::unused, std::nullopt},
      {"01", FlagKind::container, 1},
      {"02", FlagKind::container, 2},
      {"03", FlagKind::container, 3},
      {"04", FlagKind::container, 4},
      {"15", FlagKind::container, 5},
      {"16", FlagKind::container, 6},
      {"19", FlagKind::container, 9},
      {"06", FlagKind::pilot_tube, std::nullopt},
      {"07", FlagKind::test_tube, std::nullopt},
      {"09", FlagKind::nat_sample_tube, std::nullopt},
      {"20", FlagKind::local, std::nullopt},
      {"42", FlagKind::local, std::nullopt},
      {"59", FlagKind::local, std::nullopt},
  };
  for (const auto& c : cases) {
    const Scan s = decoded("=G123417654321" + c.flags);
    INFO(c.flags);
    CHECK(s.din == "G123417654321");
    CHECK(s.din_flags == c.flags);
    CHECK(s.din_flag_kind == c.kind);
    CHECK(s.container == c.container);
    CHECK_FALSE(s.din_check_ok);
  }
}

TEST_CASE("DIN flags without a documented meaning are refused", "[isbt128]") {
  for (const std::string flags : {"05", "08", "10", "11", "12", "13", "14", "97", "98", "99"}) {
    expect_refused("=G123417654321" + flags, "unknown_code");
  }
  expect_refused("=G1234176543217A", "bad_character");
  expect_refused("=G123417654321 0", "bad_character");
}

TEST_CASE("a DIN must start with A-N, P-Z or 1-9 followed by twelve digits", "[isbt128]") {
  expect_refused("=O12341765432170", "unknown_identifier");  // O is never used
  expect_refused("=012341765432170", "unknown_identifier");
  expect_refused("=g12341765432170", "unknown_identifier");
  expect_refused("=G1234A765432170", "bad_character");
  expect_refused("=G12341765432O70", "bad_character");
  CHECK(decoded("=A99992500000185").din == "A999925000001");
  CHECK(decoded("=123452500000065").din == "1234525000000");
}

TEST_CASE("a scanned DIN of the wrong length is refused", "[isbt128]") {
  expect_refused("=G123417654321", "wrong_length");
  expect_refused("=G1234176543217", "wrong_length");
  expect_refused("=G123417654321700", "wrong_length");
}

TEST_CASE("a typed DIN is accepted only with the right check character", "[isbt128]") {
  const Scan s = decoded("G123417654321A");
  CHECK(s.din == "G123417654321");
  CHECK(s.din_check_ok);
  CHECK_FALSE(s.din_flags.has_value());
  CHECK(s.structures == std::vector<Structure>{Structure::keyboard_din});
  CHECK(decoded("G123498654321H").din == "G123498654321");
  CHECK(decoded("G123425000028*").din == "G123425000028");
  CHECK(decoded("G1234250001980").din == "G123425000198");
  // Starts and ends with Codabar start/stop letters, but 14 characters: a typed DIN.
  CHECK(decoded("A123425000029D").din == "A123425000029");

  expect_refused("G123417654321B", "check_failed");
  expect_refused("G123417654312A", "check_failed");
  expect_refused("G123417654321a", "bad_character");
  expect_refused("G123417654321-", "bad_character");
  expect_refused("O123417654321A", "bad_character");
  expect_refused("G1234176543X1A", "bad_character");
  expect_refused("G123417654321", "unknown_identifier");    // no check character
  expect_refused("G12341765432170", "unknown_identifier");  // flags typed without '='
}

// ---- 002 blood groups ----------------------------------------------------------

TEST_CASE("every default ABO/RhD code decodes to its group", "[isbt128]") {
  const std::vector<std::pair<std::string, AboRh>> codes = {
      {"51", AboRh::o_pos}, {"62", AboRh::a_pos}, {"73", AboRh::b_pos}, {"84", AboRh::ab_pos},
      {"95", AboRh::o_neg}, {"06", AboRh::a_neg}, {"17", AboRh::b_neg}, {"28", AboRh::ab_neg},
  };
  for (const auto& [code, group] : codes) {
    const Scan s = decoded("=%" + code + "00");
    INFO(code);
    CHECK(s.abo_rh == group);
    CHECK(s.blood_group_code == code);
    CHECK_FALSE(s.group_message.has_value());
    CHECK(s.rh_kell_code == '0');
    CHECK(s.structures == std::vector<Structure>{Structure::blood_groups});
  }
}

TEST_CASE("special blood group messages are decoded with their meaning", "[isbt128]") {
  const std::vector<std::pair<std::string, GroupMessage>> codes = {
      {"Mq", GroupMessage::quarantine},          {"Md", GroupMessage::discard},
      {"Mx", GroupMessage::not_for_transfusion}, {"Mb", GroupMessage::biohazard},
      {"Ma", GroupMessage::autologous},          {"Mf", GroupMessage::fractionation_only},
      {"00", GroupMessage::no_abo_rhd},
  };
  for (const auto& [code, message] : codes) {
    const Scan s = decoded("=%" + code + "00");
    INFO(code);
    CHECK(s.group_message == message);
    CHECK_FALSE(s.abo_rh.has_value());
    CHECK(code_of(message) == code);
    CHECK_FALSE(text_of(message).empty());
  }
  CHECK(to_string(GroupMessage::quarantine) == "quarantine");
  CHECK(text_of(GroupMessage::discard).find("estroy") != std::string_view::npos);
}

TEST_CASE("the Rh/Kell phenotype character is kept but not interpreted", "[isbt128]") {
  const Scan s = decoded("=%51J0");
  CHECK(s.abo_rh == AboRh::o_pos);
  CHECK(s.rh_kell_code == 'J');
  expect_refused("=%51j0", "bad_character");
  expect_refused("=%51-0", "bad_character");
}

TEST_CASE("blood group codes outside the documented tables are refused", "[isbt128]") {
  expect_refused("=%4700", "unknown_code");  // directed O+: not read as plain O+
  expect_refused("=%9700", "unknown_code");  // autologous O-
  expect_refused("=%5500", "unknown_code");  // O, RhD not specified
  expect_refused("=%9900", "unknown_code");
  expect_refused("=%Mr00", "unknown_code");
  expect_refused("=%MQ00", "unknown_code");
  expect_refused("=%T100", "unknown_code");
  expect_refused("=%5101", "unknown_code");  // reserved position must be 0
  expect_refused("=%5?00", "bad_character");
  expect_refused("=%510", "wrong_length");
  expect_refused("=%51000", "wrong_length");
  expect_refused(std::string("=%51\0"
                             "0",
                             6),
                 "bad_character");
}

// ---- 003 product code ----------------------------------------------------------

TEST_CASE("product codes decode as letter, four digits, type and division", "[isbt128]") {
  CHECK(decoded("=<E0224V00").product == "E0224V00");
  CHECK(decoded("=<E0224VA0").product == "E0224VA0");
  CHECK(decoded("=<E0224VAa").product == "E0224VAa");
  CHECK(decoded("=<F1234000").product == "F1234000");
  CHECK(decoded("=<A0001X00").product == "A0001X00");
  CHECK(decoded("=<E0224V00").structures == std::vector<Structure>{Structure::product_code});

  expect_refused("=<e0224V00", "bad_character");
  expect_refused("=<10224V00", "bad_character");
  expect_refused("=<E02A4V00", "bad_character");
  expect_refused("=<E0224V0-", "bad_character");
  expect_refused("=<E0224V0", "wrong_length");
  expect_refused("=<E0224V000", "wrong_length");
}

// ---- 004-007 dates -------------------------------------------------------------

TEST_CASE("an expiry date without a time expires at 23:59 UTC that day", "[isbt128]") {
  const Scan s = decoded("=>025032");
  CHECK(s.expires_at == utc(2025, 2, 1, 23, 59));
  CHECK_FALSE(s.expiry_time_given);
  CHECK(s.structures == std::vector<Structure>{Structure::expiration_date});
  CHECK(decoded("=>025001").expires_at == utc(2025, 1, 1, 23, 59));
  CHECK(decoded("=>025365").expires_at == utc(2025, 12, 31, 23, 59));
  CHECK(decoded("=>025060").expires_at == utc(2025, 3, 1, 23, 59));
}

TEST_CASE("day 366 exists only in leap years", "[isbt128]") {
  CHECK(decoded("=>024366").expires_at == utc(2024, 12, 31, 23, 59));
  CHECK(decoded("=>024060").expires_at == utc(2024, 2, 29, 23, 59));
  CHECK(decoded("=>000366").expires_at == utc(2000, 12, 31, 23, 59));  // 2000 is leap
  expect_refused("=>023366", "bad_date");
  expect_refused("=>025366", "bad_date");
  expect_refused("=>100366", "bad_date");  // 2100 is not leap
  expect_refused("=>024367", "bad_date");
  expect_refused("=>024000", "bad_date");
  expect_refused("=>024999", "bad_date");
}

TEST_CASE("the century digit is the hundreds digit of the year", "[isbt128]") {
  CHECK(decoded("=>099365").expires_at == utc(2099, 12, 31, 23, 59));
  CHECK(decoded("=>100001").expires_at == utc(2100, 1, 1, 23, 59));
  CHECK(decoded("=>999365").expires_at == utc(1999, 12, 31, 23, 59));
}

TEST_CASE("an expiry date and time is read to the minute", "[isbt128]") {
  const Scan s = decoded("&>0250601430");
  CHECK(s.expires_at == utc(2025, 3, 1, 14, 30));
  CHECK(s.expiry_time_given);
  CHECK(s.structures == std::vector<Structure>{Structure::expiration_date_time});
  CHECK(decoded("&>0240600000").expires_at == utc(2024, 2, 29, 0, 0));
  CHECK(decoded("&>0243662359").expires_at == utc(2024, 12, 31, 23, 59));
  expect_refused("&>0250602400", "bad_date");  // hour 24
  expect_refused("&>0250601260", "bad_date");  // minute 60
  expect_refused("&>0233660800", "bad_date");
}

TEST_CASE("a collection date without a time is read as 00:00 UTC", "[isbt128]") {
  const Scan s = decoded("=*025001");
  CHECK(s.collected_at == utc(2025, 1, 1));
  CHECK_FALSE(s.collection_time_given);
  CHECK_FALSE(s.expires_at.has_value());
  CHECK(s.structures == std::vector<Structure>{Structure::collection_date});

  const Scan t = decoded("&*0251650815");
  CHECK(t.collected_at == utc(2025, 6, 14, 8, 15));
  CHECK(t.collection_time_given);
  CHECK(t.structures == std::vector<Structure>{Structure::collection_date_time});
  expect_refused("=*023366", "bad_date");
  expect_refused("&*0251652400", "bad_date");
}

TEST_CASE("dates with other characters or lengths are refused", "[isbt128]") {
  expect_refused("=>02503A", "bad_character");
  expect_refused("=> 25032", "bad_character");
  expect_refused("&>025032143O", "bad_character");
  expect_refused("=>02503", "wrong_length");
  expect_refused("=>0250321", "wrong_length");
  expect_refused("&>025032143", "wrong_length");
  expect_refused("=*0250321200", "wrong_length");
}

// ---- 023 compound message ------------------------------------------------------

TEST_CASE("a compound message decodes and merges each structure it carries", "[isbt128]") {
  const Scan s = decoded("=+03000=G12341765432170=%5100=<E0224V00");
  CHECK(s.din == "G123417654321");
  CHECK(s.din_check_ok);
  CHECK(s.abo_rh == AboRh::o_pos);
  CHECK(s.product == "E0224V00");
  CHECK(s.compound_type == "000");
  CHECK(s.structures == std::vector<Structure>{Structure::compound_message, Structure::din,
                                               Structure::blood_groups, Structure::product_code});

  const Scan t = decoded("=+05007=<E0224VA0&>0243661200=G12349865432177=%Mq00=*024300");
  CHECK(t.product == "E0224VA0");
  CHECK(t.expires_at == utc(2024, 12, 31, 12, 0));
  CHECK(t.expiry_time_given);
  CHECK(t.din == "G123498654321");
  CHECK(t.group_message == GroupMessage::quarantine);
  CHECK(t.collected_at == utc(2024, 10, 26));
  CHECK(t.compound_type == "007");
  CHECK(t.structures.size() == 6);
}

TEST_CASE("a compound message whose count does not match its content is refused", "[isbt128]") {
  expect_refused("=+03000=G12341765432170=%5100", "bad_compound");
  expect_refused("=+01000=G12341765432170=%5100", "bad_compound");
  expect_refused("=+00000", "bad_compound");
  expect_refused("=+01000", "bad_compound");
  expect_refused("=+01000=G1234176543", "bad_compound");  // truncated
  expect_refused("=+02000=%5100=", "bad_compound");
}

TEST_CASE("a compound message carrying an item twice is refused", "[isbt128]") {
  expect_refused("=+02000=G12341765432170=G12349865432177", "bad_compound");
  expect_refused("=+02000=%5100=%5100", "bad_compound");  // even the same value
  expect_refused("=+02000=%5100=%Mq00", "bad_compound");
  expect_refused("=+02000=>024366&>0243661200", "bad_compound");
  expect_refused("=+02000=*024300&*0243000800", "bad_compound");
  expect_refused("=+02000=<E0224V00=<E0224VA0", "bad_compound");
  expect_refused("=+02000=+01000=%5100", "bad_compound");  // nested
}

TEST_CASE("an error inside a compound message keeps its code and says where", "[isbt128]") {
  auto r = decode("=+02000=%5100=G12341765432171");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "check_failed");
  CHECK(r.error().message.find("structure 2") != std::string::npos);
  expect_refused("=+02000=%5100=>023366", "bad_date");
  expect_refused("=+01000!!5100", "unknown_identifier");
  expect_refused("=+0100=%5100", "bad_character");
  expect_refused("=+0A000=%5100", "bad_character");
  expect_refused("=+01", "wrong_length");
}

// ---- Codabar (legacy) ----------------------------------------------------------

TEST_CASE("a legacy Codabar unit number is decoded and marked legacy", "[isbt128]") {
  const Scan s = decoded("D1234567D");
  CHECK(s.legacy);
  CHECK(s.unit_number == "1234567");
  CHECK_FALSE(s.din.has_value());
  CHECK(s.structures == std::vector<Structure>{Structure::codabar_unit_number});
  CHECK(decoded("d7654321d").unit_number == "7654321");

  auto direct = decode_codabar("D1234567D");
  REQUIRE(direct.ok());
  CHECK(direct->unit_number == "1234567");
}

TEST_CASE("every legacy Codabar ABO/Rh code decodes with the ISBT digit pairs", "[isbt128]") {
  const std::vector<std::pair<std::string, AboRh>> codes = {
      {"51", AboRh::o_pos}, {"62", AboRh::a_pos}, {"73", AboRh::b_pos}, {"84", AboRh::ab_pos},
      {"95", AboRh::o_neg}, {"06", AboRh::a_neg}, {"17", AboRh::b_neg}, {"28", AboRh::ab_neg},
  };
  for (const auto& [code, group] : codes) {
    const Scan s = decoded("D" + code + "0B");
    INFO(code);
    CHECK(s.legacy);
    CHECK(s.abo_rh == group);
    CHECK(s.structures == std::vector<Structure>{Structure::codabar_blood_group});
  }
}

TEST_CASE("Codabar labels that cannot be decoded with certainty are refused", "[isbt128]") {
  expect_refused("D550B", "unknown_code");
  expect_refused("D511B", "unknown_code");
  expect_refused("A0043503B", "unknown_identifier");  // product code: local meaning
  expect_refused("A012345671B", "unknown_identifier");
  expect_refused("D123456D", "unknown_identifier");
  expect_refused("D12345678D", "unknown_identifier");
  expect_refused("A1234567B", "unknown_identifier");
  expect_refused("D51D", "unknown_identifier");
  expect_refused("D12-4567D", "unknown_identifier");
  auto r = decode_codabar("=G12341765432170");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "unknown_identifier");
}

// ---- framing: whitespace, empty, unknown ---------------------------------------

TEST_CASE("trailing whitespace from a keyboard-wedge scanner is trimmed", "[isbt128]") {
  CHECK(decoded("=G12341765432170\r\n").din == "G123417654321");
  CHECK(decoded("=%5100 \t").abo_rh == AboRh::o_pos);
  CHECK(decoded("G123417654321A\n").din == "G123417654321");
  CHECK(decoded("D1234567D\r").unit_number == "1234567");
}

TEST_CASE("anything else around a scan is an error", "[isbt128]") {
  expect_refused(" =G12341765432170", "unknown_identifier");
  expect_refused("]C0=G12341765432170", "unknown_identifier");  // AIM symbology prefix
  expect_refused("=G12341765432170X", "wrong_length");
  expect_refused("=G12341765432170 =%5100", "wrong_length");
  expect_refused("=G12341765432170=%5100", "wrong_length");  // two scans are not one
}

TEST_CASE("empty, truncated and unknown scans are refused", "[isbt128]") {
  expect_refused("", "wrong_length");
  expect_refused("\r\n", "wrong_length");
  expect_refused("=", "wrong_length");
  expect_refused("&", "wrong_length");
  expect_refused("=!1234", "unknown_identifier");
  expect_refused("&)1234", "unknown_identifier");
  expect_refused("hello", "unknown_identifier");
  expect_refused("\xff\xfe", "unknown_identifier");
}

// ---- JSON ----------------------------------------------------------------------

TEST_CASE("a decoded scan converts to JSON with readable values", "[isbt128]") {
  const auto j = to_json(decoded("=+04000=G12341765432170=%6200=<E0224V00=>024366"));
  CHECK(j["din"] == "G123417654321");
  CHECK(j["check_character"] == "A");
  CHECK(j["din_flags"] == "70");
  CHECK(j["din_flag_kind"] == "check_value");
  CHECK(j["din_check_ok"] == true);
  CHECK(j["abo_rh"] == "A+");
  CHECK(j["blood_group_code"] == "62");
  CHECK(j["product"] == "E0224V00");
  CHECK(j["expires_at"] == "2024-12-31T23:59:00Z");
  CHECK(j["expiry_time_given"] == false);
  CHECK(j["legacy"] == false);
  CHECK(j["compound_type"] == "000");
  CHECK(j["structures"] == nlohmann::json::array({"compound_message", "din", "blood_groups",
                                                  "product_code", "expiration_date"}));
  CHECK_FALSE(j.contains("collected_at"));
  CHECK_FALSE(j.contains("group_message"));

  const auto m = to_json(decoded("=%Md00"));
  CHECK(m["group_message"]["code"] == "Md");
  CHECK(m["group_message"]["name"] == "discard");
  CHECK_FALSE(m.contains("abo_rh"));

  const auto c = to_json(decoded("D1234567D"));
  CHECK(c["legacy"] == true);
  CHECK(c["unit_number"] == "1234567");
  CHECK_FALSE(c.contains("din"));

  const auto f = to_json(decoded("=G12341765432116"));
  CHECK(f["din_flag_kind"] == "container");
  CHECK(f["container"] == 6);
  CHECK(f["din_check_ok"] == false);
}
