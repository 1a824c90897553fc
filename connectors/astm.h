// ASTM E1394 / CLSI LIS2-A2 analyzer messages (records H, P, O, R, C, L and
// the rest), their mapping to TestResulted events, and the CLSI LIS1-A (ASTM
// E1381) link layer as a pure receiving state machine. No I/O, no clock;
// values only, safe from any thread; one Lis1aReceiver per connection.
//
//   astm::Lis1aReceiver link;
//   auto out = link.feed(bytes_from_serial_port);
//   write_back(out.reply);                                  // ACK / NAK bytes
//   for (auto& text : out.messages) {
//     auto msg = astm::parse(text);
//     if (msg) produce(astm::map_results(*msg, mapping, now).events);
//   }
//
// Records (parse). One record a line; lines end with CR, LF or CRLF (so the
// text of a file of records reads the same as a link-layer message). The first
// record is H; the character after "H" is the field delimiter and H-2 gives
// the repeat, component and escape delimiters (usually "|\^&"). Field
// numbering follows LIS2-A2: field 1 is the record type, so R-3 is the
// universal test id and R-4 the value. Escapes &F& &S& &R& &E& are decoded on
// access. Error codes:
//   message_too_large  over ParseOptions::max_bytes or max_records
//   no_header          the first record is not H
//   bad_delimiters     the H record's delimiters are missing, repeated or
//                      alphanumeric
//   bad_record         a record type that is not one LIS2-A2 defines
//                      (H P O R C L Q M S), or a control character
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/lab_mapping.h"
#include "events/result.h"
#include "events/time.h"

namespace hemoledger::astm {

struct Delimiters {
  char field = '|';
  char repeat = '\\';
  char component = '^';
  char escape = '&';
};

class Record {
 public:
  Record(std::vector<std::string> fields, Delimiters d, int line);

  char type() const { return fields_.front().front(); }
  int line() const { return line_; }  // 1-based position in the message
  // Field n as sent (escaped, all repeats); "" when absent.
  std::string_view raw(int field) const;
  // Unescaped. component 0 returns the repeat's whole text.
  std::string value(int field, int component = 0, int repeat = 1) const;

 private:
  std::vector<std::string> fields_;  // fields_[0] is field 1, the record type
  Delimiters d_;
  int line_;
};

struct ParseOptions {
  std::size_t max_bytes = 1 << 20;
  std::size_t max_records = 10000;
};

struct Message {
  Delimiters delimiters;
  std::vector<Record> records;  // records[0] is H
  bool terminated = false;      // an L record was seen
};

[[nodiscard]] Result<Message> parse(std::string_view text, const ParseOptions& options = {});

// R records -> TestResulted, all or nothing (MappingResult in lab_mapping.h;
// its error names the record as segment, e.g. "R", sequence = which R).
//   DIN      the mapping's astm.din_field (default O-3, the specimen id) in
//            the latest record of that type before the R
//   test     R-3 component 4 (the manufacturer's local code, "^^^ABO"), else
//            component 1, looked up in the default coding system
//   result   R-4 component 1 through the mapping's result tables
//   status   R-9: F (final) and V (verified) recorded, C (correction)
//            recorded with a new id; P, I, S, X, R, M, N, Q, W not, with a note
//   time     R-13 (completed), else R-12 (started), else H-14, else
//            received_at; YYYYMMDDHHMMSS at the mapping's astm.utc_offset
//   facility astm.facility, or the value of astm.facility_field
//   id       astm-<facility>-<din>-<test>-<YYYYMMDDHHMMSS of the time>[-c]: a
//            retransmission gives the same ids. A message that carries no
//            time at all gets received_at, and a retransmission is not
//            recognised.
[[nodiscard]] MappingResult map_results(const Message& message, const LabMapping& mapping,
                                        TimeMs received_at);

// ---- LIS1-A (E1381) link layer ------------------------------------------------------

inline constexpr char kEnq = 0x05;
inline constexpr char kAck = 0x06;
inline constexpr char kNak = 0x15;
inline constexpr char kStx = 0x02;
inline constexpr char kEtx = 0x03;
inline constexpr char kEtb = 0x17;
inline constexpr char kEot = 0x04;
inline constexpr char kCr = 0x0D;
inline constexpr char kLf = 0x0A;

// Two uppercase hex characters: the sum of the bytes of `fn_to_terminator`
// (the frame number through ETX or ETB, inclusive) modulo 256.
std::string checksum(std::string_view fn_to_terminator);

// The frames a sender transmits for `message` (records separated by CR):
// each record in frames of at most 240 text characters, intermediate frames
// ending ETB, the record's last frame ETX, frame numbers 1..7,0,1,...
std::vector<std::string> frames_for(std::string_view message);

// The records as they may be stored (the m/ record of the lab gateway): the
// content of P-6 (patient name), P-7 (mother's maiden name), P-11 (address)
// and P-13 (phone) of every P record replaced by "***"; empty fields stay
// empty, every other byte is unchanged (P-3 to P-5, the ids, stay). Works on
// raw text; the field delimiter is the one after "H" when the text starts
// with an H record, else '|'.
std::string redact_identity(std::string_view records);

// Receiving side of the link layer. feed() takes bytes as they arrive, cut
// anywhere, and returns what to send back and what is complete:
//   ENQ                        -> ACK; a transfer starts, next frame number 1
//   STX FN text ETX|ETB C1 C2 CR LF
//                              -> ACK when FN is the expected number and the
//                                 checksum is right (text kept; ETB frames
//                                 continue the record); NAK otherwise, and
//                                 the sender retransmits the same frame. A
//                                 repeat of the frame just accepted (its ACK
//                                 was lost) is ACKed again and not kept twice.
//   EOT                        -> the transfer ends; the message (every record
//                                 received, each ending CR) is returned.
// Errors reported (and what became of the data): bad_checksum,
// wrong_frame_number, bad_frame (frame layout or over 247 bytes; NAK),
// incomplete_record (EOT after an ETB frame; the partial record dropped),
// transfer_aborted (ENQ or EOT inside a frame: the message so far dropped),
// message_too_large (over max_message_bytes: the transfer is dropped),
// bytes_outside_transfer (bytes other than ENQ while idle, ignored).
// Timeouts belong to the caller (LIS1-A: 30 s): call reset() when one expires.
class Lis1aReceiver {
 public:
  explicit Lis1aReceiver(std::size_t max_message_bytes = 1 << 20) : max_(max_message_bytes) {}

  struct Output {
    std::string reply;                  // ACK/NAK bytes, in order
    std::vector<std::string> messages;  // complete transfers
    std::vector<Error> errors;
  };
  Output feed(std::string_view bytes);
  void reset();  // back to idle, dropping any partial transfer
  bool idle() const { return state_ == State::idle; }

 private:
  enum class State : std::uint8_t { idle, ready, in_frame };
  void end_frame(Output& out);

  std::size_t max_;
  State state_ = State::idle;
  int expected_fn_ = 1;
  std::string frame_;    // bytes after STX up to and including LF
  std::string record_;   // text of ETB frames of the current record
  std::string message_;  // records complete so far
  bool reported_outside_ = false;
  bool too_large_ = false;
};

}  // namespace hemoledger::astm
