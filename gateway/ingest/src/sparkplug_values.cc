#include "sparkplug_values.h"

#include <limits>

#include "gateway/ingest/payload_decoders.h"

namespace sluice::gateway {
namespace ingest {
namespace {

namespace sp = sluice::sparkplug;
using Metric = sp::Payload::Metric;

// Integer datatypes arrive in int_value or long_value depending on the
// sender (the specification says int_value up to 32 bits; some senders use
// long_value for everything). Either is accepted.
bool RawInteger(const Metric& m, std::uint64_t& raw) {
  if (m.value_case() == Metric::kIntValue) raw = m.int_value();
  else if (m.value_case() == Metric::kLongValue) raw = m.long_value();
  else return false;
  return true;
}

}  // namespace

std::string DataTypeName(std::uint32_t datatype) {
  if (datatype <= static_cast<std::uint32_t>(sp::DataType_MAX) &&
      sp::DataType_IsValid(static_cast<int>(datatype))) {
    return sp::DataType_Name(static_cast<sp::DataType>(datatype));
  }
  return "datatype " + std::to_string(datatype);
}

bool StoreTypeOf(std::uint32_t datatype, store::ValueType& type) {
  switch (datatype) {
    case sp::Int8: case sp::Int16: case sp::Int32: case sp::Int64:
    case sp::UInt8: case sp::UInt16: case sp::UInt32: case sp::UInt64:
    case sp::DateTime:
      type = store::ValueType::kInt64;
      return true;
    case sp::Float: case sp::Double:
      type = store::ValueType::kFloat64;
      return true;
    case sp::Boolean:
      type = store::ValueType::kBool;
      return true;
    case sp::String: case sp::Text: case sp::UUID: case sp::Bytes: case sp::File:
    case sp::DataSet: case sp::Template:
      type = store::ValueType::kBytes;
      return true;
    default:
      // Arrays (22..34) arrive packed in bytes_value and are kept as bytes.
      if (datatype >= sp::Int8Array && datatype <= sp::DateTimeArray) {
        type = store::ValueType::kBytes;
        return true;
      }
      return false;
  }
}

bool MetricValue(const Metric& m, std::uint32_t datatype, store::Value& value,
                 std::string& why) {
  std::uint64_t raw = 0;
  auto missing = [&](std::string_view field) {
    why = DataTypeName(datatype) + " metric carries no " + std::string(field);
    return false;
  };
  switch (datatype) {
    // Narrow signed types: the low bits, sign-extended, so that both 8-bit
    // two's complement (0xFF) and 32-bit (0xFFFFFFFF) encodings of -1 read -1.
    case sp::Int8:
      if (!RawInteger(m, raw)) return missing("integer value");
      value = static_cast<std::int64_t>(static_cast<std::int8_t>(raw & 0xFF));
      return true;
    case sp::Int16:
      if (!RawInteger(m, raw)) return missing("integer value");
      value = static_cast<std::int64_t>(static_cast<std::int16_t>(raw & 0xFFFF));
      return true;
    case sp::Int32:
      if (!RawInteger(m, raw)) return missing("integer value");
      value = static_cast<std::int64_t>(static_cast<std::int32_t>(raw & 0xFFFFFFFFu));
      return true;
    case sp::Int64:
    case sp::DateTime:  // ms since the epoch, kept as sent
      if (!RawInteger(m, raw)) return missing("integer value");
      value = static_cast<std::int64_t>(raw);
      return true;
    case sp::UInt8:
      if (!RawInteger(m, raw)) return missing("integer value");
      value = static_cast<std::int64_t>(raw & 0xFF);
      return true;
    case sp::UInt16:
      if (!RawInteger(m, raw)) return missing("integer value");
      value = static_cast<std::int64_t>(raw & 0xFFFF);
      return true;
    case sp::UInt32:
      if (!RawInteger(m, raw)) return missing("integer value");
      value = static_cast<std::int64_t>(raw & 0xFFFFFFFFu);
      return true;
    case sp::UInt64:
      if (!RawInteger(m, raw)) return missing("integer value");
      // The store has no unsigned type; a wrapped negative would be a lie.
      if (raw > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        why = "UInt64 value " + std::to_string(raw) + " is above the int64 range";
        return false;
      }
      value = static_cast<std::int64_t>(raw);
      return true;
    case sp::Float:
      if (m.value_case() != Metric::kFloatValue) return missing("float_value");
      value = static_cast<double>(m.float_value());
      return true;
    case sp::Double:
      if (m.value_case() != Metric::kDoubleValue) return missing("double_value");
      value = m.double_value();
      return true;
    case sp::Boolean:
      if (m.value_case() != Metric::kBooleanValue) return missing("boolean_value");
      value = m.boolean_value();
      return true;
    case sp::String: case sp::Text: case sp::UUID:
      if (m.value_case() != Metric::kStringValue) return missing("string_value");
      value = m.string_value();
      return true;
    case sp::Bytes: case sp::File:
      if (m.value_case() != Metric::kBytesValue) return missing("bytes_value");
      value = m.bytes_value();
      return true;
    case sp::DataSet:
      // Kept as the serialized Payload.DataSet message (docs/payloads.md).
      if (m.value_case() != Metric::kDatasetValue) return missing("dataset_value");
      value = m.dataset_value().SerializeAsString();
      return true;
    case sp::Template:
      if (m.value_case() != Metric::kTemplateValue) return missing("template_value");
      value = m.template_value().SerializeAsString();
      return true;
    default:
      if (datatype >= sp::Int8Array && datatype <= sp::DateTimeArray) {
        if (m.value_case() != Metric::kBytesValue) return missing("bytes_value");
        value = m.bytes_value();
        return true;
      }
      why = DataTypeName(datatype) + " is not a metric value datatype";
      return false;
  }
}

}  // namespace ingest

OutboundMessage MakeRebirthRequest(std::string_view group, std::string_view edge_node,
                                   std::int64_t now_ns) {
  sparkplug::Payload p;
  const auto now_ms = static_cast<std::uint64_t>(now_ns < 0 ? 0 : now_ns / 1'000'000);
  p.set_timestamp(now_ms);
  auto* m = p.add_metrics();
  m->set_name("Node Control/Rebirth");
  m->set_timestamp(now_ms);
  m->set_datatype(sparkplug::Boolean);
  m->set_boolean_value(true);
  OutboundMessage out;
  out.topic = "spBv1.0/" + std::string(group) + "/NCMD/" + std::string(edge_node);
  out.payload = p.SerializeAsString();
  out.qos = 0;  // the specification sends NCMD at QoS 0, not retained
  return out;
}

}  // namespace sluice::gateway
