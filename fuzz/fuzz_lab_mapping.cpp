// LabMapping::parse_json (an operator's lab mapping file) and din_from_lab
// (a DIN as a laboratory sends it).
// Invariants: never throws; a mapping that loads answers lookups without
// throwing; a DIN accepted from a lab is a well-formed 13-character DIN.
#include "connectors/lab_mapping.h"
#include "events/event.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::no_escape("LabMapping::parse_json", [&] {
    auto m = LabMapping::parse_json(text, fuzz::shipped_reference());
    if (!m) {
      HL_FUZZ_CHECK(!m.error().code.empty() && !m.error().message.empty());
      return;
    }
    for (const TestDef& t : fuzz::shipped_reference().tests()) {
      (void)m->result_for(t.code, "negative");
      (void)m->reagent_for(t.code);
    }
    (void)m->test_for("LN", "5196-1");
    (void)m->facility_for("NBS-LAB");
  });
  fuzz::no_escape("din_from_lab", [&] {
    if (size > 64) return;
    auto din = din_from_lab(text);
    if (din) HL_FUZZ_CHECK(is_din(*din));
    auto path = parse_astm_field_path(text);
    if (path) HL_FUZZ_CHECK(path->field >= 1 && path->component >= 1);
  });
  return 0;
}
