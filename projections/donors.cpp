#include "projections/donors.h"

#include <algorithm>
#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <sstream>

#include "projections/markers.h"

namespace hemoledger {

namespace {

constexpr std::uint8_t kDonorFormat = 1;

template <class T>
void insert_sorted(std::vector<T>& v, T item) {
  auto it = std::lower_bound(v.begin(), v.end(), item);
  if (it != v.end() && *it == item) return;
  v.insert(it, std::move(item));
}

// A marker's deferral follows the marker: added, replaced or lifted when its
// status changes.
const MarkerState* find_marker(const std::vector<MarkerState>& markers, std::string_view code) {
  for (const auto& m : markers) {
    if (m.test == code) return &m;
  }
  return nullptr;
}

bool fold_markers(const ReferenceData& ref, DonorRecord& share,
                  const std::vector<MarkerState>& before, const Donation& after, const Event& e) {
  bool changed = false;
  for (const TestDef* screen : screens_answered_by(ref, e.test)) {
    const MarkerState* now = after.marker(screen->code);
    const MarkerState* was = find_marker(before, screen->code);
    const MarkerStatus s = now ? now->status : MarkerStatus::not_tested;
    if (s == (was ? was->status : MarkerStatus::not_tested)) continue;
    auto& list = share.deferrals;
    const auto old = std::remove_if(list.begin(), list.end(), [&](const DonorDeferral& d) {
      return d.din == after.din && d.test == screen->code;
    });
    changed = changed || old != list.end();
    list.erase(old, list.end());
    if (defers_donor(s)) {
      insert_sorted(list, DonorDeferral{std::string(deferral_reason(s)), e.at, 0, after.din,
                                        screen->code, e.id, e.facility});
      changed = true;
    }
  }
  return changed;
}

}  // namespace

bool fold_donation(const ReferenceData& ref, DonorRecord& share,
                   const std::vector<MarkerState>& before, const Donation& after, const Event& e) {
  if (after.donor.empty()) return false;
  share.donor = after.donor;
  switch (e.type) {
    case EventType::donation_collected:
      insert_sorted(share.donations, DonorVisit{e.at, e.din, e.facility, e.sex, ""});
      return true;
    case EventType::test_resulted:
      return fold_markers(ref, share, before, after, e);
    case EventType::deferred_donor_collected:
      for (auto& v : share.donations) {
        if (v.din == e.din) {
          v.flagged = e.reason;
          return true;
        }
      }
      return false;
    default:
      return false;
  }
}

Status apply_donor_event(const ReferenceData& ref, DonorRecord& share, const Event& e) {
  if (auto s = validate_shape(e); !s) return s;
  if (!ref.facility(e.facility)) {
    return make_error("unknown_facility",
                      "The facility " + e.facility + " is not a known facility.");
  }
  share.donor = e.donor;
  insert_sorted(share.deferrals, DonorDeferral{e.reason, e.at, e.until, "", "", e.id, e.facility});
  return {};
}

DonorRecord merge_donor(const std::vector<DonorRecord>& shares) {
  DonorRecord out;
  for (const auto& s : shares) {
    if (out.donor.empty()) out.donor = s.donor;
    for (const auto& v : s.donations) insert_sorted(out.donations, v);
    for (const auto& d : s.deferrals) insert_sorted(out.deferrals, d);
  }
  return out;
}

DonorStatus donor_status(const ReferenceData& ref, const DonorRecord& donor, TimeMs at,
                         std::string_view exclude_din) {
  DonorStatus best;
  const auto consider = [&](const std::string& reason, TimeMs until, const std::string& din,
                            const std::string& test) {
    const bool better = !best.deferred || (best.until != 0 && (until == 0 || until > best.until));
    if (better) best = DonorStatus{true, reason, until, din, test};
  };
  for (const auto& d : donor.deferrals) {
    if (d.from <= at && (d.until == 0 || d.until > at)) consider(d.reason, d.until, d.din, d.test);
  }
  DonorSex sex = DonorSex::unknown;
  const DonorVisit* last = nullptr;
  for (const auto& v : donor.donations) {
    if (v.sex != DonorSex::unknown) sex = v.sex;
    if (v.din != exclude_din && v.at <= at) last = &v;
  }
  const int days = ref.donation_interval_days(sex);
  if (last && days > 0 && last->at + days * kDay > at) {
    consider("donation_interval", last->at + days * kDay, last->din, "");
  }
  return best;
}

std::string describe(const DonorStatus& s) {
  if (!s.deferred) return "not deferred";
  std::string text = s.until ? "deferred until " + format_rfc3339(s.until) : "deferred permanently";
  text += " (" + s.reason;
  if (!s.test.empty()) text += ": " + s.test;
  if (!s.din.empty())
    text +=
        (s.reason == "donation_interval" ? " after" : " on") + std::string(" donation ") + s.din;
  return text + ")";
}

template <class Archive>
void serialize(Archive& ar, DonorDeferral& d) {
  ar(d.reason, d.from, d.until, d.din, d.test, d.event_id, d.facility);
}

template <class Archive>
void serialize(Archive& ar, DonorVisit& v) {
  ar(v.at, v.din, v.facility, v.sex, v.flagged);
}

std::string encode_donor(const DonorRecord& d) {
  std::ostringstream out(std::ios::binary);
  out.put(static_cast<char>(kDonorFormat));
  {
    cereal::PortableBinaryOutputArchive ar(
        out, cereal::PortableBinaryOutputArchive::Options::LittleEndian());
    ar(d.donor, d.donations, d.deferrals);
  }
  return std::move(out).str();
}

Result<DonorRecord> decode_donor(std::string_view bytes) {
  if (bytes.empty() || static_cast<std::uint8_t>(bytes[0]) != kDonorFormat) {
    return make_error("corrupt_state", "A stored donor record has an unknown format.");
  }
  std::istringstream in(std::string(bytes.substr(1)), std::ios::binary);
  DonorRecord d;
  try {
    cereal::PortableBinaryInputArchive ar(in);
    ar(d.donor, d.donations, d.deferrals);
  } catch (const std::exception& e) {
    return make_error("corrupt_state",
                      std::string("A stored donor record cannot be read: ") + e.what());
  }
  return d;
}

}  // namespace hemoledger
