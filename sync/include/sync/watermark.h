// Fleet completeness watermarks (docs/sync.md, docs/format/watermark.md).
//
// A watermark T is a data time: every record with a timestamp before T that
// the store had acknowledged when T was computed is confirmed upstream. A
// record acknowledged later with a timestamp before T is *late*: counted,
// uploaded like any other, and it moves no watermark backwards.
//
// The sync engine writes one small JSON object per gateway, replaced in
// place, under a key outside the Hive data layout (Spark, Hive and DuckDB
// skip folders starting with '_' when they discover partitions):
//
//   <prefix>/_watermarks/site=<site>/gateway=<id>.json
//
// so that a job at the core reads one object per gateway, not a listing of
// the whole bucket, to learn which hours are complete (the fleet is complete
// up to the smallest T over its gateways). The same document, byte for byte,
// is kept in the engine's local state file, so that T never regresses
// across a restart.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace sluice::sync {

inline constexpr std::string_view kWatermarkFormat = "sluice-watermark";
inline constexpr std::int64_t kWatermarkVersion = 1;

// One watermark document: what the object and the state file hold.
struct Watermark {
  std::string site;
  std::string gateway_id;
  // T, ns since the Unix epoch.
  std::int64_t watermark_ns = 0;
  // Over the gateway's life (persisted across restarts), partitions'
  // records and objects the sink confirmed, and of those records the late
  // ones. Counts of partitions confirmed after the last write of the state
  // file are lost by a kill -9 (T is not: it is written before the object).
  std::uint64_t records_confirmed = 0;
  std::uint64_t objects_confirmed = 0;
  std::uint64_t late_records = 0;
  // Wall clock when T was computed, ns since the Unix epoch.
  std::int64_t written_at_ns = 0;

  friend bool operator==(const Watermark&, const Watermark&) = default;
};

// <prefix>/_watermarks/site=<site>/gateway=<id>.json, with the component
// rules of BuildObjectKey (object_key.h); `prefix` may be empty.
Result<std::string> WatermarkKey(std::string_view prefix, std::string_view site,
                                 std::string_view gateway_id);

// The JSON document (docs/format/watermark.md), ending in a newline.
std::string FormatWatermark(const Watermark& w);
// Reads a document written by FormatWatermark of this or a later version
// (unknown fields are ignored). InvalidArgument naming what is wrong.
Result<Watermark> ParseWatermark(std::string_view text);

// "2025-11-25T20:00:00Z", with ".123456789" before the Z unless whole seconds.
std::string FormatRfc3339(std::int64_t ns);

// The next T (docs/sync.md "Completeness watermarks"):
//   pending   = partitions OPEN or SEALED that hold records (open blocks and
//               the write buffer's records are in their counts);
//   candidate = min t_min over pending, or wall_ns - min_lag_ns when none;
//   candidate = min(candidate, wall_ns - min_lag_ns): data stamped ahead of
//               the gateway's clock does not carry T into the future;
//   result    = max(previous_ns, candidate): T never moves backwards.
std::int64_t NextWatermark(const std::vector<store::PartitionInfo>& partitions,
                           std::int64_t previous_ns, std::int64_t wall_ns,
                           std::int64_t min_lag_ns);

}  // namespace sluice::sync
