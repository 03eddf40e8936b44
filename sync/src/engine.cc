// The sync engine's code (engine_impl.h outlines the class).
#include "engine_impl.h"

#include "base/clock.h"

namespace sluice::sync {

Status Engine::Start() {
  const std::uint32_t n = options_.live_workers + options_.backfill_workers;
  for (std::uint32_t i = 0; i < n; ++i) {
    auto sink = sinks_();
    if (!sink.ok()) return sink.status().WithContext("opening a sink");
    auto w = std::make_unique<Worker>();
    w->lane = i < options_.live_workers ? Lane::kLive : Lane::kBackfill;
    w->uploader = std::make_unique<Uploader>(std::move(*sink));
    workers_.push_back(std::move(w));
  }
  if (options_.watermark_interval > std::chrono::seconds(0)) {
    auto sink = sinks_();
    if (!sink.ok()) return sink.status().WithContext("opening the watermark sink");
    MutexLock lock(watermark_mu_);
    watermark_sink_ = std::move(*sink);
    watermark_ = std::make_unique<WatermarkTracker>(store_, options_, ctx_.wall_ns);
    watermark_->Load();
  }
  running_ = true;
  scanner_ = std::thread([this] { ScanLoop(); });
  if (watermark_) watermark_thread_ = std::thread([this] { WatermarkLoop(); });
  for (auto& w : workers_) w->thread = std::thread([this, w = w.get()] { WorkLoop(*w); });
  return Status::Ok();
}

void Engine::Kick() {
  {
    MutexLock lock(mu_);
    ++wake_gen_;
    scan_requested_ = true;
  }
  cv_.NotifyAll();
}

SyncHealth Engine::health() const {
  SyncHealth h;
  {
    MutexLock lock(mu_);
    h = health_;
  }
  h.running = running_;
  if (watermark_) {
    const WatermarkHealth w = watermark_->health();
    h.watermark_ns = w.written_ns;
    h.watermark_written_ns = w.written_at_ns;
    if (w.written_at_ns != 0) h.watermark_lag_ns = ctx_.wall_ns() - w.written_ns;
    h.watermark_late_records = w.late_records;
    h.watermark_error = w.error;
    h.watermark_error_ns = w.error_ns;
  }
  const QueueStats q = queue_.stats(ctx_.now_ns());
  h.backlog_partitions = q.partitions;
  h.backlog_bytes = q.bytes;
  h.parked_partitions = q.parked;
  if (q.oldest_window_ns) {
    h.oldest_unsynced_window_ns = *q.oldest_window_ns;
    h.oldest_unsynced_age_ns = ctx_.wall_ns() - *q.oldest_window_ns;
  }
  return h;
}

std::map<store::PartitionId, PartitionUpload> Engine::UploadStates() const {
  std::map<store::PartitionId, PartitionUpload> out;
  for (auto& [id, q] : queue_.Snapshot(ctx_.now_ns())) {
    PartitionUpload& u = out[id];
    u.state = q.in_flight ? UploadState::kUploading
              : q.parked  ? UploadState::kParked
                          : UploadState::kWaiting;
    u.attempts = q.attempts;
    u.last_error = std::move(q.last_error);
  }
  return out;
}

Status Engine::WriteWatermark() {
  if (!watermark_) return Unsupported("watermarks are off (watermark_interval = 0)");
  MutexLock lock(watermark_mu_);
  return watermark_->Write(*watermark_sink_);
}

void Engine::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (scanner_.joinable()) scanner_.join();
  if (watermark_thread_.joinable()) watermark_thread_.join();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  // Destroying an Uploader waits for its Put; the outcome is still handled.
  workers_.clear();
  // The counts of partitions confirmed since the last write; T itself was
  // saved before it went upstream. A failure here costs only counts.
  if (watermark_) (void)watermark_->SaveState();
  running_ = false;
}

void Engine::SleepUntil(std::int64_t until_ns) {
  if (ctx_.sleep_until) {
    ctx_.sleep_until(until_ns);
    return;
  }
  MutexLock lock(mu_);
  const std::uint64_t gen = wake_gen_;
  for (;;) {
    const std::int64_t left = until_ns - ctx_.now_ns();
    if (left <= 0 || stopping_ || wake_gen_ != gen) return;
    cv_.WaitFor(lock, std::chrono::nanoseconds(left));
  }
}

void Engine::ScanLoop() {
  MutexLock lock(mu_);
  while (!stopping_) {
    scan_requested_ = false;
    lock.Unlock();
    queue_.Refresh([&] { return store_->ListPartitions(store::PartitionState::kSealed); });
    lock.Lock();
    ++wake_gen_;  // new partitions may be due
    cv_.NotifyAll();
    cv_.WaitFor(lock, options_.poll_interval,
                 [&]() SLUICE_REQUIRES(mu_) { return stopping_ || scan_requested_; });
  }
}

