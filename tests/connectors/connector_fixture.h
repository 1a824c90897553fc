// What the connector tests share: the sample messages of
// tests/connectors/samples, the shipped lab mapping (data/lab_mapping.json)
// read once, and UTC instants written as calendar dates.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "connectors/lab_mapping.h"
#include "events/time.h"
#include "tests/test_reference.h"

namespace hemoledger::testing {

// The bytes of tests/connectors/samples/<name>; the test fails when it is missing.
inline std::string sample(const std::string& name) {
  std::ifstream in(std::string(HEMOLEDGER_SAMPLES_DIR) + "/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// data/lab_mapping.json against the shipped reference data; throws (failing
// the test that asks) when it does not parse.
inline const LabMapping& shipped_mapping() {
  static const LabMapping m = [] {
    auto r = LabMapping::parse_json(read_data_file("lab_mapping.json"), shipped_reference());
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }();
  return m;
}

inline TimeMs utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * kMinute;
}

}  // namespace hemoledger::testing
