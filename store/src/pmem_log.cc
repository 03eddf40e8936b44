// The persistent-memory write buffer: group commit on one thread into a ring
// of WAL frames in a libpmem2 mapping; layout and recovery in pmem_format.h.
//
// Positions in the ring are kept as logical byte counts that only grow (a
// frame at logical p lives at file offset kPmemRingOffset + p % ring), so
// "used" is tail - head whatever the laps. Threads: appenders only touch the
// queue (mu_); everything below "writer state" belongs to the commit thread,
// and to Open() before it starts.
#include "pmem_log.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <filesystem>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "pmem_format.h"
#include "wal_format.h"

namespace sluice::store {

Status PmemLogOptions::Validate() const {
  using namespace std::chrono_literals;
  if (path.empty()) return InvalidArgument("pmem log: path is empty");
  if (size % 4096 != 0 || size < (64u << 10)) {
    return InvalidArgument("pmem log: size must be a multiple of 4096, at least 64 KiB");
  }
  if (max_commit_delay < 0us || max_commit_delay > 1s) {
    return InvalidArgument("pmem log: max_commit_delay must be between 0 and 1 s");
  }
  if (max_group_bytes < 4096 || max_group_bytes > (1u << 30)) {
    return InvalidArgument("pmem log: max_group_bytes must be between 4 KiB and 1 GiB");
  }
  if (full_timeout < 0ms || full_timeout > 60s) {
    return InvalidArgument("pmem log: full_timeout must be between 0 and 60 s");
  }
  if (first_seq == 0) return InvalidArgument("pmem log: first_seq must be at least 1");
  if (max_spin < 0us || max_spin > 10ms) {
    return InvalidArgument("pmem log: max_spin must be between 0 and 10 ms");
  }
  return Status::Ok();
}

namespace {

using Clock = std::chrono::steady_clock;

struct Pending {
  std::uint8_t type = 0;
  std::vector<std::byte> payload;
  WriteBuffer::DoneFn done;
  Clock::time_point queued_at;
};

class PmemLog final : public WriteBuffer {
 public:
  PmemLog(Env* env, const PmemLogOptions& options)
      : env_(env),
        opt_(options),
        ring_(options.size - kPmemRingOffset),
        group_bytes_(std::min(options.max_group_bytes, ring_ / 4)) {}
  ~PmemLog() override { (void)Close(); }

