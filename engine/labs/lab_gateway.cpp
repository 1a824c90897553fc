#include "engine/labs/lab_gateway.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "connectors/astm.h"
#include "connectors/hl7.h"
#include "engine/queries/peers.h"
#include "engine/queries/queries.h"
#include "events/json_codec.h"
#include "projections/entry_digest.h"
#include "projections/projector.h"

namespace hemoledger {

using nlohmann::json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The raw bytes' FNV-1a hash in 16 hex digits (docs/storage.md, m/ keys).
std::string digest(std::string_view bytes) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(bytes)));
  return buf;
}

// '|' separates the parts of an m/ id; a sender or control id carrying one is
// written with '_' instead (the digest still tells messages apart).
std::string id_part(std::string_view s) {
  std::string out(s.substr(0, 64));
  std::replace(out.begin(), out.end(), '|', '_');
  return out;
}

std::string plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string_view to_string(LabEventStatus s) {
  switch (s) {
    case LabEventStatus::applied:
      return "applied";
    case LabEventStatus::already_recorded:
      return "already_recorded";
    case LabEventStatus::rejected:
      return "rejected";
    case LabEventStatus::not_recorded:
      return "not_recorded";
  }
  return "not_recorded";  // unreachable: every enumerator is handled above
}

std::string_view to_string(LabOutcome o) {
  switch (o) {
    case LabOutcome::accepted:
      return "accepted";
    case LabOutcome::error:
      return "error";
    case LabOutcome::rejected:
      return "rejected";
  }
  return "rejected";  // unreachable: every enumerator is handled above
}

json outcome_json(const LabEventOutcome& o) {
  json j = {{"event_id", o.event_id}, {"din", o.din}, {"status", to_string(o.status)}};
  if (!o.product.empty()) j["product"] = o.product;
  if (!o.code.empty()) j["code"] = o.code;
  if (!o.message.empty()) j["message"] = o.message;
  return j;
}

int LabRecording::count(LabEventStatus status) const {
  return static_cast<int>(std::count_if(events.begin(), events.end(),
                                        [&](const auto& o) { return o.status == status; }));
}

std::string LabRecording::summary() const {
  if (first_failure) {
    const auto& f = events[*first_failure];
    if (f.status == LabEventStatus::rejected) {
      return "Event " + f.event_id + " (DIN " + f.din + ") was rejected by the engine (" + f.code +
             "): " + f.message;
    }
    return "Event " + f.event_id + " (DIN " + f.din + ") is not known to be recorded: " + f.message;
  }
  const int already = count(LabEventStatus::already_recorded);
  std::string s = plural(static_cast<int>(events.size()), "event", "events") + " recorded";
  if (already > 0) s += " (" + std::to_string(already) + " already)";
  int released = 0;
  for (const auto& r : releases) released += r.status == LabEventStatus::applied ? 1 : 0;
  if (released > 0) s += ", " + plural(released, "unit", "units") + " released";
  s += ".";
  return s;
}

LabGateway::LabGateway(Engine& engine, Producer& producer, std::string events_topic,
                       LabMapping mapping, LabGatewayOptions options)
    : engine_(engine),
      producer_(producer),
      topic_(std::move(events_topic)),
      mapping_(std::move(mapping)),
      options_(options) {}

namespace {

// The raw message as kept under m/: without patient or donor names, addresses
// and phones (docs/security.md). The digest of the id and the answer are the
// original's.
std::string stored_copy(const std::string& channel, std::string_view raw) {
  if (channel == "mllp") return hl7::redact_identity(raw);
  if (channel == "astm" || channel == "astm-http") return astm::redact_identity(raw);
  return std::string(raw);
}

}  // namespace

std::string LabGateway::inbound_id(const InboundKey& key, std::string_view raw) {
  return id_part(key.channel) + "|" + id_part(key.sender) + "|" + id_part(key.control_id) + "|" +
         digest(raw);
}

