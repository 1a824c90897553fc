#include "connectors/hl7.h"

#include <array>
#include <cstdio>
#include <utility>

#include "connectors/sender_text.h"
#include "connectors/text.h"

namespace hemoledger::hl7 {

namespace {

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_upper(c) || is_digit(c) || (c >= 'a' && c <= 'z'); }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t i = s.find(sep, start);
    if (i == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, i - start));
    start = i + 1;
  }
}

// Sender text as quoted in this file's messages (connectors/sender_text.h).
std::string shown(std::string_view s) { return sender_text(s, 30, Clipped::marked); }

unsigned days_in_month(int y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

// ---- escaping -------------------------------------------------------------------

std::string escape(std::string_view text, const Encoding& enc) {
  std::string out;
  out.reserve(text.size());
  const auto seq = [&](std::string_view body) {
    out += enc.escape;
    out += body;
    out += enc.escape;
  };
  for (char c : text) {
    if (c == enc.escape)
      seq("E");
    else if (c == enc.field)
      seq("F");
    else if (c == enc.component)
      seq("S");
    else if (c == enc.subcomponent)
      seq("T");
    else if (c == enc.repetition)
      seq("R");
    else if (c == '\r')
      seq("X0D");
    else if (c == '\n')
      seq("X0A");
    else
      out += c;
  }
  return out;
}

std::string unescape(std::string_view text, const Encoding& enc) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != enc.escape) {
      out += text[i++];
      continue;
    }
    const std::size_t close = text.find(enc.escape, i + 1);
    if (close == std::string_view::npos) {  // unclosed: keep as sent
      out.append(text.substr(i));
      break;
    }
    const std::string_view body = text.substr(i + 1, close - i - 1);
    if (body == "F") {
      out += enc.field;
    } else if (body == "S") {
      out += enc.component;
    } else if (body == "T") {
      out += enc.subcomponent;
    } else if (body == "R") {
      out += enc.repetition;
    } else if (body == "E") {
      out += enc.escape;
    } else if (!body.empty() && body[0] == 'X' && body.size() % 2 == 1) {
      for (std::size_t k = 1; k + 1 < body.size(); k += 2) {
        const int hi = hex_value(body[k]);
        const int lo = hex_value(body[k + 1]);
        if (hi < 0 || lo < 0) break;
        out += static_cast<char>(hi * 16 + lo);
      }
    }
    // Formatting (\H\, \N\, \.br\, ...) and character set sequences are dropped.
    i = close + 1;
  }
  return out;
}

// ---- paths ----------------------------------------------------------------------

std::string FieldPath::to_string() const {
  std::string s = segment + "-" + std::to_string(field);
  if (repetition != 1) s += "[" + std::to_string(repetition) + "]";
  if (component > 0) s += "." + std::to_string(component);
  if (subcomponent > 0) s += "." + std::to_string(subcomponent);
  return s;
}

Result<FieldPath> parse_field_path(std::string_view text) {
  const auto bad = [&] {
    return make_error("bad_field_path",
                      "\"" + shown(text) +
                          "\" is not a field path; expected SEG-n, SEG-n.c or SEG-n.c.s "
                          "(e.g. OBR-3 or OBR-3.1), optionally SEG-n[r] for repetition r.");
  };
  FieldPath p;
  std::size_t i = 0;
  while (i < text.size() && (is_upper(text[i]) || is_digit(text[i]))) ++i;
  if (i != 3 || !is_upper(text[0])) return bad();
  p.segment = std::string(text.substr(0, 3));
  if (i >= text.size() || text[i] != '-') return bad();
  ++i;
  const auto number = [&](int& out) {
    const std::size_t start = i;
    long v = 0;
    while (i < text.size() && is_digit(text[i]) && i - start < 4) v = v * 10 + (text[i++] - '0');
    if (i == start || v < 1 || (i < text.size() && is_digit(text[i]))) return false;
    out = static_cast<int>(v);
    return true;
  };
  if (!number(p.field)) return bad();
  if (i < text.size() && text[i] == '[') {
    ++i;
    if (!number(p.repetition) || i >= text.size() || text[i] != ']') return bad();
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!number(p.component)) return bad();
    if (i < text.size() && text[i] == '.') {
      ++i;
      if (!number(p.subcomponent)) return bad();
    }
  }
  if (i != text.size()) return bad();
  return p;
}

// ---- segments and messages --------------------------------------------------------

