#include "connectors/hl7_lab.h"

#include <optional>
#include <utility>

#include "connectors/sender_text.h"
#include "events/event.h"

namespace hemoledger {

namespace {

namespace err = hl7::err;

// A failure at one place of the message.
struct Failure {
  int hl7_code;
  std::string code;  // snake_case
  std::string segment;
  int sequence;
  int field;
  std::string message;
};

MappingResult failed(hl7::AckCode ack, Failure f) {
  MappingResult r;
  r.code = ack;
  r.error_code = f.code;
  std::string where;
  if (!f.segment.empty()) {
    where = f.field > 0 ? f.segment + "-" + std::to_string(f.field) : f.segment;
    if (f.sequence > 0) where += " of " + f.segment + " " + std::to_string(f.sequence);
    where += ": ";
  }
  r.error = hl7::AckError{f.hl7_code, f.segment, f.sequence, f.field, where + f.message};
  return r;
}

bool printable_id_part(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Common header facts of every mapped message.
struct Header {
  std::string facility;
  std::string control_id;
  std::string actor;  // MSH-3.1, the sending application
  TimeMs msh_time = 0;
};

Result<Header> read_header(const hl7::Message& m, const LabMapping& map, TimeMs received_at,
                           MappingResult& fail_out) {
  Header h;
  const auto& opt = map.hl7();
  std::string sent = opt.facility;
  if (sent.empty() && opt.facility_field) sent = m.value(*opt.facility_field);
  auto fac = map.facility_for(sent);
  if (!fac) {
    fail_out = failed(hl7::AckCode::error,
                      {err::kUnknownKeyIdentifier, fac.error().code,
                       opt.facility_field ? opt.facility_field->segment : "MSH", 0,
                       opt.facility_field ? opt.facility_field->field : 4, fac.error().message});
    return fac.error();
  }
  h.facility = *fac;
  h.control_id = m.control_id();
  if (h.control_id.empty() || !printable_id_part(h.control_id)) {
    fail_out = failed(hl7::AckCode::reject,
                      {err::kRequiredFieldMissing, "missing_control_id", "MSH", 0, 10,
                       "the message control id must be 1 to 64 printable characters without "
                       "spaces, so that a retransmission is recognised."});
    return make_error("missing_control_id", "");
  }
  h.actor = sender_text(m.msh().value(3, 1), 128);
  h.msh_time = received_at;
  if (!m.msh().raw(7).empty()) {
    auto t = hl7::parse_datetime(m.msh().value(7, 1), opt.utc_offset_minutes);
    if (!t) {
      fail_out = failed(hl7::AckCode::error,
                        {err::kDataTypeError, "bad_datetime", "MSH", 0, 7, t.error().message});
      return t.error();
    }
    h.msh_time = *t;
  }
  return h;
}

std::string event_id(const Header& h, int n, bool corrected) {
  return "hl7-" + h.facility + "-" + h.control_id + "-" + std::to_string(n) +
         (corrected ? "-c" : "");
}

// Checks each event's shape; a failure here is our bug, not the sender's.
MappingResult finish(MappingResult r) {
  for (const auto& e : r.events) {
    if (auto s = validate_shape(e); !s) {
      // Text the sender chose (an info result as sent) may be unusable;
      // anything else means the mapping built a wrong event.
      const bool senders = refused_for_sender_text(s.error());
      return failed(
          hl7::AckCode::error,
          {senders ? err::kDataTypeError : err::kApplicationInternalError, s.error().code, "", 0, 0,
           senders ? s.error().message
                   : "hemoledger built an event it cannot accept (" + s.error().message + ")"});
    }
  }
  return r;
}

// The segment a DIN path names, for the OBX at index `obx`: that OBX itself
// for an OBX path; for OBR, ORC, SPM and other order segments, the one in the
// OBX's order group [group_begin, group_end) (from its OBR, or the ORC just
// before, to the next ORC/OBR); otherwise the first in the message.
const hl7::Segment* din_segment(const hl7::Message& m, std::size_t obx, std::size_t group_begin,
                                std::size_t group_end, const std::string& name) {
  const auto& segs = m.segments();
  if (name == "OBX") return &segs[obx];
  for (std::size_t i = group_begin; i < group_end && i < segs.size(); ++i) {
    if (segs[i].name() == name) return &segs[i];
  }
  return m.find(name);
}

// Which occurrence of its kind a segment is (1-based), for ERR-2.
int occurrence(const hl7::Message& m, const hl7::Segment* s) {
  int n = 0;
  for (const auto& seg : m.segments()) {
    if (seg.name() == s->name()) ++n;
    if (&seg == s) return n;
  }
  return 0;
}

struct Dated {
  bool ok = true;
  TimeMs at = 0;
  std::string message;
};

Dated read_time(std::string_view text, int offset, TimeMs fallback) {
  if (text.empty()) return {true, fallback, {}};
  auto t = hl7::parse_datetime(text, offset);
  if (!t) return {false, 0, t.error().message};
  return {true, *t, {}};
}

// A failure at field `field` of the n-th segment named `segment`, answered AE.
MappingResult failed_at(const std::string& segment, int n, int hl7_code, std::string code,
                        int field, std::string message) {
  return failed(hl7::AckCode::error,
                {hl7_code, std::move(code), segment, n, field, std::move(message)});
}

// The steps below return the failure that answers the message, or nullopt
// when the step passed and wrote its result to the out parameter.

// The OBR an OBX belongs to and its order group [begin, end): from the OBR,
// or the ORC just before, to the next ORC/OBR. No OBR yet: obr is null.
struct OrderGroup {
  const hl7::Segment* obr = nullptr;
  std::size_t begin = 0;
  std::size_t end = 0;
};

// The order group of the OBR at index `i`.
OrderGroup order_group(const std::vector<hl7::Segment>& segs, std::size_t i) {
  OrderGroup g;
  g.obr = &segs[i];
  g.begin = (i > 0 && segs[i - 1].name() == "ORC") ? i - 1 : i;
  g.end = segs.size();
  for (std::size_t j = i + 1; j < segs.size(); ++j) {
    if (segs[j].name() == "OBR" || segs[j].name() == "ORC") {
      g.end = j;
      break;
    }
  }
  return g;
}

// What OBX n says, read and checked step by step.
struct ObxRead {
  std::string test;
  std::string result;
  TestMethod method = TestMethod::unspecified;
  std::string din;
  TimeMs at = 0;
};

// Result statuses of HL7 table 0085 that are read but not recorded.
bool is_unrecorded_obx_status(const std::string& status) {
  return status == "P" || status == "I" || status == "R" || status == "S" || status == "X" ||
         status == "N";
}

// The hemoledger test for OBX-3 (its alternate code when the first is not
// known) and its result for OBX-5 (its second component when the first is
// not known).
std::optional<MappingResult> map_obx_test_and_result(const hl7::Segment& s, int n,
                                                     const std::string& code, const LabMapping& map,
                                                     ObxRead& out) {
  if (code.empty()) {
    return failed_at("OBX", n, err::kRequiredFieldMissing, "missing_field", 3,
                     "the test code is empty.");
  }
  auto test = map.test_for(s.value(3, 3), code);
  if (!test && !s.value(3, 4).empty()) test = map.test_for(s.value(3, 6), s.value(3, 4));
  if (!test) {
    return failed_at("OBX", n, err::kTableValueNotFound, "unknown_test", 3, test.error().message);
  }
  std::string value = s.value(5, 1);
  if (value.empty()) {
    return failed_at("OBX", n, err::kRequiredFieldMissing, "missing_field", 5,
                     "the result of " + *test + " is empty.");
  }
  auto result = map.result_for(*test, value);
  if (!result && !s.value(5, 2).empty()) result = map.result_for(*test, s.value(5, 2));
  if (!result) {
    return failed_at("OBX", n, err::kTableValueNotFound, "unknown_result", 5,
                     result.error().message);
  }
  const hl7::FieldPath& mf = map.hl7().method_field;
  auto method = map.method_for(s.value(mf.field, mf.component == 0 ? 1 : mf.component,
                                       mf.subcomponent == 0 ? 1 : mf.subcomponent, mf.repetition));
  if (!method) {
    return failed_at("OBX", n, err::kTableValueNotFound, "unknown_method", mf.field,
                     method.error().message);
  }
  out.test = *test;
  out.result = *result;
  out.method = *method;
  return std::nullopt;
}

// The donation number of the OBX at index `obx`, where hl7.din_field says.
std::optional<MappingResult> read_obx_din(const hl7::Message& m, std::size_t obx,
                                          const OrderGroup& g, const hl7::FieldPath& din_path,
                                          ObxRead& out) {
  const hl7::Segment* din_seg = din_segment(m, obx, g.begin, g.end, din_path.segment);
  const int din_occurrence = din_seg ? occurrence(m, din_seg) : 0;
  const std::string din_sent =
      din_seg ? din_seg->value(din_path.field, din_path.component == 0 ? 1 : din_path.component,
                               din_path.subcomponent == 0 ? 1 : din_path.subcomponent,
                               din_path.repetition)
              : std::string();
  if (din_sent.empty()) {
    return failed(hl7::AckCode::error, {err::kRequiredFieldMissing, "missing_field",
                                        din_path.segment, din_occurrence, din_path.field,
                                        "the donation number (" + din_path.to_string() +
                                            ", as the lab mapping says) is empty."});
  }
  auto din = din_from_lab(din_sent);
  if (!din) {
    return failed(hl7::AckCode::error, {err::kDataTypeError, din.error().code, din_path.segment,
                                        din_occurrence, din_path.field, din.error().message});
  }
  out.din = *din;
  return std::nullopt;
}

// When the result was made: OBX-14, else the order's OBR-7, else the
// message's time (MSH-7, or when it was received).
std::optional<MappingResult> read_obx_time(const hl7::Segment& s, int n, const hl7::Segment& obr,
                                           const Header& h, int offset, ObxRead& out) {
  TimeMs fallback = h.msh_time;
  if (!obr.raw(7).empty()) {
    const Dated d = read_time(obr.value(7, 1), offset, h.msh_time);
    if (!d.ok) {
      return failed(hl7::AckCode::error,
                    {err::kDataTypeError, "bad_datetime", "OBR", 0, 7, d.message});
    }
    fallback = d.at;
  }
  const Dated at = read_time(s.value(14, 1), offset, fallback);
  if (!at.ok) return failed_at("OBX", n, err::kDataTypeError, "bad_datetime", 14, at.message);
  out.at = at.at;
  return std::nullopt;
}

// The TestResulted event of OBX `s`, the n-th of the message.
Event obx_event(const hl7::Segment& s, int n, const Header& h, bool corrected, const ObxRead& x) {
  Event e;
  e.id = event_id(h, n, corrected);
  e.type = EventType::test_resulted;
  e.at = x.at;
  e.facility = h.facility;
  e.actor = h.actor;
  e.station = sender_text(s.value(18, 1), 128);
  e.din = x.din;
  e.test = x.test;
  e.result = x.result;
  e.method = x.method;
  return e;
}

// Maps the OBX at index `i`, the n-th of the message: appends its event to
// r, or a note when its status is not recorded, or returns the failure.
std::optional<MappingResult> map_obx(const hl7::Message& m, std::size_t i, int n,
                                     const OrderGroup& g, const Header& h, const LabMapping& map,
                                     MappingResult& r) {
  const hl7::Segment& s = m.segments()[i];
  if (!g.obr) {
    return failed_at("OBX", n, err::kSegmentSequence, "segment_sequence", 0,
                     "an OBX must follow the OBR of its order.");
  }

  // Status first: a preliminary result is not read any further.
  const std::string status = s.value(11);
  const std::string code = s.value(3, 1);
  const std::string label =
      code.empty() ? "OBX " + std::to_string(n) : "OBX " + std::to_string(n) + " (" + code + ")";
  if (status.empty()) {
    return failed_at("OBX", n, err::kRequiredFieldMissing, "missing_field", 11,
                     "the result status is empty; send F (final) or C (corrected).");
  }
  if (status == "D" || status == "W") {
    return failed_at("OBX", n, err::kTableValueNotFound, "cannot_retract", 11,
                     "status " + status +
                         " asks to delete a result, which hemoledger cannot do; send the right "
                         "result with status C (corrected).");
  }
  if (status != "F" && status != "C") {
    if (is_unrecorded_obx_status(status)) {
      r.notes.push_back(label + " has status " + status + (status == "P" ? " (preliminary)" : "") +
                        " and was not recorded.");
      return std::nullopt;
    }
    return failed_at(
        "OBX", n, err::kTableValueNotFound, "unknown_status", 11,
        "\"" + sender_text(status, 10) + "\" is not a result status of HL7 table 0085.");
  }

  ObxRead x;
  if (auto f = map_obx_test_and_result(s, n, code, map, x)) return f;
  if (auto f = read_obx_din(m, i, g, map.hl7().din_field, x)) return f;
  if (auto f = read_obx_time(s, n, *g.obr, h, map.hl7().utc_offset_minutes, x)) return f;
  r.events.push_back(obx_event(s, n, h, status == "C", x));
  return std::nullopt;
}

MappingResult map_oru(const hl7::Message& m, const LabMapping& map, TimeMs received_at) {
  MappingResult fail;
  auto header = read_header(m, map, received_at, fail);
  if (!header) return fail;
  const auto& segs = m.segments();

  MappingResult r;
  OrderGroup group{nullptr, segs.size(), segs.size()};  // none yet
  int obx_count = 0;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].name() == "OBR") {
      group = order_group(segs, i);
      continue;
    }
    if (segs[i].name() != "OBX") continue;
    if (auto f = map_obx(m, i, ++obx_count, group, *header, map, r)) return *f;
  }
  if (obx_count == 0) {
    return failed(hl7::AckCode::error, {err::kRequiredFieldMissing, "missing_segment", "OBX", 0, 0,
                                        "the message carries no result (no OBX segment)."});
  }
  return finish(std::move(r));
}

