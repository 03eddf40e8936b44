// Rule checking (at config load) and first-match-wins lookup.
#include <algorithm>

#include "gateway/ingest/topic_rules.h"

namespace sluice::gateway {
namespace {

constexpr TemplateVar kRawVars[] = {TemplateVar::kTopic};
constexpr TemplateVar kJsonVars[] = {TemplateVar::kTopic, TemplateVar::kField};
constexpr TemplateVar kSparkplugVars[] = {TemplateVar::kTopic, TemplateVar::kGroup,
                                          TemplateVar::kNode, TemplateVar::kDevice,
                                          TemplateVar::kMetric};

std::span<const TemplateVar> BuiltinsOf(PayloadFormat f) {
  switch (f) {
    case PayloadFormat::kRaw:
      return kRawVars;
    case PayloadFormat::kJson:
      return kJsonVars;
    case PayloadFormat::kSparkplugB:
      return kSparkplugVars;
  }
  return kRawVars;
}

Status CheckTimestamp(const RuleOptions& r) {
  const TimestampSource ts = *r.timestamp;
  if (ts == TimestampSource::kPayload && r.format != PayloadFormat::kSparkplugB) {
    return InvalidArgument(
        "timestamp: \"payload\" is for sparkplug_b rules; use \"field:<path>\" for JSON");
  }
  if (ts == TimestampSource::kField && r.format != PayloadFormat::kJson) {
    return InvalidArgument("timestamp: \"field:<path>\" is for json rules");
  }
  if ((ts == TimestampSource::kField || ts == TimestampSource::kUserProperty) &&
      r.timestamp_key.empty()) {
    return InvalidArgument("timestamp: the field path or property name is empty");
  }
  return Status::Ok();
}

}  // namespace

std::string_view PayloadFormatName(PayloadFormat format) {
  switch (format) {
    case PayloadFormat::kRaw:
      return "raw";
    case PayloadFormat::kJson:
      return "json";
    case PayloadFormat::kSparkplugB:
      return "sparkplug_b";
  }
  return "?";
}

std::string_view RuleValueTypeName(RuleValueType type) {
  switch (type) {
    case RuleValueType::kAuto:
      return "auto";
    case RuleValueType::kFloat64:
      return "float64";
    case RuleValueType::kInt64:
      return "int64";
    case RuleValueType::kBool:
      return "bool";
    case RuleValueType::kBytes:
      return "bytes";
  }
  return "?";
}

std::string_view PriorityClassName(PriorityClass priority) {
  switch (priority) {
    case PriorityClass::kLow:
      return "low";
    case PriorityClass::kNormal:
      return "normal";
    case PriorityClass::kHigh:
      return "high";
  }
  return "?";
}

Result<std::string> FieldPathToPointer(std::string_view path) {
  if (path.size() > 1024)
    return InvalidArgument("path '" + std::string(path.substr(0, 32)) +
                           "...' is longer than 1024 bytes");
  if (path.empty() || path.front() == '/') {
    // RFC 6901: '~' must be followed by '0' or '1'.
    for (std::size_t i = 0; i < path.size(); ++i) {
      if (path[i] == '~' && (i + 1 == path.size() || (path[i + 1] != '0' && path[i + 1] != '1'))) {
        return InvalidArgument("JSON Pointer '" + std::string(path) +
                               "' has '~' not followed by 0 or 1");
      }
    }
    return std::string(path);
  }
  std::string out;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = std::min(path.find('.', begin), path.size());
    const std::string_view seg = path.substr(begin, end - begin);
    if (seg.empty()) {
      return InvalidArgument("path '" + std::string(path) +
                             "' has an empty segment; write a.b.c, or a JSON Pointer /a/b/c");
    }
    out += '/';
    for (char c : seg) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    if (end == path.size()) break;
    begin = end + 1;
  }
  return out;
}