Segment::Segment(std::string name, std::vector<std::string> raw_fields, Encoding enc, int line)
    : name_(std::move(name)), fields_(std::move(raw_fields)), enc_(enc), line_(line) {}

int Segment::field_count() const { return static_cast<int>(fields_.size()); }

std::string_view Segment::raw(int field) const {
  if (field < 1 || field > field_count()) return {};
  return fields_[static_cast<std::size_t>(field - 1)];
}

int Segment::repetition_count(int field) const {
  const std::string_view r = raw(field);
  if (r.empty()) return 0;
  if (name_ == "MSH" && field <= 2) return 1;
  return static_cast<int>(split(r, enc_.repetition).size());
}

std::string Segment::value(int field, int component, int subcomponent, int repetition) const {
  const std::string_view r = raw(field);
  if (name_ == "MSH" && field <= 2) return std::string(r);  // the delimiters themselves
  std::string_view v = piece(r, enc_.repetition, repetition);
  if (component > 0) {
    v = piece(v, enc_.component, component);
    if (subcomponent > 0) v = piece(v, enc_.subcomponent, subcomponent);
  }
  return unescape(v, enc_);
}

const Segment* Message::find(std::string_view name, std::size_t from) const {
  for (std::size_t i = from; i < segments_.size(); ++i) {
    if (segments_[i].name() == name) return &segments_[i];
  }
  return nullptr;
}

std::string Message::value(const FieldPath& path) const {
  const Segment* s = find(path.segment);
  if (!s) return {};
  return s->value(path.field, path.component == 0 ? 1 : path.component,
                  path.subcomponent == 0 ? 1 : path.subcomponent, path.repetition);
}

std::string Message::value(std::string_view path) const {
  auto p = parse_field_path(path);
  return p ? value(*p) : std::string();
}

namespace {

// MSH-1 and MSH-2 of a message that starts with "MSH". MSH-2: component,
// repetition, escape, subcomponent (and, from v2.7, a fifth truncation
// character, accepted and ignored).
Result<Encoding> read_encoding(std::string_view text) {
  if (text.size() < 8) {
    return make_error("bad_encoding_characters",
                      "MSH is too short to carry the field separator (MSH-1) and the four "
                      "encoding characters (MSH-2).");
  }
  Encoding enc;
  enc.field = text[3];
  const std::size_t enc_end = text.find(enc.field, 4);
  const std::string_view enc_chars =
      text.substr(4, enc_end == std::string_view::npos ? std::string_view::npos : enc_end - 4);
  bool ok = (enc_chars.size() == 4 || enc_chars.size() == 5);
  const std::string all = std::string(1, enc.field) + std::string(enc_chars);
  for (std::size_t a = 0; ok && a < all.size(); ++a) {
    const char c = all[a];
    if (is_alnum(c) || c == ' ' || static_cast<unsigned char>(c) < 0x21 ||
        static_cast<unsigned char>(c) > 0x7e) {
      ok = false;
    }
    for (std::size_t b = a + 1; ok && b < all.size(); ++b) {
      if (all[b] == c) ok = false;
    }
  }
  if (!ok) {
    return make_error("bad_encoding_characters",
                      "MSH-1 and MSH-2 must be five different punctuation characters (usually "
                      "|^~\\&); this message has \"" +
                          shown(text.substr(3, enc_chars.size() + 1)) + "\".");
  }
  enc.component = enc_chars[0];
  enc.repetition = enc_chars[1];
  enc.escape = enc_chars[2];
  enc.subcomponent = enc_chars[3];
  return enc;
}

// Refuses a segment with a control character other than tab.
Status check_characters(std::string_view seg, int line) {
  for (char c : seg) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return make_error("bad_character", "Segment " + std::to_string(line) +
                                             " contains a control character (byte " +
                                             std::to_string(u) + ").");
    }
  }
  return {};
}

// Refuses a segment without a three-character name, and a second MSH.
Status check_name(std::string_view seg, int line, const Encoding& enc) {
  const std::string_view name = seg.substr(0, 3);
  const bool name_ok =
      seg.size() >= 3 && is_upper(name[0]) && (is_upper(name[1]) || is_digit(name[1])) &&
      (is_upper(name[2]) || is_digit(name[2])) && (seg.size() == 3 || seg[3] == enc.field);
  if (!name_ok) {
    return make_error("bad_segment", "Segment " + std::to_string(line) + " (\"" + shown(seg) +
                                         "\") does not start with a three-character "
                                         "segment name.");
  }
  if (name == "MSH" && line > 1) {
    return make_error("bad_segment", "Segment " + std::to_string(line) +
                                         " is a second MSH: send one message per frame "
                                         "(batches are not read).");
  }
  return {};
}