struct ProductStatus {
  std::string_view code;
  EventType type;
  std::string_view note;  // said when the event cannot carry everything
};

// Dispense statuses (table 0510) and transfusion/disposition statuses (table
// 0513) that hemoledger records, and the event each becomes.
constexpr ProductStatus kDispense[] = {
    {"RS", EventType::unit_reserved, ""},   {"RD", EventType::unit_reserved, ""},
    {"DS", EventType::unit_issued, ""},     {"RA", EventType::unit_returned, ""},
    {"RL", EventType::unit_returned, ""},   {"RE", EventType::reservation_released, ""},
    {"PT", EventType::unit_transfused, ""}, {"WA", EventType::unit_discarded, ""},
};
constexpr ProductStatus kDisposition[] = {
    {"TX", EventType::unit_transfused, ""},
    {"TR", EventType::unit_transfused,
     " reports a transfusion reaction: recorded as a TransfusionReaction (severity severe, "
     "imputability not_assessable until the hospital reports its assessment)."},
    {"RA", EventType::unit_returned, ""},
    {"RL", EventType::unit_returned, ""},
    {"WA", EventType::unit_discarded, ""},
};

// BTX-18, the adverse reaction type (HL7 user table 0514, with the sender's
// own codes), to the ISBT category; hemoledger's own names are read too.
struct ReactionCode {
  std::string_view code;
  ReactionCategory category;
};
constexpr ReactionCode kReactionCodes[] = {
    {"ABOINC", ReactionCategory::haemolytic_acute},
    {"ACUTHEMO", ReactionCategory::haemolytic_acute},
    {"ALLERGIC1", ReactionCategory::allergic},
    {"ALLERGIC2", ReactionCategory::anaphylactic},
    {"BACTCONTAM", ReactionCategory::tti_bacterial},
    {"DELAYEDHEMO", ReactionCategory::haemolytic_delayed},
    {"DELAYEDSEROL", ReactionCategory::delayed_serologic},
    {"GVHD", ReactionCategory::ta_gvhd},
    {"HYPOTENS", ReactionCategory::hypotensive},
    {"NONHEMOFEVER", ReactionCategory::febrile},
    {"NONHEMOOTHER", ReactionCategory::other},
    {"POSTTRANSPURP", ReactionCategory::post_transfusion_purpura},
    {"SYMPTOMATIC", ReactionCategory::other},
    {"TACO", ReactionCategory::taco},
    {"TRALI", ReactionCategory::trali},
    {"VOLOVERLOAD", ReactionCategory::taco},
};

