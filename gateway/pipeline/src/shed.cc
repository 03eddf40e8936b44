#include "shed.h"

namespace sluice::gateway::pipeline {

std::optional<ShedReason> ShedDecision(ShedPolicy policy, PressureLevel level, int qos,
                                       PriorityClass priority) {
  if (policy == ShedPolicy::kNone || level == PressureLevel::kOpen) return std::nullopt;
  if (qos == 0) return ShedReason::kQos0;
  if (level != PressureLevel::kStop) return std::nullopt;
  if (policy == ShedPolicy::kLow && priority == PriorityClass::kLow) return ShedReason::kPriority;
  if (policy == ShedPolicy::kNormal && priority != PriorityClass::kHigh) {
    return ShedReason::kPriority;
  }
  return std::nullopt;
}

}  // namespace sluice::gateway::pipeline
