#include "connectors/label_command.h"

#include <nlohmann/json.hpp>

#include "connectors/isbt128.h"

namespace hemoledger {

int run_label_command(const std::vector<std::string>& scans, std::ostream& out, std::ostream& err) {
  auto results = nlohmann::json::array();
  bool all_ok = !scans.empty();
  if (scans.empty()) err << "label: no data given; pass one or more scanned label strings.\n";
  for (std::size_t i = 0; i < scans.size(); ++i) {
    const auto& data = scans[i];
    auto r = isbt128::decode(data);
    nlohmann::json j;
    if (r) {
      j = nlohmann::json{{"data", data}};
      j.update(isbt128::to_json(*r));
    } else {
      all_ok = false;
      j = {{"data", data}, {"error", r.error().code}, {"message", r.error().message}};
      err << "label: scan " << (i + 1) << " refused (" << r.error().code
          << "): " << r.error().message << "\n";
    }
    results.push_back(std::move(j));
  }
  // Scanned bytes need not be UTF-8: replace what is not, rather than throw.
  out << results.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return all_ok ? 0 : 1;
}

}  // namespace hemoledger
