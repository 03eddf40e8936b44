// The store: durable appends of sensor records, a durable series registry,
// and reads from the DRAM index.
//
//   auto store = Store::Open(options);
//   auto id = (*store)->RegisterSeries("plant/l1/p3/temp", ValueType::kFloat64, "degC");
//   Ticket t = (*store)->Append({{*id, now_ns, 21.375}});
//   t.Wait();   // OK: the batch survives kill -9 and power loss
//
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "store/durable_cursor.h"
#include "store/env.h"
#include "store/options.h"
#include "store/ticket.h"
#include "store/types.h"

namespace sluice::store {

struct StoreStats {
  std::uint64_t appends = 0;          // batches acknowledged durable
  std::uint64_t records = 0;          // records acknowledged durable
  std::uint64_t bytes = 0;            // write-buffer payload bytes acknowledged
  std::uint64_t rejected_batches = 0; // refused before the write buffer (bad input)
  std::uint64_t failed_batches = 0;   // the write buffer reported an error
  std::uint64_t commit_groups = 0;    // syncs of the write buffer
  std::uint64_t series = 0;
  std::uint64_t recovered_records = 0;  // replayed from the write buffer at Open (not yet in blocks)
  std::uint64_t torn_tail_bytes = 0;    // discarded at Open
  std::uint64_t quarantined_records = 0;  // intact in the log but unusable, skipped at Open
  std::string last_quarantine_reason;
  std::int64_t last_quarantine_ns = 0;  // wall clock when it was found; 0: none
  std::uint64_t blocks_written = 0;
  std::uint64_t block_bytes_written = 0;  // to segments, padded
  std::uint64_t block_write_failures = 0; // retried; the records stay in the write buffer
  std::uint64_t quarantined_blocks = 0;   // failed their CRC; never served
  std::uint64_t quarantined_pages = 0;    // unreadable segment pages skipped at Open
  // Large values (Options::large_value_bytes): batches written straight to
  // blocks, and the flush groups they went in.
  std::uint64_t direct_batches = 0;
  std::uint64_t direct_groups = 0;
  // Direct blocks of flush groups found cut short at Open: never served
  // (none of their batches was acknowledged).
  std::uint64_t direct_blocks_set_aside = 0;
  std::uint64_t missing_segments = 0;     // segment files gone behind the store's back, found at Open
  std::uint64_t late_records = 0;         // placed in a late partition
  std::uint64_t segment_bytes = 0;        // segment files on disk
  std::uint64_t dram_index_bytes = 0;
  // DRAM of the open blocks and those queued for writing (their encoded
  // size is bounded by Options::open_blocks_bytes; this is what they hold).
  std::uint64_t open_blocks_memory_bytes = 0;
  std::uint64_t recovery_us = 0;          // how long Open took
  // Restart: "checkpoint" (Open read the index checkpoint's recent part and
  // the segments after it; the rest loads in the background) or "scan"
  // (every segment was read), with the reason when a checkpoint was there
  // and not used.
  std::string recovery_path;
  bool index_ready = true;                // the whole index is loaded
  std::uint64_t index_load_us = 0;        // Open to the whole index loaded
  std::uint64_t missing_blocks = 0;       // a checkpoint's blocks whose segment is gone
  std::uint64_t checkpoints_written = 0;
  std::uint64_t checkpoint_errors = 0;    // the previous checkpoint stays
  std::string last_checkpoint_error;
  std::uint64_t checkpoint_bytes = 0;     // the last one written or read
  // Write-buffer records Open passed over without decoding: at or below
  // the replay mark, so in durable blocks already.
  std::uint64_t replay_mark_skipped = 0;
  bool write_buffer_set_aside = false;    // damaged beyond its tail: see notes
  std::uint64_t rejected_full = 0;        // appends refused: disk budget full
  std::uint64_t reclaimed_partitions = 0; // synced partitions freed for space
  std::uint64_t evicted_partitions = 0;   // unsynced partitions dropped by the hook
  std::uint64_t evicted_records = 0;      // records in them: lost before sync
  std::uint64_t rejected_no_space = 0;    // appends refused: the file system is full or read-only
  // Wall-clock steps seen against the monotonic clock (more than 2 s either
  // way between two looks, 200 ms apart), and the last one's size (signed, ns).
  std::uint64_t clock_jumps_forward = 0;
  std::uint64_t clock_jumps_backward = 0;
  std::int64_t last_clock_jump_ns = 0;
  std::uint64_t leftover_files = 0;       // remains of interrupted file creation, cleaned at Open
  std::vector<std::string> notes;         // what Open found worth telling
  std::string io_engine;              // "io_uring" or "pwrite", and why
  std::string write_buffer;           // "wal", or "pmem <path>"
};

struct PartitionInfo {
  PartitionId id;
  PartitionState state = PartitionState::kOpen;
  std::uint64_t records = 0;       // in blocks and in DRAM
  std::uint32_t blocks = 0;        // durable blocks on disk
  std::uint64_t block_bytes = 0;   // their size on disk
  std::int64_t t_min = 0, t_max = 0;  // record time range; 0, 0 when empty
};

// What a Store needs from its surroundings; tests replace parts of it.
struct StoreContext {
  Env* env = nullptr;                   // default: the real file system
  // Wall clock, ns since the epoch. Default: WallNs (std::chrono::system_clock).
  ClockFn now_ns;
  // A clock that never jumps, to tell wall-clock steps apart from elapsed
  // time (ns, any epoch). Default: MonotonicNs (std::chrono::steady_clock).
  ClockFn monotonic_ns;
  // Called when the disk budget is above its high watermark and reclaiming
  // synced partitions was not enough, with the oldest sealed partition not
  // yet synced. Return true to drop it (its records are counted as evicted
  // before sync), false to keep it and push back instead. Default: never
  // drop unsynced data.
  std::function<bool(const PartitionInfo&)> evict_unsynced;
};

// How close the store is to its limits; the gateway slows or stops reading
// from brokers when `full`.
struct StorePressure {
  std::uint64_t disk_used_bytes = 0;    // segments plus write-ahead log
  std::uint64_t disk_budget_bytes = 0;  // 0: none
  bool full = false;                    // appends are refused with NoSpace
  // Why, when `full`: the disk budget, or the file system itself (full,
  // read-only, or the write buffer could not be opened for writing).
  // Reads, sync and reclaim go on meanwhile.
  std::string full_reason;
  // The store's file system, as a service user sees it (0 and 0: unknown).
  std::uint64_t fs_free_bytes = 0;
  std::uint64_t fs_total_bytes = 0;
  // Free space under Options::free_space_warning: appends still work.
  bool low_space = false;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens the store in options.dir, creating it when missing, and recovers
  // every acknowledged record. `env` defaults to the real file system; it
  // must outlive the store.
  static Result<std::unique_ptr<Store>> Open(const Options& options, StoreContext context = {});

