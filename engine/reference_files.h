// Loads ReferenceData from a directory holding governorates.csv,
// facilities.csv, products.csv and tests.csv (docs/reference-data.md).
#pragma once

#include <string>

#include "events/reference_data.h"

namespace hemoledger {

// The data/ directory of the source tree, where the shipped files live.
std::string default_reference_dir();

[[nodiscard]] Result<ReferenceData> load_reference_data(const std::string& dir);

}  // namespace hemoledger
