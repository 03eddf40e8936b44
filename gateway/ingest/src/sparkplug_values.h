// Sparkplug B metric values -> store values. Internal: includes protobuf.
#pragma once

#include <cstdint>
#include <string>

#include "sparkplug_b.pb.h"
#include "store/types.h"

namespace sluice::gateway::ingest {

// Store type of a Sparkplug datatype; false for datatypes that are not
// metric values (Unknown, PropertySet, PropertySetList, out of range).
bool StoreTypeOf(std::uint32_t datatype, store::ValueType& type);

// The value of `metric` read as `datatype` (the birth's when the data message
// omits it). False with `why` when the value field does not fit the datatype
// or the value does not fit the store type.
bool MetricValue(const sparkplug::Payload::Metric& metric, std::uint32_t datatype,
                 store::Value& value, std::string& why);

// "Int32", or "datatype 99" for values outside the enum.
std::string DataTypeName(std::uint32_t datatype);

}  // namespace sluice::gateway::ingest
