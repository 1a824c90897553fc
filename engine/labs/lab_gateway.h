// LabGateway: where the lab connectors' events enter the engine, and where
// each lab message's answer is decided and kept. Every listener (MLLP, ASTM
// over TCP, the HTTP lab endpoints) maps a message with the pure connectors
// (connectors/hl7_lab.h, astm.h, fhir.h) and hands the events here.
//
//   LabGateway gw(engine, producer, "hemoledger.events", mapping);
//   auto d = gw.deliver({"mllp", "NBS-LAB", "LAB000123"}, raw, now, [&] {
//     MappingResult r = map_hl7(msg, gw.mapping(), now);
//     LabRecording rec = r.ok() ? gw.record(r.events) : LabRecording{};
//     return LabAnswer{...the ACK built from r and rec...};
//   });
//   send(d->answer);
//
// record() is truthful: it produces each event to the events topic keyed by
// event_key(e) and waits for the brokers (acks=all), waits until the engine
// has committed each (Engine::wait_processed), and reads each event's fate
// from the store: journaled = applied; rejected with duplicate_event =
// already recorded (connector ids are deterministic, so this is a success);
// any other rejection = not recorded, with the engine's code and sentence.
// `accepted` is true only when every event is durably applied or already was.
//
// Reagents (LabMapping::reagent_for): each recorded result of a test that
// uses a reagent consumes it from the lab's in-date lot that expires first
// (first-expire-first-out) and holds enough, as ReagentConsumed with the id
// "<result id>-reagent" (applied once however often the result is sent).
// A result no lot can cover still stands; the shortfall is reported.
//
// Release policy (LabMapping::release_when_complete): after the results are
// recorded, each donation they name that no longer waits for any test
// (missing_for_release) and has no positive screen gets UnitReleased for each
// component that is quarantined, held by a blood bank, not recalled and never
// put on hold by hand (no UnitQuarantined in its history), with the id
// "autorelease-<din>-<product>" so that it is applied once. A release the
// engine refuses is reported but does not fail the lab's message: the
// results themselves were recorded.
//
// deliver() keeps every message durably under m/ (engine/storage/store.h,
// docs/storage.md) with its outcome and the exact answer sent. A message
// received again byte for byte after it was accepted is answered with the
// stored answer and nothing is produced again; one that failed before is
// processed again (the engine, or the mapping, may have changed since).
//
// Threading: safe from any thread; deliveries are serialized by one mutex, so
// two connections that send the same message at once cannot both apply it.
#pragma once

#include <functional>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "connectors/lab_mapping.h"
#include "engine/kafka/kafka.h"
#include "engine/ledger/engine.h"

namespace hemoledger {

// What became of one event the gateway produced. to_string() gives the
// "status" of the m/ records and of the ASTM and FHIR answers.
enum class LabEventStatus {
  applied,           // the engine applied it now
  already_recorded,  // applied before: a duplicate of a deterministic id
  rejected,          // the engine refused it (code and sentence say why)
  not_recorded,      // Kafka or the engine did not answer in time
};
std::string_view to_string(LabEventStatus s);

struct LabEventOutcome {
  std::string event_id;
  std::string din;
  std::string product;  // for releases
  LabEventStatus status = LabEventStatus::not_recorded;
  std::string code;     // the engine's code when rejected, or the failure's
  std::string message;  // the engine's sentence

  bool ok() const {
    return status == LabEventStatus::applied || status == LabEventStatus::already_recorded;
  }
};
// {"event_id", "din", "status", and "product", "code", "message" when set}.
nlohmann::json outcome_json(const LabEventOutcome& o);

// What record() did with one message's events.
struct LabRecording {
  bool accepted = true;  // every event applied or already recorded
  std::vector<LabEventOutcome> events;
  std::vector<LabEventOutcome> releases;        // the release policy's UnitReleased
  std::vector<LabEventOutcome> reagents;        // ReagentConsumed per result (mapping "reagents")
  std::vector<std::string> reagent_shortfalls;  // results no lot in stock could cover
  // The first event not recorded: its index in `events`, and whether the
  // failure was the engine's verdict (rejected) or an outage (not_recorded).
  std::optional<std::size_t> first_failure;

