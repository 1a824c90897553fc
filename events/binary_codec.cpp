#include "events/binary_codec.h"

#include <algorithm>
#include <cereal/archives/portable_binary.hpp>
#include <cstring>
#include <exception>
#include <sstream>

#include "events/json_codec.h"

namespace hemoledger {

namespace {

template <class Archive>
void save_string(Archive& ar, const std::string& s) {
  ar(static_cast<std::uint32_t>(s.size()));
  ar(cereal::binary_data(s.data(), s.size()));
}

}  // namespace

std::string encode_binary(const Event& e) {
  std::ostringstream out(std::ios::binary);
  out.put(kBinaryMagic0);
  out.put(kBinaryMagic1);
  out.put(static_cast<char>(kBinaryFormat));
  {
    cereal::PortableBinaryOutputArchive ar(
        out, cereal::PortableBinaryOutputArchive::Options::LittleEndian());
    ar(e.schema_version);
    // Schema version 1, in this order.
    save_string(ar, e.id);
    ar(static_cast<std::uint8_t>(e.type));
    ar(static_cast<std::int64_t>(e.at), static_cast<std::int64_t>(e.recorded_at));
    save_string(ar, e.facility);
    save_string(ar, e.actor);
    save_string(ar, e.station);
    save_string(ar, e.din);
    save_string(ar, e.product);
    save_string(ar, e.donor);
    ar(static_cast<std::uint8_t>(e.abo_rh), static_cast<std::int64_t>(e.expires_at),
       static_cast<std::int32_t>(e.volume_ml));
    save_string(ar, e.to);
    save_string(ar, e.test);
    save_string(ar, e.result);
    save_string(ar, e.reason);
    ar(static_cast<std::uint8_t>(e.patient_abo_rh));
    if (e.schema_version >= 2) {  // schema version 2 appends the reagent fields
      save_string(ar, e.reagent);
      save_string(ar, e.lot);
      ar(static_cast<std::int32_t>(e.quantity));
    }
    if (e.schema_version >= 3) {  // schema version 3 appends the laboratory and donor fields
      ar(static_cast<std::uint8_t>(e.method), static_cast<std::int64_t>(e.until),
         static_cast<std::uint8_t>(e.sex));
      save_string(ar, e.approver);
    }
    if (e.schema_version >= 4) {  // schema version 4 appends the bedside fields
      save_string(ar, e.patient);
      ar(static_cast<std::uint8_t>(e.emergency ? 1 : 0), static_cast<std::uint8_t>(e.reaction),
         static_cast<std::uint8_t>(e.severity), static_cast<std::uint8_t>(e.imputability),
         static_cast<std::int64_t>(e.onset_at));
    }
  }
  return std::move(out).str();
}

bool looks_binary(std::string_view bytes) {
  return bytes.size() >= 3 && bytes[0] == kBinaryMagic0 && bytes[1] == kBinaryMagic1;
}

namespace {

// The body as cereal's portable binary archive wrote it: a byte saying whether
// the writer was little-endian, then fixed-width integers in that order and
// strings as length(u32) + bytes. Read straight from the caller's bytes, with
// every length checked, into the caller's Event (whose strings keep their
// capacity from one event to the next).
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : p_(body.data()), end_(body.data() + body.size()) {}
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  bool truncated() const { return truncated_; }
  const std::string& failure() const { return failure_; }
  bool ok() const { return !truncated_ && failure_.empty(); }

  void endianness() {
    std::uint8_t little = 1;
    raw(&little, 1);
    swap_ = little != 1;  // as cereal: any other flag means "convert"
  }
  template <class T>
  T number() {
    unsigned char b[sizeof(T)] = {};
    raw(b, sizeof(T));
    if (swap_) std::reverse(b, b + sizeof(T));
    T v;
    std::memcpy(&v, b, sizeof(T));
    return v;
  }
  void string(std::string& s) {
    const auto n = number<std::uint32_t>();
    if (!ok()) return;
    if (n > kMaxStringBytes || n > remaining()) {
      failure_ = "a text field claims " + std::to_string(n) + " bytes";
      return;
    }
    s.assign(p_, n);
    p_ += n;
  }

 private:
  void raw(void* out, std::size_t n) {
    if (!ok()) return;
    if (remaining() < n) {
      truncated_ = true;
      return;
    }
    std::memcpy(out, p_, n);
    p_ += n;
  }
  const char* p_;
  const char* end_;
  bool swap_ = false;
  bool truncated_ = false;
  std::string failure_;
};

}  // namespace

