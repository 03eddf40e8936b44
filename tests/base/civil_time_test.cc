#include "base/civil_time.h"

#include <doctest/doctest.h>

#include <limits>
#include <string>

namespace sluice {
namespace {

using I64 = std::numeric_limits<std::int64_t>;
constexpr std::int64_t kDayNs = kSecondsPerDay * kNanosPerSecond;

std::int64_t Parse(std::string_view text, Rfc3339ParseOptions options = {}) {
  auto r = ParseRfc3339(text, options);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

std::string Error(std::string_view text, Rfc3339ParseOptions options = {}) {
  auto r = ParseRfc3339(text, options);
  REQUIRE_MESSAGE(!r.ok(), text);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  return r.status().message();
}

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("days from civil and back, across leap years and before 1970") {
  CHECK(DaysFromCivil(1970, 1, 1) == 0);
  CHECK(DaysFromCivil(1969, 12, 31) == -1);
  CHECK(DaysFromCivil(2000, 3, 1) - DaysFromCivil(2000, 2, 28) == 2);  // 2000 is leap
  CHECK(DaysFromCivil(1900, 3, 1) - DaysFromCivil(1900, 2, 28) == 1);  // 1900 is not
  CHECK(DaysFromCivil(2024, 3, 1) - DaysFromCivil(2024, 2, 28) == 2);
  CHECK(DaysFromCivil(2023, 2, 29) == DaysFromCivil(2023, 3, 1));  // counts on
  CHECK(DaysFromCivil(2025, 1, 31) == 20119);
  CHECK(DaysFromCivil(1677, 9, 21) == -106752);
  CHECK(DaysFromCivil(0, 1, 1) == -719528);
  CHECK(DaysFromCivil(-1, 12, 31) == -719529);
  CHECK(CivilFromDays(0) == CivilDate{1970, 1, 1});
  CHECK(CivilFromDays(-1) == CivilDate{1969, 12, 31});
  CHECK(CivilFromDays(-719529) == CivilDate{-1, 12, 31});
  CHECK(CivilFromDays(DaysFromCivil(2000, 2, 29)) == CivilDate{2000, 2, 29});
  // Every day of 1600..2400 (two 400-year cycles around the epoch).
  const std::int64_t first = DaysFromCivil(1600, 1, 1), last = DaysFromCivil(2400, 12, 31);
  CivilDate expect{1600, 1, 1};
  for (std::int64_t d = first; d <= last; ++d) {
    const CivilDate got = CivilFromDays(d);
    REQUIRE(got == expect);
    REQUIRE(DaysFromCivil(got.year, got.month, got.day) == d);
    if (++expect.day > DaysInMonth(expect.year, expect.month)) {
      expect.day = 1;
      if (++expect.month > 12) {
        expect.month = 1;
        ++expect.year;
      }
    }
  }
}

TEST_CASE("leap years and month lengths") {
  CHECK(IsLeapYear(2024));
  CHECK(IsLeapYear(2000));
  CHECK(IsLeapYear(1600));
  CHECK_FALSE(IsLeapYear(1900));
  CHECK_FALSE(IsLeapYear(2023));
  CHECK_FALSE(IsLeapYear(2100));
  CHECK(IsLeapYear(0));
  CHECK(IsLeapYear(-4));
  CHECK(DaysInMonth(2024, 2) == 29);
  CHECK(DaysInMonth(2023, 2) == 28);
  CHECK(DaysInMonth(1900, 2) == 28);
  CHECK(DaysInMonth(2023, 4) == 30);
  CHECK(DaysInMonth(2023, 12) == 31);
}

TEST_CASE("a Unix time breaks into its UTC date and time of day, before 1970 too") {
  CHECK(ToCivilTime(0) == CivilTime{{1970, 1, 1}, 0, 0, 0, 0});
  CHECK(ToCivilTime(-1) == CivilTime{{1969, 12, 31}, 23, 59, 59, 999'999'999});
  CHECK(ToCivilTime(I64::min()) == CivilTime{{1677, 9, 21}, 0, 12, 43, 145'224'192});
  CHECK(ToCivilTime(I64::max()) == CivilTime{{2262, 4, 11}, 23, 47, 16, 854'775'807});
}

TEST_CASE("RFC 3339 formatting in UTC at each precision") {
  const std::int64_t t = 1'738'324'800'123'456'789;  // 2025-01-31T12:00:00.123456789Z
  CHECK(FormatRfc3339(t, Rfc3339Precision::kNanos) == "2025-01-31T12:00:00.123456789Z");
  CHECK(FormatRfc3339(t, Rfc3339Precision::kNanosIfAny) == "2025-01-31T12:00:00.123456789Z");
  CHECK(FormatRfc3339(t, Rfc3339Precision::kSeconds) == "2025-01-31T12:00:00Z");
  CHECK(FormatRfc3339(0, Rfc3339Precision::kNanos) == "1970-01-01T00:00:00.000000000Z");
  CHECK(FormatRfc3339(0, Rfc3339Precision::kNanosIfAny) == "1970-01-01T00:00:00Z");
  CHECK(FormatRfc3339(0, Rfc3339Precision::kSeconds) == "1970-01-01T00:00:00Z");
  // Before 1970 the fraction still counts up from the second before.
  CHECK(FormatRfc3339(-1, Rfc3339Precision::kNanos) == "1969-12-31T23:59:59.999999999Z");
  CHECK(FormatRfc3339(-1, Rfc3339Precision::kSeconds) == "1969-12-31T23:59:59Z");
  CHECK(FormatRfc3339(-500'000'000, Rfc3339Precision::kNanosIfAny) ==
        "1969-12-31T23:59:59.500000000Z");
  CHECK(FormatRfc3339(I64::min(), Rfc3339Precision::kNanos) == "1677-09-21T00:12:43.145224192Z");
  CHECK(FormatRfc3339(I64::max(), Rfc3339Precision::kNanos) == "2262-04-11T23:47:16.854775807Z");
  CHECK(FormatRfc3339(DaysFromCivil(2024, 2, 29) * kDayNs, Rfc3339Precision::kSeconds) ==
        "2024-02-29T00:00:00Z");
  std::string out = "at ";
  AppendRfc3339(0, Rfc3339Precision::kSeconds, out);
  CHECK(out == "at 1970-01-01T00:00:00Z");
}

TEST_CASE("RFC 3339 parsing: separators, offsets and fractions") {
  CHECK(Parse("1970-01-01T00:00:00Z") == 0);
  CHECK(Parse("1970-01-01t00:00:00z") == 0);
  CHECK(Parse("1970-01-01 00:00:00Z") == 0);
  CHECK(Parse("2025-01-31T12:00:00Z") == 1'738'324'800'000'000'000);
  CHECK(Parse("2025-01-31T17:30:00+05:30") == 1'738'324'800'000'000'000);
  CHECK(Parse("2025-01-31T06:15:00-05:45") == 1'738'324'800'000'000'000);
  CHECK(Parse("2025-01-31T12:00:00-00:00") == 1'738'324'800'000'000'000);
  CHECK(Parse("2025-01-31T12:00:00+00:00") == 1'738'324'800'000'000'000);
  CHECK(Parse("2025-02-01T11:59:00+23:59") == 1'738'324'800'000'000'000);
  CHECK(Parse("1969-12-31T23:59:59.5Z") == -500'000'000);
  CHECK(Parse("1900-03-01T00:00:00Z") == DaysFromCivil(1900, 3, 1) * kDayNs);
  CHECK(Parse("2024-02-29T00:00:00Z") == DaysFromCivil(2024, 2, 29) * kDayNs);
  CHECK(Parse("2000-02-29T00:00:00Z") == DaysFromCivil(2000, 2, 29) * kDayNs);
  // One to nine fraction digits.
  const char* fractions[] = {".1", ".12", ".123", ".1234", ".12345", ".123456", ".1234567",
                             ".12345678", ".123456789"};
  const std::int64_t nanos[] = {100'000'000, 120'000'000, 123'000'000, 123'400'000, 123'450'000,
                                123'456'000, 123'456'700, 123'456'780, 123'456'789};
  for (int i = 0; i < 9; ++i) {
    CAPTURE(i);
    CHECK(Parse(std::string("1970-01-01T00:00:01") + fractions[i] + "Z") ==
          kNanosPerSecond + nanos[i]);
  }
  CHECK(Parse("1970-01-01T00:00:00.000000001Z") == 1);
  // The ends of the int64 range, exactly.
  CHECK(Parse("1677-09-21T00:12:43.145224192Z") == I64::min());
  CHECK(Parse("2262-04-11T23:47:16.854775807Z") == I64::max());
  CHECK(Parse("2262-04-12T01:47:16.854775807+02:00") == I64::max());
}

TEST_CASE("RFC 3339 round trip of formatting and parsing") {
  for (std::int64_t t : {I64::min(), std::int64_t{-1'000'000'001}, std::int64_t{-1},
                         std::int64_t{0}, std::int64_t{1}, std::int64_t{951'782'400'000'000'000},
                         std::int64_t{1'738'324'800'123'456'789}, I64::max()}) {
    CAPTURE(t);
    CHECK(Parse(FormatRfc3339(t, Rfc3339Precision::kNanos)) == t);
    CHECK(Parse(FormatRfc3339(t, Rfc3339Precision::kNanosIfAny)) == t);
  }
}

TEST_CASE("RFC 3339 leap seconds and excess fraction digits follow the options") {
  CHECK(Contains(Error("2016-12-31T23:59:60Z"), "leap second"));
  Rfc3339ParseOptions lenient;
  lenient.leap_second = LeapSecond::kFoldOntoNextSecond;
  lenient.excess_fraction = ExcessFraction::kTruncate;
  CHECK(Parse("2016-12-31T23:59:60Z", lenient) == Parse("2017-01-01T00:00:00Z"));
  CHECK(Contains(Error("2016-12-31T23:59:61Z", lenient), "second out of range"));
  CHECK(Contains(Error("1970-01-01T00:00:00.1234567891Z"), "more than 9 fraction digits"));
  CHECK(Parse("1970-01-01T00:00:00.1234567891Z", lenient) == 123'456'789);
  CHECK(Parse("1970-01-01T00:00:00.999999999999Z", lenient) == 999'999'999);
  CHECK(Contains(Error("1970-01-01T00:00:00.1234567891xZ", lenient), "expected 'Z' or an offset"));
}

TEST_CASE("RFC 3339 invalid inputs are refused saying what is wrong") {
  CHECK(Contains(Error(""), "expected a date YYYY-MM-DD"));
  CHECK(Contains(Error("2025-1-31T12:00:00Z"), "expected a date YYYY-MM-DD"));
  CHECK(Contains(Error("+2025-01-31T12:00:00Z"), "expected a date YYYY-MM-DD"));
  CHECK(Contains(Error("2025-01-31"), "expected 'T' between the date and the time"));
  CHECK(Contains(Error("2025-01-31_12:00:00Z"), "expected 'T' between the date and the time"));
  CHECK(Contains(Error("2025-01-31T12:00Z"), "expected a time HH:MM:SS"));
  CHECK(Contains(Error("2025-01-31T12:00:00"), "expected 'Z' or an offset"));
  CHECK(Contains(Error("2025-01-31T12:00:00.Z"), "no digits after the decimal point"));
  CHECK(Contains(Error("2025-01-31T12:00:00+0530"), "expected an offset +hh:mm or -hh:mm"));
  CHECK(Contains(Error("2025-01-31T12:00:00+5:30"), "expected an offset +hh:mm or -hh:mm"));
  CHECK(Contains(Error("2025-01-31T12:00:00+24:00"), "offset out of range"));
  CHECK(Contains(Error("2025-01-31T12:00:00+05:60"), "offset out of range"));
  CHECK(Contains(Error("2025-01-31T12:00:00Z "), "unexpected text after the offset"));
  CHECK(Contains(Error("2025-01-31T12:00:00+01:00Z"), "unexpected text after the offset"));
  CHECK(Contains(Error("2025-00-31T12:00:00Z"), "month out of range"));
  CHECK(Contains(Error("2025-13-01T12:00:00Z"), "month out of range"));
  CHECK(Contains(Error("2025-01-00T12:00:00Z"), "no such day"));
  CHECK(Contains(Error("2025-04-31T12:00:00Z"), "no such day"));
  CHECK(Contains(Error("2023-02-29T12:00:00Z"), "no such day"));
  CHECK(Contains(Error("1900-02-29T12:00:00Z"), "no such day"));
  CHECK(Contains(Error("2025-01-31T24:00:00Z"), "hour or minute out of range"));
  CHECK(Contains(Error("2025-01-31T12:60:00Z"), "hour or minute out of range"));
  CHECK(Contains(Error("1677-09-21T00:12:43.145224191Z"), "outside the int64 nanosecond range"));
  CHECK(Contains(Error("2262-04-11T23:47:16.854775808Z"), "outside the int64 nanosecond range"));
  CHECK(Contains(Error("0000-01-01T00:00:00Z"), "outside the int64 nanosecond range"));
  CHECK(Contains(Error("9999-12-31T23:59:59Z"), "outside the int64 nanosecond range"));
  // The message quotes the text, at most 64 bytes of it.
  CHECK(Error("nonsense") == "RFC 3339 time 'nonsense': expected a date YYYY-MM-DD");
  const std::string long_text(200, '9');
  CHECK(Error(long_text).size() < 150);
}

}  // namespace sluice
