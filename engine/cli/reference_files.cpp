#include "engine/cli/reference_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hemoledger {

std::string default_reference_dir() {
  // Installed (or an unpacked package): <prefix>/bin/hemoledger beside
  // <prefix>/share/hemoledger/data. Otherwise the source tree's data/.
  static const std::string dir = [] {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
      const auto installed = exe.parent_path().parent_path() / "share" / "hemoledger" / "data";
      if (std::filesystem::is_regular_file(installed / "governorates.csv", ec)) {
        return installed.string();
      }
    }
    return std::string(HEMOLEDGER_DATA_DIR);
  }();
  return dir;
}

namespace {

namespace fs = std::filesystem;

Error missing(std::string message) {
  return make_error("missing_reference_data", std::move(message));
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return missing("Cannot read " + path + ".");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return missing("Cannot read " + path + ".");
  return s.str();
}

bool is_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

bool ends_with_json(const std::string& path) {
  if (path.size() < 5) return false;
  std::string tail = path.substr(path.size() - 5);
  std::transform(tail.begin(), tail.end(), tail.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return tail == ".json";
}

// products.csv or tests.csv from the default directory, for a reference set
// that does not give its own; `lack` says what it lacks, for the error.
Result<std::string> read_default(std::string_view file, const std::string& lack) {
  const std::string path = default_reference_dir() + "/" + std::string(file);
  auto text = read_file(path);
  if (!text) return missing(lack + ", and the default " + path + " cannot be read.");
  return text;
}

Result<ReferenceData> load_directory(const std::string& dir) {
  auto required = [&](std::string_view file) -> Result<std::string> {
    const std::string path = dir + "/" + std::string(file);
    if (!is_file(path)) {
      return missing("The reference directory " + dir + " has no " + std::string(file) + ".");
    }
    return read_file(path);
  };
  auto g = required("governorates.csv");
  if (!g) return g.error();
  auto f = required("facilities.csv");
  if (!f) return f.error();
  auto own_or_default = [&](std::string_view file) -> Result<std::string> {
    const std::string path = dir + "/" + std::string(file);
    return is_file(path) ? read_file(path)
                         : read_default(file, dir + " has no " + std::string(file));
  };
  auto p = own_or_default("products.csv");
  if (!p) return p.error();
  auto t = own_or_default("tests.csv");
  if (!t) return t.error();
  std::string n;  // no neighbours.csv: no neighbours
  if (is_file(dir + "/neighbours.csv")) {
    auto text = read_file(dir + "/neighbours.csv");
    if (!text) return text.error();
    n = std::move(*text);
  }
  auto rd = ReferenceData::parse(*g, *f, *p, *t, n);
  if (!rd) return rd;
  auto reagents = own_or_default("reagents.csv");
  if (!reagents) return reagents.error();
  auto catalogue = ReagentCatalogue::parse(*reagents);
  if (!catalogue) return make_error(catalogue.error().code, dir + "/" + catalogue.error().message);
  rd->set_reagents(std::move(*catalogue));
  auto intervals = own_or_default("donor_intervals.csv");
  if (!intervals) return intervals.error();
  if (auto s = rd->set_donation_intervals(*intervals); !s) {
    return make_error(s.error().code, dir + "/" + s.error().message);
  }
  return rd;
}

Result<ReferenceData> load_json(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto rd = ReferenceData::parse_json(*text, path, [&](std::string_view file) {
    const std::string key(file.substr(0, file.find('.')));  // "products.csv" -> "products"
    return read_default(file, path + " has no \"" + key + "\" array");
  });
  if (!rd) return rd;
  // Reagents come from the default catalogue (an operator's JSON does not carry them).
  auto reagents = read_default("reagents.csv", path + " has no reagents");
  if (!reagents) return reagents.error();
  auto catalogue = ReagentCatalogue::parse(*reagents);
  if (!catalogue) return catalogue.error();
  rd->set_reagents(std::move(*catalogue));
  auto intervals = read_default("donor_intervals.csv", path + " has no donor intervals");
  if (!intervals) return intervals.error();
  if (auto s = rd->set_donation_intervals(*intervals); !s) return s.error();
  return rd;
}

}  // namespace

Result<ReferenceData> load_reference_data(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return missing("The reference data " + path +
                   " does not exist; give a directory of CSV files or a .json file.");
  }
  if (fs::is_directory(path, ec)) return load_directory(path);
  if (ends_with_json(path)) return load_json(path);
  return missing("The reference data " + path +
                 " is neither a directory of CSV files nor a file ending in .json.");
}

}  // namespace hemoledger
