#include "engine/cli/station.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "connectors/isbt128.h"
#include "engine/io/clock.h"
#include "events/event.h"
#include "events/json_codec.h"

namespace hemoledger {

using nlohmann::json;

namespace {

struct ActionInfo {
  StationAction action;
  std::string_view name;
  EventType type;
  std::string_view verb;  // for messages: "issued"
};

constexpr ActionInfo kActions[] = {
    {StationAction::collect, "collect", EventType::donation_collected, "collected"},
    {StationAction::receive, "receive", EventType::component_produced, "received into stock"},
    {StationAction::release, "release", EventType::unit_released, "released"},
    {StationAction::reserve, "reserve", EventType::unit_reserved, "reserved"},
    {StationAction::issue, "issue", EventType::unit_issued, "issued"},
    {StationAction::return_unit, "return", EventType::unit_returned, "returned to stock"},
    {StationAction::transfuse, "transfuse", EventType::unit_transfused, "recorded as transfused"},
    {StationAction::discard, "discard", EventType::unit_discarded, "discarded"},
    {StationAction::dispatch, "dispatch", EventType::transfer_dispatched, "dispatched"},
    {StationAction::receive_transfer, "receive-transfer", EventType::transfer_received,
     "received from transfer"},
};

const ActionInfo& info(StationAction a) {
  for (const auto& i : kActions) {
    if (i.action == a) return i;
  }
  return kActions[0];
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

// The unit being assembled from its labels.
struct Partial {
  std::optional<std::string> din, product, donor;
  std::optional<AboRh> group;
  std::optional<std::string> special;  // a special blood-group label message
  std::optional<TimeMs> expires_at;
  bool empty() const { return !din && !product && !donor && !group && !special && !expires_at; }
};

class Session {
 public:
  Session(const StationConfig& c, std::ostream& out) : c_(c), out_(out), http_(c.api) {
    http_.set_connection_timeout(3);
    http_.set_read_timeout(30);
    if (!c.token.empty()) http_.set_bearer_token_auth(c.token.c_str());
    if (!c.ca_cert.empty()) http_.set_ca_cert_path(c.ca_cert.c_str());
    std::random_device rd;
    session_id_ = std::to_string(rd() % 1000000);
  }

  void line(const std::string& raw) {
    const std::string text = trim(raw);
    if (text.empty() || lower(text) == "cancel") {
      if (!unit_.empty()) say_note("unit cleared; scan the next unit");
      unit_ = Partial{};
      return;
    }
    if (c_.action == StationAction::collect && lower(text).rfind("donor:", 0) == 0) {
      unit_.donor = trim(text.substr(6));
      maybe_complete();
      return;
    }
    auto scan = isbt128::decode(text);
    if (!scan) {
      stop("unreadable scan \"" + text.substr(0, 40) + "\": " + scan.error().message +
           " Scan it again.");
      return;
    }
    if (scan->legacy) {
      stop("\"" + text.substr(0, 40) +
           "\" is a legacy Codabar label; this station records "
           "ISBT 128 units only. Scan the unit's ISBT 128 labels.");
      return;
    }
    if (scan->din && unit_.din && *scan->din != *unit_.din) {
      stop("this label belongs to donation " + *scan->din + " but unit " + *unit_.din +
           " is being assembled. Labels of two units were mixed: the unit was cleared; scan "
           "one unit again, all its labels.");
      unit_ = Partial{};
      return;
    }
    if (scan->din) unit_.din = scan->din;
    if (scan->product) unit_.product = scan->product;
    if (scan->abo_rh) unit_.group = scan->abo_rh;
    if (scan->group_message) unit_.special = std::string(isbt128::text_of(*scan->group_message));
    if (scan->expires_at) unit_.expires_at = scan->expires_at;
    maybe_complete();
  }

  int failures() const { return failures_; }

 private:
  bool complete() const {
    if (c_.action == StationAction::collect) return unit_.din && unit_.donor;
    return unit_.din && unit_.product && (unit_.group || unit_.special) && unit_.expires_at;
  }

  void maybe_complete() {
    if (!complete()) return;
    Partial u = std::move(unit_);
    unit_ = Partial{};
    act(u);
  }

  std::string name(const Partial& u) const { return *u.din + (u.product ? " " + *u.product : ""); }

  void act(const Partial& u) {
    const ActionInfo& a = info(c_.action);
    const TimeMs now = c_.clock.now();
    // 1. The station's own label checks.
    if (u.special && c_.action != StationAction::discard) {
      return stop(name(u) + ": the blood group label says \"" + *u.special + "\"; it must not be " +
                  std::string(a.verb) + ".");
    }
    const bool moves_to_patient_or_stock =
        c_.action == StationAction::release || c_.action == StationAction::reserve ||
        c_.action == StationAction::issue || c_.action == StationAction::dispatch ||
        c_.action == StationAction::return_unit;
    if (u.expires_at && moves_to_patient_or_stock && *u.expires_at <= now) {
      return stop(name(u) + ": the label says it expired at " + format_rfc3339(*u.expires_at) +
                  "; it must not be " + std::string(a.verb) + ".");
    }
    if (c_.action != StationAction::collect) {
      const std::string path = c_.action == StationAction::receive
                                   ? "/api/units/" + *u.din
                                   : "/api/units/" + *u.din + "/" + *u.product;
      auto r = http_.Get(path.c_str());
      if (!r) return unreachable(u, "nothing was recorded");
      if (refused(u, *r)) return;
      if (r->status == 404) {
        return stop(name(u) + ": hemoledger has no record of this " +
                    std::string(c_.action == StationAction::receive ? "donation" : "unit") +
                    "; it cannot be " + std::string(a.verb) + ".");
      }
      if (r->status != 200) return unreachable(u, "nothing was recorded");
      const json rec = json::parse(r->body, nullptr, false);
      if (rec.is_discarded()) return unreachable(u, "nothing was recorded");
      const std::string typed = rec.value("abo_rh", "unknown");
      if (u.group && typed != "unknown" && typed != to_string(*u.group)) {
        return stop(name(u) + ": the label says " + std::string(to_string(*u.group)) +
                    " but the unit is typed " + typed + ". Do not use it; report the discrepancy.");
      }
      if (c_.action != StationAction::receive && u.expires_at && rec.contains("unit")) {
        auto recorded = parse_rfc3339(rec["unit"].value("expires_at", ""));
        if (recorded && std::llabs(*recorded - *u.expires_at) > kDay) {
          return stop(name(u) + ": the label's expiry " + format_rfc3339(*u.expires_at) +
                      " does not match the record's " + format_rfc3339(*recorded) +
                      ". Do not use it; report the discrepancy.");
        }
      }
    }
    // 2 and 3. The engine's rules, then the real thing.
    Event e = make_event(u, now);
    const std::string body = encode_json(e);
    auto dry = http_.Post("/api/events?dry_run=1", body, "application/json");
    if (!dry) return unreachable(u, "nothing was recorded");
    if (refused(u, *dry)) return;
    if (dry->status != 200) {
      const json j = json::parse(dry->body, nullptr, false);
      if (dry->status == 422 || dry->status == 400) {
        return stop(name(u) + ": " + (j.is_discarded() ? dry->body : j.value("message", "")) +
                    " [" + (j.is_discarded() ? "" : j.value("code", "")) + "]");
      }
      return unreachable(u, "nothing was recorded");
    }
    // Accepted, but not to be done: a deferred donor is stopped before the needle.
    const json checked = json::parse(dry->body, nullptr, false);
    if (checked.is_object() && checked.contains("warnings") && checked["warnings"].is_array()) {
      for (const auto& w : checked["warnings"]) {
        if (w.is_object() && w.value("code", "") == "donor_deferred") {
          return stop(name(u) + ": " + w.value("message", "") + " [donor_deferred]");
        }
      }
    }
    auto r = http_.Post("/api/events", body, "application/json");
    if (!r) return unreachable(u, "it is unknown whether it was recorded; check event " + e.id);
    if (refused(u, *r)) return;
    const json j = json::parse(r->body, nullptr, false);
    const std::string message = j.is_discarded() ? r->body : j.value("message", "");
    if (r->status == 200) {
      return ok(name(u) + " " + std::string(a.verb) +
                (u.group ? " (" + std::string(to_string(*u.group)) + ")" : "") + ".");
    }
    if (r->status == 422 || r->status == 409) {
      return stop(name(u) + ": " + message + " [" + (j.is_discarded() ? "" : j.value("code", "")) +
                  "]");
    }
    if (r->status == 504) {
      return unconfirmed(name(u) +
                         ": Kafka has the event but the engine has not confirmed it "
                         "yet. Do not repeat the action; check event " +
                         e.id + ".");
    }
    return unconfirmed(name(u) + ": NOT RECORDED. " + message);
  }

  Event make_event(const Partial& u, TimeMs now) {
    Event e;
    e.id = "station-" + session_id_ + "-" + std::to_string(++counter_);
    e.type = info(c_.action).type;
    e.at = now;
    e.facility = c_.facility;
    e.actor = c_.actor;
    e.station = c_.station;
    e.din = *u.din;
    switch (c_.action) {
      case StationAction::collect:
        e.donor = u.donor.value_or("");
        if (u.group) e.abo_rh = *u.group;
        break;
      case StationAction::receive:
        e.product = *u.product;
        e.expires_at = *u.expires_at;
        break;
      case StationAction::reserve:
      case StationAction::issue:
        e.product = *u.product;
        e.patient_abo_rh = c_.patient;
        break;
      case StationAction::discard:
        e.product = *u.product;
        e.reason = c_.reason;
        break;
      case StationAction::dispatch:
        e.product = *u.product;
        e.to = c_.to;
        break;
      default:
        e.product = *u.product;
        break;
    }
    return e;
  }

  void ok(const std::string& what) {
    if (c_.terminal)
      out_ << "\033[1;97;42m  OK  \033[0m " << what << "\n";
    else
      out_ << "OK   " << what << "\n";
    out_.flush();
  }
  void stop(const std::string& why) {
    ++failures_;
    if (c_.terminal)
      out_ << "\a\033[1;97;41m STOP \033[0m \033[1;31m" << why << "\033[0m\n";
    else
      out_ << "STOP " << why << "\n";
    out_.flush();
  }
  void unconfirmed(const std::string& why) {
    ++failures_;
    if (c_.terminal)
      out_ << "\a\033[1;30;43m WAIT \033[0m " << why << "\n";
    else
      out_ << "UNCONFIRMED " << why << "\n";
    out_.flush();
  }
  void unreachable(const Partial& u, const std::string& consequence) {
    stop(name(u) + ": the engine at " + c_.api + " cannot be reached; " + consequence + ".");
  }
  // 401 or 403: the engine refused this station's token; STOP with its reason.
  bool refused(const Partial& u, const httplib::Response& r) {
    if (r.status != 401 && r.status != 403) return false;
    const json j = json::parse(r.body, nullptr, false);
    const std::string why =
        j.is_object() ? j.value("message", "") + " [" + j.value("code", "") + "]" : r.body;
    stop(name(u) + ": the engine refused this station (" +
         (r.status == 401 ? std::string("--token or HEMOLEDGER_TOKEN")
                          : std::string("not allowed")) +
         "): " + why + " Nothing was recorded.");
    return true;
  }
  void say_note(const std::string& what) { out_ << "     " << what << "\n"; }

  const StationConfig& c_;
  std::ostream& out_;
  httplib::Client http_;
  Partial unit_;
  std::string session_id_;
  int counter_ = 0;
  int failures_ = 0;
};

}  // namespace

Result<StationAction> parse_station_action(std::string_view name) {
  for (const auto& i : kActions) {
    if (i.name == name) return i.action;
  }
  return make_error("bad_action",
                    "Unknown action " + std::string(name) +
                        "; use collect, receive, release, reserve, issue, return, transfuse, "
                        "discard, dispatch or receive-transfer.");
}

Status validate(const StationConfig& c) {
  if (c.facility.empty()) return make_error("bad_station", "--facility is required.");
  if ((c.action == StationAction::reserve || c.action == StationAction::issue) &&
      c.patient == AboRh::unknown) {
    return make_error("bad_station",
                      "Reserving or issuing needs the patient's group: --patient-abo-rh.");
  }
  if (c.action == StationAction::dispatch && c.to.empty()) {
    return make_error("bad_station", "Dispatching needs the destination: --to.");
  }
  if (c.action == StationAction::discard && !is_discard_reason(c.reason)) {
    return make_error("bad_station", "Discarding needs --reason, one of: " +
                                         std::string(discard_reasons_text()) + ".");
  }
  return {};
}

int run_station(const StationConfig& config, std::istream& in, std::ostream& out) {
  Session s(config, out);
  std::string line;
  while (std::getline(in, line)) s.line(line);
  return s.failures();
}

}  // namespace hemoledger
