#include <string>

#include "sync/engine.h"
#include "sync/object_key.h"

namespace sluice::sync {
namespace {

Status OutOfRange(const char* field, std::uint64_t value, std::uint64_t lo, std::uint64_t hi) {
  if (value >= lo && value <= hi) return Status::Ok();
  return InvalidArgument(std::string(field) + ": " + std::to_string(value) + " outside [" +
                         std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

}  // namespace

Status SyncEngineOptions::Validate() const {
  SLUICE_RETURN_IF_ERROR(ValidateKeyComponent("gateway_id", gateway_id));
  SLUICE_RETURN_IF_ERROR(ValidateKeyComponent("site", site));
  // The whole key is checked by BuildObjectKey; try it on a sample partition
  // so that a bad prefix is refused at start, not at the first upload.
  if (auto key = SyncObjectKey(*this, store::PartitionId{}); !key.ok()) {
    return key.status().WithContext("key_prefix");
  }
  SLUICE_RETURN_IF_ERROR(OutOfRange("partition_window_s", partition_window_s, 0, 86400));
  SLUICE_RETURN_IF_ERROR(OutOfRange("poll_interval_ms", poll_interval_ms, 10, 600'000));
  SLUICE_RETURN_IF_ERROR(OutOfRange("live_workers", live_workers, 1, 16));
  SLUICE_RETURN_IF_ERROR(OutOfRange("backfill_workers", backfill_workers, 1, 16));
  SLUICE_RETURN_IF_ERROR(OutOfRange("retry_base_ms", retry_base_ms, 1, 600'000));
  SLUICE_RETURN_IF_ERROR(OutOfRange("retry_cap_ms", retry_cap_ms, retry_base_ms, 86'400'000));
  SLUICE_RETURN_IF_ERROR(OutOfRange("permanent_cooldown_s", permanent_cooldown_s, 1, 604'800));
  SLUICE_RETURN_IF_ERROR(OutOfRange("attempt_timeout_ms", attempt_timeout_ms, 10, 86'400'000));
  if (bandwidth_bytes_per_s == 0 && bandwidth_burst_bytes != 0) {
    return InvalidArgument("bandwidth_burst_bytes: set without bandwidth_bytes_per_s");
  }
  if (auto s = writer.Validate(); !s.ok()) return s.WithContext("writer");
  if (format != ObjectFormat::kSlp && format != ObjectFormat::kParquet) {
    return InvalidArgument("format: unknown object format");
  }
  if (auto s = parquet.Validate(); !s.ok()) return s.WithContext("parquet");
  SLUICE_RETURN_IF_ERROR(OutOfRange("watermark_interval_s", watermark_interval_s, 0, 86'400));
  SLUICE_RETURN_IF_ERROR(OutOfRange("watermark_min_lag_s", watermark_min_lag_s, 0, 86'400));
  return Status::Ok();
}

}  // namespace sluice::sync
