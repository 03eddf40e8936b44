// Reads durable batches back from the write-ahead log's files, for the
// durable-record cursor when the batches it needs are no longer in DRAM.
//
// It reads files the commit thread may be writing: only frames that parse
// (wal_format.h's rules; on damage, the intact frames before it) and whose
// sequence number the caller knows to be durable are returned. A file may
// be recycled (renamed) underneath; frames of the wrong sequence number are
// never returned, so the caller sees a gap, not wrong data.
//
// Thread-safety: none; the cursor calls it from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/durable_cursor.h"
#include "store/env.h"
#include "wal_format.h"

namespace sluice::store {

struct WalReadResult {
  std::vector<DurableBatch> batches;  // ascending, first seq >= from
  // Sequence numbers in [from, first returned) (or [from, upto] when none
  // was returned) that no log file holds any more: lost to the caller.
  std::uint64_t missing_from = 0, missing_to = 0;  // empty when missing_to < missing_from
  std::uint64_t undecodable = 0;  // frames skipped: their payload does not decode
  std::uint64_t scanned_to = 0;   // the last seq returned or skipped; 0: none
};

// The records of a direct marker's batch (batch_format.h, kDirect): the
// whole flush group it was written with, returned as one batch numbered
// `last_seq` (the group's highest marker). nullopt: no block holds it.
struct DirectGroup {
  std::uint64_t last_seq = 0;
  Batch records;
};
using DirectResolver = std::function<Result<std::optional<DirectGroup>>(std::uint64_t seq)>;

class WalReader {
 public:
  WalReader(Env* env, std::string wal_dir, std::uint32_t max_value_bytes,
            DirectResolver direct = {})
      : env_(env), dir_(std::move(wal_dir)), max_value_bytes_(max_value_bytes),
        direct_(std::move(direct)) {}

  // Batches with from <= seq <= upto, at most `max_batches` and about
  // `max_records` records (at least one batch).
  Result<WalReadResult> Read(std::uint64_t from, std::uint64_t upto, std::size_t max_batches,
                             std::uint64_t max_records);

  // Lets go of the cached file (up to a whole log file of memory).
  void Drop();

 private:
  Status Load(std::uint64_t number);

  Env* env_;
  std::string dir_;
  std::uint32_t max_value_bytes_;
  DirectResolver direct_;
  // The last flush group returned, at its marker `first`: the markers after
  // it up to `last` are passed over, whichever read meets them.
  std::uint64_t direct_group_first_ = 0, direct_group_last_ = 0;
  // The file read last: its number, bytes and the frames parsed from them.
  std::uint64_t number_ = 0;
  std::vector<std::byte> bytes_;
  std::vector<WriteBufferRecord> records_;
};

}  // namespace sluice::store
