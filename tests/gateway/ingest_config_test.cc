#include <doctest/doctest.h>

#include "gateway/app/config.h"
#include "ingest_test_util.h"

namespace sluice::gateway {
namespace {

using testing::Contains;

std::string ErrorOf(std::string_view toml) {
  auto c = ParseConfig(toml, "t.toml");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kInvalidArgument);
  return c.status().message();
}

}  // namespace

TEST_CASE("ingest rules are read in file order with every key") {
  auto c = ParseConfig(R"(
[ingest]
sparkplug_max_nodes = 50
malformed_log_per_second = 0

[[ingest.rule]]
topic = "plant/{line}/{machine}/telemetry"
format = "json"
fields = ["temp", "pressure.value"]
samples = "data"
series = "{line}.{machine}.{field}"
timestamp = "field:ts"
timestamp_unit = "us"
type = "float64"
unit = "degC"
priority = "high"

[[ingest.rule]]
topic = "spBv1.0/#"
format = "sparkplug_b"

[[ingest.rule]]
topic = "raw/#"
timestamp = "property:ts"
)",
                       "t.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  const IngestOptions& in = c->ingest;
  CHECK(in.sparkplug_max_nodes == 50);
  CHECK(in.malformed_log_per_second == 0);
  REQUIRE(in.rules.size() == 3);
  const RuleOptions& r = in.rules[0];
  CHECK(r.format == PayloadFormat::kJson);
  CHECK(r.fields == std::vector<std::string>{"temp", "pressure.value"});
  CHECK(*r.samples == "data");
  CHECK(r.series == "{line}.{machine}.{field}");
  CHECK(*r.timestamp == TimestampSource::kField);
  CHECK(r.timestamp_key == "ts");
  CHECK(r.timestamp_unit == TimeUnit::kMicros);
  CHECK(r.type == RuleValueType::kFloat64);
  CHECK(r.unit == "degC");
  CHECK(r.priority == PriorityClass::kHigh);
  CHECK(in.rules[1].format == PayloadFormat::kSparkplugB);
  CHECK(*in.rules[2].timestamp == TimestampSource::kUserProperty);
  CHECK(RuleSet::Build(in).ok());
}

TEST_CASE("a template naming an unknown capture is refused at its line, rule and key") {
  auto m = ErrorOf(R"([[ingest.rule]]
topic = "a/#"

[[ingest.rule]]
topic = "plant/{line}/+"
series = "{lin}.x"
)");
  CHECK(Contains(m, "t.toml:6:"));
  CHECK(Contains(m, "key 'ingest.rule[2].series'"));
  CHECK(Contains(m, "unknown capture {lin}; known here: line, topic"));
}

TEST_CASE("a bad topic pattern is refused at its line") {
  auto m = ErrorOf("[[ingest.rule]]\nformat = \"raw\"\ntopic = \"a/#/b\"\n");
  CHECK(Contains(m, "t.toml:3:"));
  CHECK(Contains(m, "'ingest.rule[1].topic'"));
  CHECK(Contains(m, "last level"));
}

TEST_CASE("a rule without a topic is refused at its table header") {
  auto m = ErrorOf("[log]\nlevel = \"info\"\n\n[[ingest.rule]]\nformat = \"json\"\n");
  CHECK(Contains(m, "t.toml:4:"));
  CHECK(Contains(m, "'ingest.rule[1].topic': required"));
}

TEST_CASE("unknown rule keys are refused and the allowed keys listed") {
  auto m = ErrorOf("[[ingest.rule]]\ntopic = \"a\"\nfield = [\"x\"]\n");
  CHECK(Contains(m, "t.toml:3:"));
  CHECK(Contains(m, "'ingest.rule[1].field'"));
  CHECK(Contains(m, "allowed in [[ingest.rule]]: topic, format, series, fields, samples"));
}

TEST_CASE("rule values of the wrong type or outside their set are refused") {
  CHECK(Contains(ErrorOf("[[ingest.rule]]\ntopic = 5\n"), "expected a string, got an integer"));
  CHECK(Contains(ErrorOf("[[ingest.rule]]\ntopic = \"a\"\nformat = \"xml\"\n"),
                 "allowed: raw, json, sparkplug_b"));
  CHECK(Contains(ErrorOf("[[ingest.rule]]\ntopic = \"a\"\nfields = [1]\n"),
                 "expected an array of strings"));
  CHECK(Contains(ErrorOf("[[ingest.rule]]\ntopic = \"a\"\ntimestamp = \"now\"\n"),
                 "receive, payload, field:<path>, property:<name>"));
  CHECK(Contains(ErrorOf("[[ingest.rule]]\ntopic = \"a\"\npriority = \"urgent\"\n"),
                 "allowed: low, normal, high"));
  CHECK(Contains(ErrorOf("[ingest]\nsparkplug_max_nodes = 0\n"), "outside 1 to 1000000"));
}

TEST_CASE("a rule-level conflict names the key that causes it") {
  auto m = ErrorOf(R"([[ingest.rule]]
topic = "spBv1.0/#"
format = "sparkplug_b"
type = "int64"
)");
  CHECK(Contains(m, "t.toml:4:"));
  CHECK(Contains(m, "'ingest.rule[1].type'"));
}

TEST_CASE("ingest.rule must be an array of tables") {
  auto m = ErrorOf("[ingest.rule]\ntopic = \"a\"\n");
  CHECK(Contains(m, "'ingest.rule'"));
  CHECK(Contains(m, "[[ingest.rule]]"));
  CHECK(Contains(ErrorOf("[ingest]\nrules = 1\n"), "allowed in [ingest]: sparkplug_max_nodes"));
}

}  // namespace sluice::gateway
