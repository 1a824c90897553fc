// Operator files read at start-up: the reference data as one JSON file or as
// CSV (parse_csv), and the supply configuration (parse_supply_config).
// Invariants: never throws; errors carry a code and a sentence; CSV rows are
// never empty of fields.
#include "events/reference_data.h"
#include "fuzz/fuzz_support.h"
#include "projections/demand.h"

using namespace hemoledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::no_escape("ReferenceData::parse_json", [&] {
    auto r = ReferenceData::parse_json(text, "fuzz.json", [](std::string_view name) {
      return Result<std::string>(fuzz::read_data_file(std::string(name)));
    });
    if (!r) HL_FUZZ_CHECK(!r.error().code.empty() && !r.error().message.empty());
  });
  fuzz::no_escape("parse_csv", [&] {
    auto rows = parse_csv(text);
    if (rows) {
      for (const auto& row : *rows) HL_FUZZ_CHECK(!row.empty());
    }
  });
  fuzz::no_escape("parse_supply_config", [&] { (void)parse_supply_config(text); });
  return 0;
}
