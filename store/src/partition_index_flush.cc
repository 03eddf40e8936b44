// PartitionIndex (partition_index.h): the flush queue. Open blocks go to
// the queue when full, sealed or old; the flusher thread writes them to
// segments in order, and ReleasableSeq tells the write buffer how far its
// records are in blocks.
#include "partition_index.h"

#include <pthread.h>

#include <algorithm>
#include <map>

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

std::optional<PartitionIndex::FlushGroup> PartitionIndex::TakeDirect() {
  FlushGroup g;
  std::map<PartitionId, std::vector<std::unique_ptr<BlockBuilder>>> builders;
  {
    WriterLock lock(mu_);
    if (direct_.empty()) return std::nullopt;
    for (auto& d : direct_) g.batches.push_back(std::move(d));
    direct_.clear();
    direct_bytes_ = 0;
    builders.swap(direct_blocks_);
    direct_writing_.push_back(g.batches.front().seq);
    releasable_stale_ = true;
  }
  // Every pending direct batch's records, one block per partition (more
  // when one would pass block_size), finished without the index lock.
  std::size_t count = 0;
  for (const auto& [id, of] : builders) count += of.size();
  for (const auto& [id, of] : builders) {
    for (const auto& b : of) {
      b->SetGroup(g.batches.front().seq, count);
      g.blocks.push_back(b->FinishAligned(SpareBlock()));
      g.owners.push_back(id);
    }
  }
  // The builders go now, on this thread: they refer to the batches' values.
  builders.clear();
  return g;
}

void PartitionIndex::CompleteDirect(FlushGroup& g,
                                    const Result<std::vector<BlockAddress>>& addresses) {
  std::vector<std::function<void(Status)>> done;
  {
    WriterLock lock(mu_);
    for (auto& d : g.batches) {
      queued_bytes_ -= std::min(queued_bytes_, d.bytes);
      done.push_back(std::move(d.done));
    }
    if (addresses.ok()) {
      for (std::size_t k = 0; k < g.blocks.size(); ++k) {
        std::size_t need = 0;
        auto header = ParseBlockHeader(g.blocks[k].view(), need);
        SLUICE_CHECK(header.ok());  // just built
        const auto n = static_cast<std::uint32_t>(blocks_.size());
        blocks_.push_back({(*addresses)[k], g.owners[k], header->header_len, header->body_len,
                           header->body_crc, header->seq_max, true, 0});
        IndexBlock(n, *header);
      }
      for (const auto& d : g.batches) {
        for (const Record& r : *d.batch) {
          // Large values are not copied again: Latest reads them back.
          const auto* v = std::get_if<std::string>(&r.value);
          if (v != nullptr && v->size() >= options_.large_value_bytes) {
            latest_.Supersede(r);
          } else {
            latest_.Offer(r);
          }
        }
      }
      MutexLock c(counters_mu_);
      counters_.direct_batches += g.batches.size();
      ++counters_.direct_groups;
      counters_.blocks_written += g.blocks.size();
      for (const auto& b : g.blocks) counters_.block_bytes_written += b.size;
    } else {
      MutexLock c(counters_mu_);
      ++counters_.block_write_failures;
    }
    SLUICE_CHECK(!direct_writing_.empty() && direct_writing_.front() == g.batches.front().seq);
    direct_writing_.pop_front();
    releasable_stale_ = true;
    queue_cv_.NotifyAll();
  }
  const Status st = addresses.ok() ? Status::Ok()
                                   : addresses.status().WithContext("writing direct blocks");
  for (auto& f : done) f(st);
  MutexLock spare(spare_mu_);
  for (auto& b : g.blocks) {
    if (spare_bytes_ + b.capacity > options_.open_blocks_bytes) break;
    spare_bytes_ += b.capacity;
    spare_.push_back(std::move(b));
  }
}

AlignedBlock PartitionIndex::SpareBlock() {
  MutexLock lock(spare_mu_);
  if (spare_.empty()) return {};
  AlignedBlock b = std::move(spare_.back());
  spare_.pop_back();
  spare_bytes_ -= b.capacity;
  return b;
}

Result<bool> PartitionIndex::WriteDirect() {
  auto g = TakeDirect();
  if (!g) return false;
  // One write and one sync where the segment allows.
  auto addresses = [&] {
    MutexLock write(segments_write_mu_);
    return segments_->AppendMany(g->blocks);
  }();
  CompleteDirect(*g, addresses);
  return true;
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
  auto address = [&] {
    MutexLock write(segments_write_mu_);
    return segments_->Append(block);
  }();
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
  auto last_take = std::chrono::steady_clock::now();
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
    // Direct batches are finished here and written by the direct writer,
    // which writes every group finished meanwhile together: finishing
    // (copies, checksums) overlaps writing, and a write of many groups
    // pays for one sync. While it writes, a group is taken once a quarter
    // of a block's worth is pending, so that groups do not shrink to a few
    // records.
    if (!written_groups_.empty()) {
      // Groups the direct writer wrote: completed here, so that it goes on
      // to the next write at once.
      std::deque<WrittenGroup> written;
      written.swap(written_groups_);
      lock.Unlock();
      CompleteWritten(written);
      lock.Lock();
      continue;
    }
    const bool take = !direct_.empty() && finished_.size() < kMaxFinished &&
                      (!direct_busy_ || direct_bytes_ >= options_.block_size / 4);
    if (now - last_take >= std::chrono::seconds(1)) {
      // No large value for a second: the memory kept for them goes back.
      MutexLock spare(spare_mu_);
      spare_.clear();
      spare_bytes_ = 0;
    }
    if (!take && queue_.empty()) {
      // Whatever makes a take due (a direct batch applied, the direct
      // writer done or taking) notifies.
      queue_cv_.WaitFor(lock, std::chrono::seconds(1));
      continue;
    }
    lock.Unlock();
    if (take) {
      last_take = now;
      auto g = TakeDirect();
      lock.Lock();
      if (g) finished_.push_back(std::move(*g));
      queue_cv_.NotifyAll();
      continue;
    }
    const auto wrote = WriteFront();
    if (wrote.ok() && *wrote && written_) written_();
    lock.Lock();
    // A failed write (disk full, I/O error) is retried; the records stay
    // readable in DRAM and in the write buffer meanwhile.
    if (!wrote.ok()) queue_cv_.WaitFor(lock, std::chrono::milliseconds(200));
  }
}

