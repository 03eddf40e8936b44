// The DRAM index and the partitions: where every durable record lives.
//
// Records are applied in write-buffer sequence order. Each goes to its
// partition's open block (BlockBuilder). A full block (or one open longer
// than block_max_age, or the largest when open blocks hold too much DRAM)
// joins the flush queue; a background flusher writes queued blocks to
// segments in order and replaces them by index extents: per series, the
// blocks holding it with their time range. Queued blocks stay readable until
// then. Latest values stay in DRAM. Partition states change only through the
// manifest (<dir>/partitions.log, a LogFile).
//
// Partition placement is a pure function of (series, timestamp, the batch's
// arrival time, the partition's persisted state), so replaying the write
// buffer after a crash puts every record where it went before.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <thread>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "block_format.h"
#include "index_checkpoint.h"
#include "latest_values.h"
#include "log_file.h"
#include "segments.h"
#include "wal_reader.h"
#include "store/options.h"
#include "store/store.h"

namespace sluice::store {

// "partition (window W, shard S[, late])", for messages.
std::string Describe(const PartitionId& id);

struct IndexCounters {
  std::uint64_t blocks_written = 0;
  std::uint64_t block_bytes_written = 0;  // padded
  std::uint64_t block_write_failures = 0;
  std::uint64_t quarantined_blocks = 0;   // body CRC failed on read or at recovery
  std::uint64_t late_records = 0;
  std::uint64_t replay_skipped_records = 0;  // already in a block at recovery
  std::uint64_t missing_blocks = 0;  // a checkpoint's blocks whose segment is gone
  std::uint64_t incomplete_direct_blocks = 0;  // recovery: of flush groups cut short, not served
  std::uint64_t direct_batches = 0;  // written straight to blocks
  std::uint64_t direct_groups = 0;   // flush groups of them written
};

class PartitionIndex {
 public:
  PartitionIndex(const Options& options, Env* env, std::unique_ptr<Segments> segments,
                 std::unique_ptr<LogFile> manifest,
                 std::map<PartitionId, PartitionState> states);
  ~PartitionIndex();

  // Starts the background flusher; call after recovery. Stop() writes
  // nothing more and joins it (the destructor calls it). `written` runs on
  // the flusher after each block it writes, without the index lock.
  void Start(std::function<void()> written = {});
  void Stop();

  // Open from an index checkpoint, before any recovered block or Apply:
  // the states and sequence ranges of the partitions at or after its
  // horizon (the manifest's later entries, given to the constructor, stay
  // on top). Until LoadFull: a record bound for a window before the
  // horizon waits (its partition's state is not known yet), reads and
  // partition changes wait, and the flusher writes nothing.
  void StartFromCheckpoint(const CheckpointRecent& recent);
  // The rest of the index: the checkpoint's full section, or one rebuilt
  // from a scan (Rebuild). Then indexes the blocks found after the
  // checkpoint, drops the blocks of partitions reclaimed since, and marks
  // those in segments no longer present as not live (counted in
  // `missing_blocks`). Wakes everything waiting for it.
  void LoadFull(CheckpointFull full);
  // A full section made from blocks a scan found.
  static CheckpointFull Rebuild(const Options& options, const std::vector<FoundBlock>& found,
                                const std::map<PartitionId, PartitionState>& states);
  // Whether the whole index is loaded (always, after a scan at Open).
  bool ready() const;
  // The lowest sequence number of a block VerifyTail found damaged (its
  // records must come back from the write buffer); UINT64_MAX: none.
  std::uint64_t lowest_damaged_seq() const;
  // Whether applying `batch` would wait for LoadFull: a record of it is
  // bound for a window before the checkpoint's horizon.
  bool NeedsFullIndex(const Batch& batch, std::int64_t arrival_ns) const;
  // A checkpoint of the index as it is now: everything written, nothing in
  // DRAM. `now_ns` (the wall clock) places the horizon. False while the
  // index is loading or a metadata log has a repair pending.
  // `wal_first_seq`: the oldest record the write buffer holds; blocks with
  // records from there on are listed for the next Open to check.
  bool Snapshot(std::int64_t now_ns, std::uint64_t wal_first_seq, CheckpointRecent* recent,
                CheckpointFull* full) const;

