#include "engine/station/station_session.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

#include "connectors/isbt128.h"
#include "events/event.h"
#include "events/json_codec.h"
#include "projections/compatibility.h"

namespace hemoledger {

using nlohmann::json;

namespace {

// The engine's `warnings` on an answer (strings, or objects with a code and
// a message), or null.
const json* warnings_of(const BackendReply& reply) {
  if (!reply.body.is_object()) return nullptr;
  auto it = reply.body.find("warnings");
  return it != reply.body.end() && it->is_array() ? &*it : nullptr;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_donor_line(const std::string& text) { return lower(text).rfind("donor:", 0) == 0; }

// The station's own codes, for checks made before the engine is asked.
constexpr char kUnreadable[] = "unreadable_label";
constexpr char kLegacy[] = "legacy_label";
constexpr char kMixed[] = "labels_mixed";

}  // namespace

// The unit being assembled from its labels.
struct StationSession::Unit {
  std::optional<std::string> din, product, donor;
  std::optional<AboRh> group;
  std::optional<isbt128::GroupMessage> special;  // a special blood-group label message
  std::optional<TimeMs> expires_at;
  std::string last_scan;

  std::string name() const { return din.value_or("?") + (product ? " " + *product : ""); }
};

std::string_view to_string(AnswerKind k) {
  switch (k) {
    case AnswerKind::incomplete:
      return "incomplete";
    case AnswerKind::cleared:
      return "cleared";
    case AnswerKind::ok:
      return "ok";
    case AnswerKind::stop:
      return "stop";
    case AnswerKind::unconfirmed:
      return "unconfirmed";
  }
  return "stop";
}

json to_json(const StationAnswer& a) {
  json j = {
      {"answer", std::string(to_string(a.kind))}, {"message", a.message}, {"details", a.details}};
  if (!a.code.empty()) j["code"] = a.code;
  if (!a.warnings.empty()) j["warnings"] = a.warnings;
  return j;
}

Status validate(const StationSettings& s) {
  if (s.facility.empty()) return make_error("bad_station", "The bench's facility is required.");
  const StationActionInfo& a = station_action_info(s.action);
  const std::string what = "The action " + std::string(a.name) + " needs ";
  if (needs(a, Need::patient_group) && s.patient_group == AboRh::unknown) {
    return make_error("bad_station", what + "the patient's group (--patient-abo-rh).");
  }
  if (needs(a, Need::patient) && s.patient.empty()) {
    return make_error("bad_station", what + "the patient's pseudonymous id (--patient).");
  }
  if (takes(a, Need::patient) && !s.patient.empty() && !is_pseudonymous_id(s.patient)) {
    return make_error("bad_station",
                      "The patient id must be a pseudonym (letters, digits and - _ . : / with a "
                      "digit), never a name.");
  }
  if (needs(a, Need::to) && s.to.empty()) {
    return make_error("bad_station", what + "the destination (--to).");
  }
  if (needs(a, Need::discard_reason) && !is_discard_reason(s.reason)) {
    return make_error("bad_station", what + "a reason (--reason), one of: " +
                                         std::string(discard_reasons_text()) + ".");
  }
  if (needs(a, Need::reason) && s.reason.empty()) {
    return make_error("bad_station", what + "the reason (--reason).");
  }
  if (needs(a, Need::approver) && s.approver.empty()) {
    return make_error("bad_station", what + "the approving physician (--approver).");
  }
  if (needs(a, Need::reaction) &&
      (s.reaction == ReactionCategory::none || s.severity == ReactionSeverity::none ||
       s.imputability == Imputability::none || s.onset_at == 0)) {
    return make_error("bad_station", what +
                                         "the reaction's category, severity, imputability "
                                         "and onset (--reaction, --severity, --imputability, "
                                         "--onset).");
  }
  return {};
}

StationSession::StationSession(StationSettings settings, StationBackend& backend,
                               const Clock& clock)
    : settings_(std::move(settings)), backend_(backend), clock_(clock) {
  // Event ids must never repeat (a repeated id is a duplicate to the
  // engine): 64 random bits per session, then a counter.
  std::random_device rd;
  char id[32];
  std::snprintf(id, sizeof id, "%08x%08x", rd(), rd());
  session_id_ = id;
}

StationAnswer StationSession::scan(const std::string& raw) {
  const std::string text = trim(raw);
  if (text.empty() || lower(text) == "cancel") {
    pending_.clear();
    return {AnswerKind::cleared, "", "unit cleared; scan the next unit", json::object(), {}};
  }
  std::vector<std::string> scans = pending_;
  scans.push_back(text);
  auto unit = assemble(scans);
  if (!unit) {
    // Two units' labels mixed: start again. An unreadable scan: drop it only.
    if (unit.error().code == kMixed) pending_.clear();
    StationAnswer a{AnswerKind::stop, unit.error().code, unit.error().message, json::object(), {}};
    a.details["scan"] = text.substr(0, 40);
    return a;
  }
  if (!complete(*unit)) {
    pending_ = std::move(scans);
    StationAnswer a{
        AnswerKind::incomplete, "", "label read; scan the unit's other labels", json::object(), {}};
    if (unit->din) a.details["din"] = *unit->din;
    if (unit->product) a.details["product"] = *unit->product;
    if (unit->group) a.details["label_group"] = std::string(to_string(*unit->group));
    if (unit->expires_at) a.details["label_expiry"] = format_rfc3339(*unit->expires_at);
    return a;
  }
  pending_.clear();
  return act(*unit);
}

Result<StationSession::Unit> StationSession::assemble(const std::vector<std::string>& scans) const {
  Unit u;
  for (const std::string& text : scans) {
    u.last_scan = text;
    if (settings_.action == StationAction::collect && is_donor_line(text)) {
      u.donor = trim(text.substr(6));
      continue;
    }
    auto scan = isbt128::decode(text);
    if (!scan) {
      return make_error(kUnreadable, "unreadable scan \"" + text.substr(0, 40) +
                                         "\": " + scan.error().message + " Scan it again.");
    }
    if (scan->legacy) {
      return make_error(kLegacy, "\"" + text.substr(0, 40) +
                                     "\" is a legacy Codabar label; this station records "
                                     "ISBT 128 units only. Scan the unit's ISBT 128 labels.");
    }
    if (scan->din && u.din && *scan->din != *u.din) {
      return make_error(kMixed, "this label belongs to donation " + *scan->din + " but unit " +
                                    *u.din +
                                    " is being assembled. Labels of two units were mixed: the "
                                    "unit was cleared; scan one unit again, all its labels.");
    }
    if (scan->din) u.din = scan->din;
    if (scan->product) u.product = scan->product;
    if (scan->abo_rh) u.group = scan->abo_rh;
    if (scan->group_message) u.special = scan->group_message;
    if (scan->expires_at) u.expires_at = scan->expires_at;
  }
  return u;
}

bool StationSession::complete(const Unit& u) const {
  if (settings_.action == StationAction::collect) return u.din && u.donor;
  return u.din && u.product && (u.group || u.special) && u.expires_at;
}

StationAnswer StationSession::stop(const Unit* u, std::string code, std::string message) const {
  StationAnswer a{AnswerKind::stop, std::move(code), std::move(message), json::object(), {}};
  if (u != nullptr) {
    if (u->din) a.details["din"] = *u->din;
    if (u->product) a.details["product"] = *u->product;
    if (u->group) a.details["label_group"] = std::string(to_string(*u->group));
  }
  a.details["verb"] = std::string(station_action_info(settings_.action).verb);
  return a;
}

StationAnswer StationSession::unreachable(const Unit& u, const std::string& consequence) const {
  StationAnswer a = stop(&u, "engine_unreachable",
                         u.name() + ": the engine at " + backend_.where() + " cannot be reached; " +
                             consequence + ".");
  a.details["where"] = backend_.where();
  return a;
}

// 401 or 403: the engine refused this station's token; a stop with its reason.
std::optional<StationAnswer> StationSession::refused(const Unit& u, const BackendReply& r) const {
  if (r.status != 401 && r.status != 403) return std::nullopt;
  const json& j = r.body;
  const std::string code = j.is_object() ? j.value("code", j.value("error", "")) : "";
  const std::string why = j.is_object() ? j.value("message", "") : j.dump();
  return stop(&u, code.empty() ? "refused" : code,
              u.name() + ": the engine refused this station (" +
                  (r.status == 401 ? std::string("no valid token") : std::string("not allowed")) +
                  "): " + why + " Nothing was recorded.");
}

StationAnswer StationSession::act(const Unit& u) {
  const StationActionInfo& a = station_action_info(settings_.action);
  const TimeMs now = clock_.now();
  // 1. The station's own label checks.
  if (u.special && settings_.action != StationAction::discard) {
    StationAnswer s = stop(&u, "label_" + std::string(isbt128::to_string(*u.special)),
                           u.name() + ": the blood group label says \"" +
                               std::string(isbt128::text_of(*u.special)) + "\"; it must not be " +
                               std::string(a.verb) + ".");
    s.details["special"] = std::string(isbt128::to_string(*u.special));
    return s;
  }
  if (u.expires_at && a.refuses_expired_label && *u.expires_at <= now) {
    StationAnswer s =
        stop(&u, "label_expired",
             u.name() + ": the label says it expired at " + format_rfc3339(*u.expires_at) +
                 "; it must not be " + std::string(a.verb) + ".");
    s.details["label_expiry"] = format_rfc3339(*u.expires_at);
    return s;
  }
  if (settings_.action != StationAction::collect) {
    if (auto refused = check_against_record(u)) return *refused;
  }
  // 2 and 3. The engine's rules, then the real thing.
  const Event e = make_event(u);
  const std::string body = encode_json(e);
  const BackendReply dry = backend_.check(body);
  if (dry.status == 0) return unreachable(u, "nothing was recorded");
  if (auto r = refused(u, dry)) return *r;
  if (dry.status != 200) {
    if (dry.status == 422 || dry.status == 400) {
      return stop(&u, dry.body.value("code", ""), u.name() + ": " + dry.body.value("message", ""));
    }
    return unreachable(u, "nothing was recorded");
  }
  // Accepted, but not to be done: a deferred donor is stopped before the needle.
  if (const json* warnings = warnings_of(dry)) {
    for (const auto& w : *warnings) {
      if (w.is_object() && w.value("code", "") == "donor_deferred") {
        return stop(&u, "donor_deferred", u.name() + ": " + w.value("message", ""));
      }
    }
  }
  const BackendReply r = backend_.record(body);
  if (r.status == 0) {
    StationAnswer s = unreachable(u, "it is unknown whether it was recorded; check event " + e.id);
    s.kind = AnswerKind::unconfirmed;
    s.details["event_id"] = e.id;
    return s;
  }
  if (auto refusal = refused(u, r)) return *refusal;
  const std::string message = r.body.value("message", "");
  if (r.status == 200) {
    StationAnswer ok{AnswerKind::ok,
                     "",
                     u.name() + " " + std::string(a.verb) +
                         (u.group ? " (" + std::string(to_string(*u.group)) + ")" : "") + ".",
                     json::object(),
                     {}};
    if (u.din) ok.details["din"] = *u.din;
    if (u.product) ok.details["product"] = *u.product;
    if (u.group) ok.details["label_group"] = std::string(to_string(*u.group));
    ok.details["verb"] = std::string(a.verb);
    ok.details["event_id"] = e.id;
    if (const json* warnings = warnings_of(r)) {
      for (const auto& w : *warnings) {
        if (w.is_string()) ok.warnings.push_back(w.get<std::string>());
        if (w.is_object()) ok.warnings.push_back(w.value("message", w.value("code", "")));
      }
    }
    return ok;
  }
  if (r.status == 422 || r.status == 409) {
    return stop(&u, r.body.value("code", ""), u.name() + ": " + message);
  }
  StationAnswer s = stop(&u, r.status == 504 ? "pending" : r.body.value("code", "not_recorded"),
                         r.status == 504 ? u.name() +
                                               ": Kafka has the event but the engine has not "
                                               "confirmed it yet. Do not repeat the action; "
                                               "check event " +
                                               e.id + "."
                                         : u.name() + ": NOT RECORDED. " + message);
  s.kind = AnswerKind::unconfirmed;
  s.details["event_id"] = e.id;
  return s;
}

// The label against the engine's record: the donation or unit must be known,
// its typing must agree with the label's group, its expiry with the label's.
// A stop, or nullopt when all is well.
std::optional<StationAnswer> StationSession::check_against_record(const Unit& u) {
  const StationActionInfo& a = station_action_info(settings_.action);
  const bool receive = settings_.action == StationAction::receive;
  const BackendReply r = backend_.unit(*u.din, receive ? "" : *u.product);
  if (r.status == 0) return unreachable(u, "nothing was recorded");
  if (auto refusal = refused(u, r)) return *refusal;
  if (r.status == 404) {
    return stop(&u, "unknown_unit",
                u.name() + ": hemoledger has no record of this " +
                    std::string(receive ? "donation" : "unit") + "; it cannot be " +
                    std::string(a.verb) + ".");
  }
  if (r.status != 200 || !r.body.is_object()) return unreachable(u, "nothing was recorded");
  const json& rec = r.body;
  const std::string typed = rec.value("abo_rh", "unknown");
  if (u.group && typed != "unknown" && typed != to_string(*u.group)) {
    StationAnswer s =
        stop(&u, "label_group_mismatch",
             u.name() + ": the label says " + std::string(to_string(*u.group)) +
                 " but the unit is typed " + typed + ". Do not use it; report the discrepancy.");
    s.details["typed_group"] = typed;
    return s;
  }
  if (auto s = check_bedside_group(u, rec)) return s;
  // A thawed unit keeps its frozen label; its record holds the shorter thawed expiry.
  const bool thawed = rec.contains("unit") && rec["unit"].contains("thawed_at");
  if (!receive && !thawed && u.expires_at && rec.contains("unit")) {
    auto recorded = parse_rfc3339(rec["unit"].value("expires_at", ""));
    if (recorded && std::llabs(*recorded - *u.expires_at) > kDay) {
      StationAnswer s = stop(&u, "label_expiry_mismatch",
                             u.name() + ": the label's expiry " + format_rfc3339(*u.expires_at) +
                                 " does not match the record's " + format_rfc3339(*recorded) +
                                 ". Do not use it; report the discrepancy.");
      s.details["label_expiry"] = format_rfc3339(*u.expires_at);
      s.details["record_expiry"] = format_rfc3339(*recorded);
      return s;
    }
  }
  return std::nullopt;
}

// At the bedside (an action that takes the patient's group but whose event
// does not carry it, e.g. a transfusion): the wristband's group against the
// unit, with the engine's one compatibility rule (projections/compatibility.h).
std::optional<StationAnswer> StationSession::check_bedside_group(const Unit& u, const json& rec) {
  const StationActionInfo& a = station_action_info(settings_.action);
  if (!takes(a, Need::patient_group) || field_allowed(a.type, Field::patient_abo_rh) ||
      settings_.patient_group == AboRh::unknown || !rec.contains("unit")) {
    return std::nullopt;
  }
  Category category = Category::unknown;
  parse_category(rec["unit"].value("category", ""), category);
  const AboRh donor = parse_abo_rh(rec.value("abo_rh", "")).value_or(AboRh::unknown);
  // An RhD-positive unit issued with an approved exception stays approved.
  if (rec["unit"].value("rhd_exception", false) &&
      match(category, donor, settings_.patient_group) == Match::rhd_needs_approval) {
    return std::nullopt;
  }
  auto ok = check_compatible(category, donor, settings_.patient_group);
  if (ok) return std::nullopt;
  StationAnswer s = stop(&u, ok.error().code, u.name() + ": " + ok.error().message);
  s.details["patient_group"] = std::string(to_string(settings_.patient_group));
  return s;
}

Event StationSession::make_event(const Unit& u) {
  const StationActionInfo& a = station_action_info(settings_.action);
  Event e;
  e.id = "station-" + session_id_ + "-" + std::to_string(++counter_);
  e.type = a.type;
  e.at = clock_.now();
  e.facility = settings_.facility;
  e.actor = settings_.actor;
  e.station = settings_.station;
  e.din = *u.din;
  if (settings_.action == StationAction::collect) {
    e.donor = u.donor.value_or("");
    if (u.group) e.abo_rh = *u.group;
    return e;
  }
  e.product = *u.product;
  if (settings_.action == StationAction::receive) e.expires_at = *u.expires_at;
  // The fields the action takes from the bench (the table's needs and mays);
  // the patient's pseudonym is checked by validate() and by the engine.
  if (takes(a, Need::patient)) e.patient = settings_.patient;
  if (takes(a, Need::patient_group) && field_allowed(a.type, Field::patient_abo_rh)) {
    e.patient_abo_rh = settings_.patient_group;
  }
  if (takes(a, Need::to)) e.to = settings_.to;
  if (takes(a, Need::discard_reason) || takes(a, Need::reason)) e.reason = settings_.reason;
  if (takes(a, Need::approver)) e.approver = settings_.approver;
  if (settings_.action == StationAction::emergency) e.emergency = true;
  if (takes(a, Need::reaction)) {
    e.reaction = settings_.reaction;
    e.severity = settings_.severity;
    e.imputability = settings_.imputability;
    e.onset_at = settings_.onset_at;
  }
  return e;
}

}  // namespace hemoledger
