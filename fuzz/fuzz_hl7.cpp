// hl7::parse and the HL7 lab mapping (map_hl7, hl7_ack).
// Invariants: a message that parses starts with MSH, respects the size
// limits, and can be read field by field, repetition by repetition,
// component and subcomponent, one past each end, without leaving its bounds
// (ASan) and with no unescaped value longer than the message; the ACK built
// for it parses again as an ACK echoing MSH-10 as sent. map_hl7 is all or
// nothing: accepted -> every event passes validate_shape; refused -> no
// events and an error to send back. Nothing throws.
#include "connectors/hl7.h"
#include "connectors/hl7_lab.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

namespace {

constexpr TimeMs kReceived = 1795334400000;  // 2026-11-22T08:00:00Z

void read_everything(const hl7::Message& m, std::size_t text_size) {
  for (const hl7::Segment& s : m.segments()) {
    HL_FUZZ_CHECK(s.name().size() == 3);
    const int fields = s.field_count();
    HL_FUZZ_CHECK(fields >= 0);
    for (int f = 1; f <= fields + 1 && f <= 64; ++f) {
      HL_FUZZ_CHECK(s.raw(f).size() <= text_size);
      const int reps = s.repetition_count(f);
      HL_FUZZ_CHECK(reps >= 0);
      for (int r = 1; r <= reps + 1 && r <= 8; ++r) {
        for (int c = 0; c <= 4; ++c) {
          for (int sc = 0; sc <= 2; ++sc) {
            HL_FUZZ_CHECK(s.value(f, c, sc, r).size() <= text_size);
          }
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::no_escape("hl7::parse", [&] {
    hl7::ParseOptions small;
    small.max_bytes = 4096;
    small.max_segments = 20;
    auto limited = hl7::parse(text, small);
    if (limited) {
      HL_FUZZ_CHECK(size <= small.max_bytes && limited->segments().size() <= small.max_segments);
    }
    auto m = hl7::parse(text);
    if (!m) {
      HL_FUZZ_CHECK(!m.error().code.empty() && !m.error().message.empty());
      HL_FUZZ_CHECK(!limited);
      const std::string reject = hl7::build_reject(
          {hl7::AckCode::reject, m.error().message, "ACK1", kReceived, std::nullopt});
      HL_FUZZ_CHECK(hl7::parse(reject).ok());
      return;
    }
    HL_FUZZ_CHECK(!m->segments().empty() && m->msh().name() == "MSH");
    read_everything(*m, size);
    (void)m->type();
    (void)m->trigger();
    (void)m->version();
    (void)hl7::parse_datetime(m->msh().value(7));
    for (const char* path : {"OBR-3", "OBX-5.1", "PID-3[2].1", "SPM-2.1.1", "MSH-4.1"}) {
      HL_FUZZ_CHECK(m->value(path).size() <= size);
    }

    const MappingResult r = map_hl7(*m, fuzz::shipped_mapping(), kReceived);
    if (r.ok()) {
      HL_FUZZ_CHECK(!r.error);
      for (const Event& e : r.events) HL_FUZZ_CHECK(validate_shape(e).ok());
    } else {
      HL_FUZZ_CHECK(r.events.empty() && r.error && !r.error_code.empty());
    }
    (void)r.summary();
    const std::string ack = hl7_ack(*m, r, "ACK1", kReceived);
    auto parsed_ack = hl7::parse(ack);
    HL_FUZZ_CHECK(parsed_ack.ok());
    HL_FUZZ_CHECK(parsed_ack->type() == "ACK");
    const hl7::Segment* msa = parsed_ack->find("MSA");
    HL_FUZZ_CHECK(msa != nullptr && msa->raw(2) == m->msh().raw(10));  // echoed as sent
  });
  fuzz::no_escape("hl7::parse_field_path", [&] {
    if (size > 64) return;
    auto p = hl7::parse_field_path(text);
    if (p) {
      HL_FUZZ_CHECK(p->field >= 1 && p->repetition >= 1);
      auto again = hl7::parse_field_path(p->to_string());
      HL_FUZZ_CHECK(again.ok() && again->to_string() == p->to_string());
    }
  });
  return 0;
}
