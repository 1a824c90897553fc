#include "connectors/astm.h"

#include <optional>
#include <utility>

#include "connectors/sender_text.h"
#include "connectors/text.h"
#include "events/event.h"

namespace hemoledger::astm {

namespace {

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

std::string unescape(std::string_view s, const Delimiters& d) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != d.escape) {
      out += s[i++];
      continue;
    }
    const std::size_t close = s.find(d.escape, i + 1);
    if (close == std::string_view::npos) {
      out.append(s.substr(i));
      break;
    }
    const std::string_view body = s.substr(i + 1, close - i - 1);
    if (body == "F")
      out += d.field;
    else if (body == "S")
      out += d.component;
    else if (body == "R")
      out += d.repeat;
    else if (body == "E")
      out += d.escape;
    else
      out.append(s.substr(i, close - i + 1));  // not an escape: keep as sent
    i = close + 1;
  }
  return out;
}

char hex_digit(int v) { return static_cast<char>(v < 10 ? '0' + v : 'A' + v - 10); }

}  // namespace

Record::Record(std::vector<std::string> fields, Delimiters d, int line)
    : fields_(std::move(fields)), d_(d), line_(line) {}

std::string_view Record::raw(int field) const {
  if (field < 1 || field > static_cast<int>(fields_.size())) return {};
  return fields_[static_cast<std::size_t>(field - 1)];
}

std::string Record::value(int field, int component, int repeat) const {
  const std::string_view r = raw(field);
  if (type() == 'H' && field == 2) return std::string(r);
  std::string_view v = piece(r, d_.repeat, repeat);
  if (component > 0) v = piece(v, d_.component, component);
  return unescape(v, d_);
}

Result<Message> parse(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_bytes) {
    return make_error("message_too_large",
                      "The ASTM message is " + std::to_string(text.size()) + " bytes; at most " +
                          std::to_string(options.max_bytes) + " are accepted.");
  }
  Message m;
  std::size_t pos = 0;
  int line = 0;
  while (pos < text.size()) {
    std::size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view rec = text.substr(pos, end - pos);
    pos = end + 1;
    if (rec.empty()) continue;
    ++line;
    if (m.records.size() >= options.max_records) {
      return make_error("message_too_large", "The ASTM message has more than " +
                                                 std::to_string(options.max_records) + " records.");
    }
    if (line == 1) {
      if (rec[0] != 'H') {
        return make_error("no_header",
                          "The ASTM message does not start with a header (H) "
                          "record.");
      }
      bool ok = rec.size() >= 5;
      for (std::size_t a = 1; ok && a < 5; ++a) {
        const auto c = static_cast<unsigned char>(rec[a]);
        ok = !is_alnum(rec[a]) && c >= 0x21 && c <= 0x7e;
        for (std::size_t b = 1; ok && b < a; ++b) ok = rec[b] != rec[a];
      }
      if (!ok) {
        return make_error("bad_delimiters",
                          "The header record must start with four different delimiters, e.g. "
                          "H|\\^&.");
      }
      m.delimiters = Delimiters{rec[1], rec[2], rec[3], rec[4]};
    }
    const Delimiters& d = m.delimiters;
    for (char c : rec) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        return make_error("bad_record", "Record " + std::to_string(line) +
                                            " contains a control character (byte " +
                                            std::to_string(u) + ").");
      }
    }
    const char type = rec[0];
    const bool known = std::string_view("HPORCLQMS").find(type) != std::string_view::npos;
    if (!known || (rec.size() > 1 && rec[1] != d.field)) {
      return make_error("bad_record", "Record " + std::to_string(line) +
                                          " does not start with a "
                                          "record type (H, P, O, R, C, L, Q, M or S) and the field "
                                          "delimiter.");
    }
    if (type == 'H' && line > 1) {
      return make_error("bad_record", "Record " + std::to_string(line) +
                                          " is a second header: send one message at a time.");
    }
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
      const std::size_t i = rec.find(d.field, start);
      fields.emplace_back(rec.substr(start, i == std::string_view::npos ? i : i - start));
      if (i == std::string_view::npos) break;
      start = i + 1;
    }
    if (type == 'L') m.terminated = true;
    m.records.emplace_back(std::move(fields), d, line);
  }
  if (m.records.empty()) {
    return make_error("no_header", "The ASTM message is empty.");
  }
  return m;
}

