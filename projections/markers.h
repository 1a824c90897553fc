// Markers: what the whole history of a screen's results says of a donation
// (DOMAIN.md "Screening algorithm", WHO guidance on screening donated blood).
//
//   MarkerStatus s = marker_status(ref, *ref.test("hiv"), donation.tests);
//   if (blocks_for_good(s)) ...   // every component, whatever comes later
//
// For a screen (data/tests.csv, kind screen) with `repeats` = n:
//   - no result yet: not_tested; non-reactive results only: non_reactive;
//   - the first reactive or indeterminate (grey-zone) result, whatever its
//     method, makes it initially_reactive: the same test must be repeated n
//     times (in duplicate: 2). Every later result of the test is a repeat;
//   - n non-reactive repeats: non_reactive (the donation may be released);
//   - any reactive or indeterminate repeat: repeatedly_reactive, for good;
//     with n = 0 the first reactive result is already final;
//   - the confirmatory test the row names (confirmed_by) then decides:
//     positive: confirmed_positive (whatever the screens said); negative on a
//     repeatedly reactive marker: not_confirmed (still blocked: the unit is
//     discarded either way; it is the donor's deferral that differs).
// Pure functions of the reference data and the results, in order.
#pragma once

#include <vector>

#include "events/reference_data.h"
#include "projections/unit_state.h"

namespace hemoledger {

MarkerStatus marker_status(const ReferenceData& ref, const TestDef& screen,
                           const std::vector<TestRecord>& results);

// Repeatedly reactive, not confirmed or confirmed positive: every component
// of the donation is blocked for good.
bool blocks_for_good(MarkerStatus s);
// The above, or initially reactive: no component may be released now.
bool blocks_release(MarkerStatus s);
// Whether the donor is deferred for it: repeatedly reactive (until a
// confirmatory answer: not confirmed lifts it) or confirmed positive (for
// good); the reason code of the deferral.
bool defers_donor(MarkerStatus s);
std::string_view deferral_reason(MarkerStatus s);

// The screens a result of test `code` can change: the test itself if it is a
// screen, or every screen it confirms.
std::vector<const TestDef*> screens_answered_by(const ReferenceData& ref, std::string_view code);

}  // namespace hemoledger
