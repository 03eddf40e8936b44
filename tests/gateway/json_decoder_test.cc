#include <doctest/doctest.h>

#include <cstdlib>

#include "gateway/ingest/payload_decoders.h"
#include "ingest_test_util.h"

namespace sluice::gateway {
namespace {

using testing::Contains;
using testing::Msg;
using testing::OneRule;

RuleOptions JsonRule(std::vector<std::string> fields = {}) {
  RuleOptions r;
  r.topic = "plant/{line}/{machine}/telemetry";
  r.format = PayloadFormat::kJson;
  r.fields = std::move(fields);
  if (!r.fields.empty()) r.series = "{line}.{machine}.{field}";
  return r;
}

struct Decoded {
  DecodeStatus status;
  std::vector<Sample> samples;
};

Decoded Decode(const RuleOptions& r, std::string_view payload,
               std::string_view topic = "plant/l1/m2/telemetry") {
  OneRule rule(r);
  JsonDecoder decoder;
  Decoded d;
  d.status = decoder.Decode(Msg(topic, payload, 7), rule.Match(topic), d.samples);
  return d;
}

}  // namespace

TEST_CASE("a JSON scalar payload is one sample") {
  auto d = Decode(JsonRule(), "21.5");
  REQUIRE(d.status.ok());
  REQUIRE(d.samples.size() == 1);
  CHECK(d.samples[0].series == "plant/l1/m2/telemetry");
  CHECK(std::get<double>(d.samples[0].value) == 21.5);
  CHECK(d.samples[0].timestamp_ns == 7);
}

TEST_CASE("several JSON fields become several series, by path") {
  auto d = Decode(JsonRule({"temp", "pressure.value", "flags.0", "/odd.key", "name"}),
                  R"({"temp": 21, "pressure": {"value": 1.5e5}, "flags": [true],
                      "odd.key": -3, "name": "press-3"})");
  REQUIRE_MESSAGE(d.status.ok(), d.status.status.ToString());
  REQUIRE(d.samples.size() == 5);
  CHECK(d.samples[0].series == "l1.m2.temp");
  CHECK(std::get<double>(d.samples[0].value) == 21.0);  // auto: numbers are float64
  CHECK(d.samples[1].series == "l1.m2.pressure.value");
  CHECK(std::get<double>(d.samples[1].value) == 150000.0);
  CHECK(std::get<bool>(d.samples[2].value) == true);
  CHECK(d.samples[2].type == store::ValueType::kBool);
  CHECK(d.samples[3].series == "l1.m2./odd.key");
  CHECK(std::get<double>(d.samples[3].value) == -3.0);
  CHECK(std::get<std::string>(d.samples[4].value) == "press-3");
  CHECK(d.samples[4].type == store::ValueType::kBytes);
}

TEST_CASE("an array of samples carries its own timestamps") {
  auto r = JsonRule({"v"});
  r.samples = "data";
  r.timestamp = TimestampSource::kField;
  r.timestamp_key = "t";
  auto d = Decode(r, R"({"data": [{"t": 1700000000000, "v": 1},
                                  {"t": 1700000000000.5, "v": 2},
                                  {"t": "2023-11-14T22:13:20.002Z", "v": 3}]})");
  REQUIRE_MESSAGE(d.status.ok(), d.status.status.ToString());
  REQUIRE(d.samples.size() == 3);
  CHECK(d.samples[0].timestamp_ns == 1'700'000'000'000'000'000);
  // A fractional number is a double: about 0.25 us of precision today.
  CHECK(std::abs(d.samples[1].timestamp_ns - 1'700'000'000'000'500'000) < 1000);
  CHECK(d.samples[2].timestamp_ns == 1'700'000'000'002'000'000);
  CHECK(std::get<double>(d.samples[2].value) == 3.0);
}

