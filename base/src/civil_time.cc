#include "base/civil_time.h"

#include <limits>

namespace sluice {
namespace {

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Writes `v` as exactly `digits` decimal digits ending before `end`.
void PutDigits(char* end, std::uint64_t v, int digits) {
  for (int i = 0; i < digits; ++i) {
    *--end = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// A small cursor for the parser: each step reports what it expected.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  // Exactly `n` digits.
  bool Digits(std::size_t n, int& v) {
    if (pos_ + n > s_.size()) return false;
    int r = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      r = r * 10 + (c - '0');
    }
    pos_ += n;
    v = r;
    return true;
  }
  bool Literal(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool AtDigit() const { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; }
  char Next() { return s_[pos_++]; }
  // REQUIRES: something was consumed.
  char Previous() const { return s_[pos_ - 1]; }
  bool done() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

Status Bad(std::string_view text, std::string_view why) {
  constexpr std::size_t kMaxQuoted = 64;  // the text may be untrusted
  std::string m = "RFC 3339 time '";
  m += text.substr(0, kMaxQuoted);
  if (text.size() > kMaxQuoted) m += "...";
  m += "': ";
  m += why;
  return InvalidArgument(std::move(m));
}

}  // namespace

std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate CivilFromDays(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  CivilDate d;
  d.day = doy - (153 * mp + 2) / 5 + 1;
  d.month = mp < 10 ? mp + 3 : mp - 9;
  d.year = static_cast<std::int64_t>(yoe) + era * 400 + (d.month <= 2);
  return d;
}

bool IsLeapYear(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned DaysInMonth(std::int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

CivilTime ToCivilTime(std::int64_t unix_ns) {
  // Not unix_ns - secs * 1e9: near INT64_MIN that product overflows.
  const std::int64_t secs = FloorDiv(unix_ns, kNanosPerSecond);
  std::int64_t frac = unix_ns % kNanosPerSecond;
  if (frac < 0) frac += kNanosPerSecond;
  const std::int64_t days = FloorDiv(secs, kSecondsPerDay);
  const auto sod = static_cast<unsigned>(secs - days * kSecondsPerDay);
  CivilTime t;
  t.date = CivilFromDays(days);
  t.hour = sod / 3600;
  t.minute = sod / 60 % 60;
  t.second = sod % 60;
  t.nanos = static_cast<unsigned>(frac);
  return t;
}

void AppendRfc3339(std::int64_t unix_ns, Rfc3339Precision precision, std::string& out) {
  const CivilTime t = ToCivilTime(unix_ns);
  char buf[] = "0000-00-00T00:00:00.000000000Z";
  PutDigits(buf + 4, static_cast<std::uint64_t>(t.date.year), 4);
  PutDigits(buf + 7, t.date.month, 2);
  PutDigits(buf + 10, t.date.day, 2);
  PutDigits(buf + 13, t.hour, 2);
  PutDigits(buf + 16, t.minute, 2);
  PutDigits(buf + 19, t.second, 2);
  const bool fraction = precision == Rfc3339Precision::kNanos ||
                        (precision == Rfc3339Precision::kNanosIfAny && t.nanos != 0);
  if (fraction) {
    PutDigits(buf + 29, t.nanos, 9);
    out.append(buf, sizeof buf - 1);
  } else {
    out.append(buf, 19);
    out.push_back('Z');
  }
}

std::string FormatRfc3339(std::int64_t unix_ns, Rfc3339Precision precision) {
  std::string out;
  AppendRfc3339(unix_ns, precision, out);
  return out;
}

Result<std::int64_t> ParseRfc3339(std::string_view text, Rfc3339ParseOptions options) {
  Scanner in(text);
  int year, month, day, hour, minute, second;
  if (!in.Digits(4, year) || !in.Literal('-') || !in.Digits(2, month) || !in.Literal('-') ||
      !in.Digits(2, day)) {
    return Bad(text, "expected a date YYYY-MM-DD");
  }
  if (!in.Literal('T') && !in.Literal('t') && !in.Literal(' ')) {
    return Bad(text, "expected 'T' between the date and the time");
  }
  if (!in.Digits(2, hour) || !in.Literal(':') || !in.Digits(2, minute) || !in.Literal(':') ||
      !in.Digits(2, second)) {
    return Bad(text, "expected a time HH:MM:SS after the date");
  }
  std::int64_t nanos = 0;
  if (in.Literal('.')) {
    int digits = 0;
    for (; in.AtDigit(); ++digits) {
      const int d = in.Next() - '0';
      if (digits < 9) {
        nanos = nanos * 10 + d;
      } else if (options.excess_fraction == ExcessFraction::kRefuse) {
        return Bad(text, "more than 9 fraction digits (below a nanosecond)");
      }
    }
    if (digits == 0) return Bad(text, "no digits after the decimal point");
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  int offset_s = 0;
  if (in.Literal('Z') || in.Literal('z')) {
    // UTC
  } else if (in.Literal('+') || in.Literal('-')) {
    const int sign = in.Previous() == '-' ? -1 : 1;
    int oh, om;
    if (!in.Digits(2, oh) || !in.Literal(':') || !in.Digits(2, om)) {
      return Bad(text, "expected an offset +hh:mm or -hh:mm");
    }
    if (oh > 23 || om > 59) return Bad(text, "offset out of range (at most 23:59)");
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return Bad(text, "expected 'Z' or an offset +hh:mm or -hh:mm after the time");
  }
  if (!in.done()) return Bad(text, "unexpected text after the offset");
  if (month < 1 || month > 12) return Bad(text, "month out of range 01..12");
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month))) {
    return Bad(text, "no such day in that month");
  }
  if (hour > 23 || minute > 59) return Bad(text, "hour or minute out of range");
  if (second > 60 || (second == 60 && options.leap_second == LeapSecond::kRefuse)) {
    return Bad(text, second == 60 ? "a leap second (:60) cannot be told apart in Unix time"
                                  : "second out of range");
  }
  const std::int64_t secs =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
          kSecondsPerDay +
      hour * 3600 + minute * 60 + second - offset_s;
  // Years 0000..9999 keep secs far inside int64, but secs * 1e9 alone may
  // leave it even when adding the fraction comes back (1677-09-21T00:12:43.5Z).
  const __int128 total = static_cast<__int128>(secs) * kNanosPerSecond + nanos;
  if (total < std::numeric_limits<std::int64_t>::min() ||
      total > std::numeric_limits<std::int64_t>::max()) {
    return Bad(text, "outside the int64 nanosecond range 1677-09-21T00:12:43.145224192Z.."
                     "2262-04-11T23:47:16.854775807Z");
  }
  return static_cast<std::int64_t>(total);
}

}  // namespace sluice
