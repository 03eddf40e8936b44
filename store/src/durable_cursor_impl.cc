#include "durable_cursor_impl.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "base/clock.h"
#include "batch_format.h"
#include "cursor_position_format.h"

namespace sluice::store {
namespace {

// DRAM a held batch takes, roughly: its records plus its encoded bytes
// (bytes values live in both).
std::uint64_t HeldBytes(const DurableBatch& b) {
  return b.records->size() * sizeof(Record) + b.bytes;
}

}  // namespace

DurableCursorImpl::DurableCursorImpl(Env* env, Config config)
    : env_(env),
      cfg_(std::move(config)),
      reader_(env, spills() ? cfg_.spill_dir : cfg_.wal_dir, cfg_.max_value_bytes,
              spills() ? DirectResolver{} : cfg_.direct) {}

DurableCursorImpl::~DurableCursorImpl() { Close(); }

Status DurableCursorImpl::Load(std::function<void()> on_spilled) {
  const std::string path = cfg_.store_dir + "/" + kCursorPositionFile;
  if (env_->Exists(path)) {
    SLUICE_ASSIGN_OR_RETURN(auto file, env_->OpenFile(path, FileOptions{.read_only = true}));
    std::vector<std::byte> bytes(kCursorPositionSize + 1);
    SLUICE_ASSIGN_OR_RETURN(auto got, file->Read(0, bytes));
    bytes.resize(got);
    auto p = DecodeCursorPosition(bytes);
    if (!p.ok()) {
      return p.status().WithContext(path + " (delete it to restart the stream at the oldest "
                                    "record the log holds)");
    }
    MutexLock lock(mu_);
    have_position_ = true;
    position_ = skip_to_ = read_seq_ = p->position;
    lost_batches_ = p->lost_batches;
    lost_records_ = p->lost_records;
  }
  if (!spills()) return Status::Ok();
  on_spilled_ = std::move(on_spilled);
  SLUICE_RETURN_IF_ERROR(OpenSpill(0).WithContext("stream spill log"));
  spill_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sluice-spill");
    SpillLoop();
  });
  return Status::Ok();
}

// Opens the spill log; `first_seq` != 0 replaces it with an empty one that
// starts there. Replayed batches above the position join the ledger: they
// were unconfirmed when copied.
Status DurableCursorImpl::OpenSpill(std::uint64_t first_seq) {
  if (spill_) {
    SLUICE_RETURN_IF_ERROR(spill_->Close());
    spill_.reset();
  }
  SLUICE_RETURN_IF_ERROR(env_->CreateDirs(cfg_.spill_dir));
  if (first_seq != 0) {
    SLUICE_ASSIGN_OR_RETURN(auto names, env_->ListDir(cfg_.spill_dir));
    for (const std::string& n : names) {
      SLUICE_RETURN_IF_ERROR(env_->Remove(cfg_.spill_dir + "/" + n));
    }
    SLUICE_RETURN_IF_ERROR(env_->SyncDir(cfg_.spill_dir));
  }
  WalOptions wo;
  wo.dir = cfg_.spill_dir;
  wo.file_size = cfg_.spill_file_size;
  wo.max_files = static_cast<std::uint32_t>(cfg_.retain_bytes / cfg_.spill_file_size + 2);
  wo.first_seq = first_seq != 0 ? first_seq : 1;
  std::uint64_t last = 0;
  auto wal = OpenWal(env_, wo, [&](const WriteBufferRecord& r) {
    last = r.seq;
    if (first_seq == 0) {
      // Only the header: the records are read when the lane gets to them.
      auto h =
          DecodeBatchHeader({reinterpret_cast<const char*>(r.payload.data()), r.payload.size()});
      OnReplayed(r.seq, h.ok() ? h->arrival_ns : 0, h.ok() ? h->records : 0, r.payload.size());
    }
    return Status::Ok();
  });
  if (!wal.ok()) return wal.status();
  MutexLock lock(mu_);
  spill_ = std::move(*wal);
  ++spill_generation_;
  spilled_to_ = spill_queued_ = (last != 0 ? last + 1 : wo.first_seq) - 1;
  return Status::Ok();
}

