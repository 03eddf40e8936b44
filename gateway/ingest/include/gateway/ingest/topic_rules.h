// Topic mapping: an MQTT topic -> the first rule that matches it, the values
// its named captures took, and the series name template to render.
//
// Pattern syntax (one syntax for filter and captures): levels separated by
// '/', each one of
//   literal   matches itself            `plant`
//   +         any one level             `+`
//   {name}    any one level, captured   `{line}`
//   #         the rest, last only       `#`
//   {name#}   the rest, captured, last  `{path#}` (levels joined by '/')
// Wildcards follow MQTT: a level may be empty, `a/#` also matches `a`, and a
// wildcard in the first level does not match topics starting with '$'.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gateway/ingest/ingest_options.h"

namespace sluice::gateway {

class TopicPattern {
 public:
  static Result<TopicPattern> Parse(std::string_view pattern);

  // On a match fills `captures` (one per capture_names(), views into topic).
  bool Match(std::string_view topic, std::vector<std::string_view>& captures) const;

  // The MQTT subscription filter: captures replaced by `+` and `#`.
  const std::string& filter() const { return filter_; }
  const std::vector<std::string>& capture_names() const { return capture_names_; }

 private:
  enum class Kind : std::uint8_t { kLiteral, kOne, kRest };
  struct Level {
    Kind kind = Kind::kLiteral;
    std::string literal;
    int capture = -1;  // index into capture_names_, or -1
  };
  std::vector<Level> levels_;
  std::vector<std::string> capture_names_;
  std::string filter_;
};

// Variables a format provides to series templates besides the captures.
enum class TemplateVar : std::uint8_t { kTopic, kField, kGroup, kNode, kDevice, kMetric };
std::string_view TemplateVarName(TemplateVar var);

struct TemplateValues {
  std::span<const std::string_view> captures;  // in capture_names() order
  std::string_view topic, field, group, node, device, metric;
};

// "{line}.{machine}.{metric}": literal text and `{variable}` references,
// resolved against the captures and built-ins when parsed. Braces are not
// allowed in the literal text.
class SeriesTemplate {
 public:
  static Result<SeriesTemplate> Parse(std::string_view text,
                                      const std::vector<std::string>& captures,
                                      std::span<const TemplateVar> builtins);
  // Appends the rendered name to `out`.
  void Render(const TemplateValues& values, std::string& out) const;
  bool Uses(TemplateVar var) const;
  const std::string& text() const { return text_; }

 private:
  struct Part {
    std::string literal;
    int capture = -1;
    std::optional<TemplateVar> var;
  };
  std::vector<Part> parts_;
  std::string text_;
};

// A rule checked and prepared for matching and decoding.
struct CompiledRule {
  RuleOptions options;
  TopicPattern pattern;
  std::optional<SeriesTemplate> series;  // absent: Sparkplug default naming
  std::vector<std::string> field_pointers;  // options.fields as JSON Pointers
  std::optional<std::string> samples_pointer;
  std::string timestamp_pointer;  // JSON Pointer when timestamp is kField
  std::size_t index = 0;          // position in the configuration, from 0
};

// Checks one rule and prepares it. An error message starts with the field at
// fault ("series: ..."), which the config loader maps back to its key.
Result<CompiledRule> CompileRule(const RuleOptions& rule);

struct RuleMatch {
  const CompiledRule* rule = nullptr;
  std::vector<std::string_view> captures;  // views into the matched topic
};

class RuleSet {
 public:
  static Result<RuleSet> Build(const IngestOptions& options);

  // The first rule (in configuration order) whose pattern matches `topic`.
  // `out` stays valid while this RuleSet and the topic's bytes live.
  bool Match(std::string_view topic, RuleMatch& out) const;

  // One filter per rule, duplicates removed, in rule order.
  std::vector<std::string> SubscriptionFilters() const;
  std::span<const CompiledRule> rules() const { return rules_; }

 private:
  std::vector<CompiledRule> rules_;
};

// "a.b.0" -> "/a/b/0"; a path starting with '/' is already a JSON Pointer
// (RFC 6901) and is checked only. "" is the whole document.
Result<std::string> FieldPathToPointer(std::string_view path);

}  // namespace sluice::gateway
