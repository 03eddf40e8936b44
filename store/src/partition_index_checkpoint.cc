// PartitionIndex (partition_index.h) and its checkpoint (index_checkpoint.h):
// taking one, starting from one, and loading the rest in the background.
#include <algorithm>
#include <set>

#include "partition_index.h"

namespace sluice::store {

void PartitionIndex::StartFromCheckpoint(const CheckpointRecent& recent) {
  WriterLock lock(mu_);
  ready_ = false;
  horizon_ns_ = recent.horizon_ns;
  recent_blocks_ = recent.blocks;
  max_found_seq_ = std::max(max_found_seq_, recent.max_seq);
  for (const auto& cp : recent.partitions) {
    auto [it, fresh] = partitions_.try_emplace(cp.id);
    Partition& p = it->second;
    if (fresh) p.state = cp.state;  // else the manifest changed it since
    for (const auto& r : cp.block_seqs) NoteBlockSeqs(p, r);
    p.flushed_seq = std::max(p.flushed_seq, cp.flushed_seq);
  }
}

// The checkpoint holds every partition at or after the horizon, so one
// missing there does not exist; before it, only the whole index knows.
bool PartitionIndex::NeedsFullIndex(std::int64_t ts, std::int64_t arrival_ns) const {
  // The horizon is a window start: a time before it is in an earlier window.
  return ts < horizon_ns_ || arrival_ns < horizon_ns_;
}

bool PartitionIndex::NeedsFullIndex(const Batch& batch, std::int64_t arrival_ns) const {
  ReaderLock lock(mu_);
  if (ready_) return false;
  for (const Record& r : batch) {
    if (NeedsFullIndex(r.timestamp_ns, arrival_ns)) return true;
  }
  return false;
}

std::uint64_t PartitionIndex::lowest_damaged_seq() const {
  ReaderLock lock(mu_);
  return lowest_damaged_seq_;
}

bool PartitionIndex::ready() const {
  ReaderLock lock(mu_);
  return ready_;
}

void PartitionIndex::LoadFull(CheckpointFull full) {
  WriterLock lock(mu_);
  SLUICE_CHECK(blocks_.empty());  // nothing is written or indexed before
  blocks_ = std::move(full.blocks);
  for (auto& cp : full.partitions) {
    auto [it, fresh] = partitions_.try_emplace(cp.id);
    Partition& p = it->second;
    if (fresh) p.state = cp.state;  // else known since Open, and newer
    p.blocks = std::move(cp.blocks);
    for (const auto& r : cp.block_seqs) NoteBlockSeqs(p, r);
    p.flushed_seq = std::max(p.flushed_seq, cp.flushed_seq);
    p.records += cp.records;
    p.t_min = std::min(p.t_min, cp.t_min);
    p.t_max = std::max(p.t_max, cp.t_max);
  }
  if (extents_.size() < full.extents.size()) extents_.resize(full.extents.size());
  if (types_.size() < full.types.size()) types_.resize(full.types.size());
  for (std::size_t s = 0; s < full.extents.size(); ++s) extents_[s] = std::move(full.extents[s]);
  for (std::size_t s = 0; s < full.types.size(); ++s) {
    if (full.types[s] != ValueType{}) types_[s] = full.types[s];
  }

  // The checkpoint's blocks VerifyTail found damaged: never served, and
  // their records (replayed) are in other blocks now.
  if (!damaged_.empty()) {
    std::map<std::pair<std::uint32_t, std::uint32_t>, const RecentBlock*> at;
    for (const RecentBlock& d : damaged_) at[{d.address.segment, d.address.page}] = &d;
    for (auto& b : blocks_) {
      auto it = at.find({b.address.segment, b.address.page});
      if (it == at.end()) continue;
      b.live = false;
      std::erase(partitions_[b.partition].block_seqs,
                 SeqRange{it->second->seq_min, it->second->seq_max});
    }
    damaged_.clear();
  }
  // Segments deleted behind the store's back: their blocks are not served.
  std::uint64_t missing = 0;
  for (auto& b : blocks_) {
    if (b.live && segments_ && !segments_->Has(b.address.segment)) {
      b.live = false;
      ++missing;
    }
  }
  // Partitions reclaimed after the checkpoint (the manifest's later
  // entries): their blocks go, as Reclaim would have dropped them.
  std::set<PartitionId> dropped;
  for (auto& [id, p] : partitions_) {
    if (p.state != PartitionState::kReclaimed || p.blocks.empty()) continue;
    for (std::uint32_t b : p.blocks) blocks_[b].live = false;
    p.blocks.clear();
    p.records = 0;
    dropped.insert(id);
  }
  if (!dropped.empty()) {
    for (auto& list : extents_) {
      std::erase_if(list, [&](const Extent& e) SLUICE_REQUIRES(mu_) {
        return dropped.count(blocks_[e.block].partition) != 0;
      });
    }
  }
  // The blocks written after the checkpoint, found at Open.
  for (const FoundBlock& b : deferred_) {
    const auto n = static_cast<std::uint32_t>(blocks_.size());
    blocks_.push_back({b.address, b.header.partition, b.header.header_len, b.header.body_len,
                       b.header.body_crc, b.header.seq_max, true, 0});
    IndexBlock(n, b.header);
  }
  deferred_.clear();
  deferred_.shrink_to_fit();
  if (!dropped.empty() && segments_) (void)RemoveDeadSegmentsLocked();  // retried by Reclaim
  {
    MutexLock c(counters_mu_);
    counters_.missing_blocks += missing;
  }
  ready_ = true;
  queue_cv_.NotifyAll();
}

CheckpointFull PartitionIndex::Rebuild(const Options& options,
                                       const std::vector<FoundBlock>& found,
                                       const std::map<PartitionId, PartitionState>& states) {
  PartitionIndex scratch(options, nullptr, nullptr, nullptr, states);
  for (const FoundBlock& b : found) scratch.AddRecoveredBlock(b);
  scratch.VerifyTail(UINT64_MAX);  // their records left the write buffer: nothing to verify
  ReaderLock lock(scratch.mu_);
  return scratch.ExportFull();
}

CheckpointFull PartitionIndex::ExportFull() const {
  CheckpointFull f;
  f.blocks = blocks_;
  for (std::uint32_t n : read_failures_) f.blocks[n].live = true;  // checked again when read
  f.partitions.reserve(partitions_.size());
  for (const auto& [id, p] : partitions_) {
    // Only what blocks hold: records still in DRAM come back from the
    // write buffer.
    std::uint64_t in_dram = p.open ? p.open->records() : 0;
    for (const auto& q : p.queued) in_dram += q->records();
    f.partitions.push_back({id, p.state, p.blocks, p.block_seqs, p.flushed_seq,
                            p.records - std::min(p.records, in_dram), p.t_min, p.t_max});
  }
  f.types = types_;
  f.extents = extents_;
  f.extents.resize(f.types.size());
  return f;
}

bool PartitionIndex::Snapshot(std::int64_t now_ns, std::uint64_t wal_first_seq,
                              CheckpointRecent* recent, CheckpointFull* full) const {
  ReaderLock lock(mu_);
  if (!ready_ || manifest_->rewrite_pending()) return false;
  auto life = segments_->Life();
  if (!life) return false;
  *full = ExportFull();
  full->live_segments = life->live;

  *recent = {};
  // The tail starts after the last block indexed: the flusher writes and
  // then indexes one block at a time, so every block before it is here.
  for (const BlockRef& b : blocks_) {
    const std::pair end{b.address.segment, b.address.page + b.address.pages};
    if (end > std::pair{recent->segment, recent->page}) {
      recent->segment = end.first;
      recent->page = end.second;
    }
  }
  recent->max_created_segment = life->max_created;
  recent->segments_log_bytes = life->log_bytes;
  recent->manifest_bytes = manifest_->size();
  recent->max_seq = std::max(last_seq_, max_found_seq_);

  // The horizon: a window before the last one that may still take records
  // on time, and before every open partition with records.
  std::int64_t horizon = WindowOf(now_ns - window_ns_ - grace_ns_) - window_ns_;
  for (const auto& [id, p] : partitions_) {
    const bool holds = p.open || !p.queued.empty() || !p.blocks.empty();
    if (p.state == PartitionState::kOpen && holds) horizon = std::min(horizon, id.window_start_ns);
  }
  recent->horizon_ns = horizon;
  for (auto it = partitions_.lower_bound(PartitionId{horizon, 0, false}); it != partitions_.end();
       ++it) {
    recent->partitions.push_back({it->first, it->second.state, {}, it->second.block_seqs,
                                  it->second.flushed_seq, 0, INT64_MAX, INT64_MIN});
  }
  for (const BlockRef& b : blocks_) {
    if (!b.live || b.seq_max < wal_first_seq) continue;
    const Partition& p = partitions_.at(b.partition);
    auto range = std::find_if(p.block_seqs.begin(), p.block_seqs.end(),
                              [&](const SeqRange& r) { return r.second == b.seq_max; });
    if (range == p.block_seqs.end()) continue;
    recent->blocks.push_back({b.address, b.partition, b.header_len, b.body_len, b.body_crc,
                              range->first, range->second});
  }
  return true;
}

}  // namespace sluice::store
