// isbt128::decode / decode_codabar (scans from a barcode reader or a
// keyboard) and `hemoledger label`.
// Invariants: a decoded DIN is a well-formed 13-character DIN; when the scan
// carried a check (type-3 flags 60-96, or a typed check character) the check
// recomputed from the DIN matches (Mod 37-2); a container number is 1-9 only
// for container flags; a group code comes with either a group or a message;
// to_json never throws.
#include <nlohmann/json.hpp>
#include <sstream>

#include "connectors/isbt128.h"
#include "connectors/label_command.h"
#include "events/event.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

namespace {

void check_scan(std::string_view data, const isbt128::Scan& s) {
  HL_FUZZ_CHECK(!s.structures.empty());
  if (s.din) {
    HL_FUZZ_CHECK(is_din(*s.din));
    const int check = isbt128::din_check_value(*s.din);
    HL_FUZZ_CHECK(check >= 0 && check <= 36);
    if (s.din_flag_kind == isbt128::FlagKind::check_value) {
      HL_FUZZ_CHECK(s.din_check_ok);
      HL_FUZZ_CHECK(s.din_flags && *s.din_flags == std::to_string(60 + check));
    }
    if (s.structures.front() == isbt128::Structure::keyboard_din) {
      HL_FUZZ_CHECK(s.din_check_ok);
      HL_FUZZ_CHECK(data.size() >= 14 && data[13] == isbt128::din_check_character(*s.din));
    }
  }
  if (s.container) {
    HL_FUZZ_CHECK(s.din_flag_kind == isbt128::FlagKind::container);
    HL_FUZZ_CHECK(*s.container >= 1 && *s.container <= 9);
  }
  if (s.abo_rh) HL_FUZZ_CHECK(*s.abo_rh != AboRh::unknown && !s.group_message);
  if (s.blood_group_code) HL_FUZZ_CHECK(s.abo_rh.has_value() != s.group_message.has_value());
  if (s.product) HL_FUZZ_CHECK(is_product_code(*s.product));
  (void)isbt128::to_json(s).dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::no_escape("isbt128::decode", [&] {
    auto r = isbt128::decode(text);
    if (r)
      check_scan(text, *r);
    else
      HL_FUZZ_CHECK(!r.error().code.empty() && !r.error().message.empty());
    auto c = isbt128::decode_codabar(text);
    if (c) {
      HL_FUZZ_CHECK(c->legacy);
      check_scan(text, *c);
    }
    if (size <= 13) {
      const int v = isbt128::din_check_value(text);
      HL_FUZZ_CHECK(v >= -1 && v <= 36);
      HL_FUZZ_CHECK((v == -1) == (isbt128::din_check_character(text) == '\0'));
    }
  });
  fuzz::no_escape("run_label_command", [&] {
    std::ostringstream out, err;
    const int status = run_label_command({std::string(text)}, out, err);
    HL_FUZZ_CHECK(status == 0 || status == 1);
    HL_FUZZ_CHECK(!nlohmann::json::parse(out.str(), nullptr, false).is_discarded());
  });
  return 0;
}
