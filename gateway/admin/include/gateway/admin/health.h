// Health judgements of the admin endpoint that need no running gateway.
//
// Liveness (/healthz) says whether the process should be restarted; a full
// disk is not such a reason (a restart meets the same disk), so the store's
// space only ever affects readiness (/readyz) and warnings.
#pragma once

#include <cstdint>
#include <string>

#include "sync/sync_probe.h"

namespace sluice::gateway::admin {

// Empty while sync is fine; else why it is stuck (sync/sync_probe.h, where
// sluice_sync_stuck is counted by the same rule).
using sync::SyncStuckReason;

// A signed wall-clock step for people: "+365d", "-3s", "+2h05m".
std::string ClockJumpText(std::int64_t jump_ns);

}  // namespace sluice::gateway::admin