// The raw fields of a segment named `name`, trailing empty ones dropped. For
// MSH, field 1 is the field separator itself.
std::vector<std::string> split_fields(std::string_view seg, std::string_view name,
                                      const Encoding& enc) {
  std::vector<std::string> fields;
  if (name == "MSH") {
    fields.emplace_back(1, enc.field);
    const std::string_view rest = seg.size() > 4 ? seg.substr(4) : std::string_view();
    for (auto f : split(rest, enc.field)) fields.emplace_back(f);
  } else if (seg.size() > 3) {
    for (auto f : split(seg.substr(4), enc.field)) fields.emplace_back(f);
  }
  while (!fields.empty() && fields.back().empty()) fields.pop_back();
  return fields;
}

// Refuses a field with an escape sequence that is not closed (MSH-1 and
// MSH-2, the delimiters themselves, are not read for escapes).
Status check_escapes(const std::vector<std::string>& fields, std::string_view name, int line,
                     const Encoding& enc) {
  for (std::size_t f = (name == "MSH" ? 2 : 0); f < fields.size(); ++f) {
    std::size_t escapes = 0;
    for (char c : fields[f]) escapes += (c == enc.escape);
    if (escapes % 2 != 0) {
      return make_error("bad_escape", std::string(name) + "-" + std::to_string(f + 1) +
                                          " (segment " + std::to_string(line) +
                                          ") has an escape sequence that is not closed.");
    }
  }
  return {};
}

// One non-empty line of the message as a segment, or why it is refused.
Result<Segment> read_segment(std::string_view seg, int line, const Encoding& enc) {
  if (auto s = check_characters(seg, line); !s) return s.error();
  if (auto s = check_name(seg, line, enc); !s) return s.error();
  const std::string_view name = seg.substr(0, 3);
  std::vector<std::string> fields = split_fields(seg, name, enc);
  if (auto s = check_escapes(fields, name, line, enc); !s) return s.error();
  return Segment(std::string(name), std::move(fields), enc, line);
}

}  // namespace

Result<Message> parse(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_bytes) {
    return make_error("message_too_large",
                      "The message is " + std::to_string(text.size()) + " bytes; at most " +
                          std::to_string(options.max_bytes) + " are accepted.");
  }
  while (!text.empty() && (text.front() == '\r' || text.front() == '\n')) text.remove_prefix(1);
  if (text.size() < 3 || text.substr(0, 3) != "MSH") {
    return make_error(kNoMsh, "The message does not start with an MSH segment.");
  }
  auto enc = read_encoding(text);
  if (!enc) return enc.error();
  Message m;
  m.enc_ = *enc;

  std::size_t pos = 0;
  int line = 0;
  while (pos < text.size()) {
    std::size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view seg = text.substr(pos, end - pos);
    pos = end + 1;
    if (seg.empty()) continue;
    ++line;
    if (m.segments_.size() >= options.max_segments) {
      return make_error(
          "message_too_large",
          "The message has more than " + std::to_string(options.max_segments) + " segments.");
    }
    auto segment = read_segment(seg, line, m.enc_);
    if (!segment) return segment.error();
    m.segments_.push_back(std::move(*segment));
  }
  return m;
}

// ---- date/time ----------------------------------------------------------------------

