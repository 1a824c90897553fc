// Instants on the UTC time line, as whole milliseconds since the Unix epoch,
// and their RFC 3339 text form ("2026-11-22T08:15:00Z", offsets and fractions
// accepted on input, always written back as UTC with a "Z").
//
// Pure functions: nothing here reads the clock. The engine's clock lives in
// engine/ and is passed in where it is needed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/result.h"

namespace hemoledger {

using TimeMs = std::int64_t;  // milliseconds since 1970-01-01T00:00:00Z

constexpr TimeMs kMinute = 60'000;
constexpr TimeMs kHour = 60 * kMinute;
constexpr TimeMs kDay = 24 * kHour;

// Parses RFC 3339 (date, 'T' or ' ', time, optional fraction, 'Z' or +hh:mm).
[[nodiscard]] Result<TimeMs> parse_rfc3339(std::string_view text);

// Formats as "YYYY-MM-DDTHH:MM:SSZ", with ".mmm" only when milliseconds are set.
std::string format_rfc3339(TimeMs t);

// Days since the epoch of a civil date (proleptic Gregorian), and back.
struct CivilDate {
  int y;
  unsigned m, d;  // 1-12, 1-31
};
std::int64_t days_from_civil(int y, unsigned m, unsigned d);
CivilDate civil_from_days(std::int64_t days);

// The last millisecond of the UTC day that contains t, plus `days` days.
TimeMs end_of_day_after(TimeMs t, int days);

}  // namespace hemoledger
