// Raw payloads: one value per message, the whole payload.
#include <charconv>

#include "decode_util.h"
#include "gateway/ingest/payload_decoders.h"

namespace sluice::gateway {
namespace {

std::string_view TrimAscii(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Text shown in an error: short, and only printable ASCII.
std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  out += s.size() > 40 ? "...'" : "'";
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  if (s.starts_with('+')) s.remove_prefix(1);  // from_chars refuses a leading '+'
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

DecodeStatus DecodeRaw(const Message& m, const RuleMatch& match, std::vector<Sample>& out) {
  const CompiledRule& rule = *match.rule;
  const RuleOptions& o = rule.options;
  Sample s;
  const std::string_view text = TrimAscii(m.payload);
  switch (o.type) {
    case RuleValueType::kAuto:
    case RuleValueType::kFloat64: {
      double v = 0;
      if (!ParseNumber(text, v)) {
        return DecodeStatus::Malformed(MalformedReason::kNotANumber, m.topic,
                                       Quote(text) + " is not a float64");
      }
      s.value = v;
      s.type = store::ValueType::kFloat64;
      break;
    }
    case RuleValueType::kInt64: {
      std::int64_t v = 0;
      if (!ParseNumber(text, v)) {
        return DecodeStatus::Malformed(MalformedReason::kNotANumber, m.topic,
                                       Quote(text) + " is not an int64");
      }
      s.value = v;
      s.type = store::ValueType::kInt64;
      break;
    }
    case RuleValueType::kBool: {
      if (text == "true" || text == "1") s.value = true;
      else if (text == "false" || text == "0") s.value = false;
      else {
        return DecodeStatus::Malformed(MalformedReason::kNotANumber, m.topic,
                                       Quote(text) + " is not a bool (true, false, 1, 0)");
      }
      s.type = store::ValueType::kBool;
      break;
    }
    case RuleValueType::kBytes:
      s.value = std::string(m.payload);  // opaque: untrimmed
      s.type = store::ValueType::kBytes;
      break;
  }
  const auto ts =
      ingest::MessageTimestamp(m, *o.timestamp, o.timestamp_key, o.timestamp_unit);
  if (!ts) {
    return DecodeStatus::Malformed(MalformedReason::kBadTimestamp, m.topic,
                                   "user property '" + o.timestamp_key +
                                       "' is missing or not a timestamp");
  }
  s.timestamp_ns = *ts;
  TemplateValues vars;
  vars.captures = match.captures;
  vars.topic = m.topic;
  rule.series->Render(vars, s.series);
  s.unit = o.unit;
  out.push_back(std::move(s));
  return {};
}

}  // namespace sluice::gateway
