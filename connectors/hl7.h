// HL7 v2 messages: a parser, field access by "SEG-n[.c[.s]]" paths, MLLP
// framing (a stream decoder and mllp_frame()), and the ACK builder. Pure
// functions and values, no I/O, no clock: safe to use from any thread as long
// as one MllpDecoder is not fed from two threads at once.
//
//   auto m = hl7::parse(text);
//   if (!m) { reply(hl7::build_reject(...)); return; }        // m.error().code
//   std::string din = m->value("OBR-3.1");                     // "" when absent
//   std::string ack = hl7::build_ack(*m, {hl7::AckCode::accept, "Recorded.",
//                                         "ACK0001", now});
//
// Contract. parse() never throws and never reads past its input: every
// malformed message is an Error with one of these codes, and a sentence that
// names the segment (and its line) where it went wrong:
//   message_too_large        over ParseOptions::max_bytes or max_segments
//   no_msh                   the text does not start with an MSH segment
//   bad_encoding_characters  MSH-1/MSH-2 missing, repeated or alphanumeric
//   bad_segment              a segment name that is not three characters
//                            [A-Z][A-Z0-9][A-Z0-9], or a second MSH (batches
//                            are not read)
//   bad_character            a control character other than CR, LF or TAB
//   bad_escape               an escape sequence that is not closed
// Segments end with CR; LF and CRLF are tolerated and empty lines skipped.
// Values are unescaped on access: \F\ \S\ \T\ \R\ \E\ become the delimiters,
// \Xhh..\ the bytes hh..; other sequences (\H\, \N\, \.br\, ...) are dropped.
//
// Numbering follows HL7: field 1 of MSH is the field separator itself and
// field 2 the encoding characters; for other segments field 1 is the first
// field after the name. Repetitions, components and subcomponents count from 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.h"
#include "events/time.h"

namespace hemoledger::hl7 {

// Codes of parse() and MllpDecoder that callers steer by (the rest are
// listed above and in MllpDecoder's comment).
inline constexpr char kNoMsh[] = "no_msh";
inline constexpr char kBytesOutsideFrame[] = "bytes_outside_frame";

// The delimiters of one message, read from MSH-1 and MSH-2.
struct Encoding {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

// Text with the delimiters of `enc` escaped (\F\, \S\, \T\, \R\, \E\), and
// CR/LF (which would end the segment) written as \X0D\ / \X0A\.
std::string escape(std::string_view text, const Encoding& enc);
// The inverse; unknown sequences are dropped, an unclosed one kept verbatim.
std::string unescape(std::string_view text, const Encoding& enc);

// A place in a message: "OBR-3", "OBR-3.1", "SPM-2.1.1", "PID-3[2].1".
struct FieldPath {
  std::string segment;
  int field = 0;       // >= 1
  int repetition = 1;  // >= 1
  int component = 0;   // 0: the whole field (every component)
  int subcomponent = 0;

  std::string to_string() const;
};
// Error code "bad_field_path" with the expected form.
[[nodiscard]] Result<FieldPath> parse_field_path(std::string_view text);

class Segment {
 public:
  Segment(std::string name, std::vector<std::string> raw_fields, Encoding enc, int line);

  const std::string& name() const { return name_; }
  int line() const { return line_; }  // 1-based segment position in the message
  // The highest field number present (0 for a segment with only its name).
  int field_count() const;
  // Field n as sent (escaped, all repetitions); "" when absent.
  std::string_view raw(int field) const;
  int repetition_count(int field) const;  // 0 when empty
  // Unescaped value of one repetition, component and subcomponent.
  // component 0 returns the repetition's whole text and subcomponent 0 the
  // whole component, unescaped (an escaped delimiter then reads like a real
  // one: ask for the component to tell them apart). MSH-1 and MSH-2 are
  // returned as sent. "" when absent.
  std::string value(int field, int component = 0, int subcomponent = 0, int repetition = 1) const;

