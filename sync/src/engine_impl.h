// The sync engine: a scanner thread mirrors the store's sealed partitions
// into a PartitionQueue; live and backfill workers claim from opposite ends,
// encode, take bandwidth tokens and hand the object to their Uploader; the
// outcome (on the uploader's thread) marks the partition synced, or schedules
// its retry, or parks it. A watermark thread, when watermarks are on, moves T
// and writes it upstream every watermark_interval (engine_watermark.h).
//
// The class is outlined here; its code is in engine.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "engine_backoff.h"
#include "engine_queue.h"
#include "engine_token_bucket.h"
#include "engine_uploader.h"
#include "engine_watermark.h"
#include "sync/engine.h"

namespace sluice::sync {

using Clock = std::chrono::steady_clock;

inline constexpr std::int64_t kMs = 1'000'000;

// What encoding a partition made, dropped and found, counted once it is
// synced.
struct Dedup {
  std::uint64_t objects = 1;
  std::uint64_t dropped = 0;
  std::uint64_t conflicts = 0;
  std::uint64_t records = 0;
  std::uint64_t late = 0;
};

class Engine final : public SyncEngine {
 public:
  Engine(store::Store* store, SinkFactory sinks, SyncEngineOptions options,
         SyncEngineContext context)
      : store_(store),
        sinks_(std::move(sinks)),
        options_(std::move(options)),
        ctx_(std::move(context)),
        bucket_(options_.bandwidth, options_.bandwidth_burst, ctx_.now_ns()) {}

  ~Engine() override { Stop(); }

  Status Start();

  void Kick() override;

  SyncHealth health() const override;

  std::map<store::PartitionId, PartitionUpload> UploadStates() const override;

  Status WriteWatermark() override;

  void Stop() override;

 private:
  struct Worker {
    Lane lane = Lane::kLive;
    std::thread thread;
    std::unique_ptr<Uploader> uploader;
    // An uploader whose Put overran the deadline, kept until it returns. At
    // most one per worker: that bounds threads and sinks.
    std::unique_ptr<Uploader> abandoned;
  };

  bool stopping() const {
    MutexLock lock(mu_);
    return stopping_;
  }

  SyncLaneHealth& LaneOf(Lane lane) SLUICE_REQUIRES(mu_) {
    return lane == Lane::kLive ? health_.live : health_.backfill;
  }

  // Waits until now_ns() >= until_ns, Stop() or Kick().
  void SleepUntil(std::int64_t until_ns);

  void ScanLoop();

  // Every watermark_interval on the steady clock (not the context's: a
  // test clock that jumps at each sleep would spin this loop), until Stop().
  // Failures are kept in health and tried again at the next interval.
  void WatermarkLoop();

  void WorkLoop(Worker& w);

  void Attempt(Worker& w, const store::PartitionInfo& info);

  // The outcome of one attempt; on the uploader's thread after a Put, on the
  // worker's when encoding failed.
  void Handle(Lane lane, const store::PartitionInfo& info, const std::string& key,
              std::uint64_t size, Result<PutResult> put, Dedup dedup = {});

  std::uint64_t Random();

  store::Store* const store_;
  const SinkFactory sinks_;
  const SyncEngineOptions options_;
  const SyncEngineContext ctx_;
  PartitionQueue queue_;
  TokenBucket bucket_;

  mutable Mutex mu_;
  CondVar cv_;
  bool stopping_ SLUICE_GUARDED_BY(mu_) = false;
  bool scan_requested_ SLUICE_GUARDED_BY(mu_) = false;
  std::uint64_t wake_gen_ SLUICE_GUARDED_BY(mu_) = 0;  // bumped to wake sleeping workers
  SyncHealth health_ SLUICE_GUARDED_BY(mu_);  // backlog fields filled by health()
  std::atomic<bool> running_{false};

  Mutex rng_mu_;
  std::mt19937_64 rng_ SLUICE_GUARDED_BY(rng_mu_){std::random_device{}()};

  // Watermarks (null when off). watermark_mu_ serialises writes (the thread
  // and WriteWatermark()); the sink is used only under it.
  std::unique_ptr<WatermarkTracker> watermark_;
  Mutex watermark_mu_;
  std::unique_ptr<Sink> watermark_sink_ SLUICE_GUARDED_BY(watermark_mu_);

  std::thread scanner_;
  std::thread watermark_thread_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace sluice::sync