  Status Recover(const ReplayFn& replay);
  void Start() {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "sluice-commit");
      CommitLoop();
    });
  }

  void Append(std::uint8_t type, std::span<const std::byte> payload, DoneFn done) override {
    if (type == 0 || WalFrameSize(payload.size()) > ring_ / 4) {
      done(InvalidArgument("pmem log: record type 0 or payload of " +
                           std::to_string(payload.size()) +
                           " bytes larger than a quarter of the ring"),
           0);
      return;
    }
    const std::uint64_t size = WalFrameSize(payload.size());
    MutexLock lock(mu_);
    room_cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) {
      return closing_ || queued_bytes_ == 0 || queued_bytes_ + size <= 4 * group_bytes_;
    });
    if (closing_) {
      lock.Unlock();
      done(Aborted("pmem log: closed"), 0);
      return;
    }
    queue_.push_back(
        Pending{type, {payload.begin(), payload.end()}, std::move(done), Clock::now()});
    queued_bytes_ += size;
    queued_records_.store(queue_.size(), std::memory_order_release);
    if (queue_.size() == 1 || queued_bytes_ >= group_bytes_) work_cv_.NotifyOne();
  }

  void Release(std::uint64_t upto) override {
    std::uint64_t cur = release_upto_.load();
    while (cur < upto && !release_upto_.compare_exchange_weak(cur, upto)) {
    }
    // Seq-cst store above, load here; the waiter sets the flag under mu_
    // before testing release_upto_: no lost wake-up.
    if (space_waiting_.load()) {
      MutexLock lock(mu_);
      release_cv_.NotifyAll();
    }
  }

  Status Close() override {
    {
      MutexLock lock(mu_);
      closing_ = true;
    }
    work_cv_.NotifyAll();
    room_cv_.NotifyAll();
    release_cv_.NotifyAll();
    Status st;
    if (thread_.joinable()) {
      thread_.join();
      // A failed group must not come back at the next open.
      if (dirty_end_ != 0) st = Zero(dirty_begin_, dirty_end_);
      if (st.ok()) dirty_end_ = 0;
      // Less to replay at the next open.
      if (st.ok()) st = AdvanceHead(0);
    }
    region_.reset();
    MutexLock lock(mu_);
    return last_status_.ok() ? st : last_status_;
  }

  WriteBufferStats stats() const override {
    return WriteBufferStats{records_.load(), bytes_.load(), groups_.load(), torn_tail_bytes_,
                    first_held_.load()};
  }

 private:
  struct GroupStart {
    std::uint64_t seq = 0;
    std::uint64_t pos = 0;  // logical position of its first frame
  };

  std::uint64_t Phys(std::uint64_t pos) const { return kPmemRingOffset + pos % ring_; }
  // Logical position of a frame of `size` bytes when the writer is at
  // `pos`: the ring start of the next lap when it would not fit (PmemPlace).
  std::uint64_t Place(std::uint64_t pos, std::uint64_t size) const {
    const std::uint64_t off = pos % ring_;
    return off + size <= ring_ ? pos : pos - off + ring_;
  }

  void CommitLoop();
  void Spin() SLUICE_REQUIRES(mu_);
  void CommitGroup(std::vector<Pending>& group);
  std::size_t Fitting(std::span<const Pending> records) const;
  Status WriteGroup(std::span<Pending> records);
  Status MakeRoom(std::uint64_t frame_size);
  Status AdvanceHead(std::uint64_t min_progress);
  void NoteGroupStart(std::uint64_t seq, std::uint64_t pos);
  Status WriteHeader(std::uint64_t head_pos, std::uint64_t head_seq);
  Status Zero(std::uint64_t begin, std::uint64_t end);

  Env* const env_;
  const PmemLogOptions opt_;
  const std::uint64_t ring_;  // bytes of the ring
  // A group never exceeds a quarter of the ring, so that one always fits
  // once everything is released (with a record of up to a quarter, and a
  // gap at the end of the ring of less than a record).
  const std::uint64_t group_bytes_;

  Mutex mu_;
  CondVar work_cv_;     // commit thread: records queued, or closing
  CondVar room_cv_;     // appenders: room in the queue, or closing
  CondVar release_cv_;  // commit thread, ring full: released, or closing
  std::deque<Pending> queue_ SLUICE_GUARDED_BY(mu_);
  std::uint64_t queued_bytes_ SLUICE_GUARDED_BY(mu_) = 0;  // framed sizes
  bool closing_ SLUICE_GUARDED_BY(mu_) = false;
  Status last_status_ SLUICE_GUARDED_BY(mu_);  // of the last commit
  std::thread thread_;

  std::atomic<std::uint64_t> release_upto_{0};
  std::atomic<bool> space_waiting_{false};
  // queue_.size(), for the commit thread to poll without mu_.
  std::atomic<std::size_t> queued_records_{0};
  // The commit thread's: how soon after a group's end the next record has
  // come lately (a moving average), and when the last group ended.
  Clock::duration gap_avg_ = Clock::duration::max() / 4;
  Clock::time_point last_done_{};
  std::atomic<std::uint64_t> records_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> groups_{0};
  std::uint64_t torn_tail_bytes_ = 0;  // set once in Open

  // --- Writer state.
  std::unique_ptr<PersistentRegion> region_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t tail_ = 0;       // logical position of the next frame (before Place)
  std::uint64_t head_ = 0;       // logical position of the durable head
  std::uint64_t head_seq_ = 1;   // its seq
  std::atomic<std::uint64_t> first_held_{1};  // head_seq_, for stats()
  std::uint64_t generation_ = 0; // of the header in slot_
  int slot_ = 0;
  std::deque<GroupStart> starts_;  // some group starts from the durable head on, by seq
  // [dirty_begin_, dirty_end_): bytes of a failed group, zeroed before
  // anything else is written so that they are never replayed.
  std::uint64_t dirty_begin_ = 0, dirty_end_ = 0;
  std::vector<std::byte> buf_;  // frames staged in DRAM, then copied in
};

// Polls for the next record (mu_ released meanwhile) when records have
// lately come within max_spin of a group's end.
void PmemLog::Spin() {
  const Clock::duration limit = opt_.max_spin;
  if (limit == Clock::duration::zero() || gap_avg_ > limit) return;
  // The whole of max_spin, not a multiple of the average: a record later
  // than usual (its sender was itself slow to wake) would otherwise find
  // the thread parked and pay for waking it too, which is the tail this
  // polling is for. It costs only when no record comes at all: once, at
  // the end of a burst.
  const Clock::time_point until = last_done_ + limit;
  mu_.unlock();  // the caller's lock is held again before returning
  while (queued_records_.load(std::memory_order_acquire) == 0 && Clock::now() < until) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
  mu_.lock();
}

