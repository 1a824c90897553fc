// `hemoledger label DATA...`: decodes each scanned label string with
// isbt128::decode() and prints the results as one JSON array, one object per
// scan in the order given:
//
//   [{"data": "=G12341765432170", "din": "G123417654321", ...},
//    {"data": "=G12341765432171", "error": "check_failed", "message": "..."}]
//
// A decoded scan's object is isbt128::to_json() plus "data" (the string as
// given); a refused scan's object is exactly data, error (the Error code) and
// message. Each refusal is also written to `err` as one line for a person.
// Returns 0 when every scan decoded, 1 when any was refused or when no scan
// was given (a check of nothing must not read as success). Pure apart from
// writing to the two streams; holds no state between calls.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace hemoledger {

int run_label_command(const std::vector<std::string>& scans, std::ostream& out, std::ostream& err);

}  // namespace hemoledger
