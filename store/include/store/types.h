// Records, series and values: what the store holds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sluice::store {

// The type of every value of one series, fixed at registration.
// Persisted: never renumber.
enum class ValueType : std::uint8_t {
  kFloat64 = 1,
  kInt64 = 2,
  kBool = 3,
  kBytes = 4,  // opaque bytes, at most Options::max_value_bytes
};

const char* ValueTypeName(ValueType type);

// Dense id of a registered series. A strong type so that ids, counts and
// timestamps cannot be swapped by accident.
struct SeriesId {
  std::uint32_t value = 0;
  friend bool operator==(SeriesId, SeriesId) = default;
  friend auto operator<=>(SeriesId, SeriesId) = default;
};

struct SeriesInfo {
  SeriesId id;
  std::string name;   // e.g. "plant/line-1/press-3/temperature"
  ValueType type = ValueType::kFloat64;
  std::string unit;   // free text, e.g. "degC"; may be empty
};

// A registered series' id and type: what Store::LookupSeries finds.
struct SeriesRef {
  SeriesId id;
  ValueType type = ValueType::kFloat64;
};

// A series to register: what RegisterSeriesBatch takes.
struct SeriesSpec {
  std::string_view name;
  ValueType type = ValueType::kFloat64;
  std::string_view unit;
};

// bytes values are held in a std::string.
using Value = std::variant<double, std::int64_t, bool, std::string>;

ValueType TypeOf(const Value& v);

struct Record {
  SeriesId series;
  std::int64_t timestamp_ns = 0;  // ns since the Unix epoch
  Value value;
};

using Batch = std::vector<Record>;

// A partition is a time window times a shard (hash of the series id modulo
// the shard count). Records arriving after their window's grace period go to
// the late partition of the window current at arrival.
struct PartitionId {
  std::int64_t window_start_ns = 0;  // multiple of the window length
  std::uint32_t shard = 0;
  bool late = false;
  friend bool operator==(const PartitionId&, const PartitionId&) = default;
  friend auto operator<=>(const PartitionId&, const PartitionId&) = default;
};

// Persisted: never renumber.
enum class PartitionState : std::uint8_t {
  kOpen = 1,       // accepting records
  kSealed = 2,     // closed for writes, waiting for upstream sync
  kSynced = 3,     // the sink confirmed it; reclaimable
  kReclaimed = 4,  // its blocks are gone from the box
};

const char* PartitionStateName(PartitionState state);

}  // namespace sluice::store
