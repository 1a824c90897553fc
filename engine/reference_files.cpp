#include "engine/reference_files.h"

#include <fstream>
#include <sstream>

namespace hemoledger {

std::string default_reference_dir() { return HEMOLEDGER_DATA_DIR; }

namespace {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("missing_reference_data", "Cannot read " + path + ".");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<ReferenceData> load_reference_data(const std::string& dir) {
  auto g = read_file(dir + "/governorates.csv");
  if (!g) return g.error();
  auto f = read_file(dir + "/facilities.csv");
  if (!f) return f.error();
  auto p = read_file(dir + "/products.csv");
  if (!p) return p.error();
  auto t = read_file(dir + "/tests.csv");
  if (!t) return t.error();
  auto ref = ReferenceData::parse(*g, *f, *p, *t);
  if (!ref) return ref;
  if (std::ifstream(dir + "/neighbours.csv")) {
    auto n = read_file(dir + "/neighbours.csv");
    if (!n) return n.error();
    if (auto s = ref->set_neighbours(*n); !s) return s.error();
  }
  return ref;
}

}  // namespace hemoledger
