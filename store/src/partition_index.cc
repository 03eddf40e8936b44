#include "partition_index.h"

#include <algorithm>
#include <tuple>

#include "store_logs.h"

namespace sluice::store {
namespace {

std::uint32_t ShardOf(SeriesId id, std::uint32_t shards) {
  // A multiplicative hash spreads dense ids evenly over shards.
  return static_cast<std::uint32_t>((std::uint64_t{id.value} * 0x9e3779b97f4a7c15ull) >> 32) %
         shards;
}

}  // namespace

std::string Describe(const PartitionId& id) {
  return "partition (window " + std::to_string(id.window_start_ns) + ", shard " +
         std::to_string(id.shard) + (id.late ? ", late)" : ")");
}

PartitionIndex::PartitionIndex(const Options& options, Env* /*env*/,
                               std::unique_ptr<Segments> segments,
                               std::unique_ptr<LogFile> manifest,
                               std::map<PartitionId, PartitionState> states)
    : options_(options),
      window_ns_(std::chrono::nanoseconds(options.partition_window).count()),
      grace_ns_(std::chrono::nanoseconds(options.late_grace).count()),
      segments_(std::move(segments)),
      manifest_(std::move(manifest)) {
  for (const auto& [id, state] : states) partitions_[id].state = state;
}

std::int64_t PartitionIndex::WindowOf(std::int64_t ts) const {
  std::int64_t w = ts / window_ns_;
  if (ts % window_ns_ < 0) --w;  // floor for times before 1970
  return w * window_ns_;
}

void PartitionIndex::AddRecoveredBlock(const FoundBlock& block) {
  WriterLock lock(mu_);  // uncontended: Open, or a scratch index
  max_found_seq_ = std::max(max_found_seq_, block.header.seq_max);
  auto it = partitions_.find(block.header.partition);
  if (it != partitions_.end() && it->second.state == PartitionState::kReclaimed) {
    // Not served, but its records must not come back from the write buffer
    // (into a late partition) either.
    Partition& p = it->second;
    if (block.header.direct) return;  // holds no write-buffer batch
    const std::pair range{block.header.seq_min, block.header.seq_max};
    p.block_seqs.insert(std::upper_bound(p.block_seqs.begin(), p.block_seqs.end(), range), range);
    p.flushed_seq = std::max(p.flushed_seq, block.header.seq_max);
    return;
  }
  pending_.push_back(block);
}

void PartitionIndex::VerifyTail(std::uint64_t first_wal_seq) {
  WriterLock lock(mu_);
  // After a checkpoint: its blocks whose records the write buffer holds get
  // the same check as the tail's. A damaged one loses its sequence range,
  // so that replay puts its records back; it is never served.
  for (const RecentBlock& b : recent_blocks_) {
    if (b.seq_max < first_wal_seq) continue;
    auto bytes = segments_->Read(b.address);
    auto h = CheckRead(bytes, b.header_len, b.body_len, b.body_crc);
    if (h.ok() && h->seq_max == b.seq_max) continue;
    auto& seqs = partitions_[b.partition].block_seqs;
    std::erase(seqs, SeqRange{b.seq_min, b.seq_max});
    damaged_.push_back(b);
    lowest_damaged_seq_ = std::min(lowest_damaged_seq_, b.seq_min);
    if (bytes.ok() || bytes.status().code() == StatusCode::kCorruption) {
      MutexLock c(counters_mu_);
      ++counters_.quarantined_blocks;
    }
  }
  recent_blocks_.clear();
  // Direct blocks stand only with their whole flush group: a group cut
  // short by a crash held batches none of which was acknowledged, and a
  // batch's records in the blocks that did reach the disk must not show.
  std::map<std::uint64_t, std::uint64_t> group_found;
  for (const auto& b : pending_) {
    if (b.header.direct) ++group_found[b.header.group_seq];
  }
  std::erase_if(pending_, [&](const FoundBlock& b) SLUICE_REQUIRES(mu_) {
    if (!b.header.direct || group_found[b.header.group_seq] == b.header.group_blocks) return false;
    MutexLock c(counters_mu_);
    ++counters_.incomplete_direct_blocks;
    return true;
  });
  std::vector<FoundBlock> kept;
  for (auto& b : pending_) {
    if (b.header.seq_max >= first_wal_seq) {
      // Its records may also be in the write buffer: only an intact block
      // may stand in for them.
      auto bytes = segments_->Read(b.address);
      const bool intact =
          bytes.ok() &&
          VerifyBlockBody(std::string_view(*bytes).substr(b.header.header_len, b.header.body_len),
                          b.header)
              .ok();
      if (!intact) {
        lowest_damaged_seq_ = std::min(lowest_damaged_seq_, b.header.seq_min);
        MutexLock c(counters_mu_);
        ++counters_.quarantined_blocks;
        continue;
      }
    }
    kept.push_back(std::move(b));
  }
  // A block write that failed (EIO) may still have reached the disk; the
  // flusher writes the block again further on, and a later sync makes both
  // copies durable. Copies share partition and sequence range (a batch
  // never splits across blocks, so distinct blocks never do): the last one
  // found, the write that succeeded, stands; the others are dead pages.
  std::map<std::tuple<PartitionId, std::uint64_t, std::uint64_t>, std::size_t> last;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    last[{kept[i].header.partition, kept[i].header.seq_min, kept[i].header.seq_max}] = i;
  }
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const FoundBlock& b = kept[i];
    if (last[{b.header.partition, b.header.seq_min, b.header.seq_max}] != i) continue;
    if (!ready_) {
      // After a checkpoint: replay needs the ranges now, the index the
      // block once the checkpoint's blocks are in (LoadFull).
      Partition& p = partitions_[b.header.partition];
      if (!b.header.direct) {
        NoteBlockSeqs(p, {b.header.seq_min, b.header.seq_max});
        p.flushed_seq = std::max(p.flushed_seq, b.header.seq_max);
      }
      max_found_seq_ = std::max(max_found_seq_, b.header.seq_max);
      deferred_.push_back(b);
      continue;
    }
    const auto n = static_cast<std::uint32_t>(blocks_.size());
    blocks_.push_back({b.address, b.header.partition, b.header.header_len, b.header.body_len,
                       b.header.body_crc, b.header.seq_max, true, 0});
    IndexBlock(n, b.header);
  }
  pending_.clear();
}

