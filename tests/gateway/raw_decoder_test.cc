#include <doctest/doctest.h>

#include "gateway/ingest/payload_decoders.h"
#include "decode_util.h"
#include "ingest_test_util.h"

namespace sluice::gateway {
namespace {

using testing::Contains;
using testing::Msg;
using testing::OneRule;

RuleOptions RawRule(RuleValueType type = RuleValueType::kAuto) {
  RuleOptions r;
  r.topic = "plant/{line}/{metric}";
  r.series = "{line}.{metric}";
  r.type = type;
  r.unit = "degC";
  return r;
}

}  // namespace

TEST_CASE("a raw number becomes one float64 sample named by the template") {
  OneRule rule(RawRule());
  std::vector<Sample> out;
  const auto m = Msg("plant/l1/temp", " 21.5\n", 42);
  REQUIRE(DecodeRaw(m, rule.Match(m.topic), out).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].series == "l1.temp");
  CHECK(std::get<double>(out[0].value) == 21.5);
  CHECK(out[0].type == store::ValueType::kFloat64);
  CHECK(out[0].unit == "degC");
  CHECK(out[0].timestamp_ns == 42);
}

TEST_CASE("raw int64, bool and bytes follow the rule's type") {
  std::vector<Sample> out;
  {
    OneRule rule(RawRule(RuleValueType::kInt64));
    const auto m = Msg("plant/l1/count", "+9223372036854775807");
    REQUIRE(DecodeRaw(m, rule.Match(m.topic), out).ok());
    CHECK(std::get<std::int64_t>(out.back().value) == INT64_MAX);
    const auto frac = Msg("plant/l1/count", "1.5");
    auto s = DecodeRaw(frac, rule.Match(frac.topic), out);
    CHECK(s.reason == MalformedReason::kNotANumber);
    CHECK(Contains(s.status.message(), "topic 'plant/l1/count': not_a_number"));
  }
  {
    OneRule rule(RawRule(RuleValueType::kBool));
    const auto m = Msg("plant/l1/on", "true");
    REQUIRE(DecodeRaw(m, rule.Match(m.topic), out).ok());
    CHECK(std::get<bool>(out.back().value) == true);
  }
  {
    OneRule rule(RawRule(RuleValueType::kBytes));
    const std::string blob("\0\x01 x \xff", 6);
    const auto m = Msg("plant/l1/blob", blob);
    REQUIRE(DecodeRaw(m, rule.Match(m.topic), out).ok());
    CHECK(std::get<std::string>(out.back().value) == blob);  // untrimmed, opaque
    CHECK(out.back().type == store::ValueType::kBytes);
  }
}

TEST_CASE("raw text that is not a number is refused and nothing is appended") {
  OneRule rule(RawRule());
  std::vector<Sample> out;
  for (std::string_view bad : {"", "abc", "1.5x", "0x10", "1 2"}) {
    const auto m = Msg("plant/l1/temp", bad);
    auto s = DecodeRaw(m, rule.Match(m.topic), out);
    CHECK(s.reason == MalformedReason::kNotANumber);
    CHECK(s.status.code() == StatusCode::kInvalidArgument);
  }
  CHECK(out.empty());
}

TEST_CASE("a raw timestamp can come from an MQTT 5 user property") {
  auto r = RawRule();
  r.timestamp = TimestampSource::kUserProperty;
  r.timestamp_key = "ts";
  r.timestamp_unit = TimeUnit::kSeconds;
  OneRule rule(r);
  std::vector<Sample> out;
  const UserProperty props[] = {{"other", "x"}, {"ts", "1700000000"}};
  auto m = Msg("plant/l1/temp", "1");
  m.user_properties = props;
  REQUIRE(DecodeRaw(m, rule.Match(m.topic), out).ok());
  CHECK(out.back().timestamp_ns == 1'700'000'000'000'000'000);

  const UserProperty rfc[] = {{"ts", "2023-11-14T22:13:20.5Z"}};
  m.user_properties = rfc;
  REQUIRE(DecodeRaw(m, rule.Match(m.topic), out).ok());
  CHECK(out.back().timestamp_ns == 1'700'000'000'500'000'000);

  m.user_properties = {};
  auto s = DecodeRaw(m, rule.Match(m.topic), out);
  CHECK(s.reason == MalformedReason::kBadTimestamp);
  CHECK(Contains(s.status.message(), "'ts'"));
}

TEST_CASE("RFC 3339 timestamps are read with fractions and offsets") {
  std::int64_t ns = 0;
  REQUIRE(ingest::ParseRfc3339("1970-01-01T00:00:00Z", ns));
  CHECK(ns == 0);
  REQUIRE(ingest::ParseRfc3339("2024-02-29T12:00:00.123456789+02:00", ns));
  CHECK(ns == 1709200800'123456789);
  REQUIRE(ingest::ParseRfc3339("1969-12-31t23:59:59.5z", ns));
  CHECK(ns == -500'000'000);
  for (std::string_view bad : {"2023-02-29T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01",
                               "2024-13-01T00:00:00Z", "2024-01-01T00:00:00.Z",
                               "9999-01-01T00:00:00Z", "2024-01-01T00:00:00+2:00"}) {
    CHECK_MESSAGE(!ingest::ParseRfc3339(bad, ns), bad);
  }
}

TEST_CASE("numeric timestamps are scaled to ns and overflow is refused") {
  std::int64_t ns = 0;
  REQUIRE(ingest::ScaleToNs(std::int64_t{1700000000123}, TimeUnit::kMillis, ns));
  CHECK(ns == 1'700'000'000'123'000'000);
  CHECK_FALSE(ingest::ScaleToNs(std::int64_t{1} << 62, TimeUnit::kMillis, ns));
  REQUIRE(ingest::ScaleToNs(1.5, TimeUnit::kSeconds, ns));
  CHECK(ns == 1'500'000'000);
  CHECK_FALSE(ingest::ScaleToNs(1e300, TimeUnit::kNanos, ns));
}

}  // namespace sluice::gateway
