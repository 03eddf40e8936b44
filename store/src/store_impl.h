// Store: registry + write-ahead log + partitions of blocks in segments.
//
// An append is validated against the registry, encoded (batch_format.h) with
// its arrival time, and handed to the WAL. Once the WAL reports it durable it
// is applied to the partition index (DRAM open blocks, flushed to segments),
// so reads never show a record a crash could take away. WAL space is
// released only up to the oldest record not yet in a durable block.
//
// Full or read-only disks: nothing Open must write (a new log file, a
// repaired metadata log, the segment log) is a precondition of serving what
// is already durable. When the write buffer cannot be made writable at Open
// (NoSpace, which includes EROFS), the store opens with what it replayed,
// serves reads, seals, marks synced and reclaims, refuses appends with the
// reason, and tries again as space returns. An append that meets a full file
// system refuses the next ones the same way until free space is back.
// Marking synced and reclaiming free space, so they must not need it: a
// small reserve file is given up when they meet ENOSPC.
//
// Clocks: arrival times follow the wall clock, forward and back (steps over
// kClockTolerance are counted as jumps by the maintenance thread against a
// monotonic clock); partitions a stepped-back clock leaves in the future are
// sealed after a window plus grace without records (PartitionIndex).
//
// The class is outlined here; its code is in three files: store_impl.cc
// (registration, appends, reads, partitions, stats, Close), store_recovery.cc
// (Open: the fixed partition parameters, replaying and salvaging the write
// buffer) and store_maintenance.cc (the maintenance thread: sealing by the
// clock, free space and the reserve, the disk budget, clock jumps).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "store/store.h"
#include "durable_cursor_impl.h"
#include "log_file.h"
#include "partition_index.h"
#include "pmem_log.h"
#include "registry.h"
#include "store_logs.h"
#include "wal.h"

namespace sluice::store {

// Arrival times stay monotonic across wall-clock wobble up to this much
// (NTP slews and small steps); a larger step back is followed, so that a
// clock that was once ahead does not hold every later record in the future.
inline constexpr std::int64_t kClockTolerance = 1'000'000'000;
// A wall clock that moves this much more or less than the monotonic clock
// between two looks of the maintenance thread has jumped.
inline constexpr std::int64_t kClockJump = 2'000'000'000;
// How often a store whose writes met a full disk tries again regardless of
// what statvfs says (root may write into ext4's reserved blocks).
inline constexpr std::int64_t kFullRetryNs = 30'000'000'000;

class StoreImpl final : public Store {
 public:
  StoreImpl(const Options& options, std::unique_ptr<Env> owned_env, Env* env, ClockFn now,
            ClockFn mono, std::function<bool(const PartitionInfo&)> evict_unsynced)
      : options_(options),
        owned_env_(std::move(owned_env)),
        env_(env),
        now_(std::move(now)),
        mono_(std::move(mono)),
        evict_unsynced_(std::move(evict_unsynced)) {}
  ~StoreImpl() override { (void)Close(); }

  // Opens and recovers everything, before the store is shared and before
  // its threads start: its members need no lock yet.
  Status Init(const std::string& engine_why) SLUICE_NO_THREAD_SAFETY_ANALYSIS;

  Result<SeriesId> RegisterSeries(std::string_view name, ValueType type,
                                  std::string_view unit) override;
  std::vector<Result<SeriesId>> RegisterSeriesBatch(std::span<const SeriesSpec> specs) override {
    if (closed_.load()) return {specs.size(), Result<SeriesId>(Aborted("store is closed"))};
    return registry_->RegisterBatch(specs);
  }
  std::optional<SeriesInfo> FindSeries(std::string_view name) const override {
    return registry_->Find(name);
  }
  std::optional<SeriesRef> LookupSeries(std::string_view name) const override {
    return registry_->Lookup(name);
  }
  std::optional<SeriesInfo> GetSeries(SeriesId id) const override { return registry_->Get(id); }
  std::vector<SeriesInfo> ListSeries() const override { return registry_->List(); }

