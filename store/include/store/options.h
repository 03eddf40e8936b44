// Options for opening a Store. Defaults in-class; Validate() checks bounds.
// Each field maps to one documented configuration key (docs/config.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "store/env.h"

namespace sluice::store {

// Where an append becomes durable. Persisted nowhere: a store may switch.
enum class WriteBufferMode : std::uint8_t {
  kWal = 1,   // a preallocated log file, O_DIRECT, group-committed fdatasync
  kPmem = 2,  // a libpmem2 mapping on persistent memory, flush + drain
};

struct Options {
  // Directory holding every file of the store (write buffer, registry).
  // Absolute path. Default: /var/lib/sluice/store.
  std::string dir = "/var/lib/sluice/store";

  // The durability point: kWal (any disk) or kPmem (persistent memory;
  // refused with a clear error when the file is not on real persistent
  // memory). Default: kWal.
  WriteBufferMode write_buffer = WriteBufferMode::kWal;

  // pmem mode: the mapped file, on a DAX file system. Empty: <dir>/wal.pmem.
  std::string pmem_path;

  // pmem mode: size of the mapped ring, bytes, fixed when created.
  // Bounds: 1 MiB .. 64 GiB, a multiple of 4096. Default: 64 MiB.
  std::uint64_t pmem_size = 64ull << 20;

  // pmem mode: longest the commit thread polls for the next record after a
  // group before it parks, when records have lately come that soon (it
  // stops polling as soon as one comes; otherwise, and when idle, it parks
  // at once). Saves the thread wake-up on the durable path at one
  // batch in flight. 0: never polls. Bounds: 0 .. 10 ms. Default: 100 us.
  std::chrono::microseconds pmem_max_spin{100};

  // How files are written: auto (io_uring when the kernel allows it, else
  // pwrite), io_uring (fail to open without it), pwrite. Default: auto.
  IoEngine io_engine = IoEngine::kAuto;

  // Size of each preallocated write-ahead log file, bytes.
  // Bounds: 1 MiB .. 4 GiB, a multiple of 4096. Default: 64 MiB.
  std::uint64_t wal_file_size = 64ull << 20;

  // Longest an append waits for others to share its sync.
  // 0: the commit thread takes whatever is queued as soon as it is free, so
  // groups still form while a sync is in flight and a lone writer never
  // waits (measured: p50 155 us instead of 1.3 ms for one writer, the same
  // throughput under concurrency). Bounds: 0 .. 100 ms. Default: 0.
  std::chrono::microseconds wal_max_commit_delay{0};

  // A commit group is synced as soon as it holds this many bytes.
  // Bounds: 4 KiB .. wal_file_size / 4. Default: 1 MiB.
  std::uint64_t wal_max_group_bytes = 1ull << 20;

  // Largest encoded block written to a segment, bytes. Records of one
  // partition gather in DRAM until a block is this full. Bounds: 64 KiB ..
  // 16 MiB, a multiple of 4096. Default: 1 MiB.
  std::uint64_t block_size = 1ull << 20;

  // An open block older than this is written even if not full, so that a
  // slow partition does not hold write-ahead log space for long.
  // Bounds: 1 s .. 1 h. Default: 30 s.
  std::chrono::seconds block_max_age{30};

  // DRAM for open blocks and for blocks waiting to be written, bytes; past
  // it the largest open block is written early, and appends wait for the
  // writer. Bounds: 2 * block_size .. 16 GiB. Default: 64 MiB.
  std::uint64_t open_blocks_bytes = 64ull << 20;

  // Size of each preallocated segment file, bytes. Bounds: 4 * block_size ..
  // 64 GiB, a multiple of 4096. Default: 256 MiB.
  std::uint64_t segment_size = 256ull << 20;

  // Length of a partition's time window. Bounds: 1 min .. 1 day.
  // Default: 1 h. Fixed when the store is created (see store/README.md).
  std::chrono::seconds partition_window{3600};

