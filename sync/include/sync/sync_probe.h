// The sync engine's metrics (sluice_sync_*): backlog, progress, watermark,
// upstream errors by lane, and whether it is stuck. Every family reads one
// SyncEngine::health() per scrape; a new sync counter is one entry in
// sync_probe.cc. Without an engine (sync.sink = "none") the families are
// still there, at zero, with sluice_sync_running 0.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/metrics.h"
#include "sync/engine.h"

namespace sluice::sync {

// Empty while sync is fine; else why it is stuck: it runs, sealed
// partitions wait, and no upload was confirmed for `stuck_after` (counted
// from the last success, or from `start_wall_ns` when there was none).
// `stuck_after` 0: never stuck. Wall clock, ns since the epoch.
std::string SyncStuckReason(const SyncHealth& health, std::chrono::seconds stuck_after,
                            std::int64_t start_wall_ns, std::int64_t now_wall_ns);

struct SyncProbeOptions {
  // sluice_sync_stuck: as SyncStuckReason's (admin.sync_stuck_after).
  std::chrono::seconds stuck_after{0};
  std::int64_t start_wall_ns = 0;  // when the gateway started, wall clock
};

// What one scrape reads of the engine.
struct SyncSnapshot {
  SyncHealth health;  // running = false without an engine
  bool stuck = false;
};

class SyncProbe {
 public:
  // Registers the sync families in `registry` (null: nothing). `engine`
  // (null: none configured) must outlive the probe.
  SyncProbe(const SyncEngine* engine, const SyncProbeOptions& options, MetricRegistry* registry);

 private:
  MetricSet<SyncSnapshot> metrics_;
};

}  // namespace sluice::sync
