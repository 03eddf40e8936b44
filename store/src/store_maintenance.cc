// StoreImpl (store_impl.h): the maintenance thread. Every 200 ms it seals
// partitions whose window and grace passed, watches the wall clock against a
// monotonic one, samples free space, retries a write buffer a full disk kept
// shut, keeps the reserve and enforces the disk budget.
#include "store_impl.h"

namespace sluice::store {

void StoreImpl::EnsureReserve() {
  if (options_.reserve == 0 || reserve_held_) return;
  auto f = env_->OpenFile(ReservePath(), {.create = true});
  Status s = f.status();
  if (s.ok()) s = (*f)->Preallocate(options_.reserve, Preallocation::kReserve);
  if (s.ok()) s = env_->SyncDir(options_.dir);
  if (f.ok()) f->reset();
  if (!s.ok()) {
    (void)env_->Remove(ReservePath());
    return;
  }
  reserve_held_ = true;
}

bool StoreImpl::ReleaseReserve() {
  MutexLock lock(reserve_mu_);
  if (!reserve_held_ && !env_->Exists(ReservePath())) return false;
  if (!env_->Remove(ReservePath()).ok()) return false;
  (void)env_->SyncDir(options_.dir);
  reserve_held_ = false;
  reserve_releases_.fetch_add(1);
  return true;
}

void StoreImpl::SampleSpace() {
  auto space = env_->FileSystemSpace(options_.dir);
  if (!space.ok()) return;
  fs_free_.store(space->free_bytes);
  fs_total_.store(space->total_bytes);
  fs_read_only_.store(space->read_only);
}

void StoreImpl::WatchClock() {
  const std::int64_t wall = now_(), mono = mono_();
  if (clock_seen_) {
    const std::int64_t drift = (wall - last_wall_) - (mono - last_mono_);
    if (drift > kClockJump || drift < -kClockJump) {
      (drift > 0 ? clock_jumps_forward_ : clock_jumps_backward_).fetch_add(1);
      last_clock_jump_ns_.store(drift);
    }
  }
  clock_seen_ = true;
  last_wall_ = wall;
  last_mono_ = mono;
}

void StoreImpl::RetryWritable() {
  if (!unwritable_.load(std::memory_order_acquire) && !fs_full_.load(std::memory_order_acquire)) {
    return;
  }
  std::int64_t since;
  {
    MutexLock lock(unwritable_mu_);
    since = unwritable_since_mono_;
  }
  const bool room = !fs_read_only_.load() && fs_free_.load() >= ResumeBytes();
  if (!room && mono_() - since < kFullRetryNs) return;
  if (!wal_ready_.load(std::memory_order_acquire)) {
    if (Status s = OpenWriteBuffer(); !s.ok()) {
      SetUnwritable("write buffer not writable: " + s.message());
      return;
    }
    Note("write buffer writable again");
  }
  unwritable_.store(false, std::memory_order_release);
  fs_full_.store(false, std::memory_order_release);
}

void StoreImpl::Maintain() {
  if (!index_->ready()) LoadIndex();
  MutexLock lock(stop_mu_);
  while (!stop_cv_.WaitFor(lock, std::chrono::milliseconds(200),
                           [&]() SLUICE_REQUIRES(stop_mu_) { return stop_; })) {
    lock.Unlock();
    WatchClock();
    SampleSpace();
    RetryWritable();
    if (index_->SealExpired(now_(), mono_()).ok()) ReleaseWal();
    if (cursor_) {
      cursor_->PersistLosses();
      ReleaseWal();
    }
    EnforceBudget();
    MaybeCheckpoint();
    WriteReplayMark();
    if (!reserve_held_ && fs_free_.load() > 4 * options_.reserve + ResumeBytes()) {
      MutexLock r(reserve_mu_);
      EnsureReserve();
    }
    lock.Lock();
  }
}

std::uint64_t StoreImpl::DiskUsed() const {
  std::uint64_t wal_files = 0;
  if (auto names = env_->ListDir(options_.dir + "/wal"); names.ok()) wal_files = names->size();
  if (cursor_ && cursor_->spills()) {
    // The stream cursor's spill log: files of the same size.
    if (auto names = env_->ListDir(options_.dir + "/stream-spill"); names.ok()) {
      wal_files += names->size();
    }
  }
  return index_->segment_bytes() + wal_files * options_.wal_file_size;
}

void StoreImpl::EnforceBudget() {
  std::uint64_t used = DiskUsed();
  disk_used_ = used;
  const std::uint64_t budget = options_.disk_budget;
  if (budget == 0) return;
  const std::uint64_t high = budget / 100 * options_.disk_high_watermark;
  const std::uint64_t low = budget / 100 * options_.disk_low_watermark;
  if (used >= high && !index_->ready()) {
    // Which partitions to reclaim is known once the index is loaded (the
    // maintenance thread's first task): refuse appends until then.
    disk_used_ = used;
    full_ = true;
    return;
  }
  if (used >= high) {
    for (const auto& p : index_->List(PartitionState::kSynced)) {
      if (used < low) break;
      if (index_->Reclaim(p.id).ok()) reclaimed_partitions_.fetch_add(1);
      used = DiskUsed();
    }
    if (evict_unsynced_) {
      for (const auto& p : index_->List(PartitionState::kSealed)) {
        if (used < low || !evict_unsynced_(p)) break;
        if (auto dropped = index_->Evict(p.id); dropped.ok()) {
          evicted_partitions_.fetch_add(1);
          evicted_records_.fetch_add(*dropped);
        }
        used = DiskUsed();
      }
    }
  }
  disk_used_ = used;
  if (used >= high)
    full_ = true;
  else if (used < low)
    full_ = false;
}

}  // namespace sluice::store