Result<TimeMs> parse_datetime(std::string_view text, int default_offset_minutes) {
  const auto bad = [&] {
    return make_error("bad_datetime", "\"" + shown(text) +
                                          "\" is not an HL7 date/time "
                                          "(YYYYMMDDHHMMSS, optionally +/-ZZZZ).");
  };
  std::size_t n = 0;
  while (n < text.size() && is_digit(text[n])) ++n;
  if (n < 4 || n > 14 || n % 2 != 0) return bad();
  const auto num = [&](std::size_t at, std::size_t len) {
    int v = 0;
    for (std::size_t k = at; k < at + len; ++k) v = v * 10 + (text[k] - '0');
    return v;
  };
  const int y = num(0, 4);
  const unsigned mo = n >= 6 ? static_cast<unsigned>(num(4, 2)) : 1;
  const unsigned d = n >= 8 ? static_cast<unsigned>(num(6, 2)) : 1;
  const int h = n >= 10 ? num(8, 2) : 0;
  const int mi = n >= 12 ? num(10, 2) : 0;
  const int s = n >= 14 ? num(12, 2) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59) {
    return bad();
  }
  std::size_t i = n;
  int ms = 0;
  if (i < text.size() && text[i] == '.') {
    if (n != 14) return bad();
    ++i;
    const std::size_t start = i;
    int scale = 100;
    while (i < text.size() && is_digit(text[i])) {
      ms += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start || i - start > 4) return bad();
  }
  int offset = default_offset_minutes;
  if (i < text.size()) {
    if ((text[i] != '+' && text[i] != '-') || text.size() - i != 5) return bad();
    for (std::size_t k = i + 1; k < text.size(); ++k) {
      if (!is_digit(text[k])) return bad();
    }
    const int oh = num(i + 1, 2);
    const int om = num(i + 3, 2);
    if (oh > 14 || om > 59) return bad();
    offset = (oh * 60 + om) * (text[i] == '-' ? -1 : 1);
  }
  const TimeMs local = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * kMinute + s * 1000 + ms;
  return local - static_cast<TimeMs>(offset) * kMinute;
}

std::string format_datetime(TimeMs t) {
  std::int64_t days = t / kDay;
  TimeMs rest = t % kDay;
  if (rest < 0) {
    rest += kDay;
    --days;
  }
  const CivilDate c = civil_from_days(days);
  const auto secs = rest / 1000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u%02d%02d%02d+0000", c.y, c.m, c.d,
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60));
  return buf;
}

// ---- MLLP -------------------------------------------------------------------------

std::string mllp_frame(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 3);
  out += kMllpStart;
  out += message;
  out += kMllpEnd;
  out += kMllpEndCr;
  return out;
}

MllpDecoder::Output MllpDecoder::feed(std::string_view bytes) {
  Output out;
  const auto too_large = [&] {
    out.errors.push_back(
        make_error("frame_too_large", "An MLLP frame exceeded " + std::to_string(max_) +
                                          " bytes and was discarded; send smaller messages."));
  };
  for (char c : bytes) {
    switch (state_) {
      case State::outside:
        if (c == kMllpStart) {
          state_ = State::inside;
          frame_.clear();
          reported_outside_ = false;
        } else if (!reported_outside_) {
          reported_outside_ = true;
          out.errors.push_back(make_error(kBytesOutsideFrame,
                                          "Bytes outside an MLLP frame (before the 0x0B start "
                                          "byte) were discarded."));
        }
        break;
      case State::inside:
        if (c == kMllpEnd) {
          state_ = State::after_end;
        } else if (c == kMllpStart) {
          out.errors.push_back(make_error("truncated_frame",
                                          "An MLLP frame was cut off by a new start byte and was "
                                          "discarded."));
          frame_.clear();
        } else if (frame_.size() >= max_) {
          too_large();
          frame_.clear();
          state_ = State::skipping;
        } else {
          frame_ += c;
        }
        break;
      case State::after_end:
        if (c == kMllpEndCr) {
          out.messages.push_back(std::move(frame_));
          frame_.clear();
          state_ = State::outside;
        } else {
          out.errors.push_back(make_error("bad_frame_end",
                                          "An MLLP frame ended with 0x1C not followed by 0x0D and "
                                          "was discarded."));
          frame_.clear();
          state_ = c == kMllpStart ? State::inside : State::outside;
          reported_outside_ = c != kMllpStart;
        }
        break;
      case State::skipping:
        if (c == kMllpEnd)
          state_ = State::skipping_after_end;
        else if (c == kMllpStart)
          state_ = State::inside;
        break;
      case State::skipping_after_end:
        if (c == kMllpEndCr)
          state_ = State::outside;
        else if (c == kMllpStart)
          state_ = State::inside;
        else if (c != kMllpEnd)
          state_ = State::skipping;
        break;
    }
  }
  return out;
}

Status MllpDecoder::finish() {
  const bool open = state_ == State::inside || state_ == State::after_end;
  state_ = State::outside;
  frame_.clear();
  reported_outside_ = false;
  if (open) {
    return make_error("truncated_frame",
                      "The connection closed inside an MLLP frame; the partial message was "
                      "discarded.");
  }
  return {};
}