void PmemLog::CommitLoop() {
  MutexLock lock(mu_);
  for (;;) {
    if (queue_.empty() && !closing_) Spin();
    work_cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) { return closing_ || !queue_.empty(); });
    if (queue_.empty()) return;  // closing, and everything committed
    if (last_done_ != Clock::time_point{}) {
      // How long after the last group this record came (0 when it queued
      // during that group): the average decides whether to poll next time.
      const Clock::duration gap =
          std::max(Clock::duration::zero(), queue_.front().queued_at - last_done_);
      gap_avg_ = gap_avg_ >= Clock::duration::max() / 8 ? gap : gap_avg_ + (gap - gap_avg_) / 8;
    }
    const Clock::time_point deadline = queue_.front().queued_at + opt_.max_commit_delay;
    while (!closing_ && queued_bytes_ < group_bytes_ && Clock::now() < deadline) {
      work_cv_.WaitUntil(lock, deadline);
    }
    std::vector<Pending> group;
    std::uint64_t bytes = 0;
    while (!queue_.empty()) {
      const std::uint64_t size = WalFrameSize(queue_.front().payload.size());
      if (!group.empty() && bytes + size > group_bytes_) break;
      bytes += size;
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_bytes_ -= bytes;
    queued_records_.store(queue_.size(), std::memory_order_release);
    room_cv_.NotifyAll();
    lock.Unlock();
    CommitGroup(group);
    lock.Lock();
    last_done_ = Clock::now();
  }
}

// Persists the group (in parts when the ring cannot take it whole) and runs
// every callback once. A failure fails the rest of the group, in order, so
// that acknowledged records always form a prefix; failed records get no seq.
void PmemLog::CommitGroup(std::vector<Pending>& group) {
  Status st;
  if (dirty_end_ != 0) {
    st = Zero(dirty_begin_, dirty_end_);
    if (st.ok()) dirty_end_ = 0;
  }
  // Keep the head near the released point so that recovery stays short.
  if (st.ok()) st = AdvanceHead(ring_ / 8);
  std::size_t i = 0;
  while (st.ok() && i < group.size()) {
    const std::size_t n = Fitting(std::span(group).subspan(i));
    if (n == 0) {
      st = MakeRoom(WalFrameSize(group[i].payload.size()));
      continue;
    }
    const std::uint64_t first = next_seq_;
    st = WriteGroup(std::span(group).subspan(i, n));
    if (!st.ok()) break;
    // Stats first: a caller woken by its callback sees them up to date.
    records_ += n;
    for (std::size_t k = i; k < i + n; ++k) bytes_ += group[k].payload.size();
    for (std::size_t k = i; k < i + n; ++k) group[k].done(Status::Ok(), first + (k - i));
    i += n;
  }
  for (; i < group.size(); ++i) group[i].done(st, 0);
  MutexLock lock(mu_);
  last_status_ = st;
}

// How many of `records`, from the first, fit between the tail and the
// durable head (not the released point: the head must be persisted before
// released bytes are overwritten, or recovery would start in new frames).
std::size_t PmemLog::Fitting(std::span<const Pending> records) const {
  std::uint64_t pos = tail_;
  std::size_t n = 0;
  for (const auto& r : records) {
    const std::uint64_t size = WalFrameSize(r.payload.size());
    const std::uint64_t end = Place(pos, size) + size;
    if (end - head_ > ring_) break;
    pos = end;
    ++n;
  }
  return n;
}

