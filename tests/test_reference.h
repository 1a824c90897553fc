// Reference data for tests: the shipped data/ files, read once.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "events/reference_data.h"

namespace hemoledger::testing {

inline std::string read_data_file(const std::string& name) {
  std::ifstream in(std::string(HEMOLEDGER_DATA_DIR) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read data/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline const ReferenceData& shipped_reference() {
  static const ReferenceData ref = [] {
    auto r = ReferenceData::parse(read_data_file("governorates.csv"),
                                  read_data_file("facilities.csv"), read_data_file("products.csv"),
                                  read_data_file("tests.csv"), read_data_file("neighbours.csv"));
    if (!r) throw std::runtime_error(r.error().message);
    auto reagents = ReagentCatalogue::parse(read_data_file("reagents.csv"));
    if (!reagents) throw std::runtime_error(reagents.error().message);
    r->set_reagents(std::move(*reagents));
    if (auto s = r->set_donation_intervals(read_data_file("donor_intervals.csv")); !s) {
      throw std::runtime_error(s.error().message);
    }
    return std::move(r).value();
  }();
  return ref;
}

}  // namespace hemoledger::testing