Status decode_binary_into(std::string_view bytes, Event& e) {
  if (!looks_binary(bytes)) {
    return make_error("undecodable", "The message is neither a hemoledger binary event nor JSON.");
  }
  if (static_cast<std::uint8_t>(bytes[2]) != kBinaryFormat) {
    return make_error("undecodable", "The binary frame format " +
                                         std::to_string(static_cast<std::uint8_t>(bytes[2])) +
                                         " is not supported.");
  }
  BodyReader in(bytes.substr(3));
  const auto damaged = [&]() -> Error {
    if (in.truncated())
      return make_error("undecodable", "The binary event is truncated or damaged.");
    return make_error("undecodable", "The binary event is damaged: " + in.failure() + ".");
  };
  in.endianness();
  e.schema_version = in.number<std::uint16_t>();
  if (!in.ok()) return damaged();
  if (e.schema_version == 0 || e.schema_version > kSchemaVersion) {
    return make_error("unsupported_version",
                      "Schema version " + std::to_string(e.schema_version) +
                          " is not supported; this engine reads versions 1 to " +
                          std::to_string(kSchemaVersion) + ".");
  }
  // Schema version 1, in this order (encode_binary).
  in.string(e.id);
  const auto type = in.number<std::uint8_t>();
  const auto at = in.number<std::int64_t>();
  const auto recorded = in.number<std::int64_t>();
  in.string(e.facility);
  in.string(e.actor);
  in.string(e.station);
  in.string(e.din);
  in.string(e.product);
  in.string(e.donor);
  const auto abo = in.number<std::uint8_t>();
  const auto expires = in.number<std::int64_t>();
  const auto volume = in.number<std::int32_t>();
  in.string(e.to);
  in.string(e.test);
  in.string(e.result);
  in.string(e.reason);
  const auto patient_abo = in.number<std::uint8_t>();
  std::int32_t quantity = 0;
  if (e.schema_version >= 2) {
    in.string(e.reagent);
    in.string(e.lot);
    quantity = in.number<std::int32_t>();
  } else {
    e.reagent.clear();
    e.lot.clear();
  }
  std::uint8_t method = 0, sex = 0;
  std::int64_t until = 0;
  if (e.schema_version >= 3) {
    method = in.number<std::uint8_t>();
    until = in.number<std::int64_t>();
    sex = in.number<std::uint8_t>();
    in.string(e.approver);
  } else {
    e.approver.clear();
  }
  std::uint8_t emergency = 0, reaction = 0, severity = 0, imputability = 0;
  std::int64_t onset = 0;
  if (e.schema_version >= 4) {
    in.string(e.patient);
    emergency = in.number<std::uint8_t>();
    reaction = in.number<std::uint8_t>();
    severity = in.number<std::uint8_t>();
    imputability = in.number<std::uint8_t>();
    onset = in.number<std::int64_t>();
  } else {
    e.patient.clear();
  }
  if (!in.ok()) return damaged();
  if (emergency > 1 || reaction > kLastReactionCategory || severity > kLastReactionSeverity ||
      imputability > kLastImputability) {
    return make_error("undecodable", "The binary event carries an invalid bedside code.");
  }
  e.emergency = emergency == 1;
  e.reaction = static_cast<ReactionCategory>(reaction);
  e.severity = static_cast<ReactionSeverity>(severity);
  e.imputability = static_cast<Imputability>(imputability);
  e.onset_at = onset;
  e.quantity = quantity;
  if (method > static_cast<std::uint8_t>(TestMethod::nat) ||
      sex > static_cast<std::uint8_t>(DonorSex::female)) {
    return make_error("undecodable", "The binary event carries an invalid method or sex.");
  }
  e.method = static_cast<TestMethod>(method);
  e.until = until;
  e.sex = static_cast<DonorSex>(sex);
  if (type < 1 || type > kEventTypeCount) {
    return make_error("unknown_type", "Binary event type " + std::to_string(type) +
                                          " is not one hemoledger knows.");
  }
  if (abo > 8 || patient_abo > 8) {
    return make_error("undecodable", "The binary event carries an invalid blood group.");
  }
  e.type = static_cast<EventType>(type);
  e.at = at;
  e.recorded_at = recorded;
  e.expires_at = expires;
  e.volume_ml = volume;
  e.abo_rh = static_cast<AboRh>(abo);
  e.patient_abo_rh = static_cast<AboRh>(patient_abo);
  if (in.remaining() != 0) {
    return make_error("undecodable", "The binary event has trailing bytes.");
  }
  return validate_shape(e);
}

Result<Event> decode_binary(std::string_view bytes) {
  Event e;
  if (auto s = decode_binary_into(bytes, e); !s) return s.error();
  return e;
}

Result<Event> decode_event(std::string_view bytes) {
  if (looks_binary(bytes)) return decode_binary(bytes);
  return decode_json(bytes);
}

}  // namespace hemoledger