std::optional<ReactionCategory> reaction_for(std::string_view sent) {
  if (sent.empty()) return ReactionCategory::other;
  for (const auto& r : kReactionCodes) {
    if (r.code == sent) return r.category;
  }
  ReactionCategory c;
  if (parse_reaction_category(sent, c)) return c;
  return std::nullopt;
}

// Who and where a blood product message concerns, beyond the unit: the
// patient (PID-3.1, a pseudonymous id), the patient's group (an OBX whose test
// the mapping reads as abo_rh) and, for a dispense, where the unit goes
// (BPX-18.4, else PV1-3.4, through the mapping's facility codes).
struct Bedside {
  std::string patient;
  AboRh patient_group = AboRh::unknown;
  std::string dispensed_to;  // PV1-3.4 mapped; BPX-18.4 is read per segment
  // An emergency release: a STAT order (TQ1-9 "S") dispensed without the
  // patient's group; its approver is the ordering provider (ORC-12, family
  // and given name, else the id) and its reason the indication for use
  // (BPO-13, text else code).
  bool stat = false;
  std::string approver, indication;
};

// "Rania Haddad" from an XCN (id^family^given^...), else its id.
std::string provider_name(const hl7::Segment& orc) {
  const std::string family = orc.value(12, 2), given = orc.value(12, 3);
  if (!family.empty()) return sender_text(given.empty() ? family : given + " " + family, 128);
  return sender_text(orc.value(12, 1), 128);
}