  Ticket Append(Batch batch, Ticket::Callback callback) override;

  std::optional<Record> Latest(SeriesId series) const override { return index_->Latest(series); }

  Status Scan(SeriesId series, std::int64_t t0, std::int64_t t1,
              const std::function<bool(const Record&)>& visit) const override;

  Status ReadPartition(const PartitionId& id,
                       const std::function<bool(const Record&)>& visit) const override {
    return index_->ReadPartition(id, visit);
  }
  Status Seal(const PartitionId& id) override;
  // Both free space (a synced partition may be reclaimed), so a full disk
  // must not stop them: on NoSpace the reserve is given up and they retry.
  Status MarkSynced(const PartitionId& id) override;
  Status Reclaim(const PartitionId& id) override;
  std::vector<PartitionInfo> ListPartitions(std::optional<PartitionState> state) const override {
    return index_->List(state);
  }

  DurableCursor* durable_cursor() override { return cursor_.get(); }

  StorePressure pressure() const override;

  StoreStats stats() const override;

  Status Close() override;

 private:
  // The partition window, shards and grace decide where records go, also at
  // replay; they are fixed when the store is created (store.meta) and later
  // different options are overridden, with a note.
  Status FixPartitionParameters() SLUICE_NO_THREAD_SAFETY_ANALYSIS;  // from Init

  std::string PmemPath() const {
    return options_.pmem_path.empty() ? options_.dir + "/wal.pmem" : options_.pmem_path;
  }

  Result<std::unique_ptr<WriteBuffer>> OpenLog(const WalOptions& wo, const WriteBuffer::ReplayFn& replay);

  // Opens the write buffer, replaying what it holds; at Open, and again
  // from Maintain while a full disk kept it from opening. A second attempt
  // skips the records the first one replayed: they are in the index already.
  Status OpenWriteBuffer();

  void ReleaseWal() {
    if (wal_ready_.load(std::memory_order_acquire)) wal_->Release(ReleasableSeq());
  }

  // Log records blocks no longer need and the cursor (if any) has confirmed.
  bool IsLarge(const Batch& batch) const;
  struct CursorBatch {
    std::int64_t arrival;
    std::shared_ptr<const Batch> records;
    std::shared_ptr<const std::string> payload;
  };
  void ToCursor(std::uint64_t seq, std::int64_t arrival, std::shared_ptr<const Batch> records,
                std::shared_ptr<const std::string> payload);
  // A direct batch written (`batch`) or failed (nullopt).
  void DirectDone(std::uint64_t seq, std::optional<CursorBatch> batch);
  Ticket AppendDirect(Ticket ticket, std::shared_ptr<Batch> records,
                      std::shared_ptr<std::vector<ValueType>> types, std::int64_t arrival)
      SLUICE_REQUIRES(append_mu_);
  std::uint64_t ReleasableSeq() const;

  // The store always starts: a write-ahead log damaged before its last write
  // (not a torn tail, which the log handles itself) is set aside whole as
  // wal.corrupt-<n> for inspection. What was replayed before the damage is
  // written to blocks first; records after it are lost, and said so.
  Result<std::unique_ptr<WriteBuffer>> SalvageWal(const Status& why, const WriteBuffer::ReplayFn& replay);

  void Note(std::string note) {
    MutexLock lock(notes_mu_);
    notes_.push_back(std::move(note));
  }

  void SetUnwritable(std::string reason) {
    SetReason(std::move(reason));
    unwritable_.store(true, std::memory_order_release);
  }
  void SetFsFull(std::string reason) {
    SetReason(std::move(reason));
    fs_full_.store(true, std::memory_order_release);
  }
  void SetReason(std::string reason);
  std::string UnwritableReason() const {
    MutexLock lock(unwritable_mu_);
    return unwritable_reason_.empty() ? "write buffer not open" : unwritable_reason_;
  }

