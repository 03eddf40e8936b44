#include "pressure.h"

#include "gateway/pipeline/store_space.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace sluice::gateway::pipeline {

PressureLevel EvaluatePressure(const PressureInputs& in) {
  if (in.store.full || in.store_refusing || in.extra == PressureLevel::kStop) {
    return PressureLevel::kStop;
  }
  const bool disk_slow = in.disk_slow_bytes > 0 && in.store.disk_used_bytes >= in.disk_slow_bytes;
  if (disk_slow || in.queue_fill_pct >= in.slow_queue_pct || in.extra == PressureLevel::kSlow) {
    return PressureLevel::kSlow;
  }
  return PressureLevel::kOpen;
}

std::vector<StoreSpaceEvent> StoreSpaceEvents(const store::StorePressure& before,
                                              const store::StorePressure& now) {
  using Severity = StoreSpaceEvent::Severity;
  std::vector<StoreSpaceEvent> out;
  // The reason alone may change while full (the budget's names the bytes
  // used, which reclaiming changes): not worth a line each time.
  if (now.full && !before.full) {
    out.push_back({Severity::kWarn, "store: " + StoreFullReason(now) +
                                        "; intake stops until space returns (free space or "
                                        "enlarge the file system; synced partitions are "
                                        "reclaimed)"});
  } else if (!now.full && before.full) {
    out.push_back({Severity::kInfo, "store: appends accepted again (was: " +
                                        StoreFullReason(before) + ")"});
  }
  if (now.low_space && !before.low_space) {
    out.push_back({Severity::kWarn, "store: low on space: " + LowSpaceWarning(now)});
  } else if (!now.low_space && before.low_space) {
    out.push_back({Severity::kInfo, "store: free space back above store.free_space_warning"});
  }
  return out;
}

PressureController::PressureController(store::Store* store, std::uint64_t disk_slow_bytes,
                                       std::uint32_t slow_queue_pct,
                                       std::chrono::microseconds poll, QueueFill queue_fill)
    : store_(store),
      disk_slow_bytes_(disk_slow_bytes),
      slow_queue_pct_(slow_queue_pct),
      poll_(poll),
      queue_fill_(std::move(queue_fill)) {}

PressureController::~PressureController() { Stop(); }

void PressureController::AddSource(Pipeline::PressureSource source) {
  MutexLock lock(sources_mu_);
  sources_.push_back(std::move(source));
}

void PressureController::Start() {
  Sample();
  thread_ = std::thread([this] { Run(); });
}

void PressureController::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  changed_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

void PressureController::Sample() {
  PressureInputs in;
  in.store = store_->pressure();
  in.disk_slow_bytes = disk_slow_bytes_;
  in.queue_fill_pct = queue_fill_ ? queue_fill_() : 0;
  in.slow_queue_pct = slow_queue_pct_;
  in.store_refusing = refusing_.load(std::memory_order_relaxed);
  {
    MutexLock lock(sources_mu_);
    for (const auto& s : sources_) in.extra = std::max(in.extra, s());
  }
  for (const auto& e : StoreSpaceEvents(last_store_, in.store)) {
    spdlog::log(e.severity == StoreSpaceEvent::Severity::kWarn ? spdlog::level::warn
                                                                : spdlog::level::info,
                "{}", e.line);
  }
  last_store_ = in.store;
  const PressureLevel next = EvaluatePressure(in);
  const PressureLevel prev = level_.exchange(next, std::memory_order_acq_rel);
  if (next != prev) {
    const auto log_level = next > prev ? spdlog::level::warn : spdlog::level::info;
    spdlog::log(log_level,
                "ingest pressure {} -> {} (store disk {}/{} bytes{}, fullest queue {}%{})",
                PressureLevelName(prev), PressureLevelName(next), in.store.disk_used_bytes,
                in.store.disk_budget_bytes, in.store.full ? ", full" : "", in.queue_fill_pct,
                in.store_refusing ? ", appends refused" : "");
    MutexLock lock(mu_);
    changed_.NotifyAll();
  }
}

void PressureController::ReportStoreRefused(const Status& why) {
  if (!refusing_.exchange(true, std::memory_order_relaxed)) {
    spdlog::warn("ingest: the store refuses appends ({}); retrying while intake stops",
                 why.ToString());
  }
}

void PressureController::ReportStoreAccepting() {
  if (refusing_.exchange(false, std::memory_order_relaxed)) {
    spdlog::info("ingest: the store takes appends again");
  }
}

void PressureController::Run() {
  MutexLock lock(mu_);
  while (!stop_) {
    changed_.WaitFor(lock, poll_, [&]() SLUICE_REQUIRES(mu_) { return stop_; });
    if (stop_) break;
    lock.Unlock();
    Sample();
    lock.Lock();
  }
}

void PressureController::WaitWhileStopped(const std::atomic<bool>& closed) {
  MutexLock lock(mu_);
  changed_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) {
    return stop_ || closed.load(std::memory_order_acquire) || level() != PressureLevel::kStop;
  });
}

void PressureController::NotifyAll() {
  MutexLock lock(mu_);
  changed_.NotifyAll();
}

}  // namespace sluice::gateway::pipeline