void PartitionIndex::NoteBlockSeqs(Partition& p, const SeqRange& range) {
  auto at = std::lower_bound(p.block_seqs.begin(), p.block_seqs.end(), range);
  if (at == p.block_seqs.end() || *at != range) p.block_seqs.insert(at, range);
}

void PartitionIndex::IndexBlock(std::uint32_t block, const BlockHeader& h) {
  Partition& p = partitions_[h.partition];
  const auto position = static_cast<std::uint32_t>(p.blocks.size());
  blocks_[block].position = position;
  p.blocks.push_back(block);
  if (!h.direct) {
    // Replay asks which write-buffer batches are in blocks; a direct
    // block holds none of them, whatever its sequence range spans.
    NoteBlockSeqs(p, {h.seq_min, h.seq_max});
    p.flushed_seq = std::max(p.flushed_seq, h.seq_max);
  }
  p.records += h.records;
  p.t_min = std::min(p.t_min, h.t_min);
  p.t_max = std::max(p.t_max, h.t_max);
  for (const auto& e : h.series) {
    if (e.series.value >= extents_.size()) {
      extents_.resize(e.series.value + 1);
      types_.resize(e.series.value + 1);
    }
    types_[e.series.value] = e.type;
    auto& list = extents_[e.series.value];
    if (!list.empty()) {
      // The block after the series' last run in the same partition extends it.
      Extent& last = list.back();
      const BlockRef& first = blocks_[last.block];
      if (first.partition == h.partition && first.position + last.run == position) {
        ++last.run;
        last.count += e.count;
        last.t_min = std::min(last.t_min, e.t_min);
        last.t_max = std::max(last.t_max, e.t_max);
        continue;
      }
    }
    list.push_back({block, 1, e.count, e.t_min, e.t_max});
  }
}

