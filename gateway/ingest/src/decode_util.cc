#include "decode_util.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "base/civil_time.h"

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
  Rfc3339ParseOptions options;
  options.leap_second = LeapSecond::kFoldOntoNextSecond;
  options.excess_fraction = ExcessFraction::kTruncate;
  auto t = sluice::ParseRfc3339(s, options);
  if (!t.ok()) return false;
  ns = *t;
  return true;
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
