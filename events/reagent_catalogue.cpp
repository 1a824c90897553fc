#include "events/reagent_catalogue.h"

#include "events/reference_data.h"

namespace hemoledger {

namespace {

bool to_int(const std::string& s, int& out) {
  if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = std::stoi(s);
  return true;
}

}  // namespace

Result<ReagentCatalogue> ReagentCatalogue::parse(std::string_view csv) {
  auto rows = parse_csv(csv);
  if (!rows) return rows.error();
  ReagentCatalogue c;
  const std::vector<std::string> header = {"code", "name", "unit", "min_cover_days",
                                           "expiry_warning_days"};
  if (rows->empty() || (*rows)[0] != header) {
    return make_error("invalid_reference_data",
                      "reagents.csv row 1: the header must be "
                      "code,name,unit,min_cover_days,expiry_warning_days.");
  }
  for (std::size_t i = 1; i < rows->size(); ++i) {
    const auto& r = (*rows)[i];
    const std::string where = "reagents.csv row " + std::to_string(i + 1);
    ReagentDef d;
    if (r.size() != 5) {
      return make_error("invalid_reference_data", where + ": expected 5 fields.");
    }
    d.code = r[0];
    d.name = r[1];
    d.unit = r[2];
    if (d.code.empty() || d.code.size() > 32 ||
        d.code.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
            std::string::npos) {
      return make_error("invalid_reference_data",
                        where + ": the code \"" + d.code + "\" must be letters, digits, - or _.");
    }
    if (!to_int(r[3], d.min_cover_days) || !to_int(r[4], d.expiry_warning_days)) {
      return make_error("invalid_reference_data",
                        where + ": min_cover_days and expiry_warning_days must be whole days.");
    }
    if (c.find(d.code)) {
      return make_error("invalid_reference_data", where + ": duplicate code " + d.code + ".");
    }
    c.defs_.push_back(std::move(d));
  }
  return c;
}

const ReagentDef* ReagentCatalogue::find(std::string_view code) const {
  for (const auto& d : defs_) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

}  // namespace hemoledger