bool PartitionIndex::InBlocks(const Partition& p, std::uint64_t seq) {
  if (seq > p.flushed_seq) return false;  // always so for new records: cheap
  auto it = std::upper_bound(p.block_seqs.begin(), p.block_seqs.end(), seq,
                             [](std::uint64_t s, const auto& r) { return s < r.first; });
  return it != p.block_seqs.begin() && seq <= std::prev(it)->second;
}

bool PartitionIndex::BlockBetween(const Partition& p, std::uint64_t after, std::uint64_t before) {
  auto it = std::upper_bound(p.block_seqs.begin(), p.block_seqs.end(), after,
                             [](std::uint64_t s, const auto& r) { return s < r.first; });
  return it != p.block_seqs.end() && it->first < before;
}

PartitionId PartitionIndex::Place(SeriesId series, std::int64_t ts, std::int64_t arrival_ns,
                                  std::uint64_t seq, bool* skip, PartitionHint* hint) const {
  const std::uint32_t shard = ShardOf(series, options_.partition_shards);
  PartitionId id{WindowOf(ts), shard, false};
  // Most records of a batch fall in the few partitions the previous ones
  // did: the hint saves the map lookup for them.
  auto it = hint->Find(id, partitions_);
  // A record in a block of its partition went there and is already stored
  // (only seen during replay). One below the partition's flushed sequence
  // but in no block was in a block lost to damage: it went to this
  // partition too (it was open and the record not late, since the partition
  // took later records), and is placed again below.
  if (it != partitions_.end() && InBlocks(it->second, seq)) {
    *skip = true;
    return id;
  }
  const bool closed = it != partitions_.end() && it->second.state != PartitionState::kOpen;
  if (!closed && arrival_ns <= id.window_start_ns + window_ns_ + grace_ns_) return id;

  // Late: the late partition of the arrival's window, or the next one still
  // open when that was sealed by hand.
  id = {WindowOf(arrival_ns), shard, true};
  for (int i = 0; i < 1000; ++i, id.window_start_ns += window_ns_) {
    auto l = partitions_.find(id);
    if (l != partitions_.end() && InBlocks(l->second, seq)) {
      *skip = true;
      return id;
    }
    if (l == partitions_.end() || l->second.state == PartitionState::kOpen) return id;
  }
  SLUICE_CHECK(false && "a thousand sealed late partitions in a row");
  return id;
}