 private:
  std::string name_;
  std::vector<std::string> fields_;  // fields_[0] is field 1
  Encoding enc_;
  int line_ = 0;
};

struct ParseOptions {
  std::size_t max_bytes = 1 << 20;  // whole message; blood bank messages are a few kB
  std::size_t max_segments = 5000;
};

class Message {
 public:
  const Encoding& encoding() const { return enc_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const Segment& msh() const { return segments_.front(); }

  // The first segment called `name` (at or after index `from`), or nullptr.
  const Segment* find(std::string_view name, std::size_t from = 0) const;
  // The value at `path` in the first segment it names; a path without a
  // component reads component 1, subcomponent 1 (OBR-3 is OBR-3.1.1). ""
  // when absent or when the path does not parse.
  std::string value(std::string_view path) const;
  std::string value(const FieldPath& path) const;

  // Shorthands for MSH fields.
  std::string type() const { return msh().value(9, 1); }     // "ORU"
  std::string trigger() const { return msh().value(9, 2); }  // "R01"
  std::string control_id() const { return msh().value(10); }
  std::string version() const { return msh().value(12, 1); }

 private:
  friend Result<Message> parse(std::string_view text, const ParseOptions& options);
  Encoding enc_;
  std::vector<Segment> segments_;  // never empty: segments_[0] is MSH
};

[[nodiscard]] Result<Message> parse(std::string_view text, const ParseOptions& options = {});

// An HL7 date/time (DTM: YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]) as UTC. A
// value without an offset is local time at `default_offset_minutes` east of
// UTC. Error code "bad_datetime".
[[nodiscard]] Result<TimeMs> parse_datetime(std::string_view text, int default_offset_minutes = 0);
// YYYYMMDDHHMMSS+0000.
std::string format_datetime(TimeMs t);

// ---- MLLP ---------------------------------------------------------------------

inline constexpr char kMllpStart = 0x0B;
inline constexpr char kMllpEnd = 0x1C;
inline constexpr char kMllpEndCr = 0x0D;

// 0x0B, msg, 0x1C 0x0D.
std::string mllp_frame(std::string_view message);

// Reassembles MLLP frames from a byte stream cut anywhere (TCP reads). Not
// thread-safe; one decoder per connection.
//
// Error codes reported (the stream goes on after each):
//   bytes_outside_frame  bytes before a start byte were discarded (one error
//                        per run of such bytes)
//   truncated_frame      a start byte arrived inside a frame: the unfinished
//                        frame is dropped and a new one begins (also from
//                        finish() when the stream ends inside a frame)
//   bad_frame_end        0x1C not followed by 0x0D: the frame is dropped
//   frame_too_large      over max_frame_bytes: the frame is dropped and its
//                        bytes skipped up to its end
class MllpDecoder {
 public:
  explicit MllpDecoder(std::size_t max_frame_bytes = 1 << 20) : max_(max_frame_bytes) {}

  struct Output {
    std::vector<std::string> messages;  // complete frames, without framing bytes
    std::vector<Error> errors;
  };
  Output feed(std::string_view bytes);
  // Call when the connection closes: an error if a frame was left open.
  [[nodiscard]] Status finish();
  bool in_frame() const { return state_ != State::outside; }

 private:
  enum class State : std::uint8_t { outside, inside, after_end, skipping, skipping_after_end };
  std::size_t max_;
  State state_ = State::outside;
  std::string frame_;
  bool reported_outside_ = false;
};

// ---- ACK ----------------------------------------------------------------------

enum class AckCode : std::uint8_t { accept, error, reject };  // AA, AE, AR
std::string_view to_string(AckCode c);

// HL7 table 0357 (message error condition codes) used by hemoledger.
namespace err {
inline constexpr int kSegmentSequence = 100;
inline constexpr int kRequiredFieldMissing = 101;
inline constexpr int kDataTypeError = 102;
inline constexpr int kTableValueNotFound = 103;
inline constexpr int kUnsupportedMessageType = 200;
inline constexpr int kUnsupportedEventCode = 201;
inline constexpr int kUnknownKeyIdentifier = 204;
inline constexpr int kDuplicateKeyIdentifier = 205;
inline constexpr int kApplicationInternalError = 207;
}  // namespace err
// The table's text for a code ("Table value not found"), "" when not listed.
std::string_view error_text(int code);

// Where and why a message was not accepted: becomes the ERR segment.
struct AckError {
  int code = err::kApplicationInternalError;  // table 0357
  std::string segment;                        // "OBX", "" when not about one segment
  int sequence = 0;                           // which occurrence of the segment, 1-based
  int field = 0;                              // 0 when not about one field
  std::string message;                        // a plain sentence, ERR-8
};

struct Ack {
  AckCode code = AckCode::accept;
  std::string text;        // MSA-3 (and ERR-8 when there is no AckError)
  std::string control_id;  // MSH-10 of the ACK itself
  TimeMs at = 0;           // MSH-7
  std::optional<AckError> error;
};

// MSH (sending and receiving application/facility swapped, MSH-9
// ACK^<trigger>^ACK, processing id and version echoed), MSA (code, the
// inbound MSH-10, text) and, when ack.error is set, ERR (ERR-2 location,
// ERR-3 code^text^HL70357, ERR-4 E, ERR-8 the message). Segments end with CR.
std::string build_ack(const Message& inbound, const Ack& ack);
// For input that did not parse: no header to echo, so MSA-2 is empty and the
// ACK is addressed to nobody. Always AR.
std::string build_reject(const Ack& ack);

// The message as it may be stored (the m/ record of the lab gateway): the
// content of PID-5 (patient name), PID-6 (mother's maiden name), PID-9
// (alias), PID-11 (address), PID-13 and PID-14 (phones) of every PID segment
// replaced by "***"; empty fields stay empty, every other byte is unchanged
// (PID-3, the pseudonymous id, stays). Works on raw text, so a message that
// does not parse is redacted too; the field separator is MSH-1 when the text
// starts with MSH, else '|'.
std::string redact_identity(std::string_view message);

}  // namespace hemoledger::hl7
