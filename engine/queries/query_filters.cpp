#include "engine/queries/query_filters.h"

#include <algorithm>

namespace hemoledger {

Result<StockFilter> parse_stock_filter(const std::map<std::string, std::string>& params,
                                       const ReferenceData& ref) {
  StockFilter f;
  for (const auto& [k, v] : params) {
    if (k == "governorate") {
      if (!ref.governorate(v)) return make_error("bad_filter", "Unknown governorate " + v + ".");
      f.governorate = v;
    } else if (k == "facility") {
      if (!ref.facility(v)) return make_error("bad_filter", "Unknown facility " + v + ".");
      f.facility = v;
    } else if (k == "category") {
      if (!parse_category(v, f.category)) {
        return make_error(
            "bad_filter",
            "Unknown category " + v + "; use whole_blood, red_cells, platelets, plasma or cryo.");
      }
    } else if (k == "abo_rh") {
      auto g = parse_abo_rh(v);
      if (!g) return make_error("bad_filter", "Unknown blood group " + v + "; use O+, O-, A+ ...");
      f.group = *g;
    } else if (k == "status") {
      if (!parse_unit_status(v, f.status) || !in_stock(f.status)) {
        return make_error("bad_filter", "Unknown stock status " + v +
                                            "; use quarantined, available, reserved, in_transit "
                                            "or issued.");
      }
      f.has_status = true;
    } else {
      return make_error("bad_filter", "Unknown filter " + k + ".");
    }
  }
  return f;
}

Result<AlertFilter> parse_alert_filter(const std::map<std::string, std::string>& params,
                                       const ReferenceData& ref) {
  AlertFilter f;
  auto bad = [](const std::string& name, const std::string& why) {
    return make_error("bad_filter", "The filter " + name + " " + why);
  };
  for (const auto& [k, v] : params) {
    if (k == "status") {
      if (v != "open" && v != "cleared" && v != "closed" && v != "all") {
        return bad(k, "must be open, cleared, closed or all.");
      }
      f.status = v;
    } else if (k == "kind") {
      AlertKind kind;
      if (!parse_alert_kind(v, kind)) {
        return bad(
            k, "must be supply_phase, expiring_soon, recall, reagent_cover or reagent_expiring.");
      }
      f.kind = kind;
    } else if (k == "severity") {
      Severity sev;
      if (!parse_severity(v, sev)) return bad(k, "must be info, amber or red.");
      f.severity = sev;
    } else if (k == "governorate") {
      if (!ref.governorate(v)) return bad(k, "names no known governorate (" + v + ").");
      f.governorate = v;
    } else if (k == "facility") {
      if (!ref.facility(v)) return bad(k, "names no known facility (" + v + ").");
      f.facility = v;
    } else if (k == "category") {
      Category c;
      if (!parse_category(v, c)) return bad(k, "is not a component category (" + v + ").");
      f.category = c;
    } else if (k == "abo_rh") {
      auto g = parse_abo_rh(v);
      if (!g) return bad(k, "is not a blood group (" + v + "); use O+, O-, A+, ...");
      f.group = *g;
    } else if (k == "since" || k == "limit") {
      std::uint64_t n = 0;
      if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) {
        return bad(k, "must be a whole number.");
      }
      n = std::stoull(v);
      if (k == "since")
        f.since = n;
      else
        f.limit = static_cast<std::size_t>(std::clamp<std::uint64_t>(n, 1, 100000));
    } else {
      return bad(k,
                 "is not known; use status, kind, severity, governorate, facility, category, "
                 "abo_rh, since or limit.");
    }
  }
  return f;
}

Result<ReagentFilter> parse_reagent_filter(const std::map<std::string, std::string>& params,
                                           const ReferenceData& ref) {
  ReagentFilter f;
  for (const auto& [k, v] : params) {
    if (k == "governorate") {
      if (!ref.governorate(v))
        return make_error("bad_filter", "No governorate " + v + " is known.");
      f.governorate = v;
    } else if (k == "facility") {
      if (!ref.facility(v)) return make_error("bad_filter", "No facility " + v + " is known.");
      f.facility = v;
    } else if (k == "reagent") {
      if (!ref.reagents().find(v)) {
        return make_error("bad_filter", "No reagent " + v + " is in the catalogue.");
      }
      f.reagent = v;
    } else {
      return make_error("bad_filter",
                        "The filter " + k + " is not known; use governorate, facility or reagent.");
    }
  }
  return f;
}

}  // namespace hemoledger
