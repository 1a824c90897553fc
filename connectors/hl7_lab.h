// HL7 v2 lab and blood product messages -> hemoledger events. Pure: the
// message, the lab mapping and the time the message was received come in,
// events and the outcome to acknowledge go out. Safe from any thread.
//
//   auto m = hl7::parse(text);
//   MappingResult r = map_hl7(*m, mapping, received_at);
//   for (auto& e : r.events) produce(e);                         // key = e.din
//   send(hl7::mllp_frame(hl7_ack(*m, r, next_control_id(), now)));
//
// What is read (docs/connectors.md has the worked example):
//   ORU^R01  one TestResulted per OBX. Test from OBX-3 (code^text^system,
//            then the alternate code in OBX-3.4/3.6), value from OBX-5.1
//            (then OBX-5.2, the text), DIN from the mapping's din_field (in
//            the OBX's own order group for OBR/ORC/SPM fields, in the OBX
//            itself for OBX fields), time from OBX-14, else OBR-7, else
//            MSH-7, else received_at. OBX-11: F (final) and C (corrected) are
//            recorded; P (preliminary) and the statuses that carry no result
//            (I, R, S, X, N) are not, and a note says so; D and W (delete,
//            wrong) are refused: an event cannot be retracted, the lab must
//            send the right result with C.
//   BPS^O29  one event per BPX: BPX-2 dispense status (table 0510) RS/RD ->
//            UnitReserved, DS -> UnitIssued, RA/RL -> UnitReturned,
//            RE -> ReservationReleased, PT -> UnitTransfused, WA ->
//            UnitDiscarded (reason: the mapping's wasted_reason); BPX-3 status
//            F/C recorded, P not; BPX-4 time, BPX-5 DIN, BPX-6 product code.
//   BTS^O31  one event per BTX: BTX-11 (table 0513) TX/TR -> UnitTransfused,
//            RA/RL -> UnitReturned, WA -> UnitDiscarded; BTX-12 status; BTX-13
//            time, BTX-2 DIN, BTX-3 product code. TR adds a TransfusionReaction
//            (id ...-<n>-r): category from BTX-18 (table 0514 or hemoledger's
//            own names; empty: other), onset BTX-13, severity severe and
//            imputability not_assessable until the hospital reports them.
//   Both: the patient's pseudonymous id from PID-3.1 (reserve, issue,
//            transfusion, reaction; a name-like id is refused, AE 102); the
//            patient's group from an OBX whose test the mapping reads as
//            abo_rh (reserve and issue); an issue's destination (custody)
//            from BPX-18.4, else PV1-3.4, through facility_codes.
//
// Event ids are derived from the message only:
//   hl7-<facility>-<MSH-10>-<n>      n = position of the OBX/BPX/BTX (1-based)
//   hl7-<facility>-<MSH-10>-<n>-c    the same for a corrected (C) result
// so a retransmission of the same message yields the same ids (and is
// ignored by the engine), and a correction never collides with an original.
//
// All or nothing: a message with any error yields no events. Outcomes:
//   AR 200/201  not ORU^R01, BPS^O29 or BTS^O31
//   AR 101      no MSH-10 (the ids could not be made exactly-once)
//   AE 101      a required field is empty (DIN, OBX-3, OBX-5, OBX-11, ...)
//   AE 100      an OBX before any OBR
//   AE 102      a DIN failing its check or malformed, a bad date/time or
//               product code, result text that is not UTF-8
//   AE 103      a test code, result value, status or reaction type not in the
//               mapping/tables
//   AE 204      the sending or receiving facility is unknown
//   AE 207      an event hemoledger would not accept in shape (a bug)
#pragma once

#include <string>

#include "connectors/hl7.h"
#include "connectors/lab_mapping.h"

namespace hemoledger {

[[nodiscard]] MappingResult map_hl7(const hl7::Message& message, const LabMapping& mapping,
                                    TimeMs received_at);

// Parses then maps; input that does not parse is AR with the parse error.
[[nodiscard]] MappingResult map_hl7_text(std::string_view text, const LabMapping& mapping,
                                         TimeMs received_at);

// The ACK for a mapped message: MSA-1 from r.code, MSA-3 r.summary(), ERR
// from r.error.
std::string hl7_ack(const hl7::Message& inbound, const MappingResult& r,
                    const std::string& control_id, TimeMs at);

}  // namespace hemoledger
