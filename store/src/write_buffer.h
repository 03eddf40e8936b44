// The write buffer: where an append becomes durable before its records
// reach a segment block. Two implementations: the write-ahead log on the
// device (wal.h, `wal` mode) and the persistent-memory ring (pmem_log.h,
// `pmem` mode). Records are opaque payloads of a type chosen by the store,
// numbered by the buffer; Append's callback runs once the record is durable.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "base/status.h"

namespace sluice::store {

struct WriteBufferRecord {
  std::uint64_t seq = 0;   // assigned by the log, strictly increasing from 1
  std::uint8_t type = 0;   // chosen by the caller, 1..255
  std::span<const std::byte> payload;
};

struct WriteBufferStats {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;            // payload bytes appended
  std::uint64_t groups = 0;           // commits: syncs, or drains of the ring
  std::uint64_t torn_tail_bytes = 0;  // discarded at recovery
  // The oldest record a crash now would replay (what the log still holds
  // may start earlier than what was released): blocks holding records from
  // here on are checked at the next Open.
  std::uint64_t first_seq = 0;
  std::uint64_t passed_over = 0;  // records of files Open did not read
};

class WriteBuffer {
 public:
  using DoneFn = std::function<void(Status, std::uint64_t seq)>;
  // Called for each intact record, in order, during Open().
  using ReplayFn = std::function<Status(const WriteBufferRecord&)>;

  virtual ~WriteBuffer() = default;

  // Queues one record. `done` runs on the commit thread exactly once: OK with
  // the record's sequence number when durable, or the error that prevented
  // it. REQUIRES: 1 <= type <= 255, and a payload the buffer can hold
  // (the log: file_size / 4).
  virtual void Append(std::uint8_t type, std::span<const std::byte> payload, DoneFn done) = 0;

  // Append for a log that copies records numbered elsewhere (the stream
  // cursor's spill): the record must get sequence number `seq`. When the
  // log's next number is another one, it fails with Unavailable and takes
  // no number, and so do the records queued behind it in its group: a copy
  // is never stored under a wrong number. The persistent-memory ring does
  // not offer it (Unsupported).
  virtual void AppendAt(std::uint64_t /*seq*/, std::uint8_t /*type*/,
                        std::span<const std::byte> /*payload*/, DoneFn done) {
    done(Unsupported("this write buffer cannot append at a given number"), 0);
  }

  // Everything with seq <= upto is no longer needed after a crash (it is
  // durable elsewhere): its space may be reused (the log recycles whole
  // files, the ring moves its head).
  virtual void Release(std::uint64_t upto) = 0;

  // Commits what is queued, waits for it, stops the commit thread.
  virtual Status Close() = 0;

  virtual WriteBufferStats stats() const = 0;
};

}  // namespace sluice::store
