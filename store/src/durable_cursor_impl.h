// The store's DurableCursor (store/durable_cursor.h): a ledger of durable
// batches after the confirmed position, recent batches in DRAM, older ones
// read back from the write-ahead log (WalReader), and the position file
// (cursor_position_format.h).
//
// The store feeds it: OnReplayed() for each batch replayed at Open, in
// order, then OnDurable() from the write buffer's commit thread, in commit
// order. The store keeps log files above Pin() (min with what blocks need).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

#include "store/durable_cursor.h"
#include "store/env.h"
#include "wal_reader.h"

namespace sluice::store {

class DurableCursorImpl final : public DurableCursor {
 public:
  DurableCursorImpl(Env* env, std::string store_dir, std::string wal_dir,
                    std::uint64_t retain_bytes, std::uint64_t memory_bytes,
                    std::uint32_t max_value_bytes);

  // Reads the position file, if any. At Open, before the log is replayed.
  Status Load();
  void OnReplayed(std::uint64_t seq, std::int64_t arrival_ns, std::uint64_t records,
                  std::uint64_t bytes);
  void OnDurable(std::uint64_t seq, std::int64_t arrival_ns,
                 std::shared_ptr<const Batch> records, std::uint64_t bytes);
  // Log records with seq <= Pin() may be recycled as far as the cursor is
  // concerned: the persisted position, or what the budget gave up and the
  // position file says so.
  std::uint64_t Pin() const;
  // Writes the position file when batches were given up since it was last
  // written (the maintenance thread; Confirm writes it otherwise).
  void PersistLosses();
  // Wakes a waiting Read with Aborted; later Reads fail the same way.
  void Close();

  Result<std::vector<DurableBatch>> Read(std::size_t max_batches, std::uint64_t max_records,
                                         std::chrono::milliseconds wait) override;
  Status Confirm(std::uint64_t seq) override;
  void Rewind() override;
  CursorStats stats() const override;

 private:
  struct Entry {
    std::uint64_t seq;
    std::int64_t arrival_ns;
    std::uint64_t records;
    std::uint64_t bytes;
  };
  void AddLocked(const Entry& e);
  void EnforceBudgetLocked();
  void MarkLostLocked(std::uint64_t from, std::uint64_t to);
  Status Persist(std::uint64_t position);  // REQUIRES: persist_mu_ held

  Env* const env_;
  const std::string dir_;
  const std::uint64_t retain_bytes_;
  const std::uint64_t memory_bytes_;

  std::mutex persist_mu_;  // one position write at a time; before mu_
  WalReader reader_;       // the reading thread's

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  bool have_position_ = false;          // a position file was found, or written
  std::uint64_t position_ = 0;          // persisted
  std::uint64_t persisted_skip_ = 0;    // given up, and persisted as such
  std::uint64_t skip_to_ = 0;           // given up: Read starts above it
  std::uint64_t durable_seq_ = 0;
  std::uint64_t read_seq_ = 0;
  std::uint64_t seen_first_ = 0;        // first batch replayed or made durable
  std::deque<Entry> ledger_;            // durable, after the position (and skip_to_)
  std::uint64_t ledger_bytes_ = 0, ledger_records_ = 0;
  std::deque<DurableBatch> memory_;     // recent durable batches, contiguous
  std::uint64_t memory_bytes_used_ = 0;
  std::uint64_t lost_batches_ = 0, lost_records_ = 0;
  std::uint64_t log_read_batches_ = 0, memory_read_batches_ = 0, positions_written_ = 0;
};

}  // namespace sluice::store