Result<CompiledRule> CompileRule(const RuleOptions& rule) {
  CompiledRule c;
  c.options = rule;
  RuleOptions& r = c.options;
  if (!r.timestamp) {
    r.timestamp = r.format == PayloadFormat::kSparkplugB ? TimestampSource::kPayload
                                                         : TimestampSource::kReceive;
  }

  auto pattern = TopicPattern::Parse(r.topic);
  if (!pattern.ok()) return pattern.status().WithContext("topic");
  c.pattern = std::move(*pattern);
  // A capture may not shadow a built-in of its format: {metric} is free in a
  // JSON rule but is the Sparkplug metric name in a sparkplug_b rule.
  for (const std::string& name : c.pattern.capture_names()) {
    for (TemplateVar v : BuiltinsOf(r.format)) {
      if (name == TemplateVarName(v)) {
        return InvalidArgument("topic: capture {" + name + "} has the name of a built-in of " +
                               std::string(PayloadFormatName(r.format)) +
                               " rules; choose another name");
      }
    }
  }

  if (r.format != PayloadFormat::kJson) {
    if (!r.fields.empty()) return InvalidArgument("fields: only json rules have fields");
    if (r.samples) return InvalidArgument("samples: only json rules have samples");
  }
  if (r.format == PayloadFormat::kSparkplugB && r.type != RuleValueType::kAuto) {
    return InvalidArgument("type: sparkplug_b metrics carry their own datatype; leave type out");
  }
  SLUICE_RETURN_IF_ERROR(CheckTimestamp(r));

  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    if (std::find(r.fields.begin(), r.fields.begin() + static_cast<std::ptrdiff_t>(i),
                  r.fields[i]) != r.fields.begin() + static_cast<std::ptrdiff_t>(i)) {
      return InvalidArgument("fields: '" + r.fields[i] + "' is listed twice");
    }
    auto p = FieldPathToPointer(r.fields[i]);
    if (!p.ok()) return p.status().WithContext("fields");
    c.field_pointers.push_back(std::move(*p));
  }
  if (r.samples) {
    auto p = FieldPathToPointer(*r.samples);
    if (!p.ok()) return p.status().WithContext("samples");
    c.samples_pointer = std::move(*p);
  }
  if (*r.timestamp == TimestampSource::kField) {
    auto p = FieldPathToPointer(r.timestamp_key);
    if (!p.ok()) return p.status().WithContext("timestamp");
    c.timestamp_pointer = std::move(*p);
  }

  std::string text = r.series;
  if (text.empty() && r.format != PayloadFormat::kSparkplugB) {
    text = r.fields.empty() ? "{topic}" : "{topic}/{field}";
  }
  if (!text.empty()) {
    auto t = SeriesTemplate::Parse(text, c.pattern.capture_names(), BuiltinsOf(r.format));
    if (!t.ok()) return t.status().WithContext("series");
    if (r.fields.size() > 1 && !t->Uses(TemplateVar::kField)) {
      return InvalidArgument(
          "series: several fields would all write one series; put {field} in the template");
    }
    if (r.format == PayloadFormat::kSparkplugB && !t->Uses(TemplateVar::kMetric)) {
      return InvalidArgument(
          "series: every metric of a node would write one series; put {metric} in the template");
    }
    c.series = std::move(*t);
  }
  return c;
}

Result<RuleSet> RuleSet::Build(const IngestOptions& options) {
  RuleSet set;
  for (std::size_t i = 0; i < options.rules.size(); ++i) {
    auto c = CompileRule(options.rules[i]);
    if (!c.ok()) return c.status().WithContext("rule " + std::to_string(i + 1));
    c->index = i;
    set.rules_.push_back(std::move(*c));
  }
  return set;
}

bool RuleSet::Match(std::string_view topic, RuleMatch& out) const {
  for (const CompiledRule& r : rules_) {
    if (r.pattern.Match(topic, out.captures)) {
      out.rule = &r;
      return true;
    }
  }
  out.rule = nullptr;
  out.captures.clear();
  return false;
}

std::vector<std::string> RuleSet::SubscriptionFilters() const {
  std::vector<std::string> out;
  for (const CompiledRule& r : rules_) {
    if (std::find(out.begin(), out.end(), r.pattern.filter()) == out.end()) {
      out.push_back(r.pattern.filter());
    }
  }
  return out;
}

}  // namespace sluice::gateway
