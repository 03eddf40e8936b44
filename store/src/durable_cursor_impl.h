// The store's DurableCursor (store/durable_cursor.h): a ledger of durable
// batches after the confirmed position, recent batches in DRAM, older ones
// read back from log files (WalReader), and the position file
// (cursor_position_format.h).
//
// The store feeds it: OnReplayed() for each batch replayed at Open, in
// order, then OnDurable() from the write buffer's commit thread, in commit
// order. The store keeps the write-buffer records above what Pin() returns
// (min with what blocks need).
//
// Where older batches come from depends on the write buffer:
//  - wal: the write-ahead log's own files, which the store keeps (pins)
//    above the confirmed position. Nothing is written twice.
//  - pmem: the ring is small and wraps, and pinning it would stall ingest
//    behind a slow stream. Unconfirmed batches stay in DRAM, and a spill
//    thread copies them to a log of their own (<store>/stream-spill/, the
//    write-ahead log's format, each batch under its own sequence number)
//    when the ring wants their space (Pin's argument) or DRAM is over
//    budget. The ring is pinned only until the copy is durable. While the
//    stream keeps up, batches are confirmed long before the ring wants them
//    and nothing is copied.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "store/durable_cursor.h"
#include "store/env.h"
#include "wal.h"
#include "wal_reader.h"

namespace sluice::store {

class DurableCursorImpl final : public DurableCursor {
 public:
  struct Config {
    std::string store_dir;
    // wal mode: the write-ahead log's directory, read back from.
    std::string wal_dir;
    // pmem mode (non-empty): the spill log's directory, and its file size.
    std::string spill_dir;
    std::uint64_t spill_file_size = 0;
    std::uint64_t retain_bytes = 0;
    std::uint64_t memory_bytes = 0;
    std::uint32_t max_value_bytes = 0;
    // Reads a direct marker's records from blocks (wal mode).
    DirectResolver direct;
  };

  DurableCursorImpl(Env* env, Config config);
  ~DurableCursorImpl() override;

  // At Open, before the write buffer is replayed: reads the position file,
  // if any, and in pmem mode opens the spill log (replaying what it holds)
  // and starts the spill thread. `on_spilled` runs (on the spill log's
  // commit thread) whenever a copy lets Pin return more.
  Status Load(std::function<void()> on_spilled);
  bool spills() const { return !cfg_.spill_dir.empty(); }
  // A batch replayed from the write buffer at Open. In pmem mode the ring
  // cannot be read later, so the batch itself comes along (`records` and
  // its encoded `payload`); in wal mode both are null.
  void OnReplayed(std::uint64_t seq, std::int64_t arrival_ns, std::uint64_t records,
                  std::uint64_t bytes, std::shared_ptr<const Batch> batch = nullptr,
                  std::shared_ptr<const std::string> payload = nullptr);
  void OnDurable(std::uint64_t seq, std::int64_t arrival_ns, std::shared_ptr<const Batch> records,
                 std::shared_ptr<const std::string> payload);
  // The store would release write-buffer records up to `wanted` (blocks
  // hold them). Returns how far the cursor lets it: the persisted position
  // (with what the budget gave up, once the position file says so), or in
  // pmem mode also what the spill log holds durably; there, unconfirmed
  // batches up to `wanted` are copied to the spill log so that the ring can
  // go on.
  std::uint64_t Pin(std::uint64_t wanted);
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
  struct Held {
    DurableBatch batch;
    std::shared_ptr<const std::string> payload;  // pmem mode: what is spilled
  };
  void FirstSeenLocked(std::uint64_t seq) SLUICE_REQUIRES(mu_);
  void AddLocked(const Entry& e) SLUICE_REQUIRES(mu_);
  void HoldLocked(Held h) SLUICE_REQUIRES(mu_);
  void EvictLocked() SLUICE_REQUIRES(mu_);
  void EnforceBudgetLocked() SLUICE_REQUIRES(mu_);
  void MarkLostLocked(std::uint64_t from, std::uint64_t to) SLUICE_REQUIRES(mu_);
  std::uint64_t DoneLocked() const SLUICE_REQUIRES(mu_);  // confirmed or given up
  Status Persist(std::uint64_t position) SLUICE_REQUIRES(persist_mu_);
  // Spill log.
  Status OpenSpill(std::uint64_t first_seq);
  bool SpillWantedLocked() const SLUICE_REQUIRES(mu_);
  void SpillLoop();
  void OnSpillDone(Status s, std::uint64_t seq, std::uint64_t bytes, std::uint64_t epoch);

  Env* const env_;
  const Config cfg_;

  Mutex persist_mu_;  // one position write at a time; before mu_
  WalReader reader_;       // the reading thread's
  std::uint64_t reader_generation_ = 0;  // the reading thread's: spill_generation_ it read

  // pmem mode. The spill log is opened, replaced and appended to by the
  // spill thread only (and Load/Close); its callbacks take mu_.
  std::unique_ptr<WriteBuffer> spill_;
  std::thread spill_thread_;
  std::function<void()> on_spilled_;
  CondVar spill_cv_;

  mutable Mutex mu_;
  CondVar cv_;
  bool closed_ SLUICE_GUARDED_BY(mu_) = false;
  // A position file was found, or written.
  bool have_position_ SLUICE_GUARDED_BY(mu_) = false;
  std::uint64_t position_ SLUICE_GUARDED_BY(mu_) = 0;        // persisted
  std::uint64_t persisted_skip_ SLUICE_GUARDED_BY(mu_) = 0;  // given up, and persisted as such
  std::uint64_t skip_to_ SLUICE_GUARDED_BY(mu_) = 0;         // given up: Read starts above it
  std::uint64_t durable_seq_ SLUICE_GUARDED_BY(mu_) = 0;
  std::uint64_t read_seq_ = 0;
  std::uint64_t seen_first_ = 0;        // first batch replayed or made durable
  std::deque<Entry> ledger_;            // durable, after the position (and skip_to_)
  std::uint64_t ledger_bytes_ = 0, ledger_records_ = 0;
  std::deque<Held> memory_;             // recent durable batches, contiguous
  std::uint64_t memory_bytes_used_ = 0;
  // pmem mode: every durable batch above DoneLocked() and spilled_to_ is in
  // memory_ (only copied ones are evicted).
  std::uint64_t want_release_ = 0;      // the largest Pin(wanted)
  std::uint64_t spill_queued_ = 0;      // handed to the spill log
  std::uint64_t spilled_to_ = 0;        // durable in the spill log (contiguous below)
  std::uint64_t spill_generation_ = 0;  // bumped when the spill log is replaced
  bool spill_failed_ = false;           // the last copy failed: retry after a pause
  std::uint64_t spill_epoch_ = 0;       // bumped at each retry
  std::uint64_t spilled_batches_ = 0, spilled_bytes_ = 0, spill_errors_ = 0;
  std::string last_spill_error_;
  std::uint64_t lost_batches_ = 0, lost_records_ = 0;
  std::uint64_t log_read_batches_ = 0, memory_read_batches_ = 0, positions_written_ = 0;
};

}  // namespace sluice::store
