// fhir::map_observations (FHIR JSON Observation or Bundle bodies).
// Invariants: never throws; accepted -> every event passes validate_shape and
// has an id starting "fhir-"; refused -> no events, an error code and a
// sentence.
#include "connectors/fhir.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::no_escape("fhir::map_observations", [&] {
    const MappingResult r = fhir::map_observations(text, fuzz::shipped_mapping(), 1795334400000);
    if (r.ok()) {
      HL_FUZZ_CHECK(!r.error);
      for (const Event& e : r.events) {
        HL_FUZZ_CHECK(validate_shape(e).ok());
        HL_FUZZ_CHECK(e.id.rfind("fhir-", 0) == 0);
      }
    } else {
      HL_FUZZ_CHECK(r.events.empty() && r.error && !r.error_code.empty());
      HL_FUZZ_CHECK(!r.error->message.empty());
    }
    (void)r.summary();
  });
  return 0;
}
