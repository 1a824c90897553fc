// astm::parse and astm::map_results (analyser records).
// Invariants: a message that parses starts with an H record, respects the
// limits, and every record reads field by field, repeat by repeat and
// component by component, one past each end, within bounds; map_results is
// all or nothing and its events pass validate_shape. Nothing throws.
#include "connectors/astm.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::no_escape("astm::parse", [&] {
    auto m = astm::parse(text);
    if (!m) {
      HL_FUZZ_CHECK(!m.error().code.empty() && !m.error().message.empty());
      return;
    }
    HL_FUZZ_CHECK(!m->records.empty() && m->records.front().type() == 'H');
    HL_FUZZ_CHECK(m->records.size() <= astm::ParseOptions{}.max_records);
    for (const astm::Record& r : m->records) {
      HL_FUZZ_CHECK(std::string_view("HPOCRLQMS").find(r.type()) != std::string_view::npos);
      for (int f = 1; f <= 40; ++f) {
        HL_FUZZ_CHECK(r.raw(f).size() <= size);
        for (int rep = 1; rep <= 3; ++rep) {
          for (int c = 0; c <= 5; ++c) HL_FUZZ_CHECK(r.value(f, c, rep).size() <= size);
        }
      }
    }
    const MappingResult res = astm::map_results(*m, fuzz::shipped_mapping(), 1795334400000);
    if (res.ok()) {
      for (const Event& e : res.events) HL_FUZZ_CHECK(validate_shape(e).ok());
    } else {
      HL_FUZZ_CHECK(res.events.empty() && res.error && !res.error_code.empty());
    }
  });
  return 0;
}