std::optional<MappingResult> read_bedside(const hl7::Message& m, const LabMapping& map,
                                          Bedside& out) {
  if (const hl7::Segment* pid = m.find("PID")) {
    out.patient = pid->value(3, 1);
    if (!out.patient.empty() && !is_pseudonymous_id(out.patient)) {
      return failed(hl7::AckCode::error,
                    {err::kDataTypeError, "invalid_patient", "PID", 1, 3,
                     "the patient identifier must be a pseudonymous id (letters, digits and "
                     "- _ . : / with at least one digit), never a name."});
    }
  }
  for (const auto& s : m.segments()) {
    if (s.name() != "OBX") continue;
    auto test = map.test_for(s.value(3, 3), s.value(3, 1));
    if (!test || *test != "abo_rh") continue;
    auto result = map.result_for(*test, s.value(5, 1));
    if (result) out.patient_group = parse_abo_rh(*result).value_or(AboRh::unknown);
    if (out.patient_group == AboRh::unknown) {
      return failed(hl7::AckCode::error,
                    {err::kTableValueNotFound, "unknown_result", "OBX", 0, 5,
                     "\"" + sender_text(s.value(5, 1), 10) +
                         "\" is not a patient ABO/RhD group the mapping knows."});
    }
    break;
  }
  if (const hl7::Segment* tq1 = m.find("TQ1")) out.stat = tq1->value(9, 1) == "S";
  if (const hl7::Segment* orc = m.find("ORC")) out.approver = provider_name(*orc);
  if (const hl7::Segment* bpo = m.find("BPO")) {
    out.indication =
        sender_text(bpo->value(13, 2).empty() ? bpo->value(13, 1) : bpo->value(13, 2), 200);
  }
  if (const hl7::Segment* pv1 = m.find("PV1"); pv1 && !pv1->value(3, 4).empty()) {
    auto to = map.facility_for(pv1->value(3, 4));
    if (!to) {
      return failed(hl7::AckCode::error,
                    {err::kUnknownKeyIdentifier, to.error().code, "PV1", 1, 3, to.error().message});
    }
    out.dispensed_to = *to;
  }
  return std::nullopt;
}

