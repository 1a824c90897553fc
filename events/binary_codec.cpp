#include "events/binary_codec.h"

#include <cereal/archives/portable_binary.hpp>
#include <exception>
#include <istream>
#include <sstream>
#include <streambuf>

#include "events/json_codec.h"

namespace hemoledger {

namespace {

// Reads straight from the caller's bytes; no copy.
class MemoryBuf : public std::streambuf {
 public:
  explicit MemoryBuf(std::string_view s) {
    char* p = const_cast<char*>(s.data());
    setg(p, p, p + s.size());
  }
  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

struct DecodeFailure : std::exception {
  explicit DecodeFailure(std::string m) : message(std::move(m)) {}
  std::string message;
};

template <class Archive>
void save_string(Archive& ar, const std::string& s) {
  ar(static_cast<std::uint32_t>(s.size()));
  ar(cereal::binary_data(s.data(), s.size()));
}

template <class Archive>
void load_string(Archive& ar, const MemoryBuf& buf, std::string& s) {
  std::uint32_t n = 0;
  ar(n);
  if (n > kMaxStringBytes || n > buf.remaining()) {
    throw DecodeFailure("a text field claims " + std::to_string(n) + " bytes");
  }
  s.resize(n);
  ar(cereal::binary_data(s.data(), n));
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
  }
  return std::move(out).str();
}

bool looks_binary(std::string_view bytes) {
  return bytes.size() >= 3 && bytes[0] == kBinaryMagic0 && bytes[1] == kBinaryMagic1;
}

Result<Event> decode_binary(std::string_view bytes) {
  if (!looks_binary(bytes)) {
    return make_error("undecodable", "The message is neither a hemoledger binary event nor JSON.");
  }
  if (static_cast<std::uint8_t>(bytes[2]) != kBinaryFormat) {
    return make_error("undecodable", "The binary frame format " +
                                         std::to_string(static_cast<std::uint8_t>(bytes[2])) +
                                         " is not supported.");
  }
  MemoryBuf buf(bytes.substr(3));
  std::istream in(&buf);
  Event e;
  try {
    cereal::PortableBinaryInputArchive ar(in);
    ar(e.schema_version);
    if (e.schema_version == 0 || e.schema_version > kSchemaVersion) {
      return make_error("unsupported_version",
                        "Schema version " + std::to_string(e.schema_version) +
                            " is not supported; this engine reads versions 1 to " +
                            std::to_string(kSchemaVersion) + ".");
    }
    std::uint8_t type = 0, abo = 0, patient_abo = 0;
    std::int64_t at = 0, recorded = 0, expires = 0;
    std::int32_t volume = 0;
    load_string(ar, buf, e.id);
    ar(type);
    ar(at, recorded);
    load_string(ar, buf, e.facility);
    load_string(ar, buf, e.actor);
    load_string(ar, buf, e.station);
    load_string(ar, buf, e.din);
    load_string(ar, buf, e.product);
    load_string(ar, buf, e.donor);
    ar(abo, expires, volume);
    load_string(ar, buf, e.to);
    load_string(ar, buf, e.test);
    load_string(ar, buf, e.result);
    load_string(ar, buf, e.reason);
    ar(patient_abo);
    std::int32_t quantity = 0;
    if (e.schema_version >= 2) {
      load_string(ar, buf, e.reagent);
      load_string(ar, buf, e.lot);
      ar(quantity);
    }
    e.quantity = quantity;
    if (type < 1 || type > kEventTypeCount) {
      return make_error("unknown_type",
                        "Binary event type " + std::to_string(type) + " is not one hemoledger knows.");
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
  } catch (const DecodeFailure& f) {
    return make_error("undecodable", "The binary event is damaged: " + f.message + ".");
  } catch (const std::exception&) {
    return make_error("undecodable", "The binary event is truncated or damaged.");
  }
  if (buf.remaining() != 0) {
    return make_error("undecodable", "The binary event has trailing bytes.");
  }
  if (auto s = validate_shape(e); !s) return s.error();
  return e;
}

Result<Event> decode_event(std::string_view bytes) {
  if (looks_binary(bytes)) return decode_binary(bytes);
  return decode_json(bytes);
}

}  // namespace hemoledger