// The first batch the cursor hears of: without a position the cursor
// starts there; with one, batches between it and this one are gone from the
// log (recycled while the cursor was off, or set aside).
void DurableCursorImpl::FirstSeenLocked(std::uint64_t seq) {
  if (seen_first_ != 0) return;
  seen_first_ = seq;
  if (!have_position_) {
    position_ = skip_to_ = read_seq_ = seq - 1;
  } else if (seq > position_ + 1) {
    MarkLostLocked(position_ + 1, seq - 1);
  }
}

void DurableCursorImpl::OnReplayed(std::uint64_t seq, std::int64_t arrival_ns,
                                   std::uint64_t records, std::uint64_t bytes,
                                   std::shared_ptr<const Batch> batch,
                                   std::shared_ptr<const std::string> payload) {
  MutexLock lock(mu_);
  FirstSeenLocked(seq);
  // pmem mode replays the spill log, then the ring: they overlap.
  if (seq <= std::max(DoneLocked(), durable_seq_)) return;
  if (durable_seq_ != 0 && seq > durable_seq_ + 1) MarkLostLocked(durable_seq_ + 1, seq - 1);
  durable_seq_ = seq;
  AddLocked({seq, arrival_ns, records, bytes});
  if (batch)
    HoldLocked({DurableBatch{seq, arrival_ns, bytes, std::move(batch), 0}, std::move(payload)});
}

void DurableCursorImpl::OnDurable(std::uint64_t seq, std::int64_t arrival_ns,
                                  std::shared_ptr<const Batch> records,
                                  std::shared_ptr<const std::string> payload) {
  const std::int64_t durable_ns = WallNs();
  bool wake_spill = false;
  {
    MutexLock lock(mu_);
    FirstSeenLocked(seq);
    if (spills() && durable_seq_ != 0 && seq > durable_seq_ + 1) {
      MarkLostLocked(durable_seq_ + 1, seq - 1);  // numbers the ring skipped (set aside)
    }
    durable_seq_ = seq;
    const std::uint64_t n = records->size();
    const std::uint64_t bytes = payload->size();
    if (!spills() && !memory_.empty() && memory_.back().batch.seq + 1 != seq) {
      memory_.clear();
      memory_bytes_used_ = 0;
    }
    AddLocked({seq, arrival_ns, n, bytes});
    if (seq > skip_to_) {
      HoldLocked({DurableBatch{seq, arrival_ns, bytes, std::move(records), durable_ns},
                  spills() ? std::move(payload) : nullptr});
    }
    wake_spill = spills() && SpillWantedLocked();
  }
  cv_.NotifyOne();
  if (wake_spill) spill_cv_.NotifyOne();
}

void DurableCursorImpl::HoldLocked(Held h) {
  memory_bytes_used_ += HeldBytes(h.batch);
  memory_.push_back(std::move(h));
  EvictLocked();
}

// Over budget, the oldest batches go; in pmem mode only copied ones.
void DurableCursorImpl::EvictLocked() {
  while (memory_bytes_used_ > cfg_.memory_bytes && memory_.size() > 1 &&
         (!spills() || memory_.front().batch.seq <= std::max(spilled_to_, DoneLocked()))) {
    memory_bytes_used_ -= HeldBytes(memory_.front().batch);
    memory_.pop_front();
  }
}

std::uint64_t DurableCursorImpl::DoneLocked() const { return std::max(position_, skip_to_); }

std::uint64_t DurableCursorImpl::Pin(std::uint64_t wanted) {
  std::uint64_t pin;
  bool wake = false;
  {
    MutexLock lock(mu_);
    if (!spills()) return position_;
    if (wanted > want_release_) {
      want_release_ = wanted;
      wake = SpillWantedLocked();
    }
    pin = std::max(position_, spilled_to_);
  }
  if (wake) spill_cv_.NotifyOne();
  return pin;
}

