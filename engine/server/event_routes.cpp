// The events area: recording an event and asking what became of one.
//
//   POST /api/events             JSON event -> Kafka; answers once applied or rejected
//                                (?dry_run=1: checks against the current state, records nothing)
//   GET  /api/events/{id}        applied, or rejected with its reason
//   POST /api/fhir/AdverseEvent  FHIR R4/R5 AdverseEvent -> a TransfusionReaction, recorded like
//                                POST /api/events; answered with an OperationOutcome
//
// A POST answers 200 applied, 409 duplicate, 422 rejected (or not_allowed, or
// would_be_rejected), 400 invalid, 403 forbidden, 413 too_large, 503
// not_recorded when Kafka cannot be reached and 504 pending when the engine
// has not applied it within ApiContext::apply_timeout_ms (docs/api.md).
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include "connectors/fhir_adverse_event.h"
#include "engine/kafka/kafka.h"
#include "engine/labs/lab_gateway.h"
#include "engine/queries/queries.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"
#include "engine/server/scale_out_routing.h"
#include "events/json_codec.h"
#include "projections/projector.h"

namespace hemoledger {

using nlohmann::json;

namespace {

std::string new_event_id() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t seed = std::random_device{}();
  std::ostringstream s;
  s << "api-" << std::hex << seed << "-" << ++counter;
  return s.str();
}

// The event of a POST body, with an id when the station left it to us;
// nullopt when the request was answered (413, 400 or 422 not_allowed).
std::optional<Event> posted_event(const httplib::Request& req, httplib::Response& res) {
  if (req.body.size() > kMaxJsonBytes) {
    send_error(res, 413, make_error("too_large", "The event is larger than 64 KiB."));
    return std::nullopt;
  }
  // A station may leave the id to us; everything else must be in the body.
  std::string body = req.body;
  json j = json::parse(body, nullptr, false);
  if (j.is_object() && !j.contains("id")) {
    j["id"] = new_event_id();
    body = j.dump();
  }
  auto e = decode_json(body);
  if (!e) {
    send_json(res, 400,
              {{"outcome", "invalid"}, {"code", e.error().code}, {"message", e.error().message}});
    return std::nullopt;
  }
  if (e->type == EventType::clock_ticked) {
    send_json(res, 422,
              {{"outcome", "rejected"},
               {"code", "not_allowed"},
               {"message", "Only the engine records the passing of time."}});
    return std::nullopt;
  }
  return std::move(*e);
}

// Who may write it, and the audit trail: the token's name becomes the actor
// (and the station, when the event names none). False when answered 403.
bool authorize(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
               Event& e) {
  const auto who = request_principal(ctx, req);
  if (!who) return true;
  if (auto allowed = may_write(*who, e); !allowed) {
    spdlog::warn("api: event {} ({} at {}) refused for token {}: {}", e.id, to_string(e.type),
                 e.facility, who->name, allowed.error().message);
    record_refusal(ctx, req, who->name, 403, allowed.error());
    send_json(res, 403,
              {{"outcome", "forbidden"},
               {"id", e.id},
               {"code", allowed.error().code},
               {"message", allowed.error().message}});
    return false;
  }
  e.actor = who->name;
  if (e.station.empty()) e.station = who->name;
  return true;
}

// A projector's warning ("code: sentence", projections/projector.h) as the
// API answers every warning: {"code", "message"}.
json warning_json(const std::string& w) {
  const auto colon = w.find(": ");
  if (colon == std::string::npos) return {{"code", "warning"}, {"message", w}};
  return {{"code", w.substr(0, colon)}, {"message", w.substr(colon + 2)}};
}

// What a station must hear before it acts although the event would be
// accepted: a collection from a deferred donor (donor_deferred; the blood
// would be quarantined for good). [{"code", "message"}], empty when none.
Result<json> dry_run_warnings(const ApiContext& ctx, const Event& e) {
  json out = json::array();
  if (e.type != EventType::donation_collected) return out;
  auto donor = ctx.engine->store().donor_everywhere(e.donor);
  if (!donor) return donor.error();
  const DonorStatus s = donor_status(ctx.engine->reference(), *donor, e.at, e.din);
  if (s.deferred) {
    out.push_back({{"code", "donor_deferred"},
                   {"reason", s.reason},
                   {"message", "Donor " + e.donor + " is " + describe(s) +
                                   ": do not collect. Blood collected anyway is quarantined "
                                   "for good."}});
  }
  return out;
}

// Checks the event against the current state with the engine's own rules and
// records nothing: a station asks before it acts.
void answer_dry_run(const ApiContext& ctx, const Event& e, httplib::Response& res) {
  Status checked;
  std::vector<std::string> warnings;
  if (is_reagent_event(e.type)) {
    auto lot = ctx.engine->store().reagent_lot_anywhere(reagent_lot_key(e.reagent, e.lot));
    if (!lot) return send_error(res, 500, lot.error());
    auto r = apply_reagent_event(ctx.engine->reference(), lot->has_value() ? &**lot : nullptr, e);
    if (!r) checked = r.error();
  } else if (is_donor_event(e.type)) {
    DonorRecord share;
    if (auto s = apply_donor_event(ctx.engine->reference(), share, e); !s) checked = s;
  } else {
    auto d = find_donation(ctx.engine->store(), e.din);
    if (!d) return send_error(res, 500, d.error());
    auto r = apply_event(ctx.engine->reference(), ctx.engine->rules(),
                         d->has_value() ? &**d : nullptr, e);
    if (!r)
      checked = r.error();
    else
      warnings = r->warnings;
  }
  if (!checked) {
    return send_json(res, 422,
                     {{"outcome", "would_be_rejected"},
                      {"id", e.id},
                      {"code", checked.error().code},
                      {"message", checked.error().message}});
  }
  json answer = {{"outcome", "would_be_applied"}, {"id", e.id}};
  auto found = dry_run_warnings(ctx, e);
  if (!found) return send_error(res, 500, found.error());
  for (const auto& w : warnings) found->push_back(warning_json(w));
  if (!found->empty()) answer["warnings"] = *found;
  send_json(res, 200, answer);
}

// The engine's verdict on the event at partition/offset, once it committed it.
void answer_verdict(const ApiContext& ctx, const std::string& id, std::int32_t partition,
                    std::int64_t offset, httplib::Response& res) {
  auto v = ctx.engine->verdict(partition, offset);
  if (!v) return send_error(res, 500, v.error());
  if (!v->has_value()) {
    return send_error(res, 500, make_error("storage_error", "The engine's verdict is missing."));
  }
  const Verdict& verdict = **v;
  if (verdict.status == VerdictStatus::applied) {
    json applied = {
        {"outcome", "applied"}, {"id", id}, {"partition", partition}, {"offset", offset}};
    // Accepted with a warning (the projector's): the outcome stored with the event says so.
    auto outcome = event_outcome_json(ctx.engine->store(), id);
    if (outcome && outcome->is_object() && outcome->contains("warnings")) {
      json& w = applied["warnings"] = json::array();
      for (const auto& text : (*outcome)["warnings"]) {
        if (text.is_string()) w.push_back(warning_json(text.get<std::string>()));
      }
    }
    return send_json(res, 200, applied);
  }
  const bool dup = verdict.status == VerdictStatus::duplicate;
  send_json(res, dup ? 409 : 422,
            {{"outcome", dup ? "duplicate" : "rejected"},
             {"id", id},
             {"code", verdict.code},
             {"message", verdict.message},
             {"partition", partition},
             {"offset", offset}});
}

// Produces the event to Kafka, waits for the engine to apply it, and answers
// with its verdict.
void record_and_answer(const ApiContext& ctx, const Event& e, httplib::Response& res) {
  const std::string canonical = encode_json(e);
  auto delivered = ctx.producer->produce_sync(ctx.events_topic, event_key(e), canonical, 10000);
  if (!delivered) {
    return send_json(res, 503,
                     {{"outcome", "not_recorded"},
                      {"id", e.id},
                      {"code", delivered.error().code},
                      {"message", "Kafka could not be reached: " + delivered.error().message}});
  }
  const auto [partition, offset] = *delivered;
  if (!ctx.engine->wait_processed(partition, offset, ctx.apply_timeout_ms)) {
    return send_json(res, 504,
                     {{"outcome", "pending"},
                      {"id", e.id},
                      {"partition", partition},
                      {"offset", offset},
                      {"message",
                       "Kafka has the event but the engine has not applied "
                       "it yet; ask GET /api/events/" +
                           e.id + " later."}});
  }
  answer_verdict(ctx, e.id, partition, offset, res);
}

}  // namespace