// ---- mapping ----------------------------------------------------------------------

namespace {

namespace err = hl7::err;

// The answer refusing a message at the `sequence`-th record of type `record`
// (0: the message as a whole; sequence 0: not counted), field `field`.
MappingResult failed(int hl7_code, std::string code, char record, int sequence, int field,
                     const std::string& message) {
  MappingResult r;
  r.code = hl7::AckCode::error;
  r.error_code = std::move(code);
  std::string where;
  if (record != 0) {
    where = std::string(1, record) + (field > 0 ? "-" + std::to_string(field) : "");
    if (sequence > 0) where += " of " + std::string(1, record) + " " + std::to_string(sequence);
    where += ": ";
  }
  r.error = hl7::AckError{hl7_code, record ? std::string(1, record) : "", sequence, field,
                          where + message};
  return r;
}

// The steps below return the failure that answers the message, or nullopt
// when the step passed and wrote its result to the out parameter.

// Our facility code: astm.facility, else the field astm.facility_field names
// (in the first record of its type), through the mapping's facility table.
std::optional<MappingResult> read_facility(const Message& message, const LabMapping& mapping,
                                           std::string& facility) {
  const auto& opt = mapping.astm();
  std::string sent_facility = opt.facility;
  if (sent_facility.empty() && opt.facility_field) {
    for (const auto& rec : message.records) {
      if (rec.type() == opt.facility_field->record) {
        sent_facility = rec.value(opt.facility_field->field, opt.facility_field->component);
        break;
      }
    }
  }
  if (sent_facility.empty() && !opt.facility_field) {
    return failed(err::kUnknownKeyIdentifier, "unknown_facility", 0, 0, 0,
                  "The lab mapping names no facility for ASTM input (astm.facility).");
  }
  auto mapped = mapping.facility_for(sent_facility);
  if (!mapped) {
    return failed(err::kUnknownKeyIdentifier, mapped.error().code,
                  opt.facility_field ? opt.facility_field->record : 'H', 0,
                  opt.facility_field ? opt.facility_field->field : 0, mapped.error().message);
  }
  facility = *mapped;
  return std::nullopt;
}

// The header's date/time (H-14), else received_at.
std::optional<MappingResult> read_header_time(const Record& h, int utc_offset_minutes,
                                              TimeMs received_at, TimeMs& at) {
  at = received_at;
  if (!h.value(14).empty()) {
    auto t = hl7::parse_datetime(h.value(14), utc_offset_minutes);
    if (!t) return failed(err::kDataTypeError, "bad_datetime", 'H', 0, 14, t.error().message);
    at = *t;
  }
  return std::nullopt;
}

// What every result of one message shares.
struct MessageFacts {
  const LabMapping& mapping;
  const Record& header;
  std::string facility;
  TimeMs header_time = 0;
};

// What R record n says, read and checked step by step.
struct ResultRead {
  std::string test;
  std::string result;
  TestMethod method = TestMethod::unspecified;
  std::string din;
  TimeMs at = 0;
};

// LIS2-A2 result statuses (R-9) that are read but not recorded.
bool is_unrecorded_status(const std::string& status) {
  return std::string_view("PISXRMNQW").find(status) != std::string_view::npos && status.size() == 1;
}

// The hemoledger test for the test id `code` (R-3) and its result for the
// value as sent (R-4.1).
std::optional<MappingResult> map_test_and_result(const Record& rec, int n, const std::string& code,
                                                 const LabMapping& mapping, ResultRead& out) {
  if (code.empty()) {
    return failed(err::kRequiredFieldMissing, "missing_field", 'R', n, 3, "the test id is empty.");
  }
  auto test = mapping.test_for("", code);
  if (!test) {
    return failed(err::kTableValueNotFound, "unknown_test", 'R', n, 3, test.error().message);
  }
  const std::string value = rec.value(4, 1);
  if (value.empty()) {
    return failed(err::kRequiredFieldMissing, "missing_field", 'R', n, 4,
                  "the result of " + *test + " is empty.");
  }
  auto result = mapping.result_for(*test, value);
  if (!result) {
    return failed(err::kTableValueNotFound, "unknown_result", 'R', n, 4, result.error().message);
  }
  if (const auto& mf = mapping.astm().method_field) {
    auto method = mapping.method_for(rec.value(mf->field, mf->component));
    if (!method) {
      return failed(err::kTableValueNotFound, "unknown_method", 'R', n, mf->field,
                    method.error().message);
    }
    out.method = *method;
  }
  out.test = *test;
  out.result = *result;
  return std::nullopt;
}

// The donation number of R record n, from the last record of the type
// astm.din_field names before it (`din_record`, null when none).
std::optional<MappingResult> read_din(const Record* din_record, int n, const LabMapping::Astm& opt,
                                      ResultRead& out) {
  const char dr = opt.din_field.record;
  if (!din_record) {
    return failed(err::kSegmentSequence, "missing_field", dr, 0, opt.din_field.field,
                  "no " + std::string(1, dr) + " record before R " + std::to_string(n) +
                      " carries the specimen's donation number.");
  }
  const std::string din_sent = din_record->value(opt.din_field.field, opt.din_field.component);
  if (din_sent.empty()) {
    return failed(err::kRequiredFieldMissing, "missing_field", dr, 0, opt.din_field.field,
                  "the donation number is empty.");
  }
  auto din = din_from_lab(din_sent);
  if (!din) {
    return failed(err::kDataTypeError, din.error().code, dr, 0, opt.din_field.field,
                  din.error().message);
  }
  out.din = *din;
  return std::nullopt;
}

// When the result was made: R-13 when sent, else R-12, else the header's time.
std::optional<MappingResult> read_result_time(const Record& rec, int n, const MessageFacts& m,
                                              ResultRead& out) {
  out.at = m.header_time;
  for (int field : {12, 13}) {
    if (rec.value(field).empty()) continue;
    auto t = hl7::parse_datetime(rec.value(field), m.mapping.astm().utc_offset_minutes);
    if (!t) return failed(err::kDataTypeError, "bad_datetime", 'R', n, field, t.error().message);
    out.at = *t;
  }
  return std::nullopt;
}

// The TestResulted event of R record `rec`; its id names the facility, DIN, test and
// time (to the second), and ends in -c for a correction.
Event result_event(const Record& rec, const MessageFacts& m, const ResultRead& x, bool corrected) {
  Event e;
  std::string stamp = hl7::format_datetime(x.at).substr(0, 14);
  e.id = "astm-" + m.facility + "-" + x.din + "-" + x.test + "-" + stamp + (corrected ? "-c" : "");
  e.type = EventType::test_resulted;
  e.at = x.at;
  e.facility = m.facility;
  e.actor = sender_text(m.header.value(5, 1), 128);
  e.station = sender_text(rec.value(14, 1), 128);
  e.din = x.din;
  e.test = x.test;
  e.result = x.result;
  e.method = x.method;
  return e;
}

// Refuses an event validate_shape() does not accept: the sender's data error
// when it is the text the sender chose, else a mapping bug of ours.
std::optional<MappingResult> check_event(const Event& e, int n) {
  if (auto s = validate_shape(e); !s) {
    const bool senders = refused_for_sender_text(s.error());
    return failed(senders ? err::kDataTypeError : err::kApplicationInternalError, s.error().code,
                  'R', n, senders ? 4 : 0,
                  senders
                      ? s.error().message
                      : "hemoledger built an event it cannot accept (" + s.error().message + ")");
  }
  return std::nullopt;
}

// Maps R record n: appends its event to r, or a note when its status is not
// recorded, or returns the failure.
std::optional<MappingResult> map_record(const Record& rec, int n, const Record* din_record,
                                        const MessageFacts& m, MappingResult& r) {
  std::string code = rec.value(3, 4);
  if (code.empty()) code = rec.value(3, 1);
  const std::string status = rec.value(9);
  const std::string label = "R " + std::to_string(n) + (code.empty() ? "" : " (" + code + ")");
  if (status.empty()) {
    return failed(err::kRequiredFieldMissing, "missing_field", 'R', n, 9,
                  "the result status is empty; send F (final) or C (correction).");
  }
  if (status != "F" && status != "V" && status != "C") {
    if (is_unrecorded_status(status)) {
      r.notes.push_back(label + " has status " + status + " and was not recorded.");
      return std::nullopt;
    }
    return failed(err::kTableValueNotFound, "unknown_status", 'R', n, 9,
                  "\"" + sender_text(status, 10) + "\" is not an LIS2-A2 result status.");
  }
  ResultRead x;
  if (auto f = map_test_and_result(rec, n, code, m.mapping, x)) return f;
  if (auto f = read_din(din_record, n, m.mapping.astm(), x)) return f;
  if (auto f = read_result_time(rec, n, m, x)) return f;
  Event e = result_event(rec, m, x, status == "C");
  if (auto f = check_event(e, n)) return f;
  r.events.push_back(std::move(e));
  return std::nullopt;
}

}  // namespace