// The first batch neither confirmed, given up nor handed to the spill log
// is wanted: the ring would release it, or DRAM is over budget.
bool DurableCursorImpl::SpillWantedLocked() const {
  if (!spill_ || spill_failed_) return false;
  const std::uint64_t next = std::max(spill_queued_, DoneLocked()) + 1;
  if (next > durable_seq_) return false;
  return next <= want_release_ || memory_bytes_used_ > cfg_.memory_bytes;
}

void DurableCursorImpl::SpillLoop() {
  MutexLock lock(mu_);
  for (;;) {
    if (spill_failed_) {
      // A failed copy (I/O error, the spill log's files all in use): the
      // ring stays pinned meanwhile, as blocks would pin it.
      spill_cv_.WaitFor(lock, std::chrono::milliseconds(500),
                        [&]() SLUICE_REQUIRES(mu_) { return closed_; });
      spill_failed_ = false;
      spill_queued_ = spilled_to_;
      ++spill_epoch_;  // failures of copies queued before this are old news
    }
    spill_cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) {
      return closed_ || spill_failed_ || SpillWantedLocked();
    });
    if (closed_) return;
    if (spill_failed_) continue;
    const std::uint64_t next = std::max(spill_queued_, DoneLocked()) + 1;
    if (next != spill_queued_ + 1) {
      // Everything handed to the spill log is confirmed or given up
      // (batches are copied in order from the oldest unconfirmed one), and
      // the log would number the next copy spill_queued_ + 1: start it
      // afresh at `next`, once the copies in flight are done.
      if (spilled_to_ != spill_queued_) {
        spill_cv_.WaitFor(lock, std::chrono::milliseconds(10));
        continue;
      }
      lock.Unlock();
      Status s = OpenSpill(next);
      lock.Lock();
      if (!s.ok()) {
        ++spill_errors_;
        last_spill_error_ = s.WithContext("stream spill log").ToString();
        spill_failed_ = true;
      }
      continue;
    }
    const std::uint64_t target = memory_bytes_used_ > cfg_.memory_bytes
                                     ? durable_seq_
                                     : std::min(want_release_, durable_seq_);
    std::vector<Held> todo;
    std::uint64_t bytes = 0;
    if (!memory_.empty() && memory_.front().batch.seq <= next) {
      for (std::size_t i = next - memory_.front().batch.seq; i < memory_.size(); ++i) {
        const Held& h = memory_[i];
        if (h.batch.seq > target || bytes >= (8u << 20)) break;
        todo.push_back(h);
        bytes += h.batch.bytes;
      }
    }
    if (todo.empty()) {
      // Cannot happen: unconfirmed, uncopied batches are never evicted.
      ++spill_errors_;
      last_spill_error_ = "batch " + std::to_string(next) + " to copy is not in memory";
      spill_failed_ = true;
      continue;
    }
    spill_queued_ = todo.back().batch.seq;
    WriteBuffer* spill = spill_.get();
    const std::uint64_t epoch = spill_epoch_;
    lock.Unlock();
    for (const Held& h : todo) {
      const std::uint64_t seq = h.batch.seq, size = h.payload->size();
      spill->AppendAt(seq, static_cast<std::uint8_t>(WalRecordType::kBatch),
                      {reinterpret_cast<const std::byte*>(h.payload->data()), size},
                      [this, seq, size, epoch](Status s, std::uint64_t) {
                        OnSpillDone(std::move(s), seq, size, epoch);
                      });
    }
    todo.clear();
    lock.Lock();
  }
}