void post_event(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto e = posted_event(req, res);
  if (!e) return;
  if (!authorize(ctx, req, res, *e)) return;
  // The owner of the event's partition checks and waits for it.
  if (answered_elsewhere(ctx, event_key(*e), req, res)) return;
  if (req.has_param("dry_run") && req.get_param_value("dry_run") != "0") {
    return answer_dry_run(ctx, *e, res);
  }
  record_and_answer(ctx, *e, res);
}

namespace {

void get_event(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto j = event_outcome_json(ctx.engine->store(), std::string(req.matches[1]));
  if (!j) return send_error(res, 500, j.error());
  if (j->is_null()) {
    return send_error(res, 404, make_error("not_found", "No event with this id has been seen."));
  }
  send_json(res, 200, *j);
}

// Our JSON answer (status, body) as a FHIR OperationOutcome.
void send_as_outcome(httplib::Response& res, int status, const json& answer) {
  const bool ok = status == 200;
  json issue = {{"severity", ok ? "information" : "error"},
                {"code", ok              ? "informational"
                         : status == 403 ? "forbidden"
                                         : "processing"},
                {"diagnostics", answer.value("message", ok ? "The reaction was recorded." : "")}};
  if (answer.contains("code")) {
    issue["details"] = {
        {"coding", json::array({{{"system", "urn:hemoledger:error"}, {"code", answer["code"]}}})}};
  }
  json oo = {{"resourceType", "OperationOutcome"}, {"issue", json::array({issue})}};
  if (answer.contains("id")) oo["id"] = answer["id"];
  res.status = status;
  res.set_content(oo.dump(2) + "\n", "application/fhir+json; charset=utf-8");
}

// A transfusion reaction as a FHIR AdverseEvent (connectors/fhir_adverse_event.h),
// recorded with the same authorization and answer as POST /api/events.
void post_adverse_event(const ApiContext& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  if (!ctx.lab) {
    return send_as_outcome(res, 503, {{"message", "This server has no lab mapping for FHIR."}});
  }
  const MappingResult m =
      fhir::map_adverse_event(req.body, ctx.lab->mapping(), ctx.engine->clock().now());
  if (!m.ok()) {
    return send_as_outcome(res, 422, {{"code", m.error_code}, {"message", m.summary()}});
  }
  Event e = m.events.front();
  httplib::Response inner;
  if (!authorize(ctx, req, inner, e)) {
    return send_as_outcome(res, inner.status, json::parse(inner.body, nullptr, false));
  }
  if (answered_elsewhere(ctx, event_key(e), req, res)) return;
  record_and_answer(ctx, e, inner);
  const json answer = json::parse(inner.body, nullptr, false);
  send_as_outcome(res, inner.status, answer.is_object() ? answer : json::object());
}

}  // namespace

void add_event_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Get(R"(/api/events/(.+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_event(ctx, req, res);
  });
  svr.Post("/api/events", [&ctx](const httplib::Request& req, httplib::Response& res) {
    post_event(ctx, req, res);
  });
  svr.Post("/api/fhir/AdverseEvent", [&ctx](const httplib::Request& req, httplib::Response& res) {
    post_adverse_event(ctx, req, res);
  });
}

}  // namespace hemoledger
