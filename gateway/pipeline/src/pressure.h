// The backpressure controller: samples the store, the queues and extra
// sources every poll interval and publishes one PressureLevel. Offer()
// waits on it while the level is kStop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "gateway/pipeline/pipeline.h"
#include "store/store.h"

namespace sluice::gateway::pipeline {

struct PressureInputs {
  store::StorePressure store;
  std::uint64_t disk_slow_bytes = 0;  // 0: no disk-based slowing
  std::uint32_t queue_fill_pct = 0;   // fullest shard queue
  std::uint32_t slow_queue_pct = 75;
  bool store_refusing = false;        // the last append failed with NoSpace/IoError
  PressureLevel extra = PressureLevel::kOpen;  // worst of the extra sources
};

// Pure: kStop when the store is full or refusing appends (or a source says
// so); kSlow when disk use passed disk_slow_bytes, a queue passed
// slow_queue_pct, or a source says so; else kOpen.
PressureLevel EvaluatePressure(const PressureInputs& in);

// A log line about the store's space, written once per change (not per
// append): the store became full (naming why: the disk budget, or the file
// system full or read-only), it takes appends again (naming what it was),
// its file system went below or back above the free-space warning.
struct StoreSpaceEvent {
  enum class Severity { kInfo, kWarn };
  Severity severity = Severity::kInfo;
  std::string line;
};
std::vector<StoreSpaceEvent> StoreSpaceEvents(const store::StorePressure& before,
                                              const store::StorePressure& now);

class PressureController {
 public:
  using QueueFill = std::function<std::uint32_t()>;  // percent, fullest queue

  PressureController(store::Store* store, std::uint64_t disk_slow_bytes,
                     std::uint32_t slow_queue_pct, std::chrono::microseconds poll,
                     QueueFill queue_fill);
  ~PressureController();

  void AddSource(Pipeline::PressureSource source);  // any time
  void Start();
  void Stop();

  PressureLevel level() const { return level_.load(std::memory_order_acquire); }
  // From the shards: an append was refused with a retryable error (`why`),
  // or a retried one finally went through. Each turn is logged once, by
  // whichever shard makes it, however many appends are refused meanwhile.
  void ReportStoreRefused(const Status& why);
  void ReportStoreAccepting();
  // Waits while the level is kStop and `closed` is false.
  void WaitWhileStopped(const std::atomic<bool>& closed);
  // Wakes every WaitWhileStopped (after `closed` was set).
  void NotifyAll();

 private:
  void Run();
  void Sample();

  store::Store* store_;
  const std::uint64_t disk_slow_bytes_;
  const std::uint32_t slow_queue_pct_;
  const std::chrono::microseconds poll_;
  QueueFill queue_fill_;
  Mutex sources_mu_;
  std::vector<Pipeline::PressureSource> sources_ SLUICE_GUARDED_BY(sources_mu_);
  std::atomic<PressureLevel> level_{PressureLevel::kOpen};
  std::atomic<bool> refusing_{false};
  // The store's pressure at the last sample, for StoreSpaceEvents. Only
  // Sample() touches it: from Start() before the thread, then the thread.
  store::StorePressure last_store_;
  Mutex mu_;
  CondVar changed_;
  bool stop_ SLUICE_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sluice::gateway::pipeline
