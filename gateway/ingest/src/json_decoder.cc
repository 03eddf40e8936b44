// JSON payloads through simdjson's DOM API: a rule reads several paths of one
// document, in any order, which the DOM serves without re-parsing.
#include <simdjson.h>

#include <cmath>

#include "decode_util.h"
#include "gateway/ingest/payload_decoders.h"

namespace sluice::gateway {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Fails one message; keeps the output untouched (the caller truncates).
struct Failure {
  MalformedReason reason;
  std::string why;
};

std::string_view JsonTypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a bool";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "?";
}

bool Lookup(const element& e, const std::string& pointer, element& out) {
  if (pointer.empty()) {
    out = e;
    return true;
  }
  return e.at_pointer(pointer).get(out) == simdjson::SUCCESS;
}

enum class Got : std::uint8_t { kValue, kNull, kFailed };

// The value of `e` as the rule's type, written into `out`. Written as an
// out-parameter: g++ 12 with ASan reports a false maybe-uninitialized on
// std::optional<store::Value> returns.
Got ToValue(const element& e, RuleValueType type, store::Value& out, Failure& failure) {
  const element_type t = e.type();
  if (t == element_type::NULL_VALUE) return Got::kNull;
  const bool number =
      t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
  auto as_double = [&]() -> double {
    if (t == element_type::INT64) return static_cast<double>(e.get_int64().value_unsafe());
    if (t == element_type::UINT64) return static_cast<double>(e.get_uint64().value_unsafe());
    return e.get_double().value_unsafe();
  };
  auto wrong = [&](std::string_view wanted) {
    failure = {MalformedReason::kWrongType,
               "expected " + std::string(wanted) + ", got " + std::string(JsonTypeName(t))};
    return Got::kFailed;
  };
  switch (type) {
    case RuleValueType::kAuto:
      if (number)
        out = as_double();
      else if (t == element_type::BOOL)
        out = e.get_bool().value_unsafe();
      else if (t == element_type::STRING)
        out = std::string(e.get_string().value_unsafe());
      else
        return wrong("a number, bool or string");
      return Got::kValue;
    case RuleValueType::kFloat64:
      if (!number) return wrong("a number");
      out = as_double();
      return Got::kValue;
    case RuleValueType::kInt64: {
      if (t == element_type::INT64) {
        out = e.get_int64().value_unsafe();
        return Got::kValue;
      }
      if (t == element_type::UINT64) {
        failure = {MalformedReason::kWrongType, "integer is above the int64 range"};
        return Got::kFailed;
      }
      if (t != element_type::DOUBLE) return wrong("an integer");
      // 21.0 is an integer written by a producer that only has doubles.
      const double d = e.get_double().value_unsafe();
      if (std::trunc(d) != d || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
        failure = {MalformedReason::kWrongType, "expected an integer, got " + std::to_string(d)};
        return Got::kFailed;
      }
      out = static_cast<std::int64_t>(d);
      return Got::kValue;
    }
    case RuleValueType::kBool:
      if (t != element_type::BOOL) return wrong("a bool");
      out = e.get_bool().value_unsafe();
      return Got::kValue;
    case RuleValueType::kBytes:
      if (t != element_type::STRING) return wrong("a string");
      out = std::string(e.get_string().value_unsafe());
      return Got::kValue;
  }
  return wrong("?");
}

bool FieldTimestamp(const element& sample, const CompiledRule& rule, std::int64_t& ns,
                    Failure& failure) {
  const RuleOptions& o = rule.options;
  element e;
  if (!Lookup(sample, rule.timestamp_pointer, e)) {
    failure = {MalformedReason::kBadTimestamp,
               "timestamp field '" + o.timestamp_key + "' is missing"};
    return false;
  }
  bool ok = false;
  switch (e.type()) {
    case element_type::INT64:
      ok = ingest::ScaleToNs(e.get_int64().value_unsafe(), o.timestamp_unit, ns);
      break;
    case element_type::DOUBLE:
      ok = ingest::ScaleToNs(e.get_double().value_unsafe(), o.timestamp_unit, ns);
      break;
    case element_type::STRING:
      ok = ingest::ParseRfc3339(e.get_string().value_unsafe(), ns);
      break;
    default:
      break;
  }
  if (!ok) {
    failure = {
        MalformedReason::kBadTimestamp,
        "timestamp field '" + o.timestamp_key + "' is not a number in range or an RFC 3339 string"};
  }
  return ok;
}

