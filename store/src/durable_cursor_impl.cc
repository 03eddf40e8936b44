#include "durable_cursor_impl.h"

#include <algorithm>
#include <chrono>

#include "cursor_position_format.h"

namespace sluice::store {
namespace {

// DRAM a held batch takes, roughly: its records plus its encoded bytes
// (bytes values live in both).
std::uint64_t HeldBytes(const DurableBatch& b) {
  return b.records->size() * sizeof(Record) + b.bytes;
}

}  // namespace

DurableCursorImpl::DurableCursorImpl(Env* env, std::string store_dir, std::string wal_dir,
                                     std::uint64_t retain_bytes, std::uint64_t memory_bytes,
                                     std::uint32_t max_value_bytes)
    : env_(env),
      dir_(std::move(store_dir)),
      retain_bytes_(retain_bytes),
      memory_bytes_(memory_bytes),
      reader_(env, std::move(wal_dir), max_value_bytes) {}

Status DurableCursorImpl::Load() {
  const std::string path = dir_ + "/" + kCursorPositionFile;
  if (!env_->Exists(path)) return Status::Ok();
  auto file = env_->OpenFile(path, FileOptions{.read_only = true});
  if (!file.ok()) return file.status();
  std::vector<std::byte> bytes(kCursorPositionSize + 1);
  auto got = (*file)->Read(0, bytes);
  if (!got.ok()) return got.status();
  bytes.resize(*got);
  auto p = DecodeCursorPosition(bytes);
  if (!p.ok()) {
    return p.status().WithContext(path + " (delete it to restart the stream at the oldest "
                                  "record the log holds)");
  }
  std::lock_guard lock(mu_);
  have_position_ = true;
  position_ = skip_to_ = read_seq_ = p->position;
  lost_batches_ = p->lost_batches;
  lost_records_ = p->lost_records;
  return Status::Ok();
}

void DurableCursorImpl::OnReplayed(std::uint64_t seq, std::int64_t arrival_ns,
                                   std::uint64_t records, std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (seen_first_ == 0) {
    seen_first_ = seq;
    if (!have_position_) {
      position_ = skip_to_ = read_seq_ = seq - 1;
    } else if (seq > position_ + 1) {
      MarkLostLocked(position_ + 1, seq - 1);  // the log no longer holds them
    }
  }
  if (seq <= std::max(position_, skip_to_)) return;
  durable_seq_ = seq;
  AddLocked({seq, arrival_ns, records, bytes});
}

void DurableCursorImpl::OnDurable(std::uint64_t seq, std::int64_t arrival_ns,
                                  std::shared_ptr<const Batch> records, std::uint64_t bytes) {
  const std::int64_t durable_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
  {
    std::lock_guard lock(mu_);
    if (seen_first_ == 0) {
      seen_first_ = seq;
      if (!have_position_) {
        position_ = skip_to_ = read_seq_ = seq - 1;
      } else if (seq > position_ + 1) {
        MarkLostLocked(position_ + 1, seq - 1);
      }
    }
    durable_seq_ = seq;
    const std::uint64_t n = records->size();
    if (!memory_.empty() && memory_.back().seq + 1 != seq) {
      memory_.clear();
      memory_bytes_used_ = 0;
    }
    memory_.push_back(DurableBatch{seq, arrival_ns, bytes, std::move(records), durable_ns});
    memory_bytes_used_ += HeldBytes(memory_.back());
    while (memory_bytes_used_ > memory_bytes_ && memory_.size() > 1) {
      memory_bytes_used_ -= HeldBytes(memory_.front());
      memory_.pop_front();
    }
    AddLocked({seq, arrival_ns, n, bytes});
  }
  cv_.notify_one();
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
    if (bytes <= retain_bytes_) break;
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
  while (!memory_.empty() && memory_.front().seq <= skip_to_) {
    memory_bytes_used_ -= HeldBytes(memory_.front());
    memory_.pop_front();
  }
}

std::uint64_t DurableCursorImpl::Pin() const {
  std::lock_guard lock(mu_);
  return position_;
}

void DurableCursorImpl::PersistLosses() {
  std::uint64_t seq;
  {
    std::lock_guard lock(mu_);
    if (skip_to_ <= position_) return;
    seq = position_;
  }
  (void)Confirm(seq);
}

void DurableCursorImpl::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

Result<std::vector<DurableBatch>> DurableCursorImpl::Read(std::size_t max_batches,
                                                          std::uint64_t max_records,
                                                          std::chrono::milliseconds wait) {
  std::vector<DurableBatch> out;
  if (max_batches == 0) return out;
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::uint64_t next = 0;
  for (;;) {
    if (closed_) return Aborted("store is closed");
    next = std::max(read_seq_, skip_to_) + 1;
    if (next <= durable_seq_) break;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (closed_) return Aborted("store is closed");
      next = std::max(read_seq_, skip_to_) + 1;
      if (next <= durable_seq_) break;
      return out;
    }
  }
  if (!memory_.empty() && memory_.front().seq <= next) {
    std::uint64_t records = 0;
    for (std::size_t i = next - memory_.front().seq; i < memory_.size(); ++i) {
      if (out.size() >= max_batches || (records >= max_records && !out.empty())) break;
      records += memory_[i].records->size();
      out.push_back(memory_[i]);
    }
    read_seq_ = out.back().seq;
    memory_read_batches_ += out.size();
    lock.unlock();
    reader_.Drop();
    return out;
  }
  const std::uint64_t upto = memory_.empty() ? durable_seq_ : memory_.front().seq - 1;
  lock.unlock();
  auto r = reader_.Read(next, upto, max_batches, max_records);
  lock.lock();
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
    std::lock_guard lock(mu_);
    p = {position, lost_batches_, lost_records_};
  }
  const std::string tmp = dir_ + "/" + kCursorPositionFile + ".tmp";
  const std::string path = dir_ + "/" + kCursorPositionFile;
  const std::string bytes = EncodeCursorPosition(p);
  auto file = env_->OpenFile(tmp, FileOptions{.create = true});
  if (!file.ok()) return file.status();
  SLUICE_RETURN_IF_ERROR(
      (*file)->Write(0, {reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}));
  SLUICE_RETURN_IF_ERROR((*file)->Sync());
  file->reset();
  SLUICE_RETURN_IF_ERROR(env_->Rename(tmp, path));
  return env_->SyncDir(dir_);
}