  // The reserve: a preallocated, synced file given up when marking synced or
  // reclaiming meets a full disk, taken back once space returns.
  std::string ReservePath() const { return options_.dir + "/reserve"; }
  void EnsureReserve() SLUICE_REQUIRES(reserve_mu_);
  // True when there was a reserve to give up.
  bool ReleaseReserve();

  void SampleSpace();

  // Room for a new log file and a few blocks: enough to try writing again.
  std::uint64_t ResumeBytes() const {
    return options_.wal_file_size + 4 * options_.block_size + options_.reserve;
  }

  // Counts wall-clock steps: the wall clock moved more (or less) than the
  // monotonic one since the last look.
  void WatchClock();

  // While appends are refused for want of space: try again once free space
  // is back (or every kFullRetryNs: statvfs speaks for an unprivileged
  // writer), reopening the write buffer when it never opened.
  void RetryWritable();

  // Rejects the whole batch on the first bad record, naming it.
  Status Check(const Batch& batch, std::vector<ValueType>& types) const;

  // A record that passed the log's CRC but cannot be used (unknown type,
  // undecodable payload, a series the registry lost) is quarantined: counted,
  // its reason kept, and the rest of the log served. The store always starts.
  Status Replay(const WriteBufferRecord& r) SLUICE_NO_THREAD_SAFETY_ANALYSIS;  // from Init

  Status Quarantine(std::string reason);

  // Seals partitions whose window and grace have passed and keeps the disk
  // budget. Periodic: there is no event to wait for, only time and space.
  // After an Open from a checkpoint it first loads the rest of the index.
  void Maintain();

  // The index checkpoint (index_checkpoint.h, docs/format/index-checkpoint.md).
  std::string CheckpointPath() const { return options_.dir + "/index.ckpt"; }
  // Its header and recent section, read at Open.
  Result<std::pair<CheckpointHeader, CheckpointRecent>> ReadCheckpointRecent();
  // The rest of the index after an Open from a checkpoint: its full
  // section, or, when that cannot be used, a scan of the segments before it
  // with the states of every partition from the whole manifest.
  void LoadIndex();
  // A new checkpoint when enough blocks were written since the last one.
  void MaybeCheckpoint();
  // The replay mark (index_checkpoint.h): written by the maintenance thread
  // as blocks take records off the write buffer, read at Open. Replay skips
  // the records at or below it without decoding them, unless a block that
  // held some is damaged or missing, or a stream cursor replays them.
  std::string ReplayMarkPath() const { return options_.dir + "/replay.mark"; }
  void WriteReplayMark();
  std::uint64_t ReplaySkipBound();
  Status WriteCheckpoint();

  std::uint64_t DiskUsed() const;

  // Above the high watermark: reclaim synced partitions, oldest first, then
  // offer sealed unsynced ones to the eviction hook, until below the low
  // watermark. Appends are refused from the high watermark until usage is
  // back under the low one.
  void EnforceBudget();

