#include "engine/labs/lab_messages.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "connectors/astm.h"
#include "connectors/fhir.h"
#include "connectors/hl7_lab.h"
#include "engine/security/permissions.h"

namespace hemoledger {

using nlohmann::json;

namespace {

std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string with_notes(std::string text, const std::vector<std::string>& notes) {
  for (const auto& n : notes) text += " " + n;
  return text;
}

// The position n of the OBX/BPX/BTX an HL7 event came from:
// hl7-<facility>-<MSH-10>-<n>[-c].
int segment_position(std::string id) {
  if (id.size() > 2 && id.compare(id.size() - 2, 2, "-c") == 0) id.resize(id.size() - 2);
  const auto dash = id.rfind('-');
  if (dash == std::string::npos) return 0;
  const std::string n = id.substr(dash + 1);
  if (n.empty() || n.size() > 5 || n.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoi(n);
}

std::string result_segment(const hl7::Message& m) {
  if (m.type() == "BPS") return "BPX";
  if (m.type() == "BTS") return "BTX";
  return "OBX";
}

json outcomes_json(const std::vector<LabEventOutcome>& list) {
  json a = json::array();
  for (const auto& o : list) a.push_back(outcome_json(o));
  return a;
}

// Whether the first failure of a recording that was not accepted is the
// engine's verdict (else an outage: nothing is known to be recorded).
bool engine_refused(const LabRecording& rec) {
  return rec.events[*rec.first_failure].status == LabEventStatus::rejected;
}

LabOutcome outcome_of(const LabRecording& rec) {
  if (rec.accepted) return LabOutcome::accepted;
  return engine_refused(rec) ? LabOutcome::error : LabOutcome::rejected;
}

std::string failure_code(const LabRecording& rec) {
  if (rec.accepted) return {};
  if (engine_refused(rec)) return rec.events[*rec.first_failure].code;
  return std::string(to_string(LabEventStatus::not_recorded));
}

// Applies the sender's binding to a message's events: each must be the bound
// lab's, and each records the actor. An Error (wrong_lab) when one is not.
std::optional<Error> bind_to_sender(std::vector<Event>& events, const LabSender& sender,
                                    const std::string& actor) {
  for (auto& e : events) {
    if (!sender.facility.empty() && e.facility != sender.facility) {
      return make_error(kWrongLab, "This link speaks for " + sender.facility + " only, but " +
                                       e.id + " is a result of " +
                                       (e.facility.empty() ? "no facility" : e.facility) +
                                       "; nothing was recorded.");
    }
    if (!actor.empty()) e.actor = actor;
  }
  return std::nullopt;
}

int http_status_of(const LabAnswer& a, int otherwise) {
  if (a.code == kWrongLab) return 403;
  return otherwise;
}

}  // namespace

LabReply deliver_hl7(LabGateway& gw, std::string_view text, TimeMs received_at,
                     const std::string& ack_control_id, const LabSender& sender) {
  auto parsed = hl7::parse(text);
  InboundKey key{"mllp", "", ""};
  std::string actor = sender.actor;
  if (parsed) {
    key.sender = parsed->msh().value(3, 1) + "^" + parsed->msh().value(4, 1);
    key.control_id = parsed->control_id();
    if (actor.empty())
      actor = "mllp:" + parsed->msh().value(3, 1) + "@" + parsed->msh().value(4, 1);
  }
  auto handle = [&]() -> LabAnswer {
    LabAnswer a;
    if (!parsed) {
      const MappingResult r = map_hl7_text(text, gw.mapping(), received_at);
      hl7::Ack ack{hl7::AckCode::reject, r.summary(), ack_control_id, received_at, r.error};
      a.answer = hl7::build_reject(ack);
      a.outcome = LabOutcome::rejected;
      a.code = r.error_code.empty() ? parsed.error().code : r.error_code;
      a.message = r.summary();
      return a;
    }
    const MappingResult r = map_hl7(*parsed, gw.mapping(), received_at);
    if (!r.ok()) {
      a.answer = hl7_ack(*parsed, r, ack_control_id, received_at);
      a.outcome = r.code == hl7::AckCode::reject ? LabOutcome::rejected : LabOutcome::error;
      a.code = r.error_code;
      a.message = r.summary();
      return a;
    }
    std::vector<Event> events = r.events;
    if (auto wrong = bind_to_sender(events, sender, actor)) {
      spdlog::warn("mllp: message {} from {} refused: {}", key.control_id, key.sender,
                   wrong->message);
      hl7::Ack ack{hl7::AckCode::reject, wrong->message, ack_control_id, received_at,
                   hl7::AckError{hl7::err::kApplicationInternalError, "", 0, 0, wrong->message}};
      a.answer = hl7::build_ack(*parsed, ack);
      a.outcome = LabOutcome::rejected;
      a.code = wrong->code;
      a.message = wrong->message;
      return a;
    }
    a.recording = gw.record(events);
    const LabRecording& rec = a.recording;
    hl7::Ack ack;
    ack.control_id = ack_control_id;
    ack.at = received_at;
    a.outcome = outcome_of(rec);
    if (rec.accepted) {
      ack.code = hl7::AckCode::accept;
      ack.text = with_notes(rec.summary(), r.notes);
    } else {
      const auto& f = rec.events[*rec.first_failure];
      ack.code = engine_refused(rec) ? hl7::AckCode::error : hl7::AckCode::reject;
      ack.text = rec.summary();
      if (!engine_refused(rec)) ack.text += " Nothing is known to be recorded: send it again.";
      ack.error = hl7::AckError{hl7::err::kApplicationInternalError, result_segment(*parsed),
                                segment_position(f.event_id), 0, ack.text};
      a.code = failure_code(rec);
      a.message = ack.text;
    }
    a.answer = hl7::build_ack(*parsed, ack);
    return a;
  };
  auto d = gw.deliver(key, text, received_at, handle);
  if (!d) {
    spdlog::error("lab gateway: {}", d.error().message);
    hl7::Ack ack{hl7::AckCode::reject,
                 "The message could not be stored (" + d.error().message + "); send it again.",
                 ack_control_id, received_at,
                 hl7::AckError{hl7::err::kApplicationInternalError, "", 0, 0, d.error().message}};
    return {parsed ? hl7::build_ack(*parsed, ack) : hl7::build_reject(ack), LabOutcome::rejected,
            false, 503};
  }
  return {d->answer.answer, d->answer.outcome, d->replayed,
          http_status_of(d->answer, d->answer.outcome == LabOutcome::accepted ? 200 : 422)};
}

LabReply deliver_astm(LabGateway& gw, std::string_view text, TimeMs received_at,
                      const std::string& channel, const LabSender& sender) {
  auto parsed = astm::parse(text);
  InboundKey key{channel, "", ""};
  std::string actor = sender.actor;
  if (parsed && !parsed->records.empty()) {
    key.sender = parsed->records.front().value(5, 1);
    key.control_id = parsed->records.front().value(3);
    if (actor.empty() && channel == "astm") actor = "astm:" + key.sender;
  }
  auto handle = [&]() -> LabAnswer {
    LabAnswer a;
    json body;
    if (!parsed) {
      a.outcome = LabOutcome::rejected;
      a.code = parsed.error().code;
      a.message = parsed.error().message;
      body = {{"outcome", to_string(a.outcome)},
              {"code", a.code},
              {"message", a.message},
              {"results", json::array()}};
      a.answer = dump(body);
      return a;
    }
    const MappingResult r = astm::map_results(*parsed, gw.mapping(), received_at);
    if (!r.ok()) {
      a.outcome = LabOutcome::error;
      a.code = r.error_code;
      a.message = r.summary();
      body = {{"outcome", to_string(a.outcome)},
              {"code", a.code},
              {"message", a.message},
              {"results", json::array()}};
      if (r.error) {
        body["record"] = r.error->segment;
        body["sequence"] = r.error->sequence;
        body["field"] = r.error->field;
      }
      a.answer = dump(body);
      return a;
    }
    std::vector<Event> events = r.events;
    if (auto wrong = bind_to_sender(events, sender, actor)) {
      spdlog::warn("{}: message from {} refused: {}", channel, key.sender, wrong->message);
      a.outcome = LabOutcome::rejected;
      a.code = wrong->code;
      a.message = wrong->message;
      a.answer = dump({{"outcome", to_string(a.outcome)},
                       {"code", a.code},
                       {"message", a.message},
                       {"results", json::array()}});
      return a;
    }
    a.recording = gw.record(events);
    a.outcome = outcome_of(a.recording);
    a.code = failure_code(a.recording);
    a.message =
        a.recording.accepted ? with_notes(a.recording.summary(), r.notes) : a.recording.summary();
    body = {{"outcome", to_string(a.outcome)},
            {"message", a.message},
            {"results", outcomes_json(a.recording.events)},
            {"releases", outcomes_json(a.recording.releases)},
            {"notes", r.notes}};
    if (!a.code.empty()) body["code"] = a.code;
    a.answer = dump(body);
    return a;
  };
  auto d = gw.deliver(key, text, received_at, handle);
  if (!d) {
    return {dump({{"outcome", to_string(LabOutcome::rejected)},
                  {"code", d.error().code},
                  {"message", d.error().message}}),
            LabOutcome::rejected, false, 503};
  }
  const LabOutcome o = d->answer.outcome;
  int status = 422;
  if (o == LabOutcome::accepted) status = 200;
  if (o == LabOutcome::rejected) status = parsed ? 503 : 400;
  return {d->answer.answer, o, d->replayed, http_status_of(d->answer, status)};
}

LabReply deliver_fhir(LabGateway& gw, std::string_view body, TimeMs received_at,
                      const LabSender& sender) {
  // The sender is the facility the mapping gives FHIR input; the control id
  // the resource's own id (with its version), when the body is JSON at all.
  InboundKey key{"fhir", gw.mapping().fhir().facility, ""};
  const json in = json::parse(body, nullptr, false);
  if (in.is_object()) {
    if (in.contains("id") && in["id"].is_string()) key.control_id = in["id"].get<std::string>();
    if (in.contains("meta") && in["meta"].is_object() && in["meta"].contains("versionId") &&
        in["meta"]["versionId"].is_string()) {
      key.control_id += "/" + in["meta"]["versionId"].get<std::string>();
    }
  }
  auto issue = [](const std::string& severity, const std::string& code, const std::string& text) {
    return json{{"severity", severity}, {"code", code}, {"diagnostics", text}};
  };
  auto handle = [&]() -> LabAnswer {
    LabAnswer a;
    json oo = {{"resourceType", "OperationOutcome"}, {"issue", json::array()}};
    const MappingResult r = fhir::map_observations(body, gw.mapping(), received_at);
    if (!r.ok()) {
      a.outcome = LabOutcome::error;
      a.code = r.error_code;
      a.message = r.summary();
      const bool not_json = r.error_code == fhir::kInvalidJson;
      json i = issue("error", not_json ? "structure" : "invalid", a.message);
      i["details"] = {
          {"coding", json::array({{{"system", "urn:hemoledger:error"}, {"code", r.error_code}}})}};
      oo["issue"].push_back(i);
      a.answer = dump(oo);
      return a;
    }
    std::vector<Event> events = r.events;
    if (auto wrong = bind_to_sender(events, sender, sender.actor)) {
      spdlog::warn("fhir: message from {} refused: {}", sender.actor, wrong->message);
      a.outcome = LabOutcome::rejected;
      a.code = wrong->code;
      a.message = wrong->message;
      json i = issue("error", "forbidden", a.message);
      i["details"] = {
          {"coding", json::array({{{"system", "urn:hemoledger:error"}, {"code", a.code}}})}};
      oo["issue"].push_back(i);
      a.answer = dump(oo);
      return a;
    }
    a.recording = gw.record(events);
    const LabRecording& rec = a.recording;
    a.outcome = outcome_of(rec);
    a.code = failure_code(rec);
    if (rec.accepted) {
      a.message = with_notes(rec.summary(), r.notes);
      oo["issue"].push_back(issue("information", "informational", a.message));
    } else {
      a.message = rec.summary();
      json i = issue("error", engine_refused(rec) ? "processing" : "transient", a.message);
      i["details"] = {
          {"coding", json::array({{{"system", "urn:hemoledger:error"}, {"code", a.code}}})}};
      oo["issue"].push_back(i);
    }
    oo["extension"] = json::array({{{"url", "urn:hemoledger:event-outcome"},
                                    {"valueString", outcomes_json(rec.events).dump()}}});
    a.answer = dump(oo);
    return a;
  };
  auto d = gw.deliver(key, body, received_at, handle);
  if (!d) {
    json oo = {{"resourceType", "OperationOutcome"},
               {"issue", json::array({issue("error", "transient", d.error().message)})}};
    return {dump(oo), LabOutcome::rejected, false, 503};
  }
  const LabOutcome o = d->answer.outcome;
  int status = 422;
  if (o == LabOutcome::accepted) status = 200;
  if (o == LabOutcome::rejected) status = 503;
  return {d->answer.answer, o, d->replayed, http_status_of(d->answer, status)};
}

}  // namespace hemoledger