void PartitionIndex::Apply(const Batch& batch, std::int64_t arrival_ns, std::uint64_t seq,
                           const std::vector<ValueType>& types, bool replay) {
  WriterLock lock(mu_);
  // Backpressure: the commit thread waits while the writer is behind.
  queue_cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) {
    return !running_ || queued_bytes_ < options_.open_blocks_bytes;
  });
  last_seq_ = std::max(last_seq_, seq);
  std::vector<PartitionId> full;
  PartitionHint hint;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Record& r = batch[i];
    if (!ready_ && NeedsFullIndex(r.timestamp_ns, arrival_ns)) AwaitReady(lock);
    bool skip = false;
    const PartitionId id = Place(r.series, r.timestamp_ns, arrival_ns, seq, &skip, &hint);
    latest_.Offer(r);
    if (skip) {
      SLUICE_CHECK(replay);
      MutexLock c(counters_mu_);
      ++counters_.replay_skipped_records;
      continue;
    }
    if (id.late) {
      MutexLock c(counters_mu_);
      ++counters_.late_records;
    }
    if (r.series.value >= types_.size()) {
      types_.resize(r.series.value + 1);
      extents_.resize(r.series.value + 1);
    }
    types_[r.series.value] = types[i];
    Partition& p = hint.Get(id, partitions_);
    // Replay refilling a block lost to damage: the open block must not grow
    // across a block already written, or its sequence range would claim
    // that block's records (InBlocks). It is queued first, at this batch
    // boundary. Only possible while the open block is behind a block.
    if (p.open && !p.open->empty() && p.open->seq_max() < p.flushed_seq &&
        BlockBetween(p, p.open->seq_max(), seq)) {
      Enqueue(id, p);
    }
    if (!p.open) {
      p.open = std::make_unique<BlockBuilder>(id);
      unwritten_.insert(id);
      releasable_stale_ = true;
      p.opened = std::chrono::steady_clock::now();
    }
    const std::size_t before = p.open->EncodedSize();
    p.open->Add(r, types[i], seq);
    open_bytes_ += p.open->EncodedSize() - before;
    ++p.records;
    p.t_min = std::min(p.t_min, r.timestamp_ns);
    p.t_max = std::max(p.t_max, r.timestamp_ns);
    if (p.open->EncodedSize() + 64 >= options_.block_size) full.push_back(id);
  }
  // Blocks end on batch boundaries: a partition's flushed sequence number
  // then means "every one of its records up to here is in blocks", which is
  // what replay relies on. A block may so exceed block_size by one batch.
  for (const auto& id : full) Enqueue(id, partitions_[id]);
  // Too much DRAM in open blocks: write the largest early.
  while (open_bytes_ > options_.open_blocks_bytes / 2) {
    Partition* largest = nullptr;
    PartitionId largest_id;
    for (auto& [pid, part] : partitions_) {
      if (part.open && (!largest || part.open->EncodedSize() > largest->open->EncodedSize())) {
        largest = &part;
        largest_id = pid;
      }
    }
    if (!largest) break;
    Enqueue(largest_id, *largest);
  }
}

void PartitionIndex::ApplyDirect(std::shared_ptr<const Batch> batch, std::int64_t arrival_ns,
                                 std::uint64_t seq, const std::vector<ValueType>& types,
                                 std::size_t bytes, std::function<void(Status)> done) {
  WriterLock lock(mu_);
  queue_cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) {
    return !running_ || queued_bytes_ < options_.open_blocks_bytes;
  });
  last_seq_ = std::max(last_seq_, seq);
  DirectBatch d{seq, batch, std::move(done), bytes};
  PartitionHint hint;
  for (std::size_t i = 0; i < batch->size(); ++i) {
    const Record& r = (*batch)[i];
    if (!ready_ && NeedsFullIndex(r.timestamp_ns, arrival_ns)) AwaitReady(lock);
    bool skip = false;
    const PartitionId id = Place(r.series, r.timestamp_ns, arrival_ns, seq, &skip, &hint);
    SLUICE_CHECK(!skip);  // a live append: no block holds it yet
    hint.Get(id, partitions_);  // the partition exists from now on
    auto& list = direct_blocks_[id];
    if (list.empty() || list.back()->EncodedSize() >= options_.block_size) {
      list.push_back(std::make_unique<BlockBuilder>(id, true));
    }
    list.back()->Add(r, types[i], seq);
  }
  queued_bytes_ += d.bytes;
  direct_bytes_ += d.bytes;
  releasable_stale_ = true;
  direct_.push_back(std::move(d));
  queue_cv_.NotifyAll();
}

PartitionIndex::~PartitionIndex() { Stop(); }

std::uint64_t PartitionIndex::max_seq() const {
  ReaderLock lock(mu_);
  return std::max(last_seq_, max_found_seq_);
}

Status PartitionIndex::SetState(const PartitionId& id, Partition& p, PartitionState s) {
  SLUICE_RETURN_IF_ERROR(manifest_->Append(EncodeManifestEntry(id, s)));
  p.state = s;
  return Status::Ok();
}

