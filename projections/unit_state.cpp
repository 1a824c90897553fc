#include "projections/unit_state.h"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <sstream>

namespace hemoledger {

namespace {

// 1: before recalls; 2: before result history, markers, typing discrepancies,
// deferred donors and recipient notification; 3: before the bedside (all
// still read).
constexpr std::uint8_t kDonationFormat = 4;

// The format being written or read, for the serialize() functions below
// (cereal's archives carry no user data). Set by encode_donation and
// decode_donation around their archive, on the calling thread.
thread_local std::uint8_t tl_format = kDonationFormat;

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
  // While typings disagree, the label's group (what the bag says) is counted.
  if (typing_discrepancy && declared != AboRh::unknown) return declared;
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
  for (auto it = tests.rbegin(); it != tests.rend(); ++it) {
    if (it->test == code) return &*it;
  }
  return nullptr;
}

const MarkerState* Donation::marker(std::string_view code) const {
  for (const auto& m : markers) {
    if (m.test == code) return &m;
  }
  return nullptr;
}

std::string_view to_string(MarkerStatus s) {
  switch (s) {
    case MarkerStatus::not_tested:
      return "not_tested";
    case MarkerStatus::non_reactive:
      return "non_reactive";
    case MarkerStatus::initially_reactive:
      return "initially_reactive";
    case MarkerStatus::repeatedly_reactive:
      return "repeatedly_reactive";
    case MarkerStatus::confirmed_positive:
      return "confirmed_positive";
    case MarkerStatus::not_confirmed:
      return "not_confirmed";
  }
  return "unknown";
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

// Serialization. Format 2 appends the recalls to format 1; format 3 appends
// a field or two to units, results and recalls, and the markers, typing and
// deferral state to the donation; format 4 appends each unit's bedside fields
// (in unit order) and the reactions. Enums travel as their fixed-width
// underlying type.
template <class Archive>
void serialize(Archive& ar, UnitState& u) {
  ar(u.product, u.category, u.status, u.holder, u.destination, u.produced_at, u.expires_at,
     u.issued_at, u.volume_ml, u.reserved_for, u.tti_blocked);
  if (tl_format >= 3) ar(u.released);
}

template <class Archive>
void serialize(Archive& ar, TestRecord& t) {
  ar(t.test, t.result, t.at, t.event_id);
  if (tl_format >= 3) ar(t.method, t.facility);
}

template <class Archive>
void serialize(Archive& ar, MarkerState& m) {
  ar(m.test, m.status, m.since);
}

template <class Archive>
void serialize(Archive& ar, HistoryEntry& h) {
  ar(h.event_id, h.type, h.at, h.facility, h.product, h.detail);
}

template <class Archive>
void serialize(Archive& ar, Recall& r) {
  ar(r.product, r.test, r.event_id, r.at, r.deadline, r.status_then, r.open);
  if (tl_format >= 3) {
    ar(r.notify_open, r.notify_deadline, r.transfused_by, r.patient, r.notified_at);
  }
}

// The format-4 part of a unit, written after the whole format-3 donation
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
  tl_format = kDonationFormat;
  {
    cereal::PortableBinaryOutputArchive ar(
        out, cereal::PortableBinaryOutputArchive::Options::LittleEndian());
    ar(d, d.recalls);
    ar(d.markers, d.typing_discrepancy, d.discrepancy, d.deferred_reason, d.deferred_until);
    for (const auto& u : d.units) bedside(ar, u);
    ar(d.reactions);
  }
  return std::move(out).str();
}

Result<Donation> decode_donation(std::string_view bytes) {
  const auto format = bytes.empty() ? 0 : static_cast<std::uint8_t>(bytes[0]);
  if (format < 1 || format > kDonationFormat) {
    return make_error("corrupt_state", "A stored donation has an unknown format.");
  }
  // Stored state is written by this engine only; still, never let it throw.
  std::istringstream in(std::string(bytes.substr(1)), std::ios::binary);
  Donation d;
  tl_format = format;
  try {
    cereal::PortableBinaryInputArchive ar(in);
    ar(d);
    if (format >= 2) ar(d.recalls);
    if (format >= 3) {
      ar(d.markers, d.typing_discrepancy, d.discrepancy, d.deferred_reason, d.deferred_until);
    }
    if (format >= 4) {
      for (auto& u : d.units) bedside(ar, u);
      ar(d.reactions);
    }
    tl_format = kDonationFormat;
  } catch (const std::exception& e) {
    tl_format = kDonationFormat;
    return make_error("corrupt_state",
                      std::string("A stored donation cannot be read: ") + e.what());
  }
  return d;
}

}  // namespace hemoledger
