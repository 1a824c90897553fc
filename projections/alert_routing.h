// AlertRouting: which sectors receive which alerts, through which channels,
// and to whom an unacknowledged Red alert escalates (docs/alerts.md,
// "Routing"). Loaded from a JSON file at start-up and read-only afterwards,
// so it may be shared between threads.
//
//   auto routing = AlertRouting::parse(text, ref);
//   if (!routing) { log(routing.error().message); return; }  // names the key at fault
//   for (const auto& code : routing->receivers(alert)) deliver(code, alert);
//   if (auto due = routing->escalation_due(alert)) produce(due->event());
//
// A sector is a governorate's blood bank office, the national directorate, a
// hospital's transfusion committee: any code. It receives the alerts that
// match all of its filters (kind, severity, governorate, facility; an absent
// filter matches everything) and every alert escalated to it. An alert is
// with the first sector of the file that matches it (order the file from the
// most specific sector to the national one) until it is escalated, then with
// the sector it was escalated to. A Red alert not acknowledged within that
// sector's `acknowledge_within_minutes` (default 30; or
// `acknowledge_within_seconds`, for tests and drills) of reaching Red (or of
// its last escalation) is due to escalate to the sector's `escalate_to`.
//
// Strict like the lab mapping: an unknown key, a key given twice, a wrong
// type, an unknown kind, severity, governorate or facility, a sector code
// used twice, an escalate_to that names no sector or runs in a circle, or a
// bad webhook URL is an error ("invalid_routing", naming the key) at load
// time. Without a routing file every alert goes to every webhook and nothing
// escalates (AlertRouting{} is empty).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "events/reference_data.h"
#include "events/result.h"
#include "projections/alerts.h"

namespace hemoledger {

struct Sector {
  std::string code;  // a code of letters, digits, - and _ (events carry it)
  std::string name;  // for people
  std::set<AlertKind> kinds;
  std::set<Severity> severities;
  std::set<std::string> governorates, facilities;
  std::vector<std::string> webhooks;         // http:// URLs that receive its alerts' changes
  TimeMs acknowledge_within = 30 * kMinute;  // acknowledge_within_minutes or _seconds
  std::string escalate_to;                   // empty: the top of its chain
  std::vector<std::string> members;  // token names that may answer for it (empty: any coordinator)
};

class AlertRouting {
 public:
  AlertRouting() = default;
  [[nodiscard]] static Result<AlertRouting> parse(std::string_view json_text,
                                                  const ReferenceData& ref);

  bool empty() const { return sectors_.empty(); }
  const std::vector<Sector>& sectors() const { return sectors_; }
  const Sector* sector(std::string_view code) const;

  bool matches(const Sector& s, const Alert& a) const;
  // Every sector that receives the alert: matching ones in file order, then
  // those it was escalated to.
  std::vector<std::string> receivers(const Alert& a) const;
  // The sector the alert is with now (null: no sector matches it).
  const Sector* responsible(const Alert& a) const;
  // Whether `token_name` may acknowledge or close alerts for sector `s`.
  bool may_answer(const Sector& s, std::string_view token_name) const;

  // An open, unacknowledged Red alert's next escalation: from the sector it
  // is with to that sector's escalate_to, at the moment its time runs out.
  struct Due {
    std::string from, to;
    TimeMs at = 0;
  };
  std::optional<Due> escalation_due(const Alert& a) const;

 private:
  std::vector<Sector> sectors_;
};

// A stored alert change (change_json) as it leaves through a channel: with
// "sector" (the sector the alert is with; null when none matches) and
// "sectors" (every sector that receives it). Unchanged when routing is empty.
nlohmann::json routed_change(nlohmann::json change, const AlertRouting& routing);

}  // namespace hemoledger