TEST_CASE("a payload that is itself an array of samples uses the empty path") {
  auto r = JsonRule();
  r.samples = "";
  r.type = RuleValueType::kInt64;
  auto d = Decode(r, "[1, 2, 3.0]");
  REQUIRE_MESSAGE(d.status.ok(), d.status.status.ToString());
  REQUIRE(d.samples.size() == 3);
  CHECK(std::get<std::int64_t>(d.samples[2].value) == 3);
}

TEST_CASE("typed JSON rules refuse values of another type") {
  auto r = JsonRule({"x"});
  r.type = RuleValueType::kInt64;
  CHECK(Decode(r, R"({"x": 1.5})").status.reason == MalformedReason::kWrongType);
  CHECK(Decode(r, R"({"x": 18446744073709551615})").status.reason == MalformedReason::kWrongType);
  CHECK(std::get<std::int64_t>(Decode(r, R"({"x": -7})").samples[0].value) == -7);
  r.type = RuleValueType::kBool;
  CHECK(Decode(r, R"({"x": 1})").status.reason == MalformedReason::kWrongType);
  r.type = RuleValueType::kAuto;
  auto obj = Decode(r, R"({"x": {"y": 1}})");
  CHECK(obj.status.reason == MalformedReason::kWrongType);
  CHECK(Contains(obj.status.status.message(),
                 "field 'x': expected a number, bool or string, got an object"));
}

TEST_CASE("JSON nulls give no sample and are counted, not refused") {
  auto d = Decode(JsonRule({"a", "b"}), R"({"a": null, "b": 2})");
  REQUIRE(d.status.ok());
  CHECK(d.status.nulls == 1);
  REQUIRE(d.samples.size() == 1);
  CHECK(d.samples[0].series == "l1.m2.b");
}

TEST_CASE("malformed JSON payloads name the topic and reason and append nothing") {
  auto r = JsonRule({"v"});
  r.samples = "data";
  auto syntax = Decode(r, R"({"data": [)");
  CHECK(syntax.status.reason == MalformedReason::kBadJson);
  CHECK(Contains(syntax.status.status.message(), "topic 'plant/l1/m2/telemetry': bad_json"));

  auto missing = Decode(r, R"({"data": [{"v": 1}, {"w": 2}]})");
  CHECK(missing.status.reason == MalformedReason::kMissingField);
  CHECK(Contains(missing.status.status.message(), "sample 1: field 'v' is missing"));
  CHECK(missing.samples.empty());  // all or nothing

  CHECK(Decode(r, R"({"data": 5})").status.reason == MalformedReason::kWrongType);
  CHECK(Decode(r, R"({"other": []})").status.reason == MalformedReason::kMissingField);
  CHECK(Decode(r, "").status.reason == MalformedReason::kBadJson);
}

TEST_CASE("a bad JSON timestamp is refused with bad_timestamp") {
  auto r = JsonRule({"v"});
  r.timestamp = TimestampSource::kField;
  r.timestamp_key = "ts";
  CHECK(Decode(r, R"({"v": 1})").status.reason == MalformedReason::kBadTimestamp);
  CHECK(Decode(r, R"({"v": 1, "ts": "yesterday"})").status.reason ==
        MalformedReason::kBadTimestamp);
  CHECK(Decode(r, R"({"v": 1, "ts": 1e30})").status.reason == MalformedReason::kBadTimestamp);
  CHECK(Decode(r, R"({"v": 1, "ts": true})").status.reason == MalformedReason::kBadTimestamp);
}

TEST_CASE("one JSON decoder decodes many messages in a row") {
  OneRule rule(JsonRule({"v"}));
  JsonDecoder decoder;
  std::vector<Sample> out;
  for (int i = 0; i < 100; ++i) {
    const std::string payload = R"({"v": )" + std::to_string(i) + "}";
    const auto m = Msg("plant/a/b/telemetry", payload);
    REQUIRE(decoder.Decode(m, rule.Match(m.topic), out).ok());
  }
  REQUIRE(out.size() == 100);
  CHECK(std::get<double>(out[99].value) == 99.0);
}

}  // namespace sluice::gateway