// Appends the samples of one object (the document, or one array element).
bool DecodeSample(const Message& m, const RuleMatch& match, const element& sample,
                  std::int64_t message_ts, std::vector<Sample>& out, std::uint32_t& nulls,
                  Failure& failure) {
  const CompiledRule& rule = *match.rule;
  const RuleOptions& o = rule.options;
  std::int64_t ts = message_ts;
  if (*o.timestamp == TimestampSource::kField && !FieldTimestamp(sample, rule, ts, failure)) {
    return false;
  }
  TemplateValues vars;
  vars.captures = match.captures;
  vars.topic = m.topic;
  const std::size_t n = o.fields.empty() ? 1 : o.fields.size();
  for (std::size_t i = 0; i < n; ++i) {
    element e = sample;
    if (!o.fields.empty()) {
      vars.field = o.fields[i];
      if (!Lookup(sample, rule.field_pointers[i], e)) {
        failure = {MalformedReason::kMissingField, "field '" + o.fields[i] + "' is missing"};
        return false;
      }
    }
    Sample s;
    const Got got = ToValue(e, o.type, s.value, failure);
    if (got == Got::kNull) {
      ++nulls;
      continue;
    }
    if (got == Got::kFailed) {
      if (!o.fields.empty()) failure.why = "field '" + o.fields[i] + "': " + failure.why;
      return false;
    }
    s.timestamp_ns = ts;
    s.type = store::TypeOf(s.value);
    s.unit = o.unit;
    rule.series->Render(vars, s.series);
    out.push_back(std::move(s));
  }
  return true;
}

}  // namespace

struct JsonDecoder::Impl {
  simdjson::dom::parser parser{kMaxPayloadBytes};
};

JsonDecoder::JsonDecoder() : impl_(std::make_unique<Impl>()) {}
JsonDecoder::~JsonDecoder() = default;
JsonDecoder::JsonDecoder(JsonDecoder&&) noexcept = default;
JsonDecoder& JsonDecoder::operator=(JsonDecoder&&) noexcept = default;

DecodeStatus JsonDecoder::Decode(const Message& m, const RuleMatch& match,
                                 std::vector<Sample>& out) {
  const CompiledRule& rule = *match.rule;
  const RuleOptions& o = rule.options;
  if (m.payload.size() > kMaxPayloadBytes) {
    return DecodeStatus::Malformed(
        MalformedReason::kBadJson, m.topic,
        "payload of " + std::to_string(m.payload.size()) + " bytes is above the 4 MiB JSON limit");
  }
  element root;
  // parse() copies into a padded buffer: MQTT payload bytes carry no padding.
  const auto err = impl_->parser.parse(m.payload.data(), m.payload.size()).get(root);
  if (err != simdjson::SUCCESS) {
    return DecodeStatus::Malformed(MalformedReason::kBadJson, m.topic,
                                   simdjson::error_message(err));
  }
  std::int64_t message_ts = 0;
  if (*o.timestamp != TimestampSource::kField) {
    const auto ts = ingest::MessageTimestamp(m, *o.timestamp, o.timestamp_key, o.timestamp_unit);
    if (!ts) {
      return DecodeStatus::Malformed(
          MalformedReason::kBadTimestamp, m.topic,
          "user property '" + o.timestamp_key + "' is missing or not a timestamp");
    }
    message_ts = *ts;
  }

  const std::size_t start = out.size();
  DecodeStatus result;
  Failure failure{MalformedReason::kNone, {}};
  bool ok = true;
  if (rule.samples_pointer) {
    element arr_el;
    simdjson::dom::array arr;
    if (!Lookup(root, *rule.samples_pointer, arr_el)) {
      failure = {MalformedReason::kMissingField, "samples array '" + *o.samples + "' is missing"};
      ok = false;
    } else if (arr_el.get_array().get(arr) != simdjson::SUCCESS) {
      failure = {MalformedReason::kWrongType, "samples '" + *o.samples + "' is " +
                                                  std::string(JsonTypeName(arr_el.type())) +
                                                  ", not an array"};
      ok = false;
    } else {
      std::size_t index = 0;
      for (element sample : arr) {
        if (!DecodeSample(m, match, sample, message_ts, out, result.nulls, failure)) {
          failure.why = "sample " + std::to_string(index) + ": " + failure.why;
          ok = false;
          break;
        }
        ++index;
      }
    }
  } else {
    ok = DecodeSample(m, match, root, message_ts, out, result.nulls, failure);
  }
  if (!ok) {
    out.resize(start);  // all or nothing: a half-read message would hide the error
    return DecodeStatus::Malformed(failure.reason, m.topic, failure.why);
  }
  return result;
}

}  // namespace sluice::gateway