  // Recovery, before any Apply: a block found in a segment. Blocks of
  // reclaimed partitions are not indexed; only their sequence ranges are
  // kept, so that replay does not bring their records back.
  void AddRecoveredBlock(const FoundBlock& block);
  // Recovery: reads and checks the body of every block whose records may
  // still be in the write buffer (seq_max >= first_wal_seq), dropping torn
  // ones, so that replay re-applies what they held.
  void VerifyTail(std::uint64_t first_wal_seq);

  // Applies one durable batch. `replay` skips records already in blocks.
  // Waits while the flush queue is over its bound (backpressure on the
  // write buffer's commit thread).
  void Apply(const Batch& batch, std::int64_t arrival_ns, std::uint64_t seq,
               const std::vector<ValueType>& types, bool replay);
  // The direct blocks' flush group holding write-buffer number `seq`, its
  // records read back (the durable cursor, after a restart); nullopt when
  // no live direct block holds it.
  Result<std::optional<DirectGroup>> DirectGroupOf(std::uint64_t seq) const;
  // A durable direct marker's batch (Options::large_value_bytes), about
  // `bytes` large: its records are placed as Apply places them and encoded
  // into the next flush group's blocks, one per partition (more past
  // block_size), which refer to the batch's values. The group is finished,
  // written (one write, one sync) and indexed apart from the flush queue;
  // then `done` is called: OK once the group is durable, else the write's
  // error (nothing of the batch is then indexed). Waits while what waits
  // for blocks is over open_blocks_bytes.
  void ApplyDirect(std::shared_ptr<const Batch> batch, std::int64_t arrival_ns,
                   std::uint64_t seq, const std::vector<ValueType>& types, std::size_t bytes,
                   std::function<void(Status)> done);

  // The highest sequence number whose records are all in durable blocks or
  // were never needed: the write buffer may drop everything up to it.
  std::uint64_t ReleasableSeq() const;
  // The highest sequence number seen in any block found at recovery (of
  // reclaimed partitions too) or applied since: a write buffer created
  // afresh must number its records above it.
  std::uint64_t max_seq() const;

  std::optional<Record> Latest(SeriesId series) const;
  Status Scan(SeriesId series, std::int64_t t0, std::int64_t t1,
              const std::function<bool(const Record&)>& visit) const;
  Status ReadPartition(const PartitionId& id,
                       const std::function<bool(const Record&)>& visit) const;

  // Writes every open block and waits for the queue to drain (a graceful
  // stop, or records whose write-buffer copy is about to be set aside).
  // Blocks may then be smaller than block_size. Works with or without the
  // flusher running.
  Status FlushAll();

  Status Seal(const PartitionId& id);
  Status MarkSynced(const PartitionId& id);
  Status Reclaim(const PartitionId& id);
  // Drops a sealed or synced partition's blocks (disk budget). Returns the
  // records dropped.
  Result<std::uint64_t> Evict(const PartitionId& id);
  std::vector<PartitionInfo> List(std::optional<PartitionState> state) const;
  // The partition's state; nullopt when there is no such partition.
  std::optional<PartitionState> StateOf(const PartitionId& id) const;
  // Seals partitions whose window ended more than late_grace before
  // `now_ns` (the wall clock). Also seals a partition whose window lies
  // ahead of the wall clock (future timestamps, or a clock that was ahead
  // and stepped back) once it has taken no record for a window plus grace
  // by `mono_ns`, a clock that never jumps: a clock fault never keeps a
  // partition open for long. REQUIRES: one caller (the store's maintenance).
  Status SealExpired(std::int64_t now_ns, std::int64_t mono_ns);
  // Deletes segments left without a live block, as Reclaim does; for a
  // Reclaim that updated the manifest and then met a full disk.
  Status RemoveDeadSegments();

  IndexCounters counters() const;
  std::size_t queued_bytes() const;
  std::uint64_t segment_bytes() const { return segments_->bytes_on_disk(); }
  Segments& segments() { return *segments_; }
  std::size_t dram_index_bytes() const;
  // DRAM held by open blocks and blocks queued for writing.
  std::size_t open_blocks_memory_bytes() const;