void DurableCursorImpl::OnSpillDone(Status s, std::uint64_t seq, std::uint64_t bytes,
                                    std::uint64_t epoch) {
  {
    MutexLock lock(mu_);
    if (!s.ok()) {
      if (epoch != spill_epoch_) return;  // queued behind a failure already handled
      if (!spill_failed_) {
        ++spill_errors_;
        last_spill_error_ =
            s.WithContext("stream spill log, batch " + std::to_string(seq)).ToString();
      }
      spill_failed_ = true;
    } else {
      spilled_to_ = std::max(spilled_to_, seq);
      ++spilled_batches_;
      spilled_bytes_ += bytes;
      EvictLocked();
    }
  }
  spill_cv_.NotifyOne();
  if (s.ok() && on_spilled_) on_spilled_();
}

void DurableCursorImpl::AddLocked(const Entry& e) {
  ledger_.push_back(e);
  ledger_bytes_ += e.bytes;
  ledger_records_ += e.records;
  EnforceBudgetLocked();
}

void DurableCursorImpl::EnforceBudgetLocked() {
  std::uint64_t bytes = ledger_bytes_, to = 0;
  for (const Entry& e : ledger_) {
    if (bytes <= cfg_.retain_bytes) break;
    bytes -= e.bytes;
    to = e.seq;
  }
  if (to != 0) MarkLostLocked(ledger_.front().seq, to);
}

void DurableCursorImpl::MarkLostLocked(std::uint64_t from, std::uint64_t to) {
  if (to < from) return;
  while (!ledger_.empty() && ledger_.front().seq <= to) {
    const Entry& e = ledger_.front();
    if (e.seq >= from) lost_records_ += e.records;
    ledger_bytes_ -= e.bytes;
    ledger_records_ -= e.records;
    ledger_.pop_front();
  }
  // Batches the ledger did not hold (missing from the log at start): their
  // record counts are unknown.
  lost_batches_ += to - from + 1;
  skip_to_ = std::max(skip_to_, to);
  while (!memory_.empty() && memory_.front().batch.seq <= skip_to_) {
    memory_bytes_used_ -= HeldBytes(memory_.front().batch);
    memory_.pop_front();
  }
}

void DurableCursorImpl::PersistLosses() {
  std::uint64_t seq;
  {
    MutexLock lock(mu_);
    if (skip_to_ <= position_) return;
    seq = position_;
  }
  (void)Confirm(seq);
}

void DurableCursorImpl::Close() {
  {
    MutexLock lock(mu_);
    closed_ = true;
  }
  cv_.NotifyAll();
  spill_cv_.NotifyAll();
  if (spill_thread_.joinable()) spill_thread_.join();
  // What was handed to the spill log is committed (its callbacks take mu_);
  // batches still only in the ring stay pinned there for the next start.
  if (spill_) (void)spill_->Close();
}

Result<std::vector<DurableBatch>> DurableCursorImpl::Read(std::size_t max_batches,
                                                          std::uint64_t max_records,
                                                          std::chrono::milliseconds wait) {
  std::vector<DurableBatch> out;
  if (max_batches == 0) return out;
  MutexLock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::uint64_t next = 0;
  for (;;) {
    if (closed_) return Aborted("store is closed");
    next = std::max(read_seq_, skip_to_) + 1;
    if (next <= durable_seq_) break;
    if (!cv_.WaitUntil(lock, deadline)) {  // timed out
      if (closed_) return Aborted("store is closed");
      next = std::max(read_seq_, skip_to_) + 1;
      if (next <= durable_seq_) break;
      return out;
    }
  }
  if (!memory_.empty() && memory_.front().batch.seq <= next) {
    std::uint64_t records = 0;
    for (std::size_t i = next - memory_.front().batch.seq; i < memory_.size(); ++i) {
      if (out.size() >= max_batches || (records >= max_records && !out.empty())) break;
      records += memory_[i].batch.records->size();
      out.push_back(memory_[i].batch);
    }
    read_seq_ = out.back().seq;
    memory_read_batches_ += out.size();
    lock.Unlock();
    reader_.Drop();
    return out;
  }
  const std::uint64_t upto = memory_.empty() ? durable_seq_ : memory_.front().batch.seq - 1;
  if (reader_generation_ != spill_generation_) {
    reader_generation_ = spill_generation_;
    reader_.Drop();  // the spill log was replaced: its file numbers start again
  }
  lock.Unlock();
  auto r = reader_.Read(next, upto, max_batches, max_records);
  lock.Lock();
  if (!r.ok()) return r.status().WithContext("stream cursor reading the write-ahead log");
  if (r->missing_to >= r->missing_from && r->missing_to != 0) {
    MarkLostLocked(r->missing_from, r->missing_to);
  }
  const std::uint64_t before = read_seq_;
  read_seq_ = std::max({read_seq_, r->scanned_to, r->missing_to});
  for (auto& b : r->batches) {
    if (b.seq > skip_to_) out.push_back(std::move(b));
  }
  if (!out.empty()) read_seq_ = std::max(read_seq_, out.back().seq);
  log_read_batches_ += out.size();
  if (read_seq_ == before && std::max(read_seq_, skip_to_) + 1 == next) {
    return IoError("write-ahead log: batch " + std::to_string(next) +
                   " is durable but was not found in the log files");
  }
  return out;
}

