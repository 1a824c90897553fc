#include "projections/alert_routing.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace hemoledger {

using nlohmann::json;

namespace {

Error bad(const std::string& where, const std::string& what) {
  return make_error("invalid_routing", "Routing file, " + where + ": " + what);
}

bool is_sector_code(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

bool is_http_url(const std::string& url) {
  return url.rfind("http://", 0) == 0 && url.size() > 7 && url.find(' ') == std::string::npos;
}

Result<std::vector<std::string>> strings(const json& j, const std::string& where) {
  if (!j.is_array()) return bad(where, "must be a list of strings.");
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string()) return bad(where, "must be a list of strings.");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Status read_receives(const json& r, const std::string& where, const ReferenceData& ref, Sector& s) {
  if (!r.is_object()) return bad(where, "must be an object.");
  for (const auto& [key, value] : r.items()) {
    const std::string at = where + "." + key;
    auto list = strings(value, at);
    if (!list) return list.error();
    for (const auto& v : *list) {
      if (key == "kinds") {
        AlertKind k;
        if (!parse_alert_kind(v, k)) return bad(at, "\"" + v + "\" is not an alert kind.");
        s.kinds.insert(k);
      } else if (key == "severities") {
        Severity sev;
        if (!parse_severity(v, sev)) {
          return bad(at, "\"" + v + "\" is not a severity (info, amber, red).");
        }
        s.severities.insert(sev);
      } else if (key == "governorates") {
        if (!ref.governorate(v)) return bad(at, "no governorate \"" + v + "\".");
        s.governorates.insert(v);
      } else if (key == "facilities") {
        if (!ref.facility(v)) return bad(at, "no facility \"" + v + "\".");
        s.facilities.insert(v);
      } else {
        return bad(at, "unknown key (kinds, severities, governorates, facilities).");
      }
    }
  }
  return {};
}

Result<Sector> read_sector(const json& j, std::size_t index, const ReferenceData& ref) {
  std::string where = "sectors[" + std::to_string(index) + "]";
  if (!j.is_object()) return bad(where, "must be an object.");
  Sector s;
  if (!j.contains("code") || !j.at("code").is_string() ||
      !is_sector_code(j.at("code").get<std::string>())) {
    return bad(where + ".code", "is required: 1 to 32 letters, digits, - and _.");
  }
  s.code = j.at("code").get<std::string>();
  where = "sector " + s.code;
  for (const auto& [key, value] : j.items()) {
    const std::string at = where + "." + key;
    if (key == "code") continue;
    if (key == "name") {
      if (!value.is_string()) return bad(at, "must be a string.");
      s.name = value.get<std::string>();
    } else if (key == "receives") {
      if (auto st = read_receives(value, at, ref, s); !st) return st.error();
    } else if (key == "webhooks") {
      auto list = strings(value, at);
      if (!list) return list.error();
      for (const auto& url : *list) {
        if (!is_http_url(url)) return bad(at, "\"" + url + "\" is not an http:// URL.");
      }
      s.webhooks = std::move(*list);
    } else if (key == "acknowledge_within_minutes" || key == "acknowledge_within_seconds") {
      // Minutes for people; seconds for tests and drills. One week at most.
      const bool minutes = key == "acknowledge_within_minutes";
      const std::int64_t most = minutes ? 7 * 24 * 60 : 7 * 24 * 3600;
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
          value.get<std::int64_t>() > most) {
        return bad(at, minutes ? "must be a whole number of minutes from 1 to 10080."
                               : "must be a whole number of seconds from 1 to 604800.");
      }
      if (j.contains("acknowledge_within_minutes") && j.contains("acknowledge_within_seconds")) {
        return bad(at, "give acknowledge_within_minutes or acknowledge_within_seconds, not both.");
      }
      s.acknowledge_within = value.get<std::int64_t>() * (minutes ? kMinute : TimeMs{1000});
    } else if (key == "escalate_to") {
      if (!value.is_string()) return bad(at, "must be a sector code.");
      s.escalate_to = value.get<std::string>();
    } else if (key == "members") {
      auto list = strings(value, at);
      if (!list) return list.error();
      s.members = std::move(*list);
    } else {
      return bad(at,
                 "unknown key (code, name, receives, webhooks, "
                 "acknowledge_within_minutes, acknowledge_within_seconds, escalate_to, "
                 "members).");
    }
  }
  if (s.name.empty()) s.name = s.code;
  return s;
}

// Every escalate_to names a sector, and no chain comes back to where it started.
Status check_chains(const AlertRouting& r) {
  for (const auto& s : r.sectors()) {
    if (s.escalate_to.empty()) continue;
    if (!r.sector(s.escalate_to)) {
      return bad("sector " + s.code + ".escalate_to", "no sector \"" + s.escalate_to + "\".");
    }
    std::set<std::string> seen{s.code};
    for (const Sector* next = r.sector(s.escalate_to); next;
         next = next->escalate_to.empty() ? nullptr : r.sector(next->escalate_to)) {
      if (!seen.insert(next->code).second) {
        return bad("sector " + s.code + ".escalate_to", "escalation runs in a circle.");
      }
    }
  }
  return {};
}

template <class T>
bool allows(const std::set<T>& filter, const T& v) {
  return filter.empty() || filter.count(v) > 0;
}

}  // namespace

