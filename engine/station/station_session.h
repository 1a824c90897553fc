// A scanning station's session: the rules of a technician's bench, whatever
// the bench is (a terminal, `hemoledger scan`; a browser, `/station`). It
// takes scans one at a time (keyboard-wedge scanners type the data and
// Enter), assembles a unit from its DIN, product, blood group and expiry
// labels (in any order, or from one compound 2-D scan), checks it, and only
// then records the action. Every scan gets one StationAnswer:
//
//   StationSession s(settings, backend, clock);
//   StationAnswer a = s.scan("=G12342610000100");   // incomplete: more labels wanted
//   ...
//   a = s.scan("&>0263242359");                     // ok, or stop with a code
//
// Nothing unsafe is ever sent:
//   1. the station's own label checks: the ISBT 128 decoder
//      (connectors/isbt128.h), one DIN per unit, the label's blood group
//      against the engine's typing, the label's expiry against the record and
//      the clock, special label codes (quarantine, discard, ...);
//   2. the engine's own rules, asked first as a dry run (status, holder,
//      expiry, quarantine, ABO/RhD compatibility with the patient), and its
//      warnings: for `collect`, a deferred donor is STOP with the reason
//      before the needle (donor_deferred);
//   3. the real event, reported OK only once the engine has committed it. If
//      Kafka or the engine cannot be reached the answer says so and never
//      reports success it does not have.
//
// Lines that are not scans: an empty line or "cancel" drops the unit being
// assembled; for `collect`, "donor:ID" gives the pseudonymous donor id.
//
// The engine is reached through a StationBackend: over HTTP for the terminal
// station, in process for the browser's. Threading: a session is used by one
// thread at a time; the backend must outlive it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/io/clock.h"
#include "engine/station/station_actions.h"
#include "events/blood_group.h"
#include "events/result.h"

namespace hemoledger {

// What the bench has set for its action (the table's needs).
struct StationSettings {
  std::string facility;  // where the bench is
  StationAction action = StationAction::issue;
  AboRh patient_group = AboRh::unknown;
  std::string patient;   // the patient's pseudonymous id (never a name)
  std::string to;        // destination facility
  std::string reason;    // a discard reason code; why (emergency release, RhD exception)
  std::string approver;  // the physician approving an emergency release or RhD exception
  // A transfusion reaction's codes (events/haemovigilance.h) and onset.
  ReactionCategory reaction = ReactionCategory::none;
  ReactionSeverity severity = ReactionSeverity::none;
  Imputability imputability = Imputability::none;
  TimeMs onset_at = 0;
  std::string actor, station;  // recorded with every event (without tokens)
};

// Checks the settings against the action's needs: code bad_station and a
// sentence naming what is missing.
[[nodiscard]] Status validate(const StationSettings& settings);

// An answer of the engine, as its HTTP API gives it: the status (200, 404,
// 422, ...; 0 when the engine could not be reached) and the JSON body.
struct BackendReply {
  int status = 0;
  nlohmann::json body;
};

// How a session reaches the engine. Each call answers as the HTTP endpoint
// named does, whatever the transport.
class StationBackend {
 public:
  virtual ~StationBackend() = default;
  // GET /api/units/{din}[/{product}] ("" product: the whole donation).
  virtual BackendReply unit(const std::string& din, const std::string& product) = 0;
  // POST /api/events?dry_run=1 with the event's JSON.
  virtual BackendReply check(const std::string& event_json) = 0;
  // POST /api/events: answers once the engine applied or rejected it.
  virtual BackendReply record(const std::string& event_json) = 0;
  // Where the engine is, for messages ("http://127.0.0.1:8080", "this engine").
  virtual std::string where() const = 0;
};

enum class AnswerKind {
  incomplete,   // the scan was read; the unit needs more labels
  cleared,      // the unit being assembled was dropped ("cancel", empty line)
  ok,           // the engine committed the action
  stop,         // refused: nothing was recorded
  unconfirmed,  // sent, but the engine has not confirmed it: do not repeat
};
std::string_view to_string(AnswerKind k);  // "incomplete", "ok", "stop", ...

struct StationAnswer {
  AnswerKind kind = AnswerKind::incomplete;
  // The machine-readable reason of a stop or unconfirmed answer: the
  // engine's rejection code (unit_issued, unit_quarantined, incompatible...)
  // or the station's own (docs/station.md).
  std::string code;
  std::string message;  // one English sentence (or more) for the technician
  // What the sentence is about, for a bench that words it in another
  // language: din, product, label_group, typed_group, label_expiry,
  // record_expiry, special, scan, verb, event_id, where.
  nlohmann::json details = nlohmann::json::object();
  std::vector<std::string> warnings;
};
// The answer as JSON: {"answer": "stop", "code", "message", "details", "warnings"}.
nlohmann::json to_json(const StationAnswer& a);

class StationSession {
 public:
  StationSession(StationSettings settings, StationBackend& backend, const Clock& clock);

  // One line from the scanner.
  StationAnswer scan(const std::string& line);
  // The scans of the unit being assembled (what a stateless bench sends back
  // before its next scan).
  const std::vector<std::string>& pending() const { return pending_; }
  const StationSettings& settings() const { return settings_; }

 private:
  struct Unit;
  [[nodiscard]] Result<Unit> assemble(const std::vector<std::string>& scans) const;
  bool complete(const Unit& u) const;
  StationAnswer act(const Unit& u);
  std::optional<StationAnswer> check_against_record(const Unit& u);
  std::optional<StationAnswer> check_bedside_group(const Unit& u, const nlohmann::json& rec);
  Event make_event(const Unit& u);
  StationAnswer stop(const Unit* u, std::string code, std::string message) const;
  StationAnswer unreachable(const Unit& u, const std::string& consequence) const;
  std::optional<StationAnswer> refused(const Unit& u, const BackendReply& r) const;

  StationSettings settings_;
  StationBackend& backend_;
  const Clock& clock_;
  std::vector<std::string> pending_;
  std::string session_id_;
  int counter_ = 0;
};

}  // namespace hemoledger
