// PartitionIndex (partition_index.h): the flush queue. Open blocks go to
// the queue when full, sealed or old; the flusher thread writes them to
// segments in order, and ReleasableSeq tells the write buffer how far its
// records are in blocks.
#include "partition_index.h"

#include <algorithm>

namespace sluice::store {

void PartitionIndex::Enqueue(const PartitionId& id, Partition& p) {
  if (!p.open) return;
  releasable_stale_ = true;
  if (p.open->empty()) {
    p.open.reset();
    if (p.queued.empty()) unwritten_.erase(id);
    return;
  }
  std::shared_ptr<const BlockBuilder> b(std::move(p.open));
  open_bytes_ -= std::min(open_bytes_, b->EncodedSize());
  queued_bytes_ += b->EncodedSize();
  p.queued.push_back(b);
  queue_.emplace_back(id, std::move(b));
  queue_cv_.NotifyAll();
}

Result<bool> PartitionIndex::WriteFront() {
  PartitionId id;
  std::shared_ptr<const BlockBuilder> builder;
  {
    ReaderLock lock(mu_);
    if (queue_.empty()) return false;
    id = queue_.front().first;
    builder = queue_.front().second;
  }
  // Encoding and the write happen without the index lock: appends and reads
  // go on meanwhile. Only one thread at a time writes segments (the flusher,
  // or FlushAll when the flusher is stopped).
  const std::string block = builder->Finish();
  auto address = segments_->Append(block);
  WriterLock lock(mu_);
  if (!address.ok()) {
    MutexLock c(counters_mu_);
    ++counters_.block_write_failures;
    flush_error_ = address.status().WithContext("writing a block of " + Describe(id));
    queue_cv_.NotifyAll();
    return flush_error_;
  }
  std::size_t need = 0;
  auto header = ParseBlockHeader(block, need);
  SLUICE_CHECK(header.ok());  // just built
  const auto n = static_cast<std::uint32_t>(blocks_.size());
  blocks_.push_back({*address, id, header->header_len, header->body_len, header->body_crc,
                     header->seq_max, true, 0});
  Partition& p = partitions_[id];
  // IndexBlock adds the block's records to p.records again; they were
  // counted when applied.
  p.records -= header->records;
  IndexBlock(n, *header);
  SLUICE_CHECK(!p.queued.empty() && p.queued.front() == builder);
  p.queued.pop_front();
  if (!p.open && p.queued.empty()) unwritten_.erase(id);
  releasable_stale_ = true;
  queue_.pop_front();
  queued_bytes_ -= std::min(queued_bytes_, builder->EncodedSize());
  {
    MutexLock c(counters_mu_);
    ++counters_.blocks_written;
    counters_.block_bytes_written += block.size();
  }
  queue_cv_.NotifyAll();
  return true;
}

void PartitionIndex::FlushLoop() {
  const auto max_age = options_.block_max_age;
  WriterLock lock(mu_);
  // Nothing is written before the index is whole: new blocks are numbered
  // after the checkpoint's.
  queue_cv_.Wait(lock, [this]() SLUICE_REQUIRES(mu_) { return ready_ || stop_; });
  while (!stop_) {
    // Blocks open too long are written too, so that the log can let go.
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, p] : partitions_) {
      if (p.open && now - p.opened >= max_age) Enqueue(id, p);
    }
    if (queue_.empty()) {
      queue_cv_.WaitFor(lock, std::chrono::seconds(1));
      continue;
    }
    lock.Unlock();
    auto wrote = WriteFront();
    if (wrote.ok() && *wrote && written_) written_();
    lock.Lock();
    // A failed write (disk full, I/O error) is retried; the records stay
    // readable in DRAM and in the write buffer meanwhile.
    if (!wrote.ok()) queue_cv_.WaitFor(lock, std::chrono::milliseconds(200));
  }
}

void PartitionIndex::Start(std::function<void()> written) {
  WriterLock lock(mu_);
  written_ = std::move(written);
  running_ = true;
  stop_ = false;
  flusher_ = std::thread([this] { FlushLoop(); });
}

void PartitionIndex::Stop() {
  {
    WriterLock lock(mu_);
    if (!running_) return;
    stop_ = true;
    running_ = false;
  }
  queue_cv_.NotifyAll();
  flusher_.join();
}

Status PartitionIndex::WaitFlushed(WriterLock& lock,
                                   std::optional<PartitionId> id) {
  auto pending = [&]() SLUICE_REQUIRES(mu_) {
    if (!id) return !queue_.empty();
    auto it = partitions_.find(*id);
    return it != partitions_.end() && !it->second.queued.empty();
  };
  if (!running_) {
    // No flusher (recovery, or after Stop): write here.
    while (pending()) {
      mu_.unlock();  // the caller's lock is held again before returning
      auto wrote = WriteFront();
      mu_.lock();
      if (!wrote.ok()) return wrote.status();
    }
    return Status::Ok();
  }
  flush_error_ = Status::Ok();
  queue_cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) { return !pending() || !flush_error_.ok(); });
  return pending() ? flush_error_ : Status::Ok();
}

std::uint64_t PartitionIndex::ReleasableSeq() const {
  ReaderLock lock(mu_);
  MutexLock cached(releasable_mu_);
  if (releasable_stale_) {
    unwritten_seq_min_ = UINT64_MAX;
    for (const PartitionId& id : unwritten_) {
      const Partition& p = partitions_.at(id);
      if (p.open && !p.open->empty())
        unwritten_seq_min_ = std::min(unwritten_seq_min_, p.open->seq_min());
      for (const auto& q : p.queued)
        unwritten_seq_min_ = std::min(unwritten_seq_min_, q->seq_min());
    }
    releasable_stale_ = false;
  }
  return unwritten_seq_min_ == UINT64_MAX ? last_seq_
                                          : std::min(last_seq_, unwritten_seq_min_ - 1);
}

Status PartitionIndex::FlushAll() {
  WriterLock lock(mu_);
  AwaitReady(lock);
  for (auto& [id, p] : partitions_) Enqueue(id, p);
  return WaitFlushed(lock, std::nullopt);
}

// A partition turns sealed before its last blocks are written (Seal waits
// for them without the lock), so a partition marked synced may still have
// blocks in the writer's queue. Dropping its blocks before they land would
// leave them behind, live, in a reclaimed partition, keeping their segment.
Status PartitionIndex::WaitQueuedBlocks(WriterLock& lock,
                                        const PartitionId& id) {
  if (partitions_.at(id).queued.empty()) return Status::Ok();
  return WaitFlushed(lock, id);
}

}  // namespace sluice::store