  Options options_;
  std::unique_ptr<Env> owned_env_;
  Env* env_;
  ClockFn now_;
  ClockFn mono_;
  std::function<bool(const PartitionInfo&)> evict_unsynced_;
  std::atomic<bool> full_{false};
  std::atomic<std::uint64_t> disk_used_{0}, rejected_full_{0}, reclaimed_partitions_{0},
      evicted_partitions_{0}, evicted_records_{0};
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<PartitionIndex> index_;
  std::unique_ptr<DurableCursorImpl> cursor_;  // when Options::cursor_retain_bytes > 0
  // Set once, under append_mu_, when the write buffer opens (at Open, or
  // later from Maintain after a full disk); read after wal_ready_.
  std::unique_ptr<WriteBuffer> wal_;
  std::atomic<bool> wal_ready_{false};
  WalOptions wo_;
  // Open and the maintenance thread (which runs only after Open).
  std::uint64_t replayed_seq_ = 0;
  bool verified_ = false;
  std::unique_ptr<LogFile> meta_;
  std::string meta_entry_;
  bool meta_pending_ = false;
  // Appends refused for want of space (the file system, not the budget).
  std::atomic<bool> unwritable_{false};  // no write buffer: appends refused
  std::atomic<bool> fs_full_{false};     // the last append met a full file system
  mutable Mutex unwritable_mu_;
  std::string unwritable_reason_ SLUICE_GUARDED_BY(unwritable_mu_);
  std::int64_t unwritable_since_mono_ SLUICE_GUARDED_BY(unwritable_mu_) = 0;
  std::atomic<std::uint64_t> fs_free_{0}, fs_total_{0}, rejected_no_space_{0},
      reserve_releases_{0}, clock_jumps_forward_{0}, clock_jumps_backward_{0};
  std::atomic<bool> fs_read_only_{false};
  std::atomic<std::int64_t> last_clock_jump_ns_{0};
  Mutex reserve_mu_;
  std::atomic<bool> reserve_held_{false};
  // WatchClock, on the maintenance thread.
  bool clock_seen_ = false;
  std::int64_t last_wall_ = 0, last_mono_ = 0;
  Mutex cursor_order_mu_;
  std::set<std::uint64_t> direct_pending_ SLUICE_GUARDED_BY(cursor_order_mu_);
  std::map<std::uint64_t, CursorBatch> held_for_cursor_ SLUICE_GUARDED_BY(cursor_order_mu_);
  Mutex append_mu_;
  std::int64_t last_arrival_ SLUICE_GUARDED_BY(append_mu_) = INT64_MIN;  // after Open
  std::atomic<bool> closed_{false};
  bool wal_set_aside_ = false;  // written only during Open
  std::atomic<std::uint64_t> appends_{0}, records_{0}, bytes_{0}, rejected_batches_{0},
      failed_batches_{0};
  // Written only during Open.
  std::uint64_t recovered_records_ = 0;
  std::atomic<std::uint64_t> torn_tail_bytes_{0};
  std::uint64_t leftover_files_ = 0;
  std::uint64_t quarantined_records_ = 0;
  std::atomic<std::uint64_t> quarantined_pages_{0};
  std::atomic<std::uint64_t> missing_segments_{0};
  std::uint64_t recovery_us_ = 0;
  std::uint64_t replay_skip_upto_ = 0;     // Open
  std::uint32_t truncated_segments_ = 0;   // Open
  std::uint64_t replay_mark_skipped_ = 0;  // batches Open skipped by the mark
  // The flusher writes the mark after each block, the maintenance thread
  // and Close after anything else that lets the log go.
  Mutex mark_mu_;
  std::uint64_t replay_mark_written_ SLUICE_GUARDED_BY(mark_mu_) = 0;
  // The checkpoint Open started from, until LoadIndex is done with it.
  std::optional<std::pair<CheckpointHeader, CheckpointRecent>> checkpoint_;
  std::string recovery_path_;  // written only during Open
  std::chrono::steady_clock::time_point open_started_;
  std::atomic<std::uint64_t> index_load_us_{0};
  // MaybeCheckpoint, on the maintenance thread (and Close after it).
  std::uint64_t checkpoint_block_bytes_ = 0;  // blocks written when the last was taken
  std::int64_t checkpoint_mono_ = 0;
  bool checkpoint_on_disk_ = false;
  std::atomic<std::uint64_t> checkpoints_written_{0}, checkpoint_errors_{0},
      checkpoint_bytes_{0};
  std::string last_checkpoint_error_ SLUICE_GUARDED_BY(notes_mu_);
  std::string last_quarantine_reason_;
  std::int64_t last_quarantine_ns_ = 0;
  mutable Mutex notes_mu_;
  std::vector<std::string> notes_ SLUICE_GUARDED_BY(notes_mu_);
  std::string io_engine_;

  std::thread maintenance_;
  Mutex stop_mu_;
  CondVar stop_cv_;
  bool stop_ SLUICE_GUARDED_BY(stop_mu_) = false;
};

}  // namespace sluice::store
