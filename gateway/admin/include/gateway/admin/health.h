// Health judgements of the admin endpoint that need no running gateway.
//
// Liveness (/healthz) says whether the process should be restarted; a full
// disk is not such a reason (a restart meets the same disk), so the store's
// space only ever affects readiness (/readyz) and warnings.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "sync/engine.h"

namespace sluice::gateway::admin {

// Empty while sync is fine; else why it is stuck: it runs, sealed
// partitions wait, and no upload was confirmed for `stuck_after` (counted
// from the last success, or from `start_wall_ns` when there was none).
// `stuck_after` 0: never stuck. Wall clock, ns since the epoch.
std::string SyncStuckReason(const sync::SyncHealth& health, std::chrono::seconds stuck_after,
                            std::int64_t start_wall_ns, std::int64_t now_wall_ns);

// A signed wall-clock step for people: "+365d", "-3s", "+2h05m".
std::string ClockJumpText(std::int64_t jump_ns);

}  // namespace sluice::gateway::admin
