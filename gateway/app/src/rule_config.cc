#include "rule_config.h"

#include <algorithm>

namespace sluice::gateway::ingest {
namespace {

Status String(const toml::node& n, std::string& out) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    return InvalidArgument("expected a string, got " + std::string(TomlTypeName(n)));
  }
  out = s->get();
  return Status::Ok();
}

// One of `names` (parallel to `values`), or an error listing them.
template <typename E, std::size_t N>
Status Enum(const toml::node& n, const std::string_view (&names)[N], const E (&values)[N],
            E& out) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(String(n, v));
  std::string allowed;
  for (std::size_t i = 0; i < N; ++i) {
    if (v == names[i]) {
      out = values[i];
      return Status::Ok();
    }
    allowed += (i == 0 ? "" : ", ") + std::string(names[i]);
  }
  return InvalidArgument("'" + v + "' is not allowed; allowed: " + allowed);
}

Status ApplyTimestamp(RuleOptions& r, const toml::node& n) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(String(n, v));
  r.timestamp_key.clear();
  if (v == "receive") {
    r.timestamp = TimestampSource::kReceive;
  } else if (v == "payload") {
    r.timestamp = TimestampSource::kPayload;
  } else if (v.starts_with("field:")) {
    r.timestamp = TimestampSource::kField;
    r.timestamp_key = v.substr(6);
  } else if (v.starts_with("property:")) {
    r.timestamp = TimestampSource::kUserProperty;
    r.timestamp_key = v.substr(9);
  } else {
    return InvalidArgument("'" + v +
                           "' is not a timestamp source; allowed: receive, payload, "
                           "field:<path>, property:<name>");
  }
  return Status::Ok();
}

Status ApplyFields(RuleOptions& r, const toml::node& n) {
  const auto* a = n.as_array();
  if (a == nullptr) {
    return InvalidArgument("expected an array of strings, got " + std::string(TomlTypeName(n)));
  }
  r.fields.clear();
  for (const toml::node& e : *a) {
    const auto* s = e.as_string();
    if (s == nullptr) {
      return InvalidArgument("expected an array of strings, got an element that is " +
                             std::string(TomlTypeName(e)));
    }
    r.fields.push_back(s->get());
  }
  return Status::Ok();
}

constexpr std::string_view kFormatNames[] = {"raw", "json", "sparkplug_b"};
constexpr PayloadFormat kFormats[] = {PayloadFormat::kRaw, PayloadFormat::kJson,
                                      PayloadFormat::kSparkplugB};
constexpr std::string_view kTypeNames[] = {"auto", "float64", "int64", "bool", "bytes"};
constexpr RuleValueType kTypes[] = {RuleValueType::kAuto, RuleValueType::kFloat64,
                                    RuleValueType::kInt64, RuleValueType::kBool,
                                    RuleValueType::kBytes};
constexpr std::string_view kUnitNames[] = {"s", "ms", "us", "ns"};
constexpr TimeUnit kUnits[] = {TimeUnit::kSeconds, TimeUnit::kMillis, TimeUnit::kMicros,
                               TimeUnit::kNanos};
constexpr std::string_view kPriorityNames[] = {"low", "normal", "high"};
constexpr PriorityClass kPriorities[] = {PriorityClass::kLow, PriorityClass::kNormal,
                                         PriorityClass::kHigh};

const RuleKeySpec kRuleKeys[] = {
    {{"ingest.rule[].topic", "string"}, "topic",
     [](RuleOptions& r, const toml::node& n) { return String(n, r.topic); }},
    {{"ingest.rule[].format", "string"}, "format",
     [](RuleOptions& r, const toml::node& n) { return Enum(n, kFormatNames, kFormats, r.format); }},
    {{"ingest.rule[].series", "string"}, "series",
     [](RuleOptions& r, const toml::node& n) { return String(n, r.series); }},
    {{"ingest.rule[].fields", "array of strings"}, "fields", ApplyFields},
    {{"ingest.rule[].samples", "string"}, "samples",
     [](RuleOptions& r, const toml::node& n) {
       std::string v;
       SLUICE_RETURN_IF_ERROR(String(n, v));
       r.samples = std::move(v);
       return Status::Ok();
     }},
    {{"ingest.rule[].timestamp", "string"}, "timestamp", ApplyTimestamp},
    {{"ingest.rule[].timestamp_unit", "string"}, "timestamp_unit",
     [](RuleOptions& r, const toml::node& n) {
       return Enum(n, kUnitNames, kUnits, r.timestamp_unit);
     }},
    {{"ingest.rule[].type", "string"}, "type",
     [](RuleOptions& r, const toml::node& n) { return Enum(n, kTypeNames, kTypes, r.type); }},
    {{"ingest.rule[].unit", "string"}, "unit",
     [](RuleOptions& r, const toml::node& n) {
       SLUICE_RETURN_IF_ERROR(String(n, r.unit));
       // The store keeps units to 64 bytes (store/src/registry.h).
       if (r.unit.size() > 64) return InvalidArgument("longer than 64 bytes");
       return Status::Ok();
     }},
    {{"ingest.rule[].priority", "string"}, "priority",
     [](RuleOptions& r, const toml::node& n) {
       return Enum(n, kPriorityNames, kPriorities, r.priority);
     }},
};

}  // namespace

std::string_view TomlTypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

std::span<const RuleKeySpec> RuleKeys() { return kRuleKeys; }

const RuleKeySpec* FindRuleKey(std::string_view field) {
  for (const auto& k : kRuleKeys) {
    if (k.field == field) return &k;
  }
  return nullptr;
}

Status GetUint32(const toml::node& n, std::uint32_t lo, std::uint32_t hi, std::uint32_t& out) {
  const auto* i = n.as_integer();
  if (i == nullptr) {
    return InvalidArgument("expected an integer, got " + std::string(TomlTypeName(n)));
  }
  if (i->get() < lo || i->get() > hi) {
    return InvalidArgument(std::to_string(i->get()) + " is outside " + std::to_string(lo) +
                           " to " + std::to_string(hi));
  }
  out = static_cast<std::uint32_t>(i->get());
  return Status::Ok();
}

}  // namespace sluice::gateway::ingest
