// The persistent-memory write buffer: the durability point in `pmem` mode,
// the second WriteBuffer implementation (write_buffer.h), over one file mapped
// with libpmem2 (through Env::MapPersistent, so that tests inject faults).
//
// Records are WAL frames in a ring (pmem_format.h, docs/format/write_buffer.md).
// A commit thread copies a group of queued records into the mapping without
// draining, drains once (SFENCE after CLWB or non-temporal stores), then runs
// the group's callbacks in sequence order: a persist costs about a
// microsecond, so groups form by themselves while one is being persisted and
// no delay is needed to batch.
//
// Space: Release(upto) frees the ring up to the group holding upto + 1; the
// head kept in the header advances (a separate, drained header update) before
// released bytes are reused, and whenever a commit finds ring / 8 bytes
// released, so that recovery replays little more than is live. When a
// record does not fit, the commit thread waits up to `full_timeout` for a
// Release, then fails it and the rest of its group with NoSpace, never
// blocking forever. Append itself blocks only while the queue (4 x
// max_group_bytes) is full, which is therefore bounded by the same timeout.
//
// It refuses a mapping whose store granularity is PAGE (not persistent
// memory: each persist would be an msync) with Unsupported, pointing to
// write_buffer = "wal". Tests emulate persistent memory with a file in
// /dev/shm and PMEM2_FORCE_GRANULARITY=CACHE_LINE set in the test process
// only; nothing shipped sets it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "store/env.h"
#include "write_buffer.h"

namespace sluice::store {

struct PmemLogOptions {
  // The mapped file, on a DAX (fsdax) file system or a devdax-backed file.
  // Created with `size` bytes when missing. Required.
  std::string path;
  // Bytes of the file, header block included; a multiple of 4096, at least
  // 64 KiB. Fixed when the file is created: reopening with another size is
  // refused. Records may be up to (size - 4096) / 4 - 24 bytes. Default 64 MiB.
  std::uint64_t size = 64ull << 20;
  // Longest a record waits for company before its group is persisted. 0
  // commits whatever is queued at once (groups still form while a persist
  // runs). Default 0 us; at most 1 s.
  std::chrono::microseconds max_commit_delay{0};
  // A group is persisted when it holds this many frame bytes. Default
  // 256 KiB; between 4 KiB and 1 GiB; capped at a quarter of the ring.
  std::uint64_t max_group_bytes = 256 << 10;
  // Longest a record waits for Release when the ring is full before its
  // callback gets NoSpace. Default 100 ms; at most 60 s.
  std::chrono::milliseconds full_timeout{100};
  // Sequence number of the first record of a file created afresh; see
  // WalOptions::first_seq. At least 1. Default 1.
  std::uint64_t first_seq = 1;
  // Longest the commit thread polls for the next record after a group
  // before it parks on its condition variable. Waking a parked thread costs
  // about as much as a persist here (tens of microseconds at the 99th
  // percentile), so when records have lately come soon after a group ends
  // (an average gap within this), the thread polls for up to this long,
  // stopping as soon as a record comes. When they come further apart, or
  // the log is idle, it parks at once: an idle box stays idle. 0 never
  // polls. Default 100 us; at most 10 ms.
  std::chrono::microseconds max_spin{100};

  // InvalidArgument naming the field when a value is out of bounds.
  Status Validate() const;
};

// Opens or creates the log at options.path, refuses a PAGE-granularity
// mapping (Unsupported), replays every intact record after the durable head
// through `replay` in order, invalidates the remnants of a torn last group
// (counted in stats().torn_tail_bytes), and starts the commit thread.
// Corruption when bytes made durable were damaged (see pmem_format.h); the
// intact records before the damage are replayed first.
Result<std::unique_ptr<WriteBuffer>> OpenPmemLog(Env* env, const PmemLogOptions& options,
                                         const WriteBuffer::ReplayFn& replay);

}  // namespace sluice::store