void Engine::WatermarkLoop() {
  const auto interval = options_.watermark_interval;
  auto next = Clock::now() + interval;
  MutexLock lock(mu_);
  while (!stopping_) {
    if (!cv_.WaitUntil(lock, next, [&]() SLUICE_REQUIRES(mu_) { return stopping_; })) {
      lock.Unlock();
      (void)WriteWatermark();
      lock.Lock();
      next = Clock::now() + interval;
    }
  }
}

void Engine::WorkLoop(Worker& w) {
  for (;;) {
    std::uint64_t gen = 0;
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      gen = wake_gen_;  // read before looking, so that no wake-up is missed
    }
    if (w.abandoned && w.abandoned->idle()) w.abandoned.reset();
    const std::int64_t now = ctx_.now_ns();
    if (auto claimed = queue_.Claim(w.lane, now)) {
      Attempt(w, *claimed);
      continue;
    }
    if (auto due = queue_.NextBackoffDue(now)) {
      SleepUntil(*due);
      continue;
    }
    MutexLock lock(mu_);
    cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) { return stopping_ || wake_gen_ != gen; });
  }
}

void Engine::Attempt(Worker& w, const store::PartitionInfo& info) {
  {
    MutexLock lock(mu_);
    ++LaneOf(w.lane).in_flight;
  }
  auto key = SyncObjectKey(options_, info.id);
  if (!key.ok()) return Handle(w.lane, info, "", 0, key.status());
  // Read before the partition: see engine_watermark.h for why a record
  // below it is late.
  const std::int64_t late_before =
      watermark_ ? watermark_->LateBefore() : std::numeric_limits<std::int64_t>::min();
  auto encoded = EncodePartitionObjects(*store_, options_, info.id, late_before);
  if (!encoded.ok()) return Handle(w.lane, info, *key, 0, encoded.status());
  // Named by its first object; the rest are the same partition's other
  // data hours.
  if (!encoded->objects.empty()) {
    *key = encoded->objects.front().key;
    if (encoded->objects.size() > 1) {
      *key += " (+" + std::to_string(encoded->objects.size() - 1) + " more hours)";
    }
  }
  const std::uint64_t size = encoded->bytes();
  const Dedup dedup{encoded->objects.size(), encoded->duplicates_dropped,
                    encoded->timestamp_conflicts, encoded->records, encoded->late_records};
  auto objects =
      std::make_shared<const std::vector<PartitionObject>>(std::move(encoded->objects));

  if (ctx_.on_upload_start) ctx_.on_upload_start(info.id, *key, size);
  // Tokens are taken as the sink sends each chunk, not for the whole
  // object up front: an attempt that fails early spends only what went
  // out, and a retry after an outage does not wait for bytes never sent.
  PaceFn pace;
  if (options_.bandwidth > 0) {
    pace = [this](std::uint64_t n) {
      const std::int64_t at = bucket_.Reserve(n, ctx_.now_ns());
      // SleepUntil also returns on every scan and Kick().
      while (ctx_.now_ns() < at && !stopping()) SleepUntil(at);
      return !stopping();
    };
  }
  w.uploader->Start(std::move(objects), std::move(pace),
                    [this, lane = w.lane, info, k = *key, size, dedup](Result<PutResult> r) {
                      Handle(lane, info, k, size, std::move(r), dedup);
                    });
  // A paced attempt takes its bytes' time at its share of the limit (all
  // workers sending at once): the stuck-attempt deadline starts after that.
  auto deadline = Clock::now() + options_.attempt_timeout;
  if (options_.bandwidth > 0) {
    const std::uint64_t workers = options_.live_workers + options_.backfill_workers;
    deadline += std::chrono::milliseconds(size * 1000 * workers / options_.bandwidth);
  }
  if (w.uploader->WaitIdle(deadline)) return;

  // Stuck. The partition stays claimed until the call returns (no second
  // upload of it meanwhile); the worker goes on with a fresh sink.
  {
    MutexLock lock(mu_);
    ++LaneOf(w.lane).stuck_attempts;
    health_.last_error = *key + ": attempt still running after " +
                         std::to_string(options_.attempt_timeout.count()) + " ms";
    health_.last_error_ns = ctx_.wall_ns();
    health_.last_stuck = health_.last_error;
  }
  if (w.abandoned && !w.abandoned->WaitIdle(Clock::now())) {
    // Two stuck calls on one worker: wait for the newer one rather than
    // pile up threads.
    w.uploader->WaitIdle(Clock::time_point::max());
    return;
  }
  auto sink = sinks_();
  if (!sink.ok()) {
    w.uploader->WaitIdle(Clock::time_point::max());
    return;
  }
  w.abandoned = std::move(w.uploader);
  w.uploader = std::make_unique<Uploader>(std::move(*sink));
}

