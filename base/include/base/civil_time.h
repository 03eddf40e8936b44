// Civil time: dates of the proleptic Gregorian calendar, and RFC 3339
// timestamps as int64 nanoseconds since 1970-01-01T00:00:00Z (Unix time:
// every day has 86,400 seconds, leap seconds do not exist). The int64 range
// runs from 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z.
//
// The calendar arithmetic is H. Hinnant's days_from_civil and
// civil_from_days: exact for every date whose day count fits int64, no
// tables, no time zone database, no locks (unlike gmtime_r and timegm).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sluice {

inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr std::int64_t kSecondsPerDay = 86'400;

struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
  bool operator==(const CivilDate&) const = default;
};

// Days since 1970-01-01 of a date (negative before it).
// REQUIRES: 1 <= month <= 12, 1 <= day <= 31; a day past the month's end
// counts on into the next month (2023-02-29 is 2023-03-01).
std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day);
// The date `days` after 1970-01-01.
CivilDate CivilFromDays(std::int64_t days);

bool IsLeapYear(std::int64_t year);
// REQUIRES: 1 <= month <= 12.
unsigned DaysInMonth(std::int64_t year, unsigned month);

// A Unix time in ns broken into its UTC date and time of day.
struct CivilTime {
  CivilDate date;
  unsigned hour = 0;    // 0..23
  unsigned minute = 0;  // 0..59
  unsigned second = 0;  // 0..59
  unsigned nanos = 0;   // 0..999,999,999
  bool operator==(const CivilTime&) const = default;
};
CivilTime ToCivilTime(std::int64_t unix_ns);

// ---- RFC 3339 ---------------------------------------------------------------

// The fraction FormatRfc3339 writes after the seconds.
enum class Rfc3339Precision {
  kSeconds,      // "2025-01-31T12:00:00Z": the fraction is dropped (rounded down)
  kNanos,        // "2025-01-31T12:00:00.000000000Z": always nine digits
  kNanosIfAny,   // nine digits unless the time is whole seconds, then none
};

// `unix_ns` in UTC: "YYYY-MM-DDTHH:MM:SS[.fffffffff]Z", always four year
// digits (int64 ns spans 1677 to 2262). No locale, no snprintf: cheap enough
// for one call per record.
std::string FormatRfc3339(std::int64_t unix_ns, Rfc3339Precision precision);
void AppendRfc3339(std::int64_t unix_ns, Rfc3339Precision precision, std::string& out);

// What ParseRfc3339 does with a second of 60 (a leap second).
enum class LeapSecond {
  kRefuse,              // an error: Unix time cannot tell it apart
  kFoldOntoNextSecond,  // 23:59:60 reads as the next day's 00:00:00, as POSIX time does
};
// What ParseRfc3339 does with more than nine fraction digits.
enum class ExcessFraction {
  kRefuse,    // an error: below a nanosecond, never rounded
  kTruncate,  // digits past the nanosecond are dropped (they must still be digits)
};
struct Rfc3339ParseOptions {
  LeapSecond leap_second = LeapSecond::kRefuse;            // Default: kRefuse.
  ExcessFraction excess_fraction = ExcessFraction::kRefuse;  // Default: kRefuse.
};

// "YYYY-MM-DDTHH:MM:SS[.f](Z|+hh:mm|-hh:mm)" into Unix ns: 'T' may be 't'
// or a space, 'Z' may be 'z', the fraction has 1 to 9 digits, the offset is
// at most 23:59 either way ("-00:00" reads as "Z"). The date must exist.
// InvalidArgument saying what is wrong (quoting at most 64 bytes of the
// text) otherwise, or when the time lies outside the int64 ns range.
Result<std::int64_t> ParseRfc3339(std::string_view text, Rfc3339ParseOptions options = {});

}  // namespace sluice