  int count(LabEventStatus status) const;
  // "5 events recorded (2 already), 2 units released." or the failure:
  // "Event hl7-...-3 was rejected by the engine: <sentence>".
  std::string summary() const;
};

// Identifies a lab message for retransmission: the listener, the sender as
// the message names it, and the sender's control id (MSH-10, ...).
struct InboundKey {
  std::string channel;     // mllp, astm, astm-http, fhir
  std::string sender;      // "" when the message could not be read
  std::string control_id;  // "" when it has none
};

// What a lab message's answer says, kept with the message under m/ as
// to_string() writes it: accepted (every event recorded), error (the sender
// must correct it: unmappable, or an event the engine refused) or rejected
// (not read or not allowed, or nothing known to be recorded: send it again).
enum class LabOutcome { accepted, error, rejected };
std::string_view to_string(LabOutcome o);

// The answer a listener sends back, and the outcome kept with the message.
struct LabAnswer {
  std::string answer;  // the ACK bytes or JSON, exactly as sent
  LabOutcome outcome = LabOutcome::rejected;
  std::string code, message;  // of a failure
  LabRecording recording;
};

struct LabGatewayOptions {
  TimeMs produce_timeout_ms = 10000;    // per event, for the brokers' acknowledgement
  TimeMs apply_timeout_ms = 15000;      // per message, for the engine's commit of its events
  std::size_t max_raw_bytes = 1 << 20;  // of a message kept under m/
  // Scale-out: the token this instance shows its peers when it asks them for
  // the verdict of an event in a partition they serve (engine/queries/peers.h).
  std::string peer_token;
};

class LabGateway {
 public:
  LabGateway(Engine& engine, Producer& producer, std::string events_topic, LabMapping mapping,
             LabGatewayOptions options = {});

  const LabMapping& mapping() const { return mapping_; }
  const ReferenceData& reference() const { return engine_.reference(); }
  Engine& engine() { return engine_; }

  // Produces, waits for and reads the outcome of each event, then applies the
  // release policy. Never throws; an outage shows as not_recorded.
  LabRecording record(const std::vector<Event>& events);

  struct Delivered {
    LabAnswer answer;
    bool replayed = false;  // the stored answer of an earlier identical message
  };
  // Answers one message: the stored answer if the same message was accepted
  // before, else handle()'s. Either way the message is stored (or its record
  // updated) before the answer is returned. Error "storage_error" only if the
  // record could not be written; the caller then answers AR (the message is
  // not known to be kept, so the sender must send it again).
  [[nodiscard]] Result<Delivered> deliver(const InboundKey& key, std::string_view raw,
                                          TimeMs received_at,
                                          const std::function<LabAnswer()>& handle);

  // The m/ id of a message: "<channel>|<sender>|<control id>|<digest>".
  static std::string inbound_id(const InboundKey& key, std::string_view raw);

 private:
  std::vector<LabEventOutcome> produce_all(const std::vector<Event>& events);
  std::vector<Event> reagent_uses_for(const std::vector<Event>& events,
                                      const std::vector<LabEventOutcome>& outcomes,
                                      std::vector<std::string>& shortfalls);
  std::vector<Event> releases_for(const std::vector<Event>& events,
                                  const std::vector<LabEventOutcome>& outcomes);

  Engine& engine_;
  Producer& producer_;
  std::string topic_;
  LabMapping mapping_;
  LabGatewayOptions options_;
  std::mutex mu_;
};

// Reads the lab mapping file; errors name the file.
[[nodiscard]] Result<LabMapping> load_lab_mapping(const std::string& path,
                                                  const ReferenceData& ref);

}  // namespace hemoledger
