// TopicPattern and SeriesTemplate: parsing and matching.
#include <algorithm>

#include "gateway/ingest/topic_rules.h"

namespace sluice::gateway {
namespace {

// Capture and variable names: what a reader expects in a template.
bool IsName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
  });
}

}  // namespace

std::string_view TemplateVarName(TemplateVar var) {
  switch (var) {
    case TemplateVar::kTopic: return "topic";
    case TemplateVar::kField: return "field";
    case TemplateVar::kGroup: return "group";
    case TemplateVar::kNode: return "node";
    case TemplateVar::kDevice: return "device";
    case TemplateVar::kMetric: return "metric";
  }
  return "?";
}

Result<TopicPattern> TopicPattern::Parse(std::string_view pattern) {
  if (pattern.empty()) return InvalidArgument("topic pattern is empty");
  // MQTT caps topics at 65535 bytes; a filter longer than that never matches.
  if (pattern.size() > 65535) return InvalidArgument("topic pattern is longer than 65535 bytes");
  if (pattern.find('\0') != std::string_view::npos) {
    return InvalidArgument("topic pattern contains a NUL character");
  }
  TopicPattern p;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = std::min(pattern.find('/', begin), pattern.size());
    const std::string_view level = pattern.substr(begin, end - begin);
    const bool last = end == pattern.size();
    Level l;
    std::string filter_level;
    if (level == "+") {
      l.kind = Kind::kOne;
    } else if (level == "#") {
      l.kind = Kind::kRest;
    } else if (level.size() >= 2 && level.front() == '{' && level.back() == '}') {
      std::string_view name = level.substr(1, level.size() - 2);
      l.kind = Kind::kOne;
      if (name.ends_with('#')) {
        l.kind = Kind::kRest;
        name.remove_suffix(1);
      }
      if (!IsName(name)) {
        return InvalidArgument("'" + std::string(level) +
                               "' is not a capture; write {name} or {name#} with a name of "
                               "letters, digits and '_'");
      }
      if (std::find(p.capture_names_.begin(), p.capture_names_.end(), name) !=
          p.capture_names_.end()) {
        return InvalidArgument("capture '" + std::string(name) + "' appears twice");
      }
      l.capture = static_cast<int>(p.capture_names_.size());
      p.capture_names_.emplace_back(name);
    } else {
      if (level.find_first_of("+#{}") != std::string_view::npos) {
        return InvalidArgument("level '" + std::string(level) +
                               "' mixes text with a wildcard or brace; a wildcard or capture "
                               "must be a whole level");
      }
      l.literal = std::string(level);
    }
    if (l.kind == Kind::kRest && !last) {
      return InvalidArgument("'" + std::string(level) + "' must be the last level");
    }
    p.filter_ += (p.levels_.empty() ? "" : "/");
    p.filter_ += l.kind == Kind::kLiteral ? l.literal : (l.kind == Kind::kOne ? "+" : "#");
    p.levels_.push_back(std::move(l));
    if (last) break;
    begin = end + 1;
  }
  return p;
}

bool TopicPattern::Match(std::string_view topic,
                         std::vector<std::string_view>& captures) const {
  captures.assign(capture_names_.size(), std::string_view());
  std::size_t pos = 0;
  bool topic_done = false;  // every level of `topic` has been consumed
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    const Level& l = levels_[i];
    // MQTT 4.7.2: wildcards at the first level do not match "$SYS/..." and the like.
    if (i == 0 && l.kind != Kind::kLiteral && topic.starts_with('$')) return false;
    if (l.kind == Kind::kRest) {
      // "a/#" matches "a" too (the parent level), with an empty capture.
      if (l.capture >= 0 && !topic_done) captures[l.capture] = topic.substr(pos);
      return true;
    }
    if (topic_done) return false;
    const std::size_t end = std::min(topic.find('/', pos), topic.size());
    const std::string_view level = topic.substr(pos, end - pos);
    if (l.kind == Kind::kLiteral) {
      if (level != l.literal) return false;
    } else if (l.capture >= 0) {
      captures[l.capture] = level;
    }
    if (end == topic.size()) {
      topic_done = true;
    } else {
      pos = end + 1;
    }
  }
  return topic_done;
}

Result<SeriesTemplate> SeriesTemplate::Parse(std::string_view text,
                                             const std::vector<std::string>& captures,
                                             std::span<const TemplateVar> builtins) {
  if (text.empty()) return InvalidArgument("series template is empty");
  SeriesTemplate t;
  t.text_ = std::string(text);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find('{', pos);
    const std::size_t close_stray = text.find('}', pos);
    if (close_stray < open) {
      return InvalidArgument("'}' without '{' at offset " + std::to_string(close_stray));
    }
    if (open != pos) {
      Part lit;
      lit.literal = std::string(text.substr(pos, std::min(open, text.size()) - pos));
      t.parts_.push_back(std::move(lit));
    }
    if (open == std::string_view::npos) break;
    const std::size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      return InvalidArgument("'{' without '}' at offset " + std::to_string(open));
    }
    const std::string_view name = text.substr(open + 1, close - open - 1);
    Part ref;
    const auto c = std::find(captures.begin(), captures.end(), name);
    if (c != captures.end()) {
      ref.capture = static_cast<int>(c - captures.begin());
    } else {
      for (TemplateVar v : builtins) {
        if (name == TemplateVarName(v)) ref.var = v;
      }
    }
    if (ref.capture < 0 && !ref.var) {
      std::string known;
      for (const auto& n : captures) known += (known.empty() ? "" : ", ") + n;
      for (TemplateVar v : builtins) {
        known += (known.empty() ? "" : ", ") + std::string(TemplateVarName(v));
      }
      return InvalidArgument("template refers to unknown capture {" + std::string(name) +
                             "}; known here: " + known);
    }
    t.parts_.push_back(std::move(ref));
    pos = close + 1;
  }
  return t;
}

void SeriesTemplate::Render(const TemplateValues& v, std::string& out) const {
  for (const Part& p : parts_) {
    if (p.capture >= 0) {
      if (static_cast<std::size_t>(p.capture) < v.captures.size()) out += v.captures[p.capture];
      continue;
    }
    if (!p.var) {
      out += p.literal;
      continue;
    }
    switch (*p.var) {
      case TemplateVar::kTopic: out += v.topic; break;
      case TemplateVar::kField: out += v.field; break;
      case TemplateVar::kGroup: out += v.group; break;
      case TemplateVar::kNode: out += v.node; break;
      case TemplateVar::kDevice: out += v.device; break;
      case TemplateVar::kMetric: out += v.metric; break;
    }
  }
}

bool SeriesTemplate::Uses(TemplateVar var) const {
  return std::any_of(parts_.begin(), parts_.end(),
                     [&](const Part& p) { return p.var && *p.var == var; });
}

}  // namespace sluice::gateway