void Engine::Handle(Lane lane, const store::PartitionInfo& info, const std::string& key,
                    std::uint64_t size, Result<PutResult> put, Dedup dedup) {
  Status status = put.status();
  if (status.code() == StatusCode::kAborted && stopping()) {
    // Given up while waiting for bandwidth at Stop(): not an attempt, due
    // again at once for whoever runs next.
    {
      MutexLock lock(mu_);
      --LaneOf(lane).in_flight;
    }
    queue_.Finish(info.id, false, 0);
    return;
  }
  if (status.ok()) {
    // Only now, with the sink's confirmation in hand.
    // Synced or reclaimed already (by other means): MarkSynced succeeds.
    status = store_->MarkSynced(info.id);
  }
  const std::int64_t now = ctx_.now_ns();
  const std::string where = key.empty() ? "partition" : key;
  if (status.ok()) {
    {  // Counters first: a partition gone from the backlog is counted.
      MutexLock lock(mu_);
      SyncLaneHealth& l = LaneOf(lane);
      --l.in_flight;
      if (put.ok()) {
        l.uploaded_objects += dedup.objects;
        l.uploaded_bytes += size;
        if (put->outcome == PutOutcome::kAlreadyIdentical) ++l.already_identical;
      }
      health_.last_success_ns = ctx_.wall_ns();
      health_.consecutive_failures = 0;
      health_.last_error.clear();
      health_.last_error_ns = 0;
      health_.duplicates_dropped += dedup.dropped;
      health_.timestamp_conflicts += dedup.conflicts;
    }
    if (watermark_ && put.ok()) watermark_->AddConfirmed(dedup.objects, dedup.records, dedup.late);
    queue_.Finish(info.id, true);
    queue_.HoldAllUntil(0);
  } else {
    const bool retryable = IsRetryable(status);
    const std::uint32_t failures = queue_.AddFailure(info.id, status.ToString());
    std::uint64_t consecutive = 0;
    {
      MutexLock lock(mu_);
      SyncLaneHealth& l = LaneOf(lane);
      --l.in_flight;
      consecutive = ++health_.consecutive_failures;
      health_.last_error = where + ": " + status.ToString();
      health_.last_error_ns = ctx_.wall_ns();
      if (retryable) {
        ++l.retries;
      } else {
        ++l.permanent_failures;
        health_.last_permanent_error = health_.last_error;
        health_.last_permanent_error_ns = health_.last_error_ns;
      }
    }
    const std::int64_t base = std::chrono::nanoseconds(options_.retry_base).count();
    const std::int64_t cap = std::chrono::nanoseconds(options_.retry_cap).count();
    if (retryable) {
      queue_.Finish(info.id, false, now + FullJitterDelayNs(failures, base, cap, Random()));
      // Most retryable errors are the sink's, not the partition's: hold
      // every lane so that an outage does not see each backlog partition
      // fail in turn.
      const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(consecutive, 64));
      queue_.HoldAllUntil(now + FullJitterDelayNs(n, base, cap, Random()));
    } else {
      queue_.Finish(info.id, false,
                    now + std::chrono::nanoseconds(options_.permanent_cooldown).count(), true);
    }
  }
  if (ctx_.on_upload_done) ctx_.on_upload_done(info.id, status);
  Kick();  // a claim may have become possible
}

std::uint64_t Engine::Random() {
  if (ctx_.random) return ctx_.random();
  MutexLock lock(rng_mu_);
  return rng_();
}

const char* UploadStateName(UploadState state) {
  switch (state) {
    case UploadState::kWaiting:
      return "waiting";
    case UploadState::kUploading:
      return "uploading";
    case UploadState::kParked:
      return "parked";
  }
  return "unknown";
}

Result<std::unique_ptr<SyncEngine>> SyncEngine::Open(store::Store* store, SinkFactory sinks,
                                                     SyncEngineOptions options,
                                                     SyncEngineContext context) {
  if (store == nullptr) return InvalidArgument("sync engine: no store");
  if (!sinks) return InvalidArgument("sync engine: no sink factory");
  SLUICE_RETURN_IF_ERROR(options.Validate());
  if (!context.now_ns) context.now_ns = MonotonicNs;
  if (!context.wall_ns) context.wall_ns = WallNs;
  auto engine = std::make_unique<Engine>(store, std::move(sinks), std::move(options),
                                         std::move(context));
  SLUICE_RETURN_IF_ERROR(engine->Start());  // on failure the destructor joins what started
  return std::unique_ptr<SyncEngine>(std::move(engine));
}

}  // namespace sluice::sync