// Where a BPX (dispense) or BTX (disposition) segment carries what we read.
struct ProductFields {
  std::string segment;
  int status;
  int msg_status;
  int time;
  int din;
  int product;
};

// BPX: status 2, message status 3, time 4, DIN 5, product 6 (and 18, the
// actual dispensed-to location). BTX: DIN 2, product 3, status 11, message
// status 12, time 13 (and 18, the adverse reaction type).
ProductFields product_fields(bool dispense) {
  return dispense ? ProductFields{"BPX", 2, 3, 4, 5, 6} : ProductFields{"BTX", 11, 12, 13, 2, 3};
}

// What product segment n says, read and checked step by step.
struct ProductRead {
  const ProductStatus* status = nullptr;
  std::string din;
  std::string product;
  TimeMs at = 0;
};

// The table row of the dispense status or disposition.
std::optional<MappingResult> read_product_status(const hl7::Segment& s, int n,
                                                 const ProductFields& f, bool dispense,
                                                 ProductRead& out) {
  const std::string status = s.value(f.status, 1);
  if (status.empty()) {
    return failed_at(f.segment, n, err::kRequiredFieldMissing, "missing_field", f.status,
                     dispense ? "the dispense status is empty." : "the disposition is empty.");
  }
  const ProductStatus* ps = nullptr;
  if (dispense) {
    for (const auto& p : kDispense) ps = (p.code == status) ? &p : ps;
  } else {
    for (const auto& p : kDisposition) ps = (p.code == status) ? &p : ps;
  }
  if (!ps) {
    return failed_at(f.segment, n, err::kTableValueNotFound, "unknown_status", f.status,
                     "\"" + sender_text(status, 10) + "\" is not a " +
                         (dispense ? "dispense status (table 0510)"
                                   : "transfusion/disposition status (table 0513)") +
                         " that hemoledger records.");
  }
  out.status = ps;
  return std::nullopt;
}

