#include "store/types.h"

namespace sluice::store {

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kFloat64: return "float64";
    case ValueType::kInt64: return "int64";
    case ValueType::kBool: return "bool";
    case ValueType::kBytes: return "bytes";
  }
  return "unknown";
}

const char* PartitionStateName(PartitionState state) {
  switch (state) {
    case PartitionState::kOpen: return "open";
    case PartitionState::kSealed: return "sealed";
    case PartitionState::kSynced: return "synced";
    case PartitionState::kReclaimed: return "reclaimed";
  }
  return "unknown";
}

ValueType TypeOf(const Value& v) {
  switch (v.index()) {
    case 0: return ValueType::kFloat64;
    case 1: return ValueType::kInt64;
    case 2: return ValueType::kBool;
    default: return ValueType::kBytes;
  }
}

}  // namespace sluice::store