// ---- ACK --------------------------------------------------------------------------

std::string_view to_string(AckCode c) {
  switch (c) {
    case AckCode::accept:
      return "AA";
    case AckCode::error:
      return "AE";
    case AckCode::reject:
      return "AR";
  }
  return "AR";
}

std::string_view error_text(int code) {
  switch (code) {
    case 0:
      return "Message accepted";
    case err::kSegmentSequence:
      return "Segment sequence error";
    case err::kRequiredFieldMissing:
      return "Required field missing";
    case err::kDataTypeError:
      return "Data type error";
    case err::kTableValueNotFound:
      return "Table value not found";
    case err::kUnsupportedMessageType:
      return "Unsupported message type";
    case err::kUnsupportedEventCode:
      return "Unsupported event code";
    case 202:
      return "Unsupported processing id";
    case 203:
      return "Unsupported version id";
    case err::kUnknownKeyIdentifier:
      return "Unknown key identifier";
    case err::kDuplicateKeyIdentifier:
      return "Duplicate key identifier";
    case 206:
      return "Application record locked";
    case err::kApplicationInternalError:
      return "Application internal error";
    default:
      return "";
  }
}

namespace {

std::string ack_tail(const Ack& ack, std::string_view inbound_control_raw, const Encoding& enc) {
  const char f = enc.field;
  std::string out = "MSA";
  out += f;
  out += to_string(ack.code);
  out += f;
  out += inbound_control_raw;
  out += f;
  out += escape(ack.text, enc);
  out += '\r';
  if (ack.error) {
    const AckError& e = *ack.error;
    out += "ERR";
    out += f;  // ERR-1 (deprecated) empty
    out += f;
    if (!e.segment.empty()) {  // ERR-2 segment^sequence^field
      out += escape(e.segment, enc);
      out += enc.component;
      if (e.sequence > 0) out += std::to_string(e.sequence);
      out += enc.component;
      if (e.field > 0) out += std::to_string(e.field);
    }
    out += f;  // ERR-3 code^text^HL70357
    out += std::to_string(e.code);
    out += enc.component;
    out += escape(error_text(e.code), enc);
    out += enc.component;
    out += "HL70357";
    out += f;
    out += 'E';  // ERR-4 severity
    out += f;    // ERR-5
    out += f;    // ERR-6
    out += f;    // ERR-7
    out += f;
    out += escape(e.message.empty() ? ack.text : e.message, enc);  // ERR-8
    out += '\r';
  }
  return out;
}

}  // namespace

std::string build_ack(const Message& inbound, const Ack& ack) {
  const Segment& in = inbound.msh();
  const Encoding& enc = inbound.encoding();
  const char f = enc.field;
  std::string out = "MSH";
  out += f;
  out += in.raw(2);
  for (int field : {5, 6, 3, 4}) {  // receiving app/facility become sending
    out += f;
    out += in.raw(field);
  }
  // Our own texts are escaped too: an inbound message may choose '.' or '+'
  // as a delimiter, and "2.5" or a "+0000" offset must not read as one.
  out += f;
  out += escape(format_datetime(ack.at), enc);
  out += f;  // MSH-8 security
  out += f;
  out += "ACK";
  out += enc.component;
  out += escape(inbound.trigger(), enc);
  out += enc.component;
  out += "ACK";
  out += f;
  out += escape(ack.control_id, enc);
  out += f;
  out += in.raw(11).empty() ? std::string_view("P") : in.raw(11);
  out += f;
  out += in.raw(12).empty() ? escape("2.5", enc) : std::string(in.raw(12));
  out += '\r';
  out += ack_tail(ack, in.raw(10), enc);
  return out;
}

std::string build_reject(const Ack& ack) {
  const Encoding enc;
  Ack a = ack;
  a.code = AckCode::reject;
  std::string out = "MSH|^~\\&|HEMOLEDGER||||" + format_datetime(ack.at) + "||ACK|" +
                    escape(ack.control_id, enc) + "|P|2.5\r";
  out += ack_tail(a, "", enc);
  return out;
}

std::string redact_identity(std::string_view message) {
  const char sep = message.size() > 3 && message.substr(0, 3) == "MSH" ? message[3] : '|';
  // PID-n is piece n: piece 0 is the segment name.
  return mask_pieces(message, "PID", sep, {5, 6, 9, 11, 13, 14}, "***");
}

}  // namespace hemoledger::hl7