Status DurableCursorImpl::Confirm(std::uint64_t seq) {
  std::lock_guard persist(persist_mu_);
  std::uint64_t target;
  {
    std::lock_guard lock(mu_);
    seq = std::min(seq, durable_seq_);
    target = std::max(seq, skip_to_);
    if (target <= position_) return Status::Ok();
  }
  SLUICE_RETURN_IF_ERROR(Persist(target).WithContext("stream position"));
  std::lock_guard lock(mu_);
  have_position_ = true;
  ++positions_written_;
  position_ = std::max(position_, target);
  while (!ledger_.empty() && ledger_.front().seq <= position_) {
    ledger_bytes_ -= ledger_.front().bytes;
    ledger_records_ -= ledger_.front().records;
    ledger_.pop_front();
  }
  while (!memory_.empty() && memory_.front().seq <= position_) {
    memory_bytes_used_ -= HeldBytes(memory_.front());
    memory_.pop_front();
  }
  read_seq_ = std::max(read_seq_, position_);
  return Status::Ok();
}

void DurableCursorImpl::Rewind() {
  std::lock_guard lock(mu_);
  read_seq_ = std::max(position_, skip_to_);
}

CursorStats DurableCursorImpl::stats() const {
  std::lock_guard lock(mu_);
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
  return s;
}

}  // namespace sluice::store
