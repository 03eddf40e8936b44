// The write-ahead log: the durability point in `wal` mode.
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
  // WalStats::passed_over. Records of the files that are read go to replay
  // as before, whatever the answer. Unset: every file is read.
  std::function<std::uint64_t(std::uint64_t first_seq)> needs_replay_above;
};

struct WalRecordView {
  std::uint64_t seq = 0;   // assigned by the log, strictly increasing from 1
  std::uint8_t type = 0;   // chosen by the caller, 1..255
  std::span<const std::byte> payload;
};

struct WalStats {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;            // payload bytes appended
  std::uint64_t groups = 0;           // syncs
  std::uint64_t torn_tail_bytes = 0;  // discarded at recovery
  // The oldest record a crash now would replay (what the log still holds
  // may start earlier than what was released): blocks holding records from
  // here on are checked at the next Open.
  std::uint64_t first_seq = 0;
  std::uint64_t passed_over = 0;  // records of files Open did not read
};

class Wal {
 public:
  using DoneFn = std::function<void(Status, std::uint64_t seq)>;
  // Called for each intact record, in order, during Open().
  using ReplayFn = std::function<Status(const WalRecordView&)>;

  virtual ~Wal() = default;

  // Opens or creates the log in options.dir, replays every intact record
  // through `replay`, truncates a torn tail, and starts the commit thread.
  static Result<std::unique_ptr<Wal>> Open(Env* env, const WalOptions& options,
                                           const ReplayFn& replay);

  // Queues one record. `done` runs on the commit thread exactly once: OK with
  // the record's sequence number when durable, or the error that prevented
  // it. REQUIRES: 1 <= type <= 255, payload no larger than file_size / 4.
  virtual void Append(std::uint8_t type, std::span<const std::byte> payload, DoneFn done) = 0;

  // Append for a log that copies records numbered elsewhere (the stream
  // cursor's spill): the record must get sequence number `seq`. When the
  // log's next number is another one, it fails with Unavailable and takes
  // no number, and so do the records queued behind it in its group: a copy
  // is never stored under a wrong number. The persistent-memory ring does
  // not offer it (Unsupported).
  virtual void AppendAt(std::uint64_t seq, std::uint8_t type, std::span<const std::byte> payload,
                        DoneFn done);

  // Everything with seq <= upto is no longer needed after a crash (it is
  // durable elsewhere); whole files below it may be recycled.
  virtual void Release(std::uint64_t upto) = 0;

  // Commits what is queued, waits for it, stops the commit thread.
  virtual Status Close() = 0;

  virtual WalStats stats() const = 0;
};

}  // namespace sluice::store
