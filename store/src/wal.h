// The write-ahead log: the durability point in `wal` mode, one of the two
// WriteBuffer implementations (write_buffer.h).
//
// Records are opaque payloads of a type chosen by the store. Append() hands a
// record to the log; its callback runs once the record is durable, after the
// group it was committed in has been written (O_DIRECT) and fdatasync()ed.
// Many concurrent appends share one sync (group commit). Byte layout:
// wal_format.h and docs/format/wal.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"
#include "store/env.h"
#include "write_buffer.h"

namespace sluice::store {

struct WalOptions {
  std::string dir;                             // holds wal-<NNNNNNNN>.log files
  std::uint64_t file_size = 64ull << 20;       // bytes per preallocated log file. Default 64 MiB.
  std::chrono::microseconds max_commit_delay{1000};  // longest a record waits for others. Default 1 ms.
  std::uint64_t max_group_bytes = 1ull << 20;  // a group is committed when this full. Default 1 MiB.
  std::uint32_t max_files = 16;                // live log files; beyond it Append fails NoSpace.
  // Sequence number of the first record of a log created afresh (no file
  // yet). The store passes one past the highest it holds in blocks, so that
  // a log set aside or lost never makes numbers repeat. Default 1.
  std::uint64_t first_seq = 1;
  // Asked once at Open, when the log holds two files or more and the
  // oldest one's header checks, with that file's first sequence number,
  // before any record is replayed: the caller answers the highest number it
  // needs no replay of (0: it needs all). Files that hold only records up
  // to that answer, oldest first, are passed over: neither read nor
  // checked, only their header block; their records are counted in
  // WriteBufferStats::passed_over. Records of the files that are read go to
  // replay as before, whatever the answer. Unset: every file is read.
  std::function<std::uint64_t(std::uint64_t first_seq)> needs_replay_above;
};

// Opens or creates the log in options.dir, replays every intact record
// through `replay`, truncates a torn tail, and starts the commit thread.
Result<std::unique_ptr<WriteBuffer>> OpenWal(Env* env, const WalOptions& options,
                                             const WriteBuffer::ReplayFn& replay);

}  // namespace sluice::store