 private:
  using BlockRef = IndexBlockRef;
  // One extent per series per block made the index 16 B per point at
  // 100,000 series; runs of blocks make it a few per series per partition.
  using Extent = IndexExtent;
  struct Partition {
    PartitionState state = PartitionState::kOpen;
    std::unique_ptr<BlockBuilder> open;
    std::chrono::steady_clock::time_point opened;  // when `open` got its first record
    std::deque<std::shared_ptr<const BlockBuilder>> queued;  // waiting for the flusher
    std::vector<std::uint32_t> blocks;
    // The sequence range [seq_min, seq_max] of each of `blocks`, sorted. A
    // block holds every record of the partition in its range, so replay
    // skips exactly the records in these ranges: those of a block lost to
    // damage come back from the write buffer when it still has them.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> block_seqs;
    std::uint64_t flushed_seq = 0;  // the highest seq in `blocks`
    std::uint64_t records = 0;
    std::int64_t t_min = INT64_MAX, t_max = INT64_MIN;
  };

  // The partitions one Apply() call looked up last: the records of a batch
  // mostly go to a few. Valid while mu_ is held and no partition is erased.
  class PartitionHint {
   public:
    using Map = std::map<PartitionId, Partition>;
    Map::const_iterator Find(const PartitionId& id, const Map& m) {
      if (found_ && id == (*found_)->first) return *found_;
      auto it = m.find(id);
      if (it != m.end()) found_ = it;
      return it;
    }
    Partition& Get(const PartitionId& id, Map& m) {
      if (got_ == nullptr || id != got_id_) {
        got_ = &m[id];
        got_id_ = id;
      }
      return *got_;
    }

   private:
    std::optional<Map::const_iterator> found_;
    PartitionId got_id_{};
    Partition* got_ = nullptr;
  };

  // The partition a record goes to.
  PartitionId Place(SeriesId series, std::int64_t ts, std::int64_t arrival_ns,
                    std::uint64_t seq, bool* skip, PartitionHint* hint) const
      SLUICE_REQUIRES_SHARED(mu_);
  std::int64_t WindowOf(std::int64_t ts) const;
  // Whether a block of `p` holds the record with sequence number `seq`.
  static bool InBlocks(const Partition& p, std::uint64_t seq);
  // Whether a block of `p` starts strictly between two sequence numbers.
  static bool BlockBetween(const Partition& p, std::uint64_t after, std::uint64_t before);
  // Moves p's open block to the flush queue.
  void Enqueue(const PartitionId& id, Partition& p) SLUICE_REQUIRES(mu_);
  // A flush group: every direct batch pending when it was taken, and their
  // blocks, finished.
  struct FlushGroup;
  // Takes every pending direct batch and finishes their blocks; nullopt
  // when none is pending. The group counts as being written (the write
  // buffer keeps it) until CompleteDirect.
  std::optional<FlushGroup> TakeDirect();
  // Indexes a taken group's blocks once written (or counts the failure),
  // then completes its batches with the outcome.
  void CompleteDirect(FlushGroup& g, const Result<std::vector<BlockAddress>>& addresses);
  // Memory of a written direct block, to reuse; empty when none is kept.
  AlignedBlock SpareBlock();
  // Takes, writes and completes every pending direct batch; false when none
  // is pending.
  Result<bool> WriteDirect();
  // Writes the queue's front block; false when the queue is empty.
  // REQUIRES: only the flusher (or FlushAll without it) calls it.
  Result<bool> WriteFront();
  void FlushLoop();
  // The direct writer: writes the finished groups (finished_), all that
  // are there in one write, and hands them to the flusher to complete.
  void DirectWriteLoop();
  struct WrittenGroup;
  // Completes written groups, in order (CompleteDirect each).
  void CompleteWritten(std::deque<WrittenGroup>& written);
  // WaitFlushed for `id` when it has blocks queued. `lock` holds mu_.
  Status WaitQueuedBlocks(WriterLock& lock, const PartitionId& id) SLUICE_REQUIRES(mu_);
  // Waits until every block queued so far for `id` (all partitions when
  // nullopt) is written or a write failed. `lock` holds mu_.
  Status WaitFlushed(WriterLock& lock, std::optional<PartitionId> id) SLUICE_REQUIRES(mu_);
  Status SetState(const PartitionId& id, Partition& p, PartitionState s) SLUICE_REQUIRES(mu_);
  Status DropBlocks(Partition& p) SLUICE_REQUIRES(mu_);
  Status RemoveDeadSegmentsLocked() SLUICE_REQUIRES(mu_);
  void IndexBlock(std::uint32_t block, const BlockHeader& header) SLUICE_REQUIRES(mu_);
  // Adds a block's sequence range to p (once); p is guarded by mu_.
  static void NoteBlockSeqs(Partition& p, const SeqRange& range);
  // Until the index is loaded. `lock` holds mu_, shared or exclusive.
  template <typename Lock>
  void AwaitReady(Lock& lock) const SLUICE_REQUIRES_SHARED(mu_) {
    queue_cv_.Wait(lock, [this]() SLUICE_REQUIRES_SHARED(mu_) { return ready_; });
  }
  // Whether placing a record needs partitions the index has not loaded.
  bool NeedsFullIndex(std::int64_t ts, std::int64_t arrival_ns) const SLUICE_REQUIRES_SHARED(mu_);
  CheckpointFull ExportFull() const SLUICE_REQUIRES_SHARED(mu_);
  // The header of a block read back, when it is the block the index knows
  // (header and body lengths and body CRC as recorded) and its body
  // checks; the read's error, or Corruption.
  static Result<BlockHeader> CheckRead(const Result<std::string>& bytes, std::uint32_t header_len,
                                       std::uint32_t body_len, std::uint32_t body_crc);
  // Reads a block once and appends the records of `series` (every series in
  // it when nullopt). A bad header, body or chunk quarantines the block and
  // returns none of its records.
  Status ReadBlock(std::uint32_t block, std::optional<SeriesId> series,
                   std::vector<Record>& out) const;

