#!/usr/bin/env python3
"""Writes the generated part of the seed corpus (fuzz/corpus/): JSON events of
several types, the same events in the binary frame of events/binary_codec.h,
and LIS1-A transfers of the ASTM sample. Run from the repository root; the
other seeds are copies of tests/connectors/samples and data/."""
import json, os, struct

EVENTS = [
    {"id": "c0a8-17", "type": "UnitIssued", "at": "2026-11-22T08:15:00Z", "facility": "NBS-BB",
     "din": "G123426000017", "product": "E0336V00", "patient_abo_rh": "O+"},
    {"id": "d1", "type": "DonationCollected", "at": "2026-11-22T08:00:00Z", "facility": "NBS-BB",
     "din": "G123426000001", "donor": "DNR-77", "abo_rh": "O-", "volume_ml": 450,
     "actor": "nurse-3", "station": "chair-2"},
    {"id": "c1", "type": "ComponentProduced", "at": "2026-11-22T09:00:00.250Z",
     "facility": "NBS-BB", "din": "G123426000001", "product": "E2555V00",
     "expires_at": "2027-11-22T23:59:00Z", "volume_ml": 220},
    {"id": "t1", "type": "TestResulted", "at": "2026-11-22T10:00:00+02:00", "facility": "NBS-LAB",
     "din": "G123426000001", "test": "hiv", "result": "negative",
     "recorded_at": "2026-11-22T08:00:01Z"},
    {"id": "x1", "type": "UnitDiscarded", "at": "2026-11-23T08:00:00Z", "facility": "NBS-BB",
     "din": "G123426000001", "product": "E2555V00", "reason": "broken_bag"},
    {"id": "tr1", "type": "TransferDispatched", "at": "2026-11-23T08:00:00Z",
     "facility": "NBS-BB", "din": "G123426000001", "product": "E0336V00", "to": "GZA-BB"},
    {"id": "r1", "type": "ReagentReceived", "schema_version": 2, "at": "2026-11-22T08:00:00Z",
     "facility": "NBS-LAB", "reagent": "anti-a", "lot": "LOT-42", "quantity": 500,
     "expires_at": "2027-06-30T00:00:00Z"},
    {"id": "q1", "type": "UnitQuarantined", "at": "2026-11-22T08:00:00Z", "facility": "NBS-BB",
     "din": "G123426000001", "product": "E0336V00", "reason": "كيس مثقوب"},
]
GROUPS = {"O+": 1, "O-": 2, "A+": 3, "A-": 4, "B+": 5, "B-": 6, "AB+": 7, "AB-": 8}
TYPES = ["DonationCollected", "ComponentProduced", "TestResulted", "UnitReleased",
         "UnitQuarantined", "TransferDispatched", "TransferReceived", "UnitReserved",
         "ReservationReleased", "UnitIssued", "UnitReturned", "UnitTransfused", "UnitDiscarded",
         "UnitExpired", "UnitRecalled", "ReagentReceived", "ReagentConsumed",
         "ReagentTransferred", "ReagentDiscarded", "ReagentExpired"]


def ms(text):
    from datetime import datetime
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def binary(e):
    s = lambda v: struct.pack("<I", len(v.encode())) + v.encode()
    g = lambda k: e.get(k, "")
    out = b"HL\x01" + b"\x01" + struct.pack("<H", 2)  # frame, cereal's endianness byte, version
    out += s(g("id")) + struct.pack("<B", TYPES.index(e["type"]) + 1)
    out += struct.pack("<qq", ms(e["at"]), ms(e["recorded_at"]) if "recorded_at" in e else 0)
    for k in ("facility", "actor", "station", "din", "product", "donor"):
        out += s(g(k))
    out += struct.pack("<Bqi", GROUPS.get(g("abo_rh"), 0),
                       ms(e["expires_at"]) if "expires_at" in e else 0, e.get("volume_ml", 0))
    for k in ("to", "test", "result", "reason"):
        out += s(g(k))
    out += struct.pack("<B", GROUPS.get(g("patient_abo_rh"), 0))
    out += s(g("reagent")) + s(g("lot")) + struct.pack("<i", e.get("quantity", 0))
    return out


def lis1a(message):
    frames, fn = [], 1
    for record in [r + "\r" for r in message.replace("\r\n", "\r").replace("\n", "\r").split("\r") if r]:
        for at in range(0, len(record), 240):
            last = at + 240 >= len(record)
            body = str(fn).encode() + record[at:at + 240].encode() + (b"\x03" if last else b"\x17")
            frames.append(b"\x02" + body + b"%02X" % (sum(body) % 256) + b"\r\n")
            fn = (fn + 1) % 8
    return b"\x05" + b"".join(frames) + b"\x04"


def write(target, name, data):
    path = os.path.join("fuzz", "corpus", target, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


for i, e in enumerate(EVENTS, 1):
    write("fuzz_event_json", f"event-{i}.json", json.dumps(e, ensure_ascii=False))
    write("fuzz_event_binary", f"event-{i}.bin", binary(e))
astm = open("tests/connectors/samples/astm_ih500_typing.astm").read()
write("fuzz_lis1a", "ih500.lis1a", lis1a(astm))
write("fuzz_lis1a", "two-transfers.lis1a", lis1a(astm) + b"\x05\x021H|\\^&\x03" + b"00\r\n\x04")