  // Shards per window: a series goes to shard hash(id) % shards.
  // Bounds: 1 .. 256. Default: 8. Fixed when the store is created.
  std::uint32_t partition_shards = 8;

  // How long after its window ends a partition still takes records; later
  // ones go to the late partition of the current window, and the partition
  // is sealed. Bounds: 0 .. partition_window. Default: 5 min.
  std::chrono::seconds late_grace{300};

  // Disk space the store may use (segments plus write-ahead log), bytes.
  // 0: no budget beyond the file system's free space. Otherwise at least
  // 8 * segment_size + 16 * wal_file_size. Default: 0.
  std::uint64_t disk_budget = 0;

  // At this share of the budget the store reclaims synced partitions
  // (oldest first), then offers sealed unsynced ones to the eviction hook,
  // and refuses appends (NoSpace) until usage is below the low watermark.
  // Percent, bounds: low 1 .. 99, high low+1 .. 100. Defaults: 90 and 75.
  std::uint32_t disk_high_watermark = 90;
  std::uint32_t disk_low_watermark = 75;

  // Free space on the store's file system (as a service user sees it)
  // below which the store warns: pressure().low_space, a readiness warning,
  // before appends start failing with ENOSPC. Percent of the file system,
  // bounds 0 (off) .. 50. Default: 5.
  std::uint32_t free_space_warning = 5;

  // Bytes kept aside in <dir>/reserve (a preallocated, synced ballast file)
  // so that marking partitions synced and reclaiming them, the writes that
  // free space, still succeed on a full disk: the store gives the reserve up
  // when one of them meets ENOSPC, and takes it back once space returns.
  // Bounds: 0 (none) .. 64 MiB. Default: 1 MiB.
  std::uint64_t reserve = 1ull << 20;

  // The index checkpoint (<dir>/index.ckpt): Open reads a small part of it
  // and the segments written after it, resumes appends, and loads the rest
  // of the index in the background, so a restart does not take longer as
  // the store grows. Written again once this many bytes of blocks were
  // written since the last one (or a partition window passed with any),
  // and at Close. 0: none; every Open scans every segment.
  // Bounds: 0, or 1 MiB .. 64 GiB. Default: 64 MiB.
  std::uint64_t index_checkpoint = 64ull << 20;

  // Largest bytes value accepted in a record, bytes.
  // Bounds: 1 .. 1 MiB. Default: 64 KiB.
  std::uint32_t max_value_bytes = 64u << 10;
  // A batch holding a bytes value of at least this many bytes goes whole to
  // blocks of its own ("direct blocks"), written once; the write buffer
  // keeps only a marker, and the ticket completes once the blocks are
  // durable (a second sync after the marker's). 0: off.
  // Bounds: 0, or 512 B .. 1 MiB (above max_value_bytes: no value is large).
  // Default: 4 KiB.
  std::uint32_t large_value_bytes = 4096;

  // The durable-record cursor (store/durable_cursor.h), for the stream
  // lane: bytes of batches not yet confirmed that the store may hold back,
  // in the write-ahead log's files (wal mode) or in the cursor's spill log
  // of wal_file_size files (pmem mode). 0: no cursor. Past it the oldest
  // unconfirmed batches are given up and counted. Bounds: 0, or
  // wal_file_size .. 12 * wal_file_size (the log keeps at most 16 files).
  // Default: 0.
  std::uint64_t cursor_retain_bytes = 0;

  // DRAM for recent durable batches waiting for the cursor; older ones are
  // read back from the log (pmem mode: copied to the spill log first).
  // Bounds: 1 MiB .. 4 GiB. Default: 32 MiB.
  std::uint64_t cursor_memory_bytes = 32ull << 20;

  // Returns InvalidArgument on the first violation; the message starts with
  // the field's name, which is also its configuration key under [store]
  // ("dir: must be an absolute path ...").
  Status Validate() const;
};

}  // namespace sluice::store
