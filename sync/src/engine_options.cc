#include <string>

#include "sync/engine.h"
#include "sync/object_key.h"

namespace sluice::sync {
namespace {

Status OutOfRange(const char* field, std::int64_t value, std::int64_t lo, std::int64_t hi) {
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
  // Durations are shown as counts of their field's unit (s, ms).
  SLUICE_RETURN_IF_ERROR(OutOfRange("partition_window", partition_window.count(), 0, 86400));
  SLUICE_RETURN_IF_ERROR(OutOfRange("poll_interval", poll_interval.count(), 10, 600'000));
  SLUICE_RETURN_IF_ERROR(OutOfRange("live_workers", live_workers, 1, 16));
  SLUICE_RETURN_IF_ERROR(OutOfRange("backfill_workers", backfill_workers, 1, 16));
  SLUICE_RETURN_IF_ERROR(OutOfRange("retry_base", retry_base.count(), 1, 600'000));
  SLUICE_RETURN_IF_ERROR(
      OutOfRange("retry_cap", retry_cap.count(), retry_base.count(), 86'400'000));
  SLUICE_RETURN_IF_ERROR(
      OutOfRange("permanent_cooldown", permanent_cooldown.count(), 1, 604'800));
  SLUICE_RETURN_IF_ERROR(OutOfRange("attempt_timeout", attempt_timeout.count(), 10, 86'400'000));
  if (bandwidth == 0 && bandwidth_burst != 0) {
    return InvalidArgument("bandwidth_burst: set without bandwidth");
  }
  if (auto s = writer.Validate(); !s.ok()) return s.WithContext("writer");
  if (format != ObjectFormat::kSlp && format != ObjectFormat::kParquet) {
    return InvalidArgument("format: unknown object format");
  }
  if (auto s = parquet.Validate(); !s.ok()) return s.WithContext("parquet");
  SLUICE_RETURN_IF_ERROR(OutOfRange("watermark_interval", watermark_interval.count(), 0, 86'400));
  SLUICE_RETURN_IF_ERROR(OutOfRange("watermark_min_lag", watermark_min_lag.count(), 0, 86'400));
  return Status::Ok();
}

}  // namespace sluice::sync