  // Registers a series, durably, before returning. Registering an existing
  // name again returns its id when type and unit match, InvalidArgument
  // otherwise. Names: 1..1024 bytes, no NUL.
  virtual Result<SeriesId> RegisterSeries(std::string_view name, ValueType type,
                                          std::string_view unit) = 0;
  // Registers many series with one sync: a Sparkplug NBIRTH of thousands
  // of metrics, or a new line of 100,000 tags. Each slot of the result is
  // what RegisterSeries would have returned for that spec: the id, or
  // InvalidArgument for a bad name or a conflict with what is registered
  // (or with an earlier spec of the same batch), which does not stop the
  // others. An I/O error fails every new series of the batch: none of
  // them is registered. A crash before it returns keeps a prefix of the
  // new ones, in order, or none.
  virtual std::vector<Result<SeriesId>> RegisterSeriesBatch(std::span<const SeriesSpec> specs) = 0;
  virtual std::optional<SeriesInfo> FindSeries(std::string_view name) const = 0;
  // FindSeries without copying the name and unit: one shared lock and a
  // hash probe, for callers that look up a name per sample.
  virtual std::optional<SeriesRef> LookupSeries(std::string_view name) const = 0;
  virtual std::optional<SeriesInfo> GetSeries(SeriesId id) const = 0;
  virtual std::vector<SeriesInfo> ListSeries() const = 0;

  // Appends a batch atomically: either every record becomes durable or none
  // does. The ticket completes (and `callback` runs) once the whole batch is
  // durable, or with the reason it is not: InvalidArgument naming the record
  // (unknown series, wrong value type, bytes value too large; a batch larger
  // than Options::block_size encoded is refused too), NoSpace when
  // the write buffer is full, IoError, Aborted after Close().
  virtual Ticket Append(Batch batch, Ticket::Callback callback = {}) = 0;

  // The record with the greatest timestamp of `series`, if any.
  virtual std::optional<Record> Latest(SeriesId series) const = 0;

  // Visits the records of `series` with t0 <= timestamp < t1 in timestamp
  // order (equal timestamps in append order) until `visit` returns false.
  virtual Status Scan(SeriesId series, std::int64_t t0, std::int64_t t1,
                      const std::function<bool(const Record&)>& visit) const = 0;

  // Every record of one partition, series by series (ascending id), each
  // series in timestamp order, until `visit` returns false. For sync.
  virtual Status ReadPartition(const PartitionId& id,
                               const std::function<bool(const Record&)>& visit) const = 0;

  // Partition lifecycle: OPEN -> SEALED -> SYNCED -> RECLAIMED. Each step is
  // durable before it returns. Seal writes the partition's open block first;
  // later records for its window go to the late partition of the current
  // window. Reclaim frees the partition's blocks. A step from the wrong
  // state is InvalidArgument naming both states, except that MarkSynced of
  // a partition already synced or reclaimed succeeds and changes nothing
  // (an upload confirmed twice, or after the partition was evicted).
  virtual Status Seal(const PartitionId& id) = 0;
  virtual Status MarkSynced(const PartitionId& id) = 0;
  virtual Status Reclaim(const PartitionId& id) = 0;
  // Partitions in `state`, or all when nullopt; ordered by id.
  virtual std::vector<PartitionInfo> ListPartitions(
      std::optional<PartitionState> state = std::nullopt) const = 0;

  virtual StoreStats stats() const = 0;
  virtual StorePressure pressure() const = 0;

  // The cursor over durable records in commit order (store/durable_cursor.h),
  // or nullptr unless Options::cursor_retain_bytes > 0. Owned by the store;
  // valid until it is destroyed.
  virtual DurableCursor* durable_cursor() = 0;

  // Waits for pending appends, stops background threads. Later calls fail
  // with Aborted. Also run by the destructor.
  virtual Status Close() = 0;
};

}  // namespace sluice::store