// The donation number, then the product code (an "=<" data structure 003
// prefix is dropped).
std::optional<MappingResult> read_unit(const hl7::Segment& s, int n, const ProductFields& f,
                                       ProductRead& out) {
  const std::string din_sent = s.value(f.din, 1);
  if (din_sent.empty()) {
    return failed_at(f.segment, n, err::kRequiredFieldMissing, "missing_field", f.din,
                     "the donation number is empty.");
  }
  auto din = din_from_lab(din_sent);
  if (!din) {
    return failed_at(f.segment, n, err::kDataTypeError, din.error().code, f.din,
                     din.error().message);
  }
  std::string product = s.value(f.product, 1);
  if (product.size() == 10 && product.substr(0, 2) == "=<") product = product.substr(2);
  if (!is_product_code(product)) {
    return failed_at(f.segment, n,
                     product.empty() ? err::kRequiredFieldMissing : err::kDataTypeError,
                     "invalid_product", f.product,
                     "\"" + sender_text(product, 20) +
                         "\" is not an 8-character ISBT 128 product code (e.g. E0336V00).");
  }
  out.din = *din;
  out.product = product;
  return std::nullopt;
}

// Maps product segment `s`, the n-th of its kind: appends its event (and a
// note when the event cannot carry everything) to r, or a note when it is
// preliminary, or returns the failure.
// The bedside fields of a product segment's event: the patient on reserve,
// issue and transfusion, the group on reserve and issue, the destination of an
// issue; for a TR (transfused with a reaction), the TransfusionReaction that
// follows the transfusion.
std::optional<MappingResult> add_bedside(const hl7::Segment& s, int n, const ProductFields& f,
                                         const Bedside& b, const LabMapping& map, Event& e,
                                         MappingResult& r) {
  const bool to_patient = e.type == EventType::unit_reserved || e.type == EventType::unit_issued;
  if (to_patient || e.type == EventType::unit_transfused) e.patient = b.patient;
  if (to_patient) e.patient_abo_rh = b.patient_group;
  if (e.type == EventType::unit_issued) {
    if (b.stat && b.patient_group == AboRh::unknown) {
      e.emergency = true;
      e.approver = b.approver;
      e.reason = b.indication.empty() ? "STAT order dispensed before the patient's group was known"
                                      : b.indication;
    }
    e.to = b.dispensed_to;
    if (const std::string sent = s.value(18, 4); f.segment == "BPX" && !sent.empty()) {
      auto to = map.facility_for(sent);
      if (!to) {
        return failed_at(f.segment, n, err::kUnknownKeyIdentifier, to.error().code, 18,
                         to.error().message);
      }
      e.to = *to;
    }
  }
  if (f.segment != "BTX" || s.value(f.status, 1) != "TR") return std::nullopt;
  const auto reaction = reaction_for(s.value(18, 1));
  if (!reaction) {
    return failed_at(f.segment, n, err::kTableValueNotFound, "unknown_reaction", 18,
                     "\"" + sender_text(s.value(18, 1), 20) +
                         "\" is not a transfusion reaction type (HL7 table 0514) hemoledger "
                         "knows.");
  }
  if (b.patient.empty()) {
    return failed(hl7::AckCode::error,
                  {err::kRequiredFieldMissing, "missing_field", "PID", 1, 3,
                   "a transfusion reaction needs the patient's pseudonymous id (PID-3)."});
  }
  Event x = e;
  x.id = e.id + "-r";
  x.type = EventType::transfusion_reaction;
  x.onset_at = e.at;
  x.reaction = *reaction;
  x.severity = ReactionSeverity::severe;
  x.imputability = Imputability::not_assessable;
  r.events.push_back(std::move(e));
  r.events.push_back(std::move(x));
  return std::nullopt;
}

