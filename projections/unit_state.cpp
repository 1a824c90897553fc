#include "projections/unit_state.h"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <sstream>

namespace hemoledger {

namespace {

// 1: before recalls; 2: before the bedside (both still read).
constexpr std::uint8_t kDonationFormat = 3;

struct StatusName {
  UnitStatus status;
  std::string_view name;
};
constexpr StatusName kStatusNames[] = {
    {UnitStatus::quarantined, "quarantined"}, {UnitStatus::available, "available"},
    {UnitStatus::reserved, "reserved"},       {UnitStatus::in_transit, "in_transit"},
    {UnitStatus::issued, "issued"},           {UnitStatus::transfused, "transfused"},
    {UnitStatus::discarded, "discarded"},     {UnitStatus::expired, "expired"},
};

}  // namespace

std::string_view to_string(UnitStatus s) {
  for (const auto& n : kStatusNames) {
    if (n.status == s) return n.name;
  }
  return "unknown";
}

bool parse_unit_status(std::string_view text, UnitStatus& out) {
  for (const auto& n : kStatusNames) {
    if (n.name == text) {
      out = n.status;
      return true;
    }
  }
  return false;
}

bool is_final(UnitStatus s) {
  return s == UnitStatus::transfused || s == UnitStatus::discarded || s == UnitStatus::expired;
}

bool in_stock(UnitStatus s) { return !is_final(s); }

AboRh Donation::group() const {
  const AboRh typed = combine(typed_abo, typed_rhd);
  return typed != AboRh::unknown ? typed : declared;
}

const UnitState* Donation::unit(std::string_view product) const {
  for (const auto& u : units) {
    if (u.product == product) return &u;
  }
  return nullptr;
}

UnitState* Donation::unit(std::string_view product) {
  for (auto& u : units) {
    if (u.product == product) return &u;
  }
  return nullptr;
}

const TestRecord* Donation::test(std::string_view code) const {
  for (const auto& t : tests) {
    if (t.test == code) return &t;
  }
  return nullptr;
}

const Recall* Donation::recall(std::string_view product) const {
  for (const auto& r : recalls) {
    if (r.product == product) return &r;
  }
  return nullptr;
}

Recall* Donation::recall(std::string_view product) {
  for (auto& r : recalls) {
    if (r.product == product) return &r;
  }
  return nullptr;
}

// Serialization. Format 2 appends the recalls to format 1; format 3 appends each
// unit's bedside fields (in unit order) and the reactions. Enums travel as their
// fixed-width underlying type.
template <class Archive>
void serialize(Archive& ar, UnitState& u) {
  ar(u.product, u.category, u.status, u.holder, u.destination, u.produced_at, u.expires_at,
     u.issued_at, u.volume_ml, u.reserved_for, u.tti_blocked);
}

template <class Archive>
void serialize(Archive& ar, TestRecord& t) {
  ar(t.test, t.result, t.at, t.event_id);
}

template <class Archive>
void serialize(Archive& ar, HistoryEntry& h) {
  ar(h.event_id, h.type, h.at, h.facility, h.product, h.detail);
}

template <class Archive>
void serialize(Archive& ar, Recall& r) {
  ar(r.product, r.test, r.event_id, r.at, r.deadline, r.status_then, r.open);
}

// The format-3 part of a unit, written after the whole format-2 donation
// (U is UnitState when reading, const UnitState when writing).
template <class Archive, class U>
void bedside(Archive& ar, U& u) {
  ar(u.issued_by, u.patient, u.patient_group, u.emergency, u.group_incompatible, u.rhd_exception,
     u.reaction_reported, u.thawed_at, u.hv_hold);
}

template <class Archive>
void serialize(Archive& ar, Reaction& r) {
  ar(r.product, r.event_id, r.reported_by, r.issued_by, r.patient, r.at, r.onset_at, r.category,
     r.severity, r.imputability, r.held);
}

template <class Archive>
void serialize(Archive& ar, Donation& d) {
  ar(d.din, d.donor, d.facility, d.collected_at, d.volume_ml, d.declared, d.typed_abo, d.typed_rhd,
     d.tti_positive, d.tests, d.units, d.history);
}

std::string encode_donation(const Donation& d) {
  std::ostringstream out(std::ios::binary);
  out.put(static_cast<char>(kDonationFormat));
  {
    cereal::PortableBinaryOutputArchive ar(
        out, cereal::PortableBinaryOutputArchive::Options::LittleEndian());
    ar(d, d.recalls);
    for (const auto& u : d.units) bedside(ar, u);
    ar(d.reactions);
  }
  return std::move(out).str();
}

Result<Donation> decode_donation(std::string_view bytes) {
  const auto format = bytes.empty() ? 0 : static_cast<std::uint8_t>(bytes[0]);
  if (format != 1 && format != kDonationFormat) {
    return make_error("corrupt_state", "A stored donation has an unknown format.");
  }
  // Stored state is written by this engine only; still, never let it throw.
  std::istringstream in(std::string(bytes.substr(1)), std::ios::binary);
  Donation d;
  try {
    cereal::PortableBinaryInputArchive ar(in);
    ar(d);
    if (format >= 2) ar(d.recalls);
    if (format >= 3) {
      for (auto& u : d.units) bedside(ar, u);
      ar(d.reactions);
    }
  } catch (const std::exception& e) {
    return make_error("corrupt_state",
                      std::string("A stored donation cannot be read: ") + e.what());
  }
  return d;
}

}  // namespace hemoledger
