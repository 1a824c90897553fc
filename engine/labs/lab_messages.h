// One lab message, end to end: map it with the pure connectors, record its
// events through the LabGateway, build the answer the sender gets, and keep
// message and answer (LabGateway::deliver). Shared by the MLLP and ASTM
// listeners and the HTTP lab endpoints, so that every channel answers the
// same message the same way. Safe from any thread (the gateway serializes).
//
// Answers:
//   HL7   an ACK (hl7::build_ack): AA only when every event is durably
//         applied or already was; AE with ERR when the message cannot be
//         mapped (connectors/hl7_lab.h) or the engine rejects one of its
//         events (ERR-2 the OBX/BPX/BTX of that event, ERR-3 207, ERR-8 the
//         engine's code and sentence); AR when it does not parse, is not a
//         supported type, or when Kafka or the engine did not answer in time
//         (ERR-3 207: nothing is known to be recorded, send it again).
//   ASTM  JSON {"outcome", "message", "results": [{event_id, din, status,
//         code, message}], "releases": [...], "notes": [...]}.
//   FHIR  an OperationOutcome: issue severity information (all recorded) or
//         error (not), code "processing" / "invalid" / "transient", the
//         sentence in diagnostics, and the event ids in the extension
//         "urn:hemoledger:event-outcome".
#pragma once

#include <string>
#include <string_view>

#include "engine/labs/lab_gateway.h"

namespace hemoledger {

// Who is sending a lab message, when the channel knows (docs/security.md):
// the HTTP lab endpoints with a lab token, or a listener bound to one lab
// (`serve --mllp-lab`, `--astm-lab`). With a facility, every event of the
// message must be that lab's: a message with any other lab's event is
// refused whole (HL7 AR, HTTP 403; code wrong_lab) and nothing is produced.
// `actor` is recorded on every event; empty: the listener names the sender
// from the message ("mllp:<MSH-3>@<MSH-4>", "astm:<H-5>").
struct LabSender {
  std::string actor;
  std::string facility;  // "" = any lab
};

struct LabReply {
  std::string body;  // the ACK, or JSON
  LabOutcome outcome = LabOutcome::rejected;
  bool replayed = false;
  int http_status = 200;  // for the HTTP endpoints: 200, 422, 503
};

// An HL7 v2 message (MLLP payload, without framing). `ack_control_id` is the
// MSH-10 of the ACK. Never fails: a storage failure answers AR.
LabReply deliver_hl7(LabGateway& gw, std::string_view text, TimeMs received_at,
                     const std::string& ack_control_id, const LabSender& sender = {});

// ASTM E1394 records (from the LIS1-A link layer, or a file). `channel` is
// "astm" (TCP) or "astm-http".
LabReply deliver_astm(LabGateway& gw, std::string_view text, TimeMs received_at,
                      const std::string& channel, const LabSender& sender = {});

// A FHIR Observation or Bundle of Observations (JSON).
LabReply deliver_fhir(LabGateway& gw, std::string_view body, TimeMs received_at,
                      const LabSender& sender = {});

}  // namespace hemoledger
