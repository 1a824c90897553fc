// Loads ReferenceData from disk (docs/reference-data.md): either a directory of
// CSV files or an operator's single JSON file. Called once at start-up, from
// one thread.
#pragma once

#include <string>

#include "events/reference_data.h"

namespace hemoledger {

// Where the shipped files live: share/hemoledger/data beside the installed
// binary (<prefix>/bin/hemoledger), else the source tree's data/.
std::string default_reference_dir();

// `path` is one of:
//   - a directory holding governorates.csv and facilities.csv, and optionally
//     products.csv, tests.csv and neighbours.csv. A missing products.csv or
//     tests.csv is read from default_reference_dir() instead; a missing
//     neighbours.csv means no governorate has neighbours.
//   - a file whose name ends in .json (ReferenceData::parse_json); products
//     and tests it does not give come from default_reference_dir().
// Errors: "missing_reference_data" when a file cannot be read or the path is
// neither, naming the path; otherwise the parser's error, naming file and row
// or JSON path.
[[nodiscard]] Result<ReferenceData> load_reference_data(const std::string& path);

}  // namespace hemoledger