void PartitionIndex::DirectWriteLoop() {
  WriterLock lock(mu_);
  for (;;) {
    queue_cv_.Wait(lock, [this]() SLUICE_REQUIRES(mu_) {
      return !finished_.empty() || stop_writer_;
    });
    if (finished_.empty()) return;  // stopping, and nothing is left
    std::vector<FlushGroup> groups;
    for (auto& g : finished_) groups.push_back(std::move(g));
    finished_.clear();
    direct_busy_ = true;
    queue_cv_.NotifyAll();  // room for the flusher to finish more
    lock.Unlock();
    std::vector<AlignedBlock> blocks;
    for (auto& g : groups) {
      for (auto& b : g.blocks) blocks.push_back(std::move(b));
    }
    Result<std::vector<BlockAddress>> addresses = [&] {
      MutexLock write(segments_write_mu_);
      return segments_->AppendMany(blocks);
    }();
    // Each group its blocks and addresses back, in order, for the flusher
    // to complete.
    lock.Lock();
    std::size_t at = 0;
    for (auto& g : groups) {
      const std::size_t n = g.owners.size();
      for (std::size_t k = 0; k < n; ++k) g.blocks[k] = std::move(blocks[at + k]);
      const auto mine = [&]() -> Result<std::vector<BlockAddress>> {
        if (!addresses.ok()) return addresses.status();
        const auto first = addresses->begin() + static_cast<std::ptrdiff_t>(at);
        return std::vector<BlockAddress>(first, first + static_cast<std::ptrdiff_t>(n));
      };
      written_groups_.push_back({std::move(g), mine()});
      at += n;
    }
    direct_busy_ = false;
    queue_cv_.NotifyAll();
  }
}

void PartitionIndex::CompleteWritten(std::deque<WrittenGroup>& written) {
  bool any = false;
  for (auto& w : written) {
    CompleteDirect(w.group, w.addresses);
    any = any || w.addresses.ok();
  }
  written.clear();
  if (any && written_) written_();
}

void PartitionIndex::Start(std::function<void()> written) {
  WriterLock lock(mu_);
  written_ = std::move(written);
  running_ = true;
  stop_ = false;
  stop_writer_ = false;
  // Named for top -H and profilers (at most 15 characters).
  flusher_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sluice-flush");
    FlushLoop();
  });
  direct_writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sluice-blocks");
    DirectWriteLoop();
  });
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
  {
    // The groups finished so far are written first.
    WriterLock lock(mu_);
    stop_writer_ = true;
  }
  queue_cv_.NotifyAll();
  direct_writer_.join();
  std::deque<WrittenGroup> written;
  std::deque<DirectBatch> unwritten;
  {
    WriterLock lock(mu_);
    written.swap(written_groups_);
    // Direct batches not taken yet (FlushAll failed: a full disk): they
    // fail. Their markers are durable, and a restart finds no blocks for
    // them: never acknowledged, never shown.
    unwritten.swap(direct_);
    direct_blocks_.clear();
    for (const auto& d : unwritten) queued_bytes_ -= std::min(queued_bytes_, d.bytes);
    direct_bytes_ = 0;
    releasable_stale_ = true;
  }
  CompleteWritten(written);
  for (auto& d : unwritten) {
    d.done(Aborted("the store stopped before the blocks of batch " + std::to_string(d.seq) +
                   " (large values) were written"));
  }
}

Status PartitionIndex::WaitFlushed(WriterLock& lock,
                                   std::optional<PartitionId> id) {
  auto pending = [&]() SLUICE_REQUIRES(mu_) {
    if (!id) return !queue_.empty() || !direct_.empty() || !direct_writing_.empty();
    auto it = partitions_.find(*id);
    return it != partitions_.end() && !it->second.queued.empty();
  };
  if (!running_) {
    // No flusher (recovery, or after Stop): write here.
    while (pending()) {
      const bool direct = !direct_.empty();
      mu_.unlock();  // the caller's lock is held again before returning
      auto wrote = direct ? WriteDirect() : WriteFront();
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
    if (!direct_.empty()) {
      unwritten_seq_min_ = std::min(unwritten_seq_min_, direct_.front().seq);
    }
    if (!direct_writing_.empty()) {
      unwritten_seq_min_ = std::min(unwritten_seq_min_, direct_writing_.front());
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
