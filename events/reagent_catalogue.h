// The catalogue of laboratory reagents and test kits whose lots hemoledger
// tracks (data/reagents.csv), part of the reference data: a reagent event
// naming a code not listed here is rejected. Pure parsing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "events/result.h"

namespace hemoledger {

// data/reagents.csv: code,name,unit,min_cover_days,expiry_warning_days.
struct ReagentDef {
  std::string code, name, unit;
  int min_cover_days = 14;
  int expiry_warning_days = 30;
};

class ReagentCatalogue {
 public:
  [[nodiscard]] static Result<ReagentCatalogue> parse(std::string_view csv);
  const ReagentDef* find(std::string_view code) const;
  const std::vector<ReagentDef>& all() const { return defs_; }

 private:
  std::vector<ReagentDef> defs_;
};

}  // namespace hemoledger