Result<AlertRouting> AlertRouting::parse(std::string_view text, const ReferenceData& ref) {
  // nlohmann keeps the last of repeated keys; a routing file must not say two things.
  std::string repeated;
  std::vector<std::set<std::string>> objects;
  const json::parser_callback_t watch = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) objects.emplace_back();
    if (event == json::parse_event_t::object_end && !objects.empty()) objects.pop_back();
    if (event == json::parse_event_t::key && !objects.empty() &&
        !objects.back().insert(parsed.get<std::string>()).second && repeated.empty()) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  json j = json::parse(text.begin(), text.end(), watch, false);
  if (j.is_discarded()) return make_error("invalid_json", "The routing file is not valid JSON.");
  if (!repeated.empty()) return bad("key \"" + repeated + "\"", "given twice in the same object.");
  if (!j.is_object()) return bad("the document", "must be an object with \"sectors\".");
  AlertRouting r;
  for (const auto& [key, value] : j.items()) {
    if (key != "sectors") return bad(key, "unknown key (sectors).");
    if (!value.is_array()) return bad("sectors", "must be a list.");
    for (std::size_t i = 0; i < value.size(); ++i) {
      auto s = read_sector(value[i], i, ref);
      if (!s) return s.error();
      if (r.sector(s->code)) return bad("sector " + s->code, "the code is used twice.");
      r.sectors_.push_back(std::move(*s));
    }
  }
  if (auto s = check_chains(r); !s) return s.error();
  return r;
}

const Sector* AlertRouting::sector(std::string_view code) const {
  for (const auto& s : sectors_) {
    if (s.code == code) return &s;
  }
  return nullptr;
}

bool AlertRouting::matches(const Sector& s, const Alert& a) const {
  return allows(s.kinds, a.kind) && allows(s.severities, a.severity) &&
         allows(s.governorates, a.governorate) &&
         (s.facilities.empty() || s.facilities.count(a.facility) > 0);
}

std::vector<std::string> AlertRouting::receivers(const Alert& a) const {
  std::vector<std::string> out;
  for (const auto& s : sectors_) {
    if (matches(s, a)) out.push_back(s.code);
  }
  for (const auto& code : a.follow_up.escalated_to) {
    if (std::find(out.begin(), out.end(), code) == out.end()) out.push_back(code);
  }
  return out;
}

const Sector* AlertRouting::responsible(const Alert& a) const {
  if (!a.follow_up.escalated_to.empty()) {
    if (const Sector* s = sector(a.follow_up.escalated_to.back())) return s;
  }
  for (const auto& s : sectors_) {
    if (matches(s, a)) return &s;
  }
  return nullptr;
}

bool AlertRouting::may_answer(const Sector& s, std::string_view token_name) const {
  return s.members.empty() ||
         std::find(s.members.begin(), s.members.end(), token_name) != s.members.end();
}

std::optional<AlertRouting::Due> AlertRouting::escalation_due(const Alert& a) const {
  if (!a.open() || a.severity != Severity::red || a.follow_up.acknowledged_at) return std::nullopt;
  const Sector* s = responsible(a);
  if (!s || s->escalate_to.empty()) return std::nullopt;
  const TimeMs since = std::max(
      {a.severity_at ? a.severity_at : a.raised_at, a.raised_at, a.follow_up.escalated_at});
  return Due{s->code, s->escalate_to, since + s->acknowledge_within};
}

json routed_change(json change, const AlertRouting& routing) {
  if (routing.empty() || !change.is_object() || !change.contains("alert")) return change;
  auto a = alert_from_json(change["alert"]);
  if (!a) return change;
  const Sector* s = routing.responsible(*a);
  change["sector"] = s ? json(s->code) : json(nullptr);
  change["sectors"] = routing.receivers(*a);
  return change;
}

}  // namespace hemoledger
