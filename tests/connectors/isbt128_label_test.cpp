#include "connectors/isbt128_label.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/connectors/connector_fixture.h"

using namespace hemoledger;
using hemoledger::testing::shipped_reference;
using hemoledger::testing::utc;

namespace {

isbt128::Scan decoded(const std::string& data) {
  auto r = isbt128::decode(data);
  INFO(data << ": " << (r ? "" : r.error().message));
  REQUIRE(r);
  return *r;
}

// A typed, released red-cell unit of donation G123426000001.
Donation typed_donation(AboRh group) {
  Donation d;
  d.din = "G123426000001";
  d.typed_abo = abo_of(group);
  d.typed_rhd = rhd_of(group);
  UnitState u;
  u.product = "E0382V00";
  u.status = UnitStatus::available;
  u.expires_at = utc(2026, 12, 31, 23, 59);
  d.units.push_back(u);
  return d;
}

}  // namespace

TEST_CASE("the ISBT 128 standard's worked DIN encodes with its type-3 check flags",
          "[isbt128][labels]") {
  auto din = isbt128::encode_din("G123417654321");
  REQUIRE(din);
  CHECK(*din == "=G12341765432170");
  auto plain = isbt128::encode_din("G123417654321", "00");
  REQUIRE(plain);
  CHECK(*plain == "=G12341765432100");
  CHECK(isbt128::encode_din("G123417654321", "71").error().code == "check_failed");
  CHECK(isbt128::encode_din("G123417654321", "05").error().code == "unknown_code");
  CHECK(isbt128::encode_din("O123417654321").error().code == "bad_character");
}

TEST_CASE("every blood group and special message encodes to what the decoder reads back",
          "[isbt128][labels]") {
  for (AboRh g : kAllGroups) {
    auto data = isbt128::encode_blood_groups(g);
    REQUIRE(data);
    CHECK(decoded(*data).abo_rh == g);
  }
  CHECK(*isbt128::encode_blood_groups(AboRh::o_pos) == "=%5100");
  CHECK(isbt128::encode_blood_groups(AboRh::unknown).error().code == "unknown_code");
  CHECK(isbt128::encode_blood_groups(isbt128::GroupMessage::quarantine) == "=%Mq00");
  CHECK(decoded("=%Md00").group_message == isbt128::GroupMessage::discard);
}

TEST_CASE("a product code and an expiry encode to what the decoder reads back",
          "[isbt128][labels]") {
  CHECK(*isbt128::encode_product("E0382V00") == "=<E0382V00");
  CHECK(isbt128::encode_product("E382V00").error().code == "bad_character");
  // 20 November 2026 is day 324; the seconds are dropped, never rounded up.
  auto e = isbt128::encode_expiry(utc(2026, 11, 20, 14, 5) + 59'000);
  REQUIRE(e);
  CHECK(*e == "&>0263241405");
  CHECK(decoded(*e).expires_at == utc(2026, 11, 20, 14, 5));
  CHECK(*isbt128::encode_expiry(utc(1999, 1, 1)) == "&>9990010000");
  CHECK(*isbt128::encode_expiry(utc(2104, 12, 31, 23, 59)) == "&>1043662359");
  CHECK(isbt128::encode_expiry(utc(1899, 12, 31)).error().code == "bad_date");
}

TEST_CASE("a unit's base label carries its DIN, typed group, product and expiry",
          "[isbt128][labels]") {
  auto l = base_label(typed_donation(AboRh::o_neg), "E0382V00", shipped_reference());
  REQUIRE(l);
  CHECK(l->din_data == "=G12342600000100");
  CHECK(l->check_character == isbt128::din_check_character("G123426000001"));
  CHECK(l->group_data == "=%9500");
  CHECK(l->product_data == "=<E0382V00");
  CHECK(l->product_description.rfind("RED BLOOD CELLS", 0) == 0);
  CHECK(decoded(l->expiry_data).expires_at == utc(2026, 12, 31, 23, 59));
  auto checked = base_label(typed_donation(AboRh::o_neg), "E0382V00", shipped_reference(), "");
  REQUIRE(checked);
  CHECK(decoded(checked->din_data).din_check_ok);
  CHECK(base_label(typed_donation(AboRh::o_neg), "E0336V00", shipped_reference()).error().code ==
        "not_found");
}

TEST_CASE("a label never shows a group on a unit that is untyped or must be discarded",
          "[isbt128][labels]") {
  Donation untyped = typed_donation(AboRh::a_pos);
  untyped.typed_rhd = RhD::unknown;
  untyped.declared = AboRh::a_pos;
  CHECK(base_label(untyped, "E0382V00", shipped_reference())->group_data == "=%Mq00");
  Donation positive = typed_donation(AboRh::a_pos);
  positive.tti_positive = true;
  CHECK(base_label(positive, "E0382V00", shipped_reference())->group_data == "=%Md00");
  Donation discarded = typed_donation(AboRh::a_pos);
  discarded.units[0].status = UnitStatus::discarded;
  CHECK(base_label(discarded, "E0382V00", shipped_reference())->group_data == "=%Md00");
}

TEST_CASE("the label renders as a 100 mm square SVG and a 100 mm square PDF", "[labels]") {
  auto l = base_label(typed_donation(AboRh::ab_pos), "E0382V00", shipped_reference());
  REQUIRE(l);
  auto svg = render_label_svg(*l);
  REQUIRE(svg);
  CHECK_THAT(*svg, Catch::Contains("width=\"100mm\" height=\"100mm\""));
  CHECK_THAT(*svg, Catch::Contains(">G1234 26 000001</text>"));
  CHECK_THAT(*svg, Catch::Contains(">AB</text>"));
  CHECK_THAT(*svg, Catch::Contains(">RhD POSITIVE</text>"));
  CHECK_THAT(*svg, Catch::Contains(">31 DEC 2026</text>"));
  CHECK_THAT(*svg, Catch::Contains("CPD&gt;SAGM"));  // escaped, so the document stays XML
  auto pdf = render_label_pdf(*l);
  INFO((pdf ? "" : pdf.error().message));
  REQUIRE(pdf);
  CHECK(pdf->rfind("%PDF-", 0) == 0);
  CHECK_THAT(*pdf, Catch::Contains("%%EOF"));
  CHECK_THAT(*pdf, Catch::Contains("/MediaBox [ 0 0 283.46"));
}
