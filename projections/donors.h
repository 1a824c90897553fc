// Donor status: a small projection keyed by the pseudonymous donor id
// (DOMAIN.md "Donors"). It holds the donor's donations and deferrals:
//   - permanent or temporary (with an end) deferrals from DonorDeferred,
//     with a reason code (events/event.h, is_deferral_reason);
//   - deferrals derived from the donor's donations: a marker repeatedly
//     reactive (lifted if the confirmatory test does not confirm it) or
//     confirmed positive (permanent; projections/markers.h);
//   - the minimum interval between whole-blood donations, per sex
//     (data/donor_intervals.csv): every donation defers the donor until it
//     has passed (every DonationCollected counts as a whole-blood donation).
//
// Events of one donor live in several Kafka partitions (a donation's are
// keyed by its DIN, a DonorDeferred by "donor:<id>"), so each partition keeps
// its own share of the record (`DonorRecord`, stored per partition and
// compared by rebuild like every projection) and readers merge the shares.
// Everything in a record is kept sorted, so merging is a union: the order in
// which partitions were applied never changes the answer.
//
//   DonorRecord share = ...;                      // per partition
//   fold_donation(ref, share, markers_before, after, e);  // after each donation event
//   DonorRecord all = merge_donor({share_p0, share_p3});
//   DonorStatus s = donor_status(ref, all, at, /*exclude_din=*/din);
//
// Pure; values only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "events/event.h"
#include "events/reference_data.h"
#include "projections/unit_state.h"

namespace hemoledger {

struct DonorDeferral {
  std::string reason;  // deferral reason code
  TimeMs from = 0;
  TimeMs until = 0;      // 0: permanent
  std::string din;       // the donation that caused it, if any
  std::string test;      // the marker, for derived deferrals
  std::string event_id;  // the DonorDeferred or TestResulted that made it
  std::string facility;

  auto operator<=>(const DonorDeferral&) const = default;
};

struct DonorVisit {
  TimeMs at = 0;
  std::string din, facility;
  DonorSex sex = DonorSex::unknown;
  std::string flagged;  // collected while deferred: the reason (DeferredDonorCollected)

  auto operator<=>(const DonorVisit&) const = default;
};

struct DonorRecord {
  std::string donor;
  std::vector<DonorVisit> donations;     // by time, then DIN
  std::vector<DonorDeferral> deferrals;  // by start, then the rest

  bool empty() const { return donations.empty() && deferrals.empty(); }
  bool operator==(const DonorRecord&) const = default;
};

// A donation event's effect on its partition's share of the donor: a
// collection adds a visit, a result may add, change or lift a marker's
// deferral, a DeferredDonorCollected marks the visit. `markers_before` are
// the donation's markers before the event. False if nothing changed.
bool fold_donation(const ReferenceData& ref, DonorRecord& share,
                   const std::vector<MarkerState>& markers_before, const Donation& after,
                   const Event& e);

// DonorDeferred: checks it against the reference data (unknown_facility) and
// adds the deferral to the share of the event's partition.
[[nodiscard]] Status apply_donor_event(const ReferenceData& ref, DonorRecord& share,
                                       const Event& e);

// The shares of every partition as one record.
DonorRecord merge_donor(const std::vector<DonorRecord>& shares);

// Whether the donor is deferred at instant `at`: the deferral that lasts
// longest (a permanent one first), with the interval since the latest earlier
// donation other than `exclude_din`.
struct DonorStatus {
  bool deferred = false;
  std::string reason;
  TimeMs until = 0;  // 0 with deferred: permanent
  std::string din;   // the donation behind it, if any
  std::string test;
};
DonorStatus donor_status(const ReferenceData& ref, const DonorRecord& donor, TimeMs at,
                         std::string_view exclude_din = {});

// The sentence a technician reads: "deferred permanently (confirmed_positive,
// hiv on donation ...)".
std::string describe(const DonorStatus& s);

// cereal portable binary with a leading format byte; decode never throws.
std::string encode_donor(const DonorRecord& d);
[[nodiscard]] Result<DonorRecord> decode_donor(std::string_view bytes);

}  // namespace hemoledger