// The SEALED entry is made durable before the open block is queued: from
// then on, at append and at replay alike, later records of the window go to
// a late partition. Records in the open block that a crash catches before
// the block is written are replayed into the late partition too: placed
// differently, never lost or duplicated.
Status PartitionIndex::Seal(const PartitionId& id) {
  WriterLock lock(mu_);
  AwaitReady(lock);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
  Partition& p = it->second;
  if (p.state != PartitionState::kOpen) {
    return InvalidArgument("cannot seal " + Describe(id) + ": it is " +
                           PartitionStateName(p.state));
  }
  SLUICE_RETURN_IF_ERROR(SetState(id, p, PartitionState::kSealed));
  Enqueue(id, p);
  return WaitFlushed(lock, id);
}

Status PartitionIndex::MarkSynced(const PartitionId& id) {
  WriterLock lock(mu_);
  AwaitReady(lock);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
  if (it->second.state == PartitionState::kSynced ||
      it->second.state == PartitionState::kReclaimed) {
    return Status::Ok();  // synced already, or beyond: nothing to do
  }
  if (it->second.state != PartitionState::kSealed) {
    return InvalidArgument("cannot mark " + Describe(id) + " synced: it is " +
                           PartitionStateName(it->second.state) + ", not sealed");
  }
  return SetState(id, it->second, PartitionState::kSynced);
}

Status PartitionIndex::Reclaim(const PartitionId& id) {
  WriterLock lock(mu_);
  AwaitReady(lock);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
  if (it->second.state != PartitionState::kSynced) {
    return InvalidArgument("cannot reclaim " + Describe(id) + ": it is " +
                           PartitionStateName(it->second.state) + ", not synced");
  }
  SLUICE_RETURN_IF_ERROR(WaitQueuedBlocks(lock, id));
  Partition& p = partitions_.at(id);
  if (p.state != PartitionState::kSynced) {  // another thread was quicker
    return InvalidArgument("cannot reclaim " + Describe(id) + ": it is " +
                           PartitionStateName(p.state) + ", not synced");
  }
  SLUICE_RETURN_IF_ERROR(SetState(id, p, PartitionState::kReclaimed));
  return DropBlocks(p);
}

std::optional<PartitionState> PartitionIndex::StateOf(const PartitionId& id) const {
  ReaderLock lock(mu_);
  AwaitReady(lock);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) return std::nullopt;
  return it->second.state;
}

Result<std::uint64_t> PartitionIndex::Evict(const PartitionId& id) {
  WriterLock lock(mu_);
  AwaitReady(lock);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
  const PartitionState before = it->second.state;
  if (before != PartitionState::kSealed && before != PartitionState::kSynced) {
    return InvalidArgument("cannot evict " + Describe(id) + ": it is " +
                           PartitionStateName(before));
  }
  SLUICE_RETURN_IF_ERROR(WaitQueuedBlocks(lock, id));
  Partition& p = partitions_.at(id);
  if (p.state != PartitionState::kSealed && p.state != PartitionState::kSynced) {
    return InvalidArgument("cannot evict " + Describe(id) + ": it is " +
                           PartitionStateName(p.state));
  }
  const std::uint64_t records = p.records;
  SLUICE_RETURN_IF_ERROR(SetState(id, p, PartitionState::kReclaimed));
  SLUICE_RETURN_IF_ERROR(DropBlocks(p));
  return records;
}

Status PartitionIndex::DropBlocks(Partition& p) {
  for (std::uint32_t b : p.blocks) blocks_[b].live = false;
  if (!p.blocks.empty()) {
    // A run lies in one partition: the one its first block belongs to.
    const PartitionId id = blocks_[p.blocks.front()].partition;
    for (auto& list : extents_) {
      std::erase_if(list, [&](const Extent& e) SLUICE_REQUIRES(mu_) {
        return blocks_[e.block].partition == id;
      });
    }
  }
  p.blocks.clear();
  p.records = 0;
  return RemoveDeadSegmentsLocked();
}

Status PartitionIndex::RemoveDeadSegments() {
  WriterLock lock(mu_);
  AwaitReady(lock);
  return RemoveDeadSegmentsLocked();
}

