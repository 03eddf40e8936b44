// The shed policy: what may be dropped instead of pushing back, and the
// count of what was, by priority class and reason.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>

#include "gateway/ingest/ingest_options.h"
#include "gateway/pipeline/pipeline.h"
#include "gateway/pipeline/pipeline_options.h"

namespace sluice::gateway::pipeline {

// Whether a message must be dropped at `level`, and why. QoS 0 goes first
// (kSlow and worse, policy kQos0 and above); then, only at kStop, messages
// whose rule class is at most the policy's (kLow: low; kNormal: low and
// normal). kHigh is never shed.
std::optional<ShedReason> ShedDecision(ShedPolicy policy, PressureLevel level, int qos,
                                       PriorityClass priority);

class ShedCounters {
 public:
  void Add(PriorityClass priority, ShedReason reason) {
    counts_[static_cast<std::size_t>(priority)][static_cast<std::size_t>(reason)].fetch_add(
        1, std::memory_order_relaxed);
  }
  std::uint64_t Get(PriorityClass priority, ShedReason reason) const {
    return counts_[static_cast<std::size_t>(priority)][static_cast<std::size_t>(reason)].load(
        std::memory_order_relaxed);
  }

 private:
  std::array<std::array<std::atomic<std::uint64_t>, 2>, 3> counts_{};
};

}  // namespace sluice::gateway::pipeline