std::vector<LabEventOutcome> LabGateway::produce_all(const std::vector<Event>& events) {
  std::vector<LabEventOutcome> out(events.size());
  std::vector<std::optional<Delivery>> delivered(events.size());
  // Produce everything first (each acknowledged by the brokers), then wait:
  // the engine applies them in one or a few batches.
  for (std::size_t i = 0; i < events.size(); ++i) {
    out[i].event_id = events[i].id;
    out[i].din = events[i].din;
    out[i].product = events[i].product;
    auto d = producer_.produce_sync(topic_, event_key(events[i]), encode_json(events[i]),
                                    options_.produce_timeout_ms);
    if (!d) {
      out[i].status = LabEventStatus::not_recorded;
      out[i].code = d.error().code;
      out[i].message = "Kafka did not acknowledge it: " + d.error().message;
      continue;
    }
    delivered[i] = *d;
  }
  // One deadline for the whole message, so that an engine that has stopped
  // costs the sender apply_timeout_ms once, not once per event.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.apply_timeout_ms);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!delivered[i]) continue;
    const auto [partition, offset] = *delivered[i];
    // Scale-out: the owner of the event's partition may be another instance.
    auto v = await_verdict(engine_, options_.peer_token, partition, offset, deadline);
    if (!v) {
      out[i].status = LabEventStatus::not_recorded;
      out[i].code = v.error().code;
      out[i].message = v.error().message;
      continue;
    }
    if (!v->has_value()) {
      out[i].status = LabEventStatus::not_recorded;
      out[i].code = "apply_timeout";
      out[i].message = "Kafka has it but the engine has not applied it yet.";
      continue;
    }
    const Verdict& verdict = **v;
    if (verdict.status == VerdictStatus::applied) {
      out[i].status = LabEventStatus::applied;
    } else if (verdict.status == VerdictStatus::duplicate) {
      out[i].status = LabEventStatus::already_recorded;
    } else {
      out[i].status = LabEventStatus::rejected;
      out[i].code = verdict.code;
      out[i].message = verdict.message;
    }
  }
  return out;
}