MappingResult map_results(const Message& message, const LabMapping& mapping, TimeMs received_at) {
  const auto& opt = mapping.astm();
  MessageFacts m{mapping, message.records.front(), {}, 0};
  if (auto f = read_facility(message, mapping, m.facility)) return *f;
  if (auto f = read_header_time(m.header, opt.utc_offset_minutes, received_at, m.header_time)) {
    return *f;
  }
  MappingResult r;
  const Record* din_record = nullptr;
  int results = 0;
  for (const auto& rec : message.records) {
    if (rec.type() == opt.din_field.record) din_record = &rec;
    if (rec.type() != 'R') continue;
    if (auto f = map_record(rec, ++results, din_record, m, r)) return *f;
  }
  if (results == 0) {
    return failed(err::kRequiredFieldMissing, "missing_segment", 'R', 0, 0,
                  "the message carries no result (R) record.");
  }
  return r;
}

// ---- LIS1-A link layer ---------------------------------------------------------------

std::string checksum(std::string_view fn_to_terminator) {
  unsigned sum = 0;
  for (char c : fn_to_terminator) sum += static_cast<unsigned char>(c);
  sum %= 256;
  return {hex_digit(static_cast<int>(sum / 16)), hex_digit(static_cast<int>(sum % 16))};
}

