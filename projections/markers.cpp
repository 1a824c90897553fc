#include "projections/markers.h"

#include <optional>

namespace hemoledger {

namespace {

bool reactive(std::string_view result) {
  ScreenOutcome o;
  return parse_screen_outcome(result, o) && o != ScreenOutcome::negative;
}

// The screens alone, without the confirmatory answer.
MarkerStatus screening_status(const TestDef& screen, const std::vector<TestRecord>& results) {
  bool tested = false, initially = false, repeat_reactive = false;
  int clear_repeats = 0;
  for (const auto& r : results) {
    if (r.test != screen.code) continue;
    tested = true;
    if (!initially) {
      initially = reactive(r.result);
    } else if (reactive(r.result)) {
      repeat_reactive = true;
    } else {
      ++clear_repeats;
    }
  }
  if (!tested) return MarkerStatus::not_tested;
  if (!initially) return MarkerStatus::non_reactive;
  if (repeat_reactive || screen.repeats == 0) return MarkerStatus::repeatedly_reactive;
  return clear_repeats >= screen.repeats ? MarkerStatus::non_reactive
                                         : MarkerStatus::initially_reactive;
}

}  // namespace

MarkerStatus marker_status(const ReferenceData& ref, const TestDef& screen,
                           const std::vector<TestRecord>& results) {
  const MarkerStatus screened = screening_status(screen, results);
  if (screen.confirmed_by.empty() || !ref.test(screen.confirmed_by)) return screened;
  // The latest confirmatory answer that is not indeterminate decides.
  std::optional<ScreenOutcome> confirmed;
  for (const auto& r : results) {
    ScreenOutcome o;
    if (r.test == screen.confirmed_by && parse_screen_outcome(r.result, o) &&
        o != ScreenOutcome::indeterminate) {
      confirmed = o;
    }
  }
  if (confirmed == ScreenOutcome::positive) return MarkerStatus::confirmed_positive;
  if (confirmed == ScreenOutcome::negative && screened == MarkerStatus::repeatedly_reactive) {
    return MarkerStatus::not_confirmed;
  }
  return screened;
}

bool blocks_for_good(MarkerStatus s) {
  return s == MarkerStatus::repeatedly_reactive || s == MarkerStatus::confirmed_positive ||
         s == MarkerStatus::not_confirmed;
}

bool blocks_release(MarkerStatus s) {
  return blocks_for_good(s) || s == MarkerStatus::initially_reactive;
}

bool defers_donor(MarkerStatus s) {
  return s == MarkerStatus::repeatedly_reactive || s == MarkerStatus::confirmed_positive;
}

std::string_view deferral_reason(MarkerStatus s) {
  return s == MarkerStatus::confirmed_positive ? "confirmed_positive" : "repeatedly_reactive";
}

std::vector<const TestDef*> screens_answered_by(const ReferenceData& ref, std::string_view code) {
  std::vector<const TestDef*> out;
  for (const auto& t : ref.tests()) {
    if (t.kind == TestKind::screen && (t.code == code || t.confirmed_by == code)) {
      out.push_back(&t);
    }
  }
  return out;
}

}  // namespace hemoledger