std::vector<Event> LabGateway::releases_for(const std::vector<Event>& events,
                                            const std::vector<LabEventOutcome>& outcomes) {
  std::vector<Event> out;
  std::set<std::string> dins;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].type == EventType::test_resulted && outcomes[i].ok()) dins.insert(events[i].din);
  }
  const ReferenceData& ref = engine_.reference();
  for (const auto& din : dins) {
    auto found = donation_anywhere(engine_, options_.peer_token, din);  // scale-out: its owner's
    if (!found) {
      spdlog::warn("lab: release policy skipped for {}: {}", din, found.error().message);
      continue;
    }
    if (!found->has_value()) continue;
    const Donation& d = **found;
    if (d.tti_positive || !missing_for_release(ref, d).empty()) continue;
    TimeMs tested = 0;
    for (const auto& t : d.tests) tested = std::max(tested, t.at);
    for (const auto& u : d.units) {
      if (u.status != UnitStatus::quarantined || u.tti_blocked) continue;
      const Facility* holder = ref.facility(u.holder);
      if (!holder || holder->kind != FacilityKind::blood_bank) continue;
      const Recall* recall = d.recall(u.product);
      if (recall && recall->open) continue;
      const bool held_by_hand = std::any_of(d.history.begin(), d.history.end(), [&](const auto& h) {
        return h.type == EventType::unit_quarantined && h.product == u.product;
      });
      if (held_by_hand) continue;
      Event e;
      e.id = "autorelease-" + din + "-" + u.product;
      e.type = EventType::unit_released;
      e.at = std::max(tested, u.produced_at);
      e.facility = u.holder;
      e.actor = "lab-gateway";
      e.din = din;
      e.product = u.product;
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::vector<Event> LabGateway::reagent_uses_for(const std::vector<Event>& events,
                                                const std::vector<LabEventOutcome>& outcomes,
                                                std::vector<std::string>& shortfalls) {
  std::vector<Event> out;
  std::optional<std::vector<ReagentLot>> lots;                        // read once, on first need
  std::map<std::pair<std::string, std::string>, std::int64_t> taken;  // (lab, lot key) this message
  for (std::size_t i = 0; i < events.size() && i < outcomes.size(); ++i) {
    const Event& r = events[i];
    if (r.type != EventType::test_resulted || !outcomes[i].ok()) continue;
    const ReagentUse* use = mapping_.reagent_for(r.test);
    if (!use) continue;
    if (!lots) {
      auto l = engine_.store().reagent_lots();
      if (!l) {
        shortfalls.push_back(r.id + ": reagent stock cannot be read: " + l.error().message);
        return out;
      }
      lots = std::move(*l);
    }
    const ReagentLot* best = nullptr;
    for (const auto& lot : *lots) {
      if (lot.reagent != use->reagent || lot.expired || lot.expires_at <= r.at) continue;
      auto held = lot.on_hand.find(r.facility);
      const auto key = std::make_pair(r.facility, reagent_lot_key(lot.reagent, lot.lot));
      if (held == lot.on_hand.end() || held->second - taken[key] < use->tests_per_result) continue;
      if (!best || std::tie(lot.expires_at, lot.lot) < std::tie(best->expires_at, best->lot)) {
        best = &lot;
      }
    }
    if (!best) {
      shortfalls.push_back(r.facility + " has no in-date lot of " + use->reagent + " for " + r.id +
                           " (" + r.din + " " + r.test + ")");
      continue;
    }
    taken[{r.facility, reagent_lot_key(best->reagent, best->lot)}] += use->tests_per_result;
    Event e;
    e.id = r.id + "-reagent";
    e.type = EventType::reagent_consumed;
    e.at = r.at;
    e.facility = r.facility;
    e.actor = r.actor;
    e.station = r.station;
    e.reagent = best->reagent;
    e.lot = best->lot;
    e.quantity = use->tests_per_result;
    e.din = r.din;
    e.test = r.test;
    out.push_back(std::move(e));
  }
  return out;
}

LabRecording LabGateway::record(const std::vector<Event>& events) {
  LabRecording rec;
  rec.events = produce_all(events);
  for (std::size_t i = 0; i < rec.events.size(); ++i) {
    if (!rec.events[i].ok()) {
      rec.accepted = false;
      // An outage outranks a rejection: the sender must resend either way,
      // but "not recorded" must not read like the engine's verdict.
      const auto outage = LabEventStatus::not_recorded;
      if (!rec.first_failure ||
          (rec.events[i].status == outage && rec.events[*rec.first_failure].status != outage)) {
        rec.first_failure = i;
      }
    }
  }
  const auto uses = reagent_uses_for(events, rec.events, rec.reagent_shortfalls);
  if (!uses.empty()) rec.reagents = produce_all(uses);
  for (const auto& r : rec.reagents) {
    if (!r.ok()) spdlog::warn("reagents: {} not applied: {} {}", r.event_id, r.code, r.message);
  }
  for (const auto& s : rec.reagent_shortfalls) spdlog::warn("reagents: {}", s);
  if (mapping_.release_when_complete()) {
    const auto releases = releases_for(events, rec.events);
    if (!releases.empty()) rec.releases = produce_all(releases);
    for (const auto& r : rec.releases) {
      if (!r.ok()) {
        spdlog::warn("release policy: {} of {} {} not applied: {} {}", r.event_id, r.din, r.product,
                     r.code, r.message);
      }
    }
  }
  return rec;
}

Result<LabGateway::Delivered> LabGateway::deliver(const InboundKey& key, std::string_view raw,
                                                  TimeMs received_at,
                                                  const std::function<LabAnswer()>& handle) {
  std::lock_guard lock(mu_);
  const std::string id = inbound_id(key, raw);
  Store& store = engine_.store();
  auto prior = store.inbound(id);
  if (!prior) return prior.error();
  json record = json::object();
  if (prior->has_value()) {
    record = json::parse(**prior, nullptr, false);
    if (!record.is_object()) record = json::object();
  }
  const int attempts = record.value("attempts", 0) + 1;
  if (record.value("outcome", "") == to_string(LabOutcome::accepted)) {
    Delivered d;
    d.replayed = true;
    d.answer.answer = record.value("answer", "");
    d.answer.outcome = LabOutcome::accepted;
    record["attempts"] = attempts;
    record["last_received_at"] = format_rfc3339(received_at);
    Store::Batch b;
    b.put_inbound(id, dump(record));
    if (auto s = store.commit(b); !s) return s.error();
    return d;
  }
  Delivered d;
  d.answer = handle();
  json events = json::array(), releases = json::array();
  for (const auto& o : d.answer.recording.events) events.push_back(outcome_json(o));
  for (const auto& o : d.answer.recording.releases) releases.push_back(outcome_json(o));
  json reagents = json::array();
  for (const auto& o : d.answer.recording.reagents) reagents.push_back(outcome_json(o));
  record = {{"channel", key.channel},
            {"sender", key.sender},
            {"control_id", key.control_id},
            {"received_at", format_rfc3339(received_at)},
            {"raw", stored_copy(key.channel, raw.substr(0, options_.max_raw_bytes))},
            {"outcome", to_string(d.answer.outcome)},
            {"events", events},
            {"releases", releases},
            {"reagents", reagents},
            {"reagent_shortfalls", d.answer.recording.reagent_shortfalls},
            {"answer", d.answer.answer},
            {"attempts", attempts}};
  if (!d.answer.code.empty()) record["code"] = d.answer.code;
  if (!d.answer.message.empty()) record["message"] = d.answer.message;
  Store::Batch b;
  b.put_inbound(id, dump(record));
  if (auto s = store.commit(b); !s) return s.error();
  return d;
}

Result<LabMapping> load_lab_mapping(const std::string& path, const ReferenceData& ref) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("bad_lab_mapping", "Cannot read the lab mapping " + path + ".");
  std::ostringstream s;
  s << in.rdbuf();
  auto m = LabMapping::parse_json(s.str(), ref);
  if (!m) return make_error(m.error().code, path + ": " + m.error().message);
  return m;
}

}  // namespace hemoledger