std::vector<std::string> frames_for(std::string_view message) {
  constexpr std::size_t kMaxText = 240;
  std::vector<std::string> frames;
  int fn = 1;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t end = message.find('\r', pos);
    end = end == std::string_view::npos ? message.size() : end + 1;
    std::string record(message.substr(pos, end - pos));
    pos = end;
    if (record.empty() || record == "\r") continue;
    if (record.back() != '\r') record += '\r';
    for (std::size_t at = 0; at < record.size(); at += kMaxText) {
      const bool last = at + kMaxText >= record.size();
      std::string body = std::to_string(fn) + record.substr(at, kMaxText) + (last ? kEtx : kEtb);
      frames.push_back(std::string(1, kStx) + body + checksum(body) + kCr + kLf);
      fn = (fn + 1) % 8;
    }
  }
  return frames;
}

void Lis1aReceiver::reset() {
  state_ = State::idle;
  expected_fn_ = 1;
  frame_.clear();
  record_.clear();
  message_.clear();
  reported_outside_ = false;
  too_large_ = false;
}

void Lis1aReceiver::end_frame(Output& out) {
  // frame_ = FN text ETX|ETB C1 C2 CR LF
  std::string f = std::move(frame_);
  frame_.clear();
  state_ = State::ready;
  const auto nak = [&](std::string code, std::string message) {
    out.reply += kNak;
    out.errors.push_back(make_error(std::move(code), std::move(message)));
  };
  if (f.size() < 6 || f.size() > 246 || f[f.size() - 2] != kCr ||
      (f[f.size() - 5] != kEtx && f[f.size() - 5] != kEtb) || f[0] < '0' || f[0] > '7') {
    return nak("bad_frame",
               "A frame did not have the layout STX FN text ETX|ETB C1 C2 CR LF "
               "(at most 247 bytes); it was refused (NAK).");
  }
  const std::string_view body(f.data(), f.size() - 4);  // FN .. ETX/ETB
  const std::string_view sent_sum(f.data() + f.size() - 4, 2);
  const std::string sum = checksum(body);
  if (sent_sum != sum) {
    return nak("bad_checksum", "Frame " + std::string(1, f[0]) + " has checksum " +
                                   std::string(sent_sum) + " where " + sum +
                                   " was computed; it was refused (NAK).");
  }
  const int fn = f[0] - '0';
  const int previous = (expected_fn_ + 7) % 8;
  if (fn != expected_fn_) {
    if (fn == previous && (!message_.empty() || !record_.empty())) {
      out.reply += kAck;  // our ACK was lost: the sender repeated the frame
      return;
    }
    return nak("wrong_frame_number", "Frame number " + std::to_string(fn) + " arrived where " +
                                         std::to_string(expected_fn_) +
                                         " was expected; it was refused (NAK).");
  }
  const std::string_view text = body.substr(1, body.size() - 2);
  if (message_.size() + record_.size() + text.size() > max_) {
    too_large_ = true;
  } else {
    record_.append(text);
    if (body.back() == kEtx) {
      message_ += record_;
      record_.clear();
    }
  }
  expected_fn_ = (expected_fn_ + 1) % 8;
  out.reply += kAck;
}

