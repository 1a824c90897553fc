#include "projections/demand.h"

#include <cstdio>

#include "projections/stock.h"

namespace hemoledger {

std::int64_t day_of(TimeMs t) { return t >= 0 ? t / kDay : (t - kDay + 1) / kDay; }

namespace {

bool consumed(UnitStatus s) {
  return s == UnitStatus::issued || s == UnitStatus::expired || s == UnitStatus::discarded;
}

}  // namespace

std::vector<DemandDelta> demand_diff(const Donation* before, const Donation& after,
                                     const Event& e) {
  std::vector<DemandDelta> out;
  if (!before) return out;
  const AboRh group = after.group();
  for (const auto& u : after.units) {
    const UnitState* old = before->unit(u.product);
    if (!old || old->status == u.status) continue;
    if (!consumed(old->status) && consumed(u.status)) {
      out.push_back({{day_of(e.at), old->holder, u.category, group}, 1});
    } else if (old->status == UnitStatus::issued && in_stock(u.status)) {  // returned
      out.push_back({{day_of(old->issued_at), old->holder, u.category, group}, -1});
    }
  }
  return out;
}

std::string encode_demand_key(const DemandKey& k) {
  char day[32];
  std::snprintf(day, sizeof day, "%08lld", static_cast<long long>(k.day));
  return std::string(day) + "|" + k.facility + "|" + std::string(to_string(k.category)) + "|" +
         std::string(to_string(k.group));
}

Result<DemandKey> decode_demand_key(std::string_view text) {
  const auto parts = split_key(text);
  DemandKey k;
  if (parts.size() != 4 || parts[0].size() != 8 || !parse_category(parts[2], k.category)) {
    return make_error("corrupt_state", "A stored demand key cannot be read.");
  }
  for (char c : parts[0]) {
    if (c < '0' || c > '9') return make_error("corrupt_state", "A stored demand day is damaged.");
    k.day = k.day * 10 + (c - '0');
  }
  k.facility = std::string(parts[1]);
  k.group = parts[3] == "unknown" ? AboRh::unknown : parse_abo_rh(parts[3]).value_or(AboRh::unknown);
  return k;
}

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::green: return "green";
    case Phase::pre_amber: return "pre_amber";
    case Phase::amber: return "amber";
    case Phase::red: return "red";
  }
  return "green";
}

SupplyThresholds default_thresholds(Category c) {
  switch (c) {
    case Category::platelets: return {3, 1.5, 1};
    case Category::plasma:
    case Category::cryo: return {14, 5, 2};
    default: return {6, 2, 1};
  }
}

Phase phase_of(std::optional<double> days, const SupplyThresholds& t) {
  if (!days) return Phase::green;
  if (*days < t.red) return Phase::red;
  if (*days < t.amber) return Phase::amber;
  if (*days < t.pre_amber) return Phase::pre_amber;
  return Phase::green;
}

}  // namespace hemoledger