// Copies the frames in without draining (one copy per contiguous part: two
// when the group wraps), then drains once: the whole group becomes
// persistent together, and no callback runs before that.
Status PmemLog::WriteGroup(std::span<Pending> records) {
  struct Part {
    std::uint64_t offset, begin, size;  // file offset, bytes in buf_
  };
  std::vector<Part> parts;
  std::uint64_t pos = tail_, used = 0, first_pos = 0;
  for (std::size_t k = 0; k < records.size(); ++k) {
    const std::uint64_t size = WalFrameSize(records[k].payload.size());
    const std::uint64_t at = Place(pos, size);
    if (k == 0) first_pos = at;
    if (parts.empty() || at != pos) parts.push_back({Phys(at), used, 0});
    if (buf_.size() < used + size) buf_.resize(std::max<std::size_t>(used + size, 2 * buf_.size()));
    EncodeWalFrame(next_seq_ + k, static_cast<std::uint32_t>(k), records[k].type,
                   records[k].payload, {buf_.data() + used, size});
    used += size;
    parts.back().size += size;
    pos = at + size;
  }
  Status st;
  for (const Part& p : parts) {
    if (st.ok()) st = region_->Write(p.offset, {buf_.data() + p.begin, p.size});
  }
  if (st.ok()) st = region_->Drain();
  if (!st.ok()) {
    // Some of it may be persistent: it must not be replayed after later
    // records that reuse these seqs.
    dirty_begin_ = tail_;
    dirty_end_ = pos;
    return st.WithContext("pmem log " + opt_.path);
  }
  ++groups_;
  NoteGroupStart(next_seq_, first_pos);
  next_seq_ += records.size();
  tail_ = pos;
  return Status::Ok();
}

// Frees room for a frame of `frame_size` bytes: persists the head at the
// released point, waiting for releases up to full_timeout.
Status PmemLog::MakeRoom(std::uint64_t frame_size) {
  const Clock::time_point deadline = Clock::now() + opt_.full_timeout;
  for (;;) {
    const std::uint64_t seen = release_upto_.load();
    SLUICE_RETURN_IF_ERROR(AdvanceHead(1));
    if (Place(tail_, frame_size) + frame_size - head_ <= ring_) return Status::Ok();
    MutexLock lock(mu_);
    if (closing_ || Clock::now() >= deadline) break;
    space_waiting_ = true;
    release_cv_.WaitUntil(lock, deadline, [&]() SLUICE_REQUIRES(mu_) {
      return closing_ || release_upto_.load() != seen;
    });
    space_waiting_ = false;
  }
  return NoSpace("pmem log " + opt_.path + ": ring full (" + std::to_string(tail_ - head_) +
                 " of " + std::to_string(ring_) + " bytes unreleased after " +
                 std::to_string(opt_.full_timeout.count()) +
                 " ms); records must be released faster, "
                 "or the pmem file made larger");
}

// Moves the durable head to the last recorded group start at or before the
// first unreleased seq (to the tail when everything is released), if that
// frees at least `min_progress` bytes (0: any change).
Status PmemLog::AdvanceHead(std::uint64_t min_progress) {
  const std::uint64_t target = std::min(release_upto_.load() + 1, next_seq_);
  if (target <= head_seq_) return Status::Ok();
  std::uint64_t pos = tail_, seq = next_seq_;
  if (target < next_seq_) {
    auto it = std::upper_bound(starts_.begin(), starts_.end(), target,
                               [](std::uint64_t t, const GroupStart& g) { return t < g.seq; });
    if (it == starts_.begin()) return Status::Ok();
    --it;
    pos = it->pos;
    seq = it->seq;
  }
  if (seq <= head_seq_ || pos - head_ < std::max<std::uint64_t>(min_progress, 1))
    return Status::Ok();
  SLUICE_RETURN_IF_ERROR(WriteHeader(pos, seq));
  while (!starts_.empty() && starts_.front().seq < seq) starts_.pop_front();
  return Status::Ok();
}

// Records where a group starts, as a place the head may move to. One every
// ring / 256 bytes is enough (the head lags the released point by at most
// that) and bounds the list whatever the group sizes. The first one after
// the head is always kept: it is the head.
void PmemLog::NoteGroupStart(std::uint64_t seq, std::uint64_t pos) {
  if (starts_.empty() || pos - starts_.back().pos >= ring_ / 256) starts_.push_back({seq, pos});
}

// One drained update of the slot not holding the current header: a torn
// update leaves the current one in force.
Status PmemLog::WriteHeader(std::uint64_t head_pos, std::uint64_t head_seq) {
  std::byte slot[kPmemSlotSize];
  EncodePmemSlot({opt_.size, generation_ + 1, Phys(head_pos), head_seq}, slot);
  const int next = 1 - slot_;
  Status st = region_->Write(static_cast<std::uint64_t>(next) * kPmemSlotSize, slot);
  if (st.ok()) st = region_->Drain();
  if (!st.ok()) return st.WithContext("pmem log " + opt_.path + ": header update");
  slot_ = next;
  ++generation_;
  head_ = head_pos;
  head_seq_ = head_seq;
  first_held_.store(head_seq);
  return Status::Ok();
}