  const Options options_;
  const std::int64_t window_ns_;
  const std::int64_t grace_ns_;
  std::unique_ptr<Segments> segments_;
  std::unique_ptr<LogFile> manifest_;

  mutable SharedMutex mu_;
  std::map<PartitionId, Partition> partitions_ SLUICE_GUARDED_BY(mu_);
  mutable std::vector<BlockRef> blocks_ SLUICE_GUARDED_BY(mu_);            // by block number; live flips on quarantine
  std::vector<std::vector<Extent>> extents_ SLUICE_GUARDED_BY(mu_);        // by series id
  // By series id: the newest applied since the start, or read from blocks
  // by Latest (then kept).
  mutable LatestValues latest_;
  std::vector<ValueType> types_ SLUICE_GUARDED_BY(mu_);                    // by series id
  std::uint64_t last_seq_ SLUICE_GUARDED_BY(mu_) = 0;
  // The partitions holding an open or queued block: a handful (the open
  // windows' shards), however long the store's history.
  std::set<PartitionId> unwritten_ SLUICE_GUARDED_BY(mu_);
  // ReleasableSeq's view of the blocks not yet written: the lowest first
  // sequence number of an open or queued block (UINT64_MAX: none). Every
  // acknowledgement asks for it, so it is worked out again (over
  // unwritten_) only after a block was opened, queued or written, which
  // set the flag holding mu_ exclusively.
  mutable Mutex releasable_mu_;
  // Set holding mu_ exclusively; read and cleared holding it shared and
  // releasable_mu_.
  mutable bool releasable_stale_ = true;
  mutable std::uint64_t unwritten_seq_min_ SLUICE_GUARDED_BY(releasable_mu_) = UINT64_MAX;
  std::uint64_t max_found_seq_ = 0;                 // recovery: over every block found
  std::vector<FoundBlock> pending_;                 // recovery, until VerifyTail