std::optional<MappingResult> map_product_segment(const hl7::Segment& s, int n,
                                                 const ProductFields& f, bool dispense,
                                                 const Header& h, const Bedside& b,
                                                 const LabMapping& map, MappingResult& r) {
  const std::string label = f.segment + " " + std::to_string(n);
  const std::string msg_status = s.value(f.msg_status);
  if (msg_status.empty()) {
    return failed_at(f.segment, n, err::kRequiredFieldMissing, "missing_field", f.msg_status,
                     "the status is empty; send F (final) or C (corrected).");
  }
  if (msg_status == "P") {
    r.notes.push_back(label + " is preliminary (P) and was not recorded.");
    return std::nullopt;
  }
  if (msg_status != "F" && msg_status != "C") {
    return failed_at(f.segment, n, err::kTableValueNotFound, "unknown_status", f.msg_status,
                     "\"" + sender_text(msg_status, 10) +
                         "\" is not a status of HL7 table 0511 hemoledger reads (F, C, P).");
  }
  ProductRead x;
  if (auto fl = read_product_status(s, n, f, dispense, x)) return fl;
  if (auto fl = read_unit(s, n, f, x)) return fl;
  const Dated at = read_time(s.value(f.time, 1), map.hl7().utc_offset_minutes, h.msh_time);
  if (!at.ok) {
    return failed_at(f.segment, n, err::kDataTypeError, "bad_datetime", f.time, at.message);
  }

  Event e;
  e.id = event_id(h, n, msg_status == "C");
  e.type = x.status->type;
  e.at = at.at;
  e.facility = h.facility;
  e.actor = h.actor;
  e.din = x.din;
  e.product = x.product;
  if (e.type == EventType::unit_discarded) e.reason = map.hl7().wasted_reason;
  if (!x.status->note.empty()) r.notes.push_back(label + std::string(x.status->note));
  const std::size_t before = r.events.size();
  if (auto fl = add_bedside(s, n, f, b, map, e, r)) return fl;
  if (r.events.size() == before) r.events.push_back(std::move(e));
  return std::nullopt;
}