// A segment with no live block left, other than the one being written, is
// deleted. Its blocks' partitions are all reclaimed, so recovery would
// ignore them anyway: a crash before the delete loses nothing.
Status PartitionIndex::RemoveDeadSegmentsLocked() {
  std::map<std::uint32_t, bool> has_live;
  for (const auto& b : blocks_) has_live[b.address.segment] |= b.live;
  for (const auto& [segment, live] : has_live) {
    if (!live && segment != segments_->current_segment() && segments_->Has(segment)) {
      SLUICE_RETURN_IF_ERROR(segments_->Remove(segment));
    }
  }
  return Status::Ok();
}

std::vector<PartitionInfo> PartitionIndex::List(std::optional<PartitionState> state) const {
  ReaderLock lock(mu_);
  AwaitReady(lock);
  std::vector<PartitionInfo> out;
  for (const auto& [id, p] : partitions_) {
    if (state && p.state != *state) continue;
    PartitionInfo info{id, p.state, p.records,
                       static_cast<std::uint32_t>(p.blocks.size()), 0, 0, 0};
    for (std::uint32_t b : p.blocks)
      info.block_bytes += std::uint64_t{blocks_[b].address.pages} * kPage;
    if (p.t_min <= p.t_max) {
      info.t_min = p.t_min;
      info.t_max = p.t_max;
    }
    out.push_back(info);
  }
  return out;
}

Status PartitionIndex::SealExpired(std::int64_t now_ns, std::int64_t mono_ns) {
  std::vector<PartitionId> due;
  {
    ReaderLock lock(mu_);
    AwaitReady(lock);
    std::map<PartitionId, std::pair<std::uint64_t, std::int64_t>> activity;
    for (const auto& [id, p] : partitions_) {
      if (p.state != PartitionState::kOpen || (!p.open && p.queued.empty() && p.blocks.empty())) {
        continue;
      }
      auto seen = activity_.find(id);
      std::pair<std::uint64_t, std::int64_t> a{p.records, mono_ns};
      if (seen != activity_.end() && seen->second.first == p.records) a = seen->second;
      activity.emplace(id, a);
      const std::int64_t end = id.window_start_ns + window_ns_;
      const bool expired = now_ns > end + grace_ns_;
      const bool ahead_and_idle =
          now_ns < id.window_start_ns && mono_ns - a.second > window_ns_ + grace_ns_;
      if (expired || ahead_and_idle) due.push_back(id);
    }
    activity_ = std::move(activity);
  }
  for (const auto& id : due) SLUICE_RETURN_IF_ERROR(Seal(id));
  return Status::Ok();
}

std::size_t PartitionIndex::queued_bytes() const {
  ReaderLock lock(mu_);
  return queued_bytes_;
}

std::size_t PartitionIndex::open_blocks_memory_bytes() const {
  ReaderLock lock(mu_);
  std::size_t n = 0;
  for (const PartitionId& id : unwritten_) {
    const auto p = partitions_.find(id);
    if (p != partitions_.end() && p->second.open) n += p->second.open->MemoryBytes();
  }
  for (const auto& [id, block] : queue_) n += block->MemoryBytes();
  // Large values: their blocks being built and finished, and the memory
  // kept for the next ones.
  for (const auto& [id, list] : direct_blocks_) {
    for (const auto& b : list) n += b->MemoryBytes();
  }
  for (const auto& g : finished_) {
    for (const auto& b : g.blocks) n += b.capacity;
  }
  MutexLock spare(spare_mu_);
  return n + spare_bytes_;
}

IndexCounters PartitionIndex::counters() const {
  MutexLock c(counters_mu_);
  return counters_;
}

std::size_t PartitionIndex::dram_index_bytes() const {
  ReaderLock lock(mu_);
  std::size_t n = blocks_.capacity() * sizeof(BlockRef) + latest_.bytes();
  for (const auto& e : extents_) n += e.capacity() * sizeof(Extent);
  return n;
}

}  // namespace sluice::store
