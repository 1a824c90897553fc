#include "projections/demand.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "projections/stock.h"

namespace hemoledger {

std::int64_t day_of(TimeMs t) { return t >= 0 ? t / kDay : (t - kDay + 1) / kDay; }

namespace {

bool consumed(UnitStatus s) {
  return s == UnitStatus::issued || s == UnitStatus::expired || s == UnitStatus::discarded;
}

// A unit leaves the supply when it is issued, or expires or is discarded
// after its release. One discarded or expired in quarantine (a positive
// screen, a failed QC) never was supply: counting it made a bank that holds
// none of that group look short of it for the demand memory's 90 days.
bool leaves_supply(UnitStatus before, UnitStatus after) {
  if (consumed(before) || !consumed(after)) return false;
  return after == UnitStatus::issued || before != UnitStatus::quarantined;
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
    if (leaves_supply(old->status, u.status)) {
      out.push_back({{day_of(e.at), old->holder, u.category, group}, 1});
    } else if (old->status == UnitStatus::issued && in_stock(u.status)) {  // returned
      // Counted at the bank that issued it (a hospital holds an issued unit).
      const std::string& issuer = old->issued_by.empty() ? old->holder : old->issued_by;
      out.push_back({{day_of(old->issued_at), issuer, u.category, group}, -1});
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
  k.group =
      parts[3] == "unknown" ? AboRh::unknown : parse_abo_rh(parts[3]).value_or(AboRh::unknown);
  return k;
}

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::green:
      return "green";
    case Phase::pre_amber:
      return "pre_amber";
    case Phase::amber:
      return "amber";
    case Phase::red:
      return "red";
  }
  return "green";
}

SupplyThresholds default_thresholds(Category c) {
  switch (c) {
    case Category::platelets:
      return {3, 1.5, 1};
    case Category::plasma:
    case Category::cryo:
      return {14, 5, 2};
    default:
      return {6, 2, 1};
  }
}

Phase phase_of(std::optional<double> days, const SupplyThresholds& t) {
  if (!days) return Phase::green;
  if (*days < t.red) return Phase::red;
  if (*days < t.amber) return Phase::amber;
  if (*days < t.pre_amber) return Phase::pre_amber;
  return Phase::green;
}

std::optional<double> days_of_supply(std::int64_t available, std::int64_t consumed,
                                     int window_days) {
  if (consumed <= 0) return std::nullopt;
  return static_cast<double>(available) * window_days / static_cast<double>(consumed);
}

DayWindow window_before(TimeMs now, int window_days) {
  const std::int64_t today = day_of(now);
  return {today - window_days, today};
}

SupplyThresholds SupplyConfig::thresholds_for(Category c) const {
  auto it = thresholds.find(c);
  return it == thresholds.end() ? default_thresholds(c) : it->second;
}

int SupplyConfig::expiring_hours_for(Category c) const {
  auto it = expiring_hours.find(c);
  if (it != expiring_hours.end()) return it->second;
  return c == Category::platelets ? 24 : 72;
}

Phase next_phase(Phase current, std::optional<double> days, const SupplyThresholds& t,
                 double recover_factor) {
  const Phase raw = phase_of(days, t);
  if (raw >= current) return raw;
  // Better: only as far as the days clear each threshold with the margin.
  const Phase damped =
      phase_of(days ? std::optional<double>(*days / recover_factor) : std::nullopt, t);
  return std::min(current, damped);
}

Result<SupplyConfig> parse_supply_config(std::string_view json_text) {
  using nlohmann::json;
  const json j = json::parse(json_text, nullptr, false);
  auto bad = [](std::string what) { return make_error("invalid_supply_config", std::move(what)); };
  if (!j.is_object()) return bad("The supply settings must be a JSON object.");
  SupplyConfig c;
  auto number = [](const json& v, double& out) {
    if (!v.is_number()) return false;
    out = v.get<double>();
    return out > 0 && out < 1e6;
  };
  auto category = [&](const std::string& name, Category& out) -> Status {
    if (!parse_category(name, out)) {
      return bad("Unknown category \"" + name +
                 "\"; use whole_blood, red_cells, platelets, plasma or cryo.");
    }
    return {};
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "window_days") {
      if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 366) {
        return bad("window_days must be a whole number of days from 1 to 366.");
      }
      c.window_days = v.get<int>();
    } else if (k == "demand_memory_days") {
      if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 3660) {
        return bad("demand_memory_days must be a whole number of days from 1 to 3660.");
      }
      c.demand_memory_days = v.get<int>();
    } else if (k == "recover_factor") {
      if (!number(v, c.recover_factor) || c.recover_factor < 1) {
        return bad("recover_factor must be a number of at least 1 (1.25: recover 25 % above).");
      }
    } else if (k == "thresholds") {
      if (!v.is_object()) return bad("thresholds must map categories to thresholds.");
      for (auto t = v.begin(); t != v.end(); ++t) {
        Category cat;
        if (auto s = category(t.key(), cat); !s) return s.error();
        SupplyThresholds th = default_thresholds(cat);
        if (!t.value().is_object()) return bad("thresholds." + t.key() + " must be an object.");
        for (auto f = t.value().begin(); f != t.value().end(); ++f) {
          double* slot = f.key() == "pre_amber" ? &th.pre_amber
                         : f.key() == "amber"   ? &th.amber
                         : f.key() == "red"     ? &th.red
                                                : nullptr;
          if (!slot)
            return bad("thresholds." + t.key() + ": unknown key \"" + f.key() +
                       "\"; the keys are pre_amber, amber and red.");
          if (!number(f.value(), *slot)) {
            return bad("thresholds." + t.key() + "." + f.key() +
                       " must be a positive number of days.");
          }
        }
        if (!(th.pre_amber > th.amber && th.amber > th.red)) {
          return bad("thresholds." + t.key() + ": pre_amber must exceed amber, and amber red.");
        }
        c.thresholds[cat] = th;
      }
    } else if (k == "expiring_hours") {
      if (!v.is_object()) return bad("expiring_hours must map categories to hours.");
      for (auto t = v.begin(); t != v.end(); ++t) {
        Category cat;
        if (auto s = category(t.key(), cat); !s) return s.error();
        if (!t.value().is_number_integer() || t.value().get<long long>() < 1 ||
            t.value().get<long long>() > 24 * 366) {
          return bad("expiring_hours." + t.key() + " must be a whole number of hours.");
        }
        c.expiring_hours[cat] = t.value().get<int>();
      }
    } else if (k == "fate_hours" || k == "reaction_review_days") {
      if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 24 * 366) {
        return bad(k + " must be a whole number from 1 to 8784.");
      }
      (k == "fate_hours" ? c.fate_hours : c.reaction_review_days) = v.get<int>();
    } else {
      return bad("Unknown key \"" + k +
                 "\"; the keys are window_days, recover_factor, thresholds, expiring_hours, "
                 "demand_memory_days, fate_hours and reaction_review_days.");
    }
  }
  return c;
}

}  // namespace hemoledger