Status DurableCursorImpl::Persist(std::uint64_t position) {
  CursorPosition p;
  {
    MutexLock lock(mu_);
    p = {position, lost_batches_, lost_records_};
  }
  const std::string tmp = cfg_.store_dir + "/" + kCursorPositionFile + ".tmp";
  const std::string path = cfg_.store_dir + "/" + kCursorPositionFile;
  const std::string bytes = EncodeCursorPosition(p);
  SLUICE_ASSIGN_OR_RETURN(auto file, env_->OpenFile(tmp, FileOptions{.create = true}));
  SLUICE_RETURN_IF_ERROR(
      file->Write(0, {reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}));
  SLUICE_RETURN_IF_ERROR(file->Sync());
  file.reset();
  SLUICE_RETURN_IF_ERROR(env_->Rename(tmp, path));
  return env_->SyncDir(cfg_.store_dir);
}

Status DurableCursorImpl::Confirm(std::uint64_t seq) {
  MutexLock persist(persist_mu_);
  std::uint64_t target;
  {
    MutexLock lock(mu_);
    seq = std::min(seq, durable_seq_);
    target = std::max(seq, skip_to_);
    if (target <= position_) return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(Persist(target).WithContext("stream position"));
  MutexLock lock(mu_);
  have_position_ = true;
  ++positions_written_;
  position_ = std::max(position_, target);
  while (!ledger_.empty() && ledger_.front().seq <= position_) {
    ledger_bytes_ -= ledger_.front().bytes;
    ledger_records_ -= ledger_.front().records;
    ledger_.pop_front();
  }
  while (!memory_.empty() && memory_.front().batch.seq <= position_) {
    memory_bytes_used_ -= HeldBytes(memory_.front().batch);
    memory_.pop_front();
  }
  if (spill_) spill_->Release(DoneLocked());
  read_seq_ = std::max(read_seq_, position_);
  return Status::Ok();
}

void DurableCursorImpl::Rewind() {
  MutexLock lock(mu_);
  read_seq_ = std::max(position_, skip_to_);
}

CursorStats DurableCursorImpl::stats() const {
  MutexLock lock(mu_);
  CursorStats s;
  s.durable_seq = durable_seq_;
  s.position = position_;
  s.read_seq = read_seq_;
  s.backlog_batches = ledger_.size();
  s.backlog_records = ledger_records_;
  s.backlog_bytes = ledger_bytes_;
  s.oldest_arrival_ns = ledger_.empty() ? 0 : ledger_.front().arrival_ns;
  s.lost_batches = lost_batches_;
  s.lost_records = lost_records_;
  s.log_read_batches = log_read_batches_;
  s.memory_read_batches = memory_read_batches_;
  s.positions_written = positions_written_;
  s.spilled_batches = spilled_batches_;
  s.spilled_bytes = spilled_bytes_;
  s.spill_errors = spill_errors_;
  s.last_spill_error = last_spill_error_;
  return s;
}

}  // namespace sluice::store