  // Direct batches whose blocks are not written yet, in sequence order.
  struct DirectBatch {
    std::uint64_t seq;
    std::shared_ptr<const Batch> batch;
    std::function<void(Status)> done;
    std::size_t bytes = 0;  // about, counted in queued_bytes_
  };
  std::deque<DirectBatch> direct_ SLUICE_GUARDED_BY(mu_);
  std::size_t direct_bytes_ SLUICE_GUARDED_BY(mu_) = 0;  // of direct_
  // Their records, encoded as they come (on the write buffer's commit
  // thread, while the flusher writes the previous group): per partition,
  // the blocks of the next flush group.
  std::map<PartitionId, std::vector<std::unique_ptr<BlockBuilder>>> direct_blocks_
      SLUICE_GUARDED_BY(mu_);
  struct FlushGroup {
    std::vector<DirectBatch> batches;
    std::vector<AlignedBlock> blocks;
    std::vector<PartitionId> owners;  // by block
  };
  // The lowest sequence number of each group taken and not yet completed
  // (finished, being written), in order; the
  // write buffer must keep them until their group is durable.
  std::deque<std::uint64_t> direct_writing_ SLUICE_GUARDED_BY(mu_);
  // Groups finished by the flusher, for the direct writer, in order; at
  // most kMaxFinished, so that finished memory stays bounded.
  static constexpr std::size_t kMaxFinished = 4;
  std::deque<FlushGroup> finished_ SLUICE_GUARDED_BY(mu_);
  bool direct_busy_ SLUICE_GUARDED_BY(mu_) = false;  // the direct writer is writing
  struct WrittenGroup {
    FlushGroup group;
    Result<std::vector<BlockAddress>> addresses;
  };
  // Groups written (or failed), for the flusher to complete, in order.
  std::deque<WrittenGroup> written_groups_ SLUICE_GUARDED_BY(mu_);
  // Written direct blocks' memory, kept for the next groups (up to
  // open_blocks_bytes, released after a second without large values):
  // fresh memory costs a page fault per 4 KiB, and a malloc that searched
  // its free lists took a tenth of the flusher's time with 16 MiB kept.
  mutable Mutex spare_mu_;
  std::vector<AlignedBlock> spare_ SLUICE_GUARDED_BY(spare_mu_);
  std::size_t spare_bytes_ SLUICE_GUARDED_BY(spare_mu_) = 0;

  // The flush queue, in order.
  std::deque<std::pair<PartitionId, std::shared_ptr<const BlockBuilder>>> queue_
      SLUICE_GUARDED_BY(mu_);
  std::size_t queued_bytes_ SLUICE_GUARDED_BY(mu_) = 0;
  std::size_t open_bytes_ SLUICE_GUARDED_BY(mu_) = 0;  // DRAM in open blocks
  Status flush_error_ SLUICE_GUARDED_BY(mu_);  // the last failed write, cleared by a success
  mutable CondVarAny queue_cv_;  // queue changed, index loaded
  // Open from a checkpoint: false until LoadFull.
  bool ready_ SLUICE_GUARDED_BY(mu_) = true;
  std::int64_t horizon_ns_ = INT64_MIN;
  std::vector<FoundBlock> deferred_;  // blocks after the checkpoint, until LoadFull
  // The checkpoint's blocks whose records the write buffer held, until
  // VerifyTail; those it found damaged, until LoadFull.
  std::vector<RecentBlock> recent_blocks_;
  std::vector<RecentBlock> damaged_;
  std::uint64_t lowest_damaged_seq_ SLUICE_GUARDED_BY(mu_) = UINT64_MAX;
  // Blocks that failed a check when read: not served now, checked again
  // after a restart (a checkpoint keeps them live, as a scan would find them).
  mutable std::set<std::uint32_t> read_failures_ SLUICE_GUARDED_BY(mu_);
  bool stop_ = false;
  bool running_ = false;
  std::thread flusher_;
  std::thread direct_writer_;
  bool stop_writer_ SLUICE_GUARDED_BY(mu_) = false;
  // Segments are written by one thread at a time (the flusher, the direct
  // writer, or a caller while they are stopped).
  Mutex segments_write_mu_;
  std::function<void()> written_;  // set before the flusher starts
  mutable IndexCounters counters_;
  mutable Mutex counters_mu_;
  // SealExpired's view of each open partition: its record count and the
  // monotonic time it last changed. Only SealExpired touches it.
  std::map<PartitionId, std::pair<std::uint64_t, std::int64_t>> activity_;
};

}  // namespace sluice::store