MappingResult map_blood_product(const hl7::Message& m, const LabMapping& map, TimeMs received_at,
                                bool dispense) {
  MappingResult fail;
  auto header = read_header(m, map, received_at, fail);
  if (!header) return fail;
  const ProductFields f = product_fields(dispense);
  Bedside b;
  if (auto fl = read_bedside(m, map, b)) return *fl;

  MappingResult r;
  int count = 0;
  for (const auto& s : m.segments()) {
    if (s.name() != f.segment) continue;
    if (auto fl = map_product_segment(s, ++count, f, dispense, *header, b, map, r)) return *fl;
  }
  if (count == 0) {
    return failed(hl7::AckCode::error, {err::kRequiredFieldMissing, "missing_segment", f.segment, 0,
                                        0, "the message carries no " + f.segment + " segment."});
  }
  return finish(std::move(r));
}

}  // namespace

MappingResult map_hl7(const hl7::Message& message, const LabMapping& mapping, TimeMs received_at) {
  const std::string type = message.type();
  const std::string trigger = message.trigger();
  const auto unsupported = [&](int code) {
    return failed(hl7::AckCode::reject,
                  {code, "unsupported_message", "MSH", 0, 9,
                   "message type " + sender_text(type, 10) + "^" + sender_text(trigger, 10) +
                       " is not read; hemoledger reads ORU^R01, BPS^O29 and BTS^O31."});
  };
  if (type == "ORU")
    return trigger == "R01" ? map_oru(message, mapping, received_at)
                            : unsupported(err::kUnsupportedEventCode);
  if (type == "BPS")
    return trigger == "O29" ? map_blood_product(message, mapping, received_at, true)
                            : unsupported(err::kUnsupportedEventCode);
  if (type == "BTS")
    return trigger == "O31" ? map_blood_product(message, mapping, received_at, false)
                            : unsupported(err::kUnsupportedEventCode);
  return unsupported(err::kUnsupportedMessageType);
}

MappingResult map_hl7_text(std::string_view text, const LabMapping& mapping, TimeMs received_at) {
  auto m = hl7::parse(text);
  if (!m) {
    MappingResult r;
    r.code = hl7::AckCode::reject;
    r.error_code = m.error().code;
    r.error = hl7::AckError{
        m.error().code == hl7::kNoMsh ? err::kRequiredFieldMissing : err::kApplicationInternalError,
        "", 0, 0, m.error().message};
    return r;
  }
  return map_hl7(*m, mapping, received_at);
}

std::string hl7_ack(const hl7::Message& inbound, const MappingResult& r,
                    const std::string& control_id, TimeMs at) {
  hl7::Ack ack;
  ack.code = r.code;
  ack.text = r.summary();
  ack.control_id = control_id;
  ack.at = at;
  ack.error = r.error;
  return hl7::build_ack(inbound, ack);
}

}  // namespace hemoledger