// Durably zeroes the ring between two logical positions (less than a lap).
Status PmemLog::Zero(std::uint64_t begin, std::uint64_t end) {
  static const std::vector<std::byte> zeros(64 << 10);
  for (std::uint64_t pos = begin; pos < end;) {
    const std::uint64_t lap_end = pos - pos % ring_ + ring_;
    const std::uint64_t n = std::min({end, lap_end, pos + zeros.size()}) - pos;
    SLUICE_RETURN_IF_ERROR(region_->Write(Phys(pos), {zeros.data(), n}));
    pos += n;
  }
  return region_->Drain().WithContext("pmem log " + opt_.path + ": zeroing a failed write");
}

Status PmemLog::Recover(const ReplayFn& replay) {
  const std::filesystem::path path(opt_.path);
  const std::string dir = path.has_parent_path() ? path.parent_path().string() : ".";
  SLUICE_RETURN_IF_ERROR(env_->CreateDirs(dir));
  const bool existed = env_->Exists(opt_.path);
  SLUICE_ASSIGN_OR_RETURN(auto region, env_->MapPersistent(opt_.path, opt_.size));
  region_ = std::move(region);
  if (region_->granularity() == PersistGranularity::kPage) {
    return Unsupported(
        opt_.path + " is not on persistent memory: its mapping has PAGE store granularity (no "
        "DAX), so every persist would be an msync of whole pages. Put it on a DAX file system "
        "(mounted -o dax) or use write_buffer = \"wal\"");
  }
  if (!existed) SLUICE_RETURN_IF_ERROR(env_->SyncDir(dir));

  PmemContents before_damage;
  auto contents = ParsePmemLog(region_->bytes(), opt_.path, &before_damage);
  if (!contents.ok()) {
    // The records before the damage are intact and acknowledged: replayed,
    // so that the caller can keep them before it sets the file aside.
    for (const PmemRecord& r : before_damage.records) {
      SLUICE_RETURN_IF_ERROR(replay(r.view).WithContext("pmem log replay of " + opt_.path));
    }
    return contents.status();
  }
  if (contents->fresh) {
    slot_ = 1;  // so that the first header goes to slot 0
    next_seq_ = opt_.first_seq;
    return WriteHeader(0, opt_.first_seq);
  }
  const PmemHeader& h = contents->header;
  slot_ = contents->slot;
  generation_ = h.generation;
  head_ = h.head_offset - kPmemRingOffset;
  head_seq_ = h.head_seq;
  first_held_.store(h.head_seq);
  std::uint64_t pos = head_;
  for (const PmemRecord& r : contents->records) {
    if (r.offset != Phys(pos)) pos = pos - pos % ring_ + ring_;  // wrapped (PmemPlace)
    SLUICE_CHECK(r.offset == Phys(pos));
    if (r.starts_group || starts_.empty()) NoteGroupStart(r.view.seq, pos);
    SLUICE_RETURN_IF_ERROR(replay(r.view).WithContext("pmem log replay of " + opt_.path));
    pos += WalFrameSize(r.view.payload.size());
  }
  SLUICE_CHECK(pos - head_ == contents->used_bytes);
  tail_ = pos;
  next_seq_ = h.head_seq + contents->records.size();
  torn_tail_bytes_ = contents->torn_bytes;
  // What was replayed may still sit in CPU caches after a process crash:
  // the store now builds on it, so it must outlive a power cut from here on.
  for (std::uint64_t p = head_; p < tail_;) {
    const std::uint64_t n = std::min(tail_, p - p % ring_ + ring_) - p;
    SLUICE_RETURN_IF_ERROR(region_->Flush(Phys(p), n));
    p += n;
  }
  // Remnants of the torn group must not line up behind new frames.
  static constexpr std::byte kZeroHeader[kWalFrameHeaderSize] = {};
  for (std::uint64_t offset : contents->discard) {
    SLUICE_RETURN_IF_ERROR(region_->Write(offset, kZeroHeader));
  }
  return region_->Drain().WithContext("persisting what recovery found");
}

}  // namespace

Result<std::unique_ptr<WriteBuffer>> OpenPmemLog(Env* env, const PmemLogOptions& options,
                                         const WriteBuffer::ReplayFn& replay) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  auto log = std::make_unique<PmemLog>(env, options);
  SLUICE_RETURN_IF_ERROR(log->Recover(replay).WithContext("pmem log open " + options.path));
  log->Start();
  return std::unique_ptr<WriteBuffer>(std::move(log));
}

}  // namespace sluice::store
