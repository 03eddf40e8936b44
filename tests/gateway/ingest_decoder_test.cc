#include "gateway/ingest/ingest_decoder.h"

#include <doctest/doctest.h>

#include "gateway/ingest/malformed_log.h"
#include "ingest_test_util.h"

namespace sluice::gateway {
namespace {

using testing::Contains;
using testing::Msg;

constexpr std::int64_t kSecond = 1'000'000'000;

}  // namespace

TEST_CASE("the malformed log writes at most N lines per second per reason and sums up the rest") {
  std::vector<std::string> lines;
  MalformedLog log(2, [&](std::string_view l) { lines.emplace_back(l); });
  const Status bad = InvalidArgument("topic 'a': bad_json: x");
  for (int i = 0; i < 5; ++i) log.Log(MalformedReason::kBadJson, bad, 10 * kSecond);
  log.Log(MalformedReason::kWrongType, bad, 10 * kSecond);  // its own budget
  CHECK(lines.size() == 3);
  CHECK(log.suppressed_total() == 3);
  log.Log(MalformedReason::kBadJson, bad, 11 * kSecond);
  REQUIRE(lines.size() == 5);
  CHECK(lines[3] == "3 more 'bad_json' lines suppressed");
  CHECK(lines[4] == "topic 'a': bad_json: x");
}

TEST_CASE("a zero line budget logs nothing but still counts") {
  std::vector<std::string> lines;
  MalformedLog log(0, [&](std::string_view l) { lines.emplace_back(l); });
  log.Log(MalformedReason::kBadJson, InvalidArgument("x"), 0);
  CHECK(lines.empty());
  CHECK(log.suppressed_total() == 1);
}

TEST_CASE("the ingest decoder routes by first matching rule and counts what it refuses") {
  IngestOptions o;
  RuleOptions json;
  json.topic = "plant/{machine}/json";
  json.format = PayloadFormat::kJson;
  json.fields = {"t"};
  json.series = "{machine}.{field}";
  json.priority = PriorityClass::kHigh;
  o.rules.push_back(json);
  RuleOptions raw;
  raw.topic = "plant/#";
  raw.priority = PriorityClass::kLow;
  o.rules.push_back(raw);
  std::vector<std::string> lines;
  auto d = IngestDecoder::Create(o, [&](std::string_view l) { lines.emplace_back(l); });
  REQUIRE(d.ok());
  IngestDecoder& dec = **d;

  std::vector<Sample> out;
  std::vector<OutboundMessage> publish;
  PriorityClass prio = PriorityClass::kNormal;
  REQUIRE(dec.Decode(Msg("plant/m1/json", R"({"t": 1})"), out, publish, &prio).ok());
  CHECK(prio == PriorityClass::kHigh);
  CHECK(out.back().series == "m1.t");
  REQUIRE(dec.Decode(Msg("plant/m1/raw", "2"), out, publish, &prio).ok());
  CHECK(prio == PriorityClass::kLow);
  CHECK(out.back().series == "plant/m1/raw");

  auto unmatched = dec.Decode(Msg("other", "1"), out, publish);
  CHECK(unmatched.status.code() == StatusCode::kNotFound);
  CHECK(unmatched.unmatched);
  CHECK(dec.unmatched() == 1);

  auto bad = dec.Decode(Msg("plant/m1/json", "{"), out, publish);
  CHECK(bad.reason == MalformedReason::kBadJson);
  CHECK(dec.malformed().Get(MalformedReason::kBadJson) == 1);
  CHECK(dec.malformed().Total() == 1);
  REQUIRE(lines.size() == 1);
  CHECK(Contains(lines[0], "topic 'plant/m1/json': bad_json"));
  CHECK(out.size() == 2);
}

TEST_CASE("each rule counts the messages it won, those its decoder refused, and their samples") {
  IngestOptions o;
  RuleOptions json;
  json.topic = "plant/{machine}/json";
  json.format = PayloadFormat::kJson;
  json.fields = {"t", "p"};
  json.series = "{machine}.{field}";
  o.rules.push_back(json);
  RuleOptions raw;
  raw.topic = "plant/#";  // also matches the json topics: first match wins
  o.rules.push_back(raw);
  RuleOptions idle;
  idle.topic = "idle/#";
  o.rules.push_back(idle);
  auto d = IngestDecoder::Create(o, [](std::string_view) {});
  REQUIRE(d.ok());
  IngestDecoder& dec = **d;

  std::vector<Sample> out;
  std::vector<OutboundMessage> publish;
  CHECK(dec.Decode(Msg("plant/m1/json", R"({"t": 1, "p": 2})"), out, publish).ok());
  CHECK(dec.Decode(Msg("plant/m2/json", R"({"t": 3, "p": 4})"), out, publish).ok());
  CHECK_FALSE(dec.Decode(Msg("plant/m1/json", "{"), out, publish).ok());
  CHECK(dec.Decode(Msg("plant/m1/raw", "5"), out, publish).ok());
  CHECK_FALSE(dec.Decode(Msg("plant/m1/raw", "warm"), out, publish).ok());
  CHECK(dec.Decode(Msg("elsewhere", "1"), out, publish).status.code() == StatusCode::kNotFound);

  const std::vector<RuleCounts> c = dec.rule_counts();
  REQUIRE(c.size() == 3);
  CHECK(c[0].matched == 3);
  CHECK(c[0].malformed == 1);
  CHECK(c[0].samples == 4);
  CHECK(c[1].matched == 2);
  CHECK(c[1].malformed == 1);
  CHECK(c[1].samples == 1);
  CHECK(c[2].matched == 0);
  CHECK(dec.unmatched() == 1);  // counted apart: no rule won it

  const auto [last, at] = dec.last_malformed();
  CHECK(Contains(last, "plant/m1/raw"));
  CHECK(at == Msg("plant/m1/raw", "warm").receive_time_ns);
}

TEST_CASE("series names the store would refuse are refused as bad_series_name") {
  IngestOptions o;
  RuleOptions raw;
  raw.topic = "a/{x}";
  raw.series = "{x}";
  o.rules.push_back(raw);
  auto d = IngestDecoder::Create(o, [](std::string_view) {});
  REQUIRE(d.ok());
  std::vector<Sample> out;
  std::vector<OutboundMessage> publish;
  CHECK((*d)->Decode(Msg("a/", "1"), out, publish).reason == MalformedReason::kBadSeriesName);
  const std::string long_topic = "a/" + std::string(2000, 'x');
  CHECK((*d)->Decode(Msg(long_topic, "1"), out, publish).reason ==
        MalformedReason::kBadSeriesName);
  CHECK(out.empty());
  CHECK((*d)->malformed().Get(MalformedReason::kBadSeriesName) == 2);
}

TEST_CASE("an ingest decoder refuses rules that do not compile") {
  IngestOptions o;
  o.rules.push_back(RuleOptions{});  // no topic
  auto d = IngestDecoder::Create(o);
  REQUIRE_FALSE(d.ok());
  CHECK(Contains(d.status().message(), "rule 1: topic:"));
}

}  // namespace sluice::gateway