Lis1aReceiver::Output Lis1aReceiver::feed(std::string_view bytes) {
  Output out;
  for (char c : bytes) {
    switch (state_) {
      case State::idle:
        if (c == kEnq) {
          reset();
          state_ = State::ready;
          out.reply += kAck;
        } else if (!reported_outside_) {
          reported_outside_ = true;
          out.errors.push_back(make_error("bytes_outside_transfer",
                                          "Bytes arrived before an ENQ opened a transfer and were "
                                          "ignored."));
        }
        break;
      case State::ready:
        if (c == kStx) {
          state_ = State::in_frame;
          frame_.clear();
        } else if (c == kEot) {
          if (!record_.empty()) {
            out.errors.push_back(make_error("incomplete_record",
                                            "The transfer ended inside a record (after an ETB "
                                            "frame); the partial record was dropped."));
          }
          if (too_large_) {
            out.errors.push_back(make_error(
                "message_too_large",
                "The transfer exceeded " + std::to_string(max_) + " bytes and was dropped."));
          } else if (!message_.empty()) {
            out.messages.push_back(std::move(message_));
          }
          reset();
        } else if (c == kEnq) {
          if (!message_.empty() || !record_.empty()) {
            out.errors.push_back(make_error("transfer_aborted",
                                            "A new ENQ arrived inside a transfer; what had been "
                                            "received was dropped."));
          }
          reset();
          state_ = State::ready;
          out.reply += kAck;
        }
        // Anything else between frames (stray CR/LF, noise) is ignored.
        break;
      case State::in_frame:
        if (c == kEot || c == kEnq) {
          out.errors.push_back(make_error("transfer_aborted",
                                          "The sender ended the transfer inside a frame; what had "
                                          "been received was dropped."));
          reset();
          if (c == kEnq) {
            state_ = State::ready;
            out.reply += kAck;
          }
        } else if (c == kStx) {
          frame_.clear();  // a new frame restarts the unfinished one
        } else {
          frame_ += c;
          if (c == kLf) {
            end_frame(out);
          } else if (frame_.size() > 300) {
            out.reply += kNak;
            out.errors.push_back(make_error("bad_frame",
                                            "A frame ran past 247 bytes without its "
                                            "end; it was refused (NAK)."));
            frame_.clear();
            state_ = State::ready;
          }
        }
        break;
    }
  }
  return out;
}

std::string redact_identity(std::string_view records) {
  const char sep = records.size() > 1 && records[0] == 'H' ? records[1] : '|';
  // P-n is piece n - 1: field 1 is the record type.
  return mask_pieces(records, "P", sep, {5, 6, 10, 12}, "***");
}

}  // namespace hemoledger::astm
