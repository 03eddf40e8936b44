// A cursor over durable records in commit order, for one consumer that
// ships them elsewhere as soon as they are durable (the stream lane).
//
// Contract:
//  - Read() hands out batches in the order the write buffer made them
//    durable (their sequence numbers increase by one from batch to batch,
//    except where a batch was lost, below), each at most once until Rewind().
//    Only durable batches are handed out: what a crash can take away never is.
//  - Confirm(seq) says the consumer delivered everything up to seq. It
//    writes the position durably (<store dir>/stream.pos,
//    docs/format/stream-position.md) before returning; after a crash the
//    cursor starts after it. Batches read but not confirmed are read again:
//    delivery is at-least-once, and the consumer bounds the duplicates by
//    bounding what it holds unconfirmed.
//  - The store keeps every batch after the position up to
//    Options::cursor_retain_bytes of batches: the write-ahead log pins its
//    files; with the persistent-memory ring, which wraps, batches the ring
//    needs room for are first copied to a spill log on disk
//    (durable_cursor_impl.h). Past that budget the oldest unconfirmed
//    batches are given up, counted (lost_batches, lost_records, persisted
//    with the position) and skipped by Read(); a copy the consumer already
//    holds may still get through.
//  - Recent batches are served from DRAM (Options::cursor_memory_bytes);
//    older ones are read back from the log files (or the spill log). No
//    position file (a new store, or a cursor newly enabled) starts at the
//    oldest batch the log still holds.
//
// Thread-safety: every method may be called from any thread; one reader at
// a time is expected (Read and Rewind from the same thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "store/types.h"

namespace sluice::store {

struct DurableBatch {
  std::uint64_t seq = 0;         // write-buffer sequence number
  std::int64_t arrival_ns = 0;   // when the store accepted it (wall clock)
  std::uint64_t bytes = 0;       // its encoded size in the write buffer
  std::shared_ptr<const Batch> records;
  // When the write buffer made it durable (wall clock: the moment the
  // append's ticket completes); 0 for a batch read back from the log files.
  std::int64_t durable_ns = 0;
};

struct CursorStats {
  std::uint64_t durable_seq = 0;     // the last durable batch
  std::uint64_t position = 0;        // the last confirmed batch, as persisted
  std::uint64_t read_seq = 0;        // the last batch handed out
  // Durable and not yet confirmed (handed out or not).
  std::uint64_t backlog_batches = 0;
  std::uint64_t backlog_records = 0;
  std::uint64_t backlog_bytes = 0;
  std::int64_t oldest_arrival_ns = 0;  // of the oldest unconfirmed batch; 0 when none
  // Given up for the retain budget (or missing from the log when the
  // cursor started), since the store was created: records the consumer
  // never got. Batches whose record count was unknown count in
  // lost_batches only.
  std::uint64_t lost_batches = 0;
  std::uint64_t lost_records = 0;
  std::uint64_t log_read_batches = 0;     // read back from log files
  std::uint64_t memory_read_batches = 0;  // served from DRAM
  std::uint64_t positions_written = 0;
  // pmem write buffer only: batches copied to the spill log because the
  // ring wanted their space or DRAM was full, and failed copies (retried).
  std::uint64_t spilled_batches = 0;
  std::uint64_t spilled_bytes = 0;
  std::uint64_t spill_errors = 0;
  std::string last_spill_error;
};

class DurableCursor {
 public:
  virtual ~DurableCursor() = default;

  // Up to `max_batches` batches (and about `max_records` records: at least
  // one batch) after the last one read, waiting up to `wait` for the first.
  // Empty when none became durable in time. Aborted once the store closes;
  // IoError when the log could not be read (retry later).
  virtual Result<std::vector<DurableBatch>> Read(std::size_t max_batches,
                                                 std::uint64_t max_records,
                                                 std::chrono::milliseconds wait) = 0;

  // Everything up to and including `seq` was delivered. Durable on return.
  virtual Status Confirm(std::uint64_t seq) = 0;

  // The next Read starts again after the confirmed position.
  virtual void Rewind() = 0;

  virtual CursorStats stats() const = 0;
};

}  // namespace sluice::store
