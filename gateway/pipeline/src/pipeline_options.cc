// ShedPolicyName and PipelineOptions::Validate.
#include "gateway/pipeline/pipeline_options.h"

namespace sluice::gateway {

std::string_view ShedPolicyName(ShedPolicy policy) {
  switch (policy) {
    case ShedPolicy::kNone: return "none";
    case ShedPolicy::kQos0: return "qos0";
    case ShedPolicy::kLow: return "low";
    case ShedPolicy::kNormal: return "normal";
  }
  return "?";
}

Status PipelineOptions::Validate() const {
  auto range = [](std::string_view field, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v >= lo && v <= hi) return Status::Ok();
    return InvalidArgument(std::string(field) + ": must be between " + std::to_string(lo) +
                           " and " + std::to_string(hi) + ", got " + std::to_string(v));
  };
  SLUICE_RETURN_IF_ERROR(range("shards", shards, 1, 64));
  SLUICE_RETURN_IF_ERROR(range("queue_capacity", queue_capacity, 1, 65536));
  SLUICE_RETURN_IF_ERROR(range("batch_max_records", batch_max_records, 1, 65536));
  // Durations in microseconds.
  SLUICE_RETURN_IF_ERROR(range("batch_linger", batch_linger.count(), 0, 1000000));
  SLUICE_RETURN_IF_ERROR(range("max_inflight_batches", max_inflight_batches, 1, 64));
  SLUICE_RETURN_IF_ERROR(range("pressure_poll", pressure_poll.count(), 1000, 1000000));
  SLUICE_RETURN_IF_ERROR(range("slow_delay", slow_delay.count(), 0, 1000000));
  SLUICE_RETURN_IF_ERROR(range("slow_queue_pct", slow_queue_pct, 1, 100));
  return Status::Ok();
}

}  // namespace sluice::gateway
