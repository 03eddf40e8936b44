#include "gateway/ingest/topic_rules.h"

#include <doctest/doctest.h>

#include "ingest_test_util.h"

namespace sluice::gateway {
namespace {

using testing::Contains;

std::vector<std::string> Captures(std::string_view pattern, std::string_view topic) {
  auto p = TopicPattern::Parse(pattern);
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  std::vector<std::string_view> c;
  if (!p->Match(topic, c)) return {"<no match>"};
  return {c.begin(), c.end()};
}

bool Matches(std::string_view pattern, std::string_view topic) {
  return Captures(pattern, topic) != std::vector<std::string>{"<no match>"};
}

std::string ParseError(std::string_view pattern) {
  auto p = TopicPattern::Parse(pattern);
  REQUIRE_FALSE(p.ok());
  return p.status().message();
}

RuleOptions Rule(std::string topic, PayloadFormat format = PayloadFormat::kRaw) {
  RuleOptions r;
  r.topic = std::move(topic);
  r.format = format;
  return r;
}

std::string CompileError(const RuleOptions& r) {
  auto c = CompileRule(r);
  REQUIRE_FALSE(c.ok());
  return c.status().message();
}

}  // namespace

TEST_CASE("named captures take the level they stand for") {
  CHECK(Captures("plant/{line}/{machine}/{metric}", "plant/l1/press-3/temp") ==
        std::vector<std::string>{"l1", "press-3", "temp"});
}

TEST_CASE("plus matches exactly one level, possibly empty") {
  CHECK(Matches("a/+/c", "a/b/c"));
  CHECK(Matches("a/+/c", "a//c"));
  CHECK_FALSE(Matches("a/+/c", "a/b/x/c"));
  CHECK_FALSE(Matches("a/+", "a"));
  CHECK_FALSE(Matches("a/b", "a/b/c"));
  CHECK_FALSE(Matches("a/b/c", "a/b"));
}

TEST_CASE("hash matches the rest, including the parent level") {
  CHECK(Matches("a/#", "a/b/c"));
  CHECK(Matches("a/#", "a"));
  CHECK(Matches("#", "x/y"));
  CHECK_FALSE(Matches("a/#", "b/c"));
  CHECK(Captures("a/{rest#}", "a/b/c") == std::vector<std::string>{"b/c"});
  CHECK(Captures("a/{rest#}", "a") == std::vector<std::string>{""});
}

TEST_CASE("wildcards in the first level do not match dollar topics") {
  CHECK_FALSE(Matches("#", "$SYS/broker/load"));
  CHECK_FALSE(Matches("+/broker/load", "$SYS/broker/load"));
  CHECK(Matches("$SYS/#", "$SYS/broker/load"));
}

TEST_CASE("the subscription filter replaces captures with MQTT wildcards") {
  auto p = TopicPattern::Parse("plant/{line}/+/{rest#}");
  REQUIRE(p.ok());
  CHECK(p->filter() == "plant/+/+/#");
  CHECK(p->capture_names() == std::vector<std::string>{"line", "rest"});
}

TEST_CASE("bad patterns are refused with the reason") {
  CHECK(Contains(ParseError(""), "empty"));
  CHECK(Contains(ParseError("a/#/b"), "last level"));
  CHECK(Contains(ParseError("a/{x#}/b"), "last level"));
  CHECK(Contains(ParseError("a/b+/c"), "whole level"));
  CHECK(Contains(ParseError("a/{x}{y}"), "not a capture"));
  CHECK(Contains(ParseError("a/{1x}"), "not a capture"));
  CHECK(Contains(ParseError("{x}/{x}"), "twice"));
}

TEST_CASE("a series template renders captures and built-ins") {
  const std::vector<std::string> names{"line", "machine"};
  const TemplateVar vars[] = {TemplateVar::kTopic, TemplateVar::kField};
  auto t = SeriesTemplate::Parse("{line}.{machine}.{field}", names, vars);
  REQUIRE(t.ok());
  const std::string_view caps[] = {"l1", "m2"};
  TemplateValues v;
  v.captures = caps;
  v.field = "temp";
  std::string out;
  t->Render(v, out);
  CHECK(out == "l1.m2.temp");
}

TEST_CASE("a template naming an unknown capture lists the known ones") {
  const std::vector<std::string> names{"line"};
  const TemplateVar vars[] = {TemplateVar::kTopic};
  auto t = SeriesTemplate::Parse("{lin}/x", names, vars);
  REQUIRE_FALSE(t.ok());
  CHECK(Contains(t.status().message(), "unknown capture {lin}"));
  CHECK(Contains(t.status().message(), "known here: line, topic"));
  CHECK_FALSE(SeriesTemplate::Parse("a{line", names, vars).ok());
  CHECK_FALSE(SeriesTemplate::Parse("a}line", names, vars).ok());
  CHECK_FALSE(SeriesTemplate::Parse("{field}", names, vars).ok());  // not a raw built-in
}

TEST_CASE("the first matching rule wins") {
  IngestOptions o;
  o.rules.push_back(Rule("plant/line-1/+"));
  o.rules.push_back(Rule("plant/#"));
  o.rules.push_back(Rule("plant/line-1/x"));  // shadowed by both above
  auto set = RuleSet::Build(o);
  REQUIRE(set.ok());
  RuleMatch m;
  REQUIRE(set->Match("plant/line-1/x", m));
  CHECK(m.rule->index == 0);
  REQUIRE(set->Match("plant/line-2/x", m));
  CHECK(m.rule->index == 1);
  CHECK_FALSE(set->Match("other/x", m));
  CHECK(m.rule == nullptr);
  CHECK(set->SubscriptionFilters() ==
        std::vector<std::string>{"plant/line-1/+", "plant/#", "plant/line-1/x"});
}

TEST_CASE("rules are checked against their format") {
  auto fields_on_raw = Rule("a/b");
  fields_on_raw.fields = {"x"};
  CHECK(CompileError(fields_on_raw).starts_with("fields:"));

  auto typed_sparkplug = Rule("spBv1.0/#", PayloadFormat::kSparkplugB);
  typed_sparkplug.type = RuleValueType::kInt64;
  CHECK(CompileError(typed_sparkplug).starts_with("type:"));

  auto sparkplug_without_metric = Rule("spBv1.0/#", PayloadFormat::kSparkplugB);
  sparkplug_without_metric.series = "{group}/{node}";
  CHECK(Contains(CompileError(sparkplug_without_metric), "{metric}"));

  auto two_fields_one_series = Rule("a/{m}", PayloadFormat::kJson);
  two_fields_one_series.fields = {"x", "y"};
  two_fields_one_series.series = "{m}";
  CHECK(Contains(CompileError(two_fields_one_series), "{field}"));

  auto field_time_on_raw = Rule("a");
  field_time_on_raw.timestamp = TimestampSource::kField;
  field_time_on_raw.timestamp_key = "ts";
  CHECK(CompileError(field_time_on_raw).starts_with("timestamp:"));

  CHECK(Contains(CompileError(Rule("a/{topic}")), "built-in of raw rules"));
  CHECK(Contains(CompileError(Rule("spBv1.0/+/+/{metric}", PayloadFormat::kSparkplugB)),
                 "built-in of sparkplug_b rules"));
  CHECK(CompileRule(Rule("plant/{metric}", PayloadFormat::kJson)).ok());

  auto bad_path = Rule("a", PayloadFormat::kJson);
  bad_path.fields = {"a..b"};
  CHECK(CompileError(bad_path).starts_with("fields:"));
}

TEST_CASE("field paths become JSON Pointers") {
  CHECK(*FieldPathToPointer("a.b.0") == "/a/b/0");
  CHECK(*FieldPathToPointer("a~b/c") == "/a~0b~1c");
  CHECK(*FieldPathToPointer("/x.y/z") == "/x.y/z");
  CHECK(*FieldPathToPointer("") == "");
  CHECK_FALSE(FieldPathToPointer("a.").ok());
  CHECK_FALSE(FieldPathToPointer("/a~2").ok());
}

TEST_CASE("default series names follow the format") {
  auto json = Rule("a/b", PayloadFormat::kJson);
  json.fields = {"x"};
  auto c = CompileRule(json);
  REQUIRE(c.ok());
  CHECK(c->series->text() == "{topic}/{field}");
  auto sparkplug = CompileRule(Rule("spBv1.0/#", PayloadFormat::kSparkplugB));
  REQUIRE(sparkplug.ok());
  CHECK_FALSE(sparkplug->series.has_value());
  CHECK(*sparkplug->options.timestamp == TimestampSource::kPayload);
}

}  // namespace sluice::gateway
