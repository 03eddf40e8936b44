// Options of the ingest mapping: which MQTT topics become which series, and
// how their payloads are decoded. Filled by the config loader from
// `[ingest]` and `[[ingest.rule]]` (docs/config.md); checked at load by
// ValidateRule (topic_rules.h), so a running pipeline never meets a bad rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::gateway {

enum class PayloadFormat : std::uint8_t { kRaw, kJson, kSparkplugB };

// Where a sample's timestamp comes from.
enum class TimestampSource : std::uint8_t {
  kReceive,       // the gateway's clock when the message arrived
  kPayload,       // Sparkplug B: the metric's timestamp, else the payload's
  kField,         // JSON: the field at `timestamp_key`
  kUserProperty,  // the MQTT 5 user property named `timestamp_key`
};

// Unit of numeric timestamps in JSON fields and user properties.
enum class TimeUnit : std::uint8_t { kSeconds, kMillis, kMicros, kNanos };

// The store type a rule asks for. kAuto: raw -> float64; JSON -> by the JSON
// value (number -> float64, bool -> bool, string -> bytes); Sparkplug B -> by
// the metric's datatype.
enum class RuleValueType : std::uint8_t { kAuto, kFloat64, kInt64, kBool, kBytes };

// Shedding class: under the shed policy, lower classes are dropped first.
// The numeric order is the shedding order; never renumber.
enum class PriorityClass : std::uint8_t { kLow = 0, kNormal = 1, kHigh = 2 };

struct RuleOptions {
  // Topic pattern: MQTT filter levels, where a level may also be a named
  // capture `{name}` (one level) or, last, `{name#}` (the rest). Required.
  std::string topic;
  // Series name template with `{capture}` references. Empty: the format's
  // default (raw "{topic}", JSON "{topic}" or "{topic}/{field}", Sparkplug
  // "<group>/<node>[/<device>]/<metric>").
  std::string series;
  PayloadFormat format = PayloadFormat::kRaw;
  // Empty: the format's default (raw, JSON: receive; Sparkplug: payload).
  std::optional<TimestampSource> timestamp;
  std::string timestamp_key;  // field path or user property name
  TimeUnit timestamp_unit = TimeUnit::kMillis;
  RuleValueType type = RuleValueType::kAuto;
  std::string unit;  // free text, e.g. "degC"; may be empty
  // JSON: paths of the values ("a.b.0" or the JSON Pointer "/a/b/0"). Empty:
  // the payload (or each sample) is itself the value.
  std::vector<std::string> fields;
  // JSON: path of an array of samples; fields and the timestamp field are
  // then relative to each element. "" is the payload itself.
  std::optional<std::string> samples;
  PriorityClass priority = PriorityClass::kNormal;
};

struct IngestOptions {
  // Checked in order; the first rule whose topic pattern matches wins.
  std::vector<RuleOptions> rules;
  // Sparkplug B edge nodes tracked at once; births of further nodes are
  // refused and counted (state_limit). Default: 1024. 1 to 1,000,000.
  std::uint32_t sparkplug_max_nodes = 1024;
  // Metric definitions (aliases) plus devices kept per edge node. Default:
  // 10000. 1 to 1,000,000.
  std::uint32_t sparkplug_max_metrics_per_node = 10000;
  // Malformed-payload log lines per second and reason; the rest are counted
  // and summarised. Default: 10. 0 silences them (the counters remain).
  std::uint32_t malformed_log_per_second = 10;
};

std::string_view PayloadFormatName(PayloadFormat format);
std::string_view RuleValueTypeName(RuleValueType type);
std::string_view PriorityClassName(PriorityClass priority);

}  // namespace sluice::gateway
