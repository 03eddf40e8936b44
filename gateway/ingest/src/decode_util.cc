#include "decode_util.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace sluice::gateway {

std::string_view MalformedReasonName(MalformedReason reason) {
  switch (reason) {
    case MalformedReason::kNone: return "none";
    case MalformedReason::kNotANumber: return "not_a_number";
    case MalformedReason::kBadJson: return "bad_json";
    case MalformedReason::kMissingField: return "missing_field";
    case MalformedReason::kWrongType: return "wrong_type";
    case MalformedReason::kBadTimestamp: return "bad_timestamp";
    case MalformedReason::kBadProtobuf: return "bad_protobuf";
    case MalformedReason::kBadTopic: return "bad_topic";
    case MalformedReason::kUnknownMetric: return "unknown_metric";
    case MalformedReason::kNotBorn: return "not_born";
    case MalformedReason::kBadValue: return "bad_value";
    case MalformedReason::kStateLimit: return "state_limit";
    case MalformedReason::kBadSeriesName: return "bad_series_name";
    case MalformedReason::kCount: break;
  }
  return "unknown";
}

DecodeStatus DecodeStatus::Malformed(MalformedReason reason, std::string_view topic,
                                     std::string_view why) {
  // Topics are untrusted: cap what goes into a log line.
  constexpr std::size_t kMaxTopicInMessage = 256;
  std::string m = "topic '";
  m += topic.substr(0, kMaxTopicInMessage);
  if (topic.size() > kMaxTopicInMessage) m += "...";
  m += "': ";
  m += MalformedReasonName(reason);
  m += ": ";
  m += why;
  return DecodeStatus{InvalidArgument(std::move(m)), reason, 0, false};
}

std::uint64_t MalformedCounters::Total() const {
  std::uint64_t t = 0;
  for (const auto& c : counts_) t += c.load(std::memory_order_relaxed);
  return t;
}

namespace ingest {
namespace {

std::int64_t NsPer(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kSeconds: return 1'000'000'000;
    case TimeUnit::kMillis: return 1'000'000;
    case TimeUnit::kMicros: return 1'000;
    case TimeUnit::kNanos: return 1;
  }
  return 1;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

bool ScaleToNs(std::int64_t value, TimeUnit unit, std::int64_t& ns) {
  return !__builtin_mul_overflow(value, NsPer(unit), &ns);
}

bool ScaleToNs(double value, TimeUnit unit, std::int64_t& ns) {
  const double v = value * static_cast<double>(NsPer(unit));
  // 2^63 is exactly representable; anything at or past it does not fit.
  if (!std::isfinite(v) || v >= 9223372036854775808.0 || v < -9223372036854775808.0) return false;
  ns = static_cast<std::int64_t>(v);
  return true;
}

bool ParseRfc3339(std::string_view s, std::int64_t& ns) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, month) ||
      s[7] != '-' || !Digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, minute) || s[16] != ':' ||
      !Digits(s, 17, 2, second)) {
    return false;
  }
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  std::size_t pos = 19;
  std::int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t begin = pos;
    std::int64_t scale = 100'000'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ns += (s[pos] - '0') * scale;  // digits past ns precision are dropped
      scale /= 10;
      ++pos;
    }
    if (pos == begin) return false;
  }
  std::int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return false;
    }
    offset_s = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return false;  // RFC 3339 requires an offset
  }
  if (pos != s.size()) return false;
  // A leap second (:60) is folded onto the next second, as POSIX time does.
  const std::int64_t secs = DaysFromCivil(year, static_cast<unsigned>(month),
                                          static_cast<unsigned>(day)) * 86400 +
                            hour * 3600 + minute * 60 + second - offset_s;
  std::int64_t whole = 0;
  return ScaleToNs(secs, TimeUnit::kSeconds, whole) &&
         !__builtin_add_overflow(whole, frac_ns, &ns);
}

bool ParseTimestampText(std::string_view text, TimeUnit unit, std::int64_t& ns) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec == std::errc() && p == end && !text.empty()) return ScaleToNs(v, unit, ns);
  return ParseRfc3339(text, ns);
}

std::optional<std::int64_t> MessageTimestamp(const Message& message, TimestampSource source,
                                             std::string_view key, TimeUnit unit) {
  if (source != TimestampSource::kUserProperty) return message.receive_time_ns;
  // MQTT 5 allows a key to repeat; the first occurrence counts.
  for (const UserProperty& p : message.user_properties) {
    if (p.key != key) continue;
    std::int64_t ns = 0;
    if (ParseTimestampText(p.value, unit, ns)) return ns;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace ingest
}  // namespace sluice::gateway
