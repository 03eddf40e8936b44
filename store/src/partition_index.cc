#include "partition_index.h"

#include <algorithm>

#include "coding.h"

namespace sluice::store {
namespace {

std::uint32_t ShardOf(SeriesId id, std::uint32_t shards) {
  // A multiplicative hash spreads dense ids evenly over shards.
  return static_cast<std::uint32_t>((std::uint64_t{id.value} * 0x9e3779b97f4a7c15ull) >> 32) %
         shards;
}

std::string Describe(const PartitionId& id) {
  return "partition (window " + std::to_string(id.window_start_ns) + ", shard " +
         std::to_string(id.shard) + (id.late ? ", late)" : ")");
}

}  // namespace

PartitionIndex::PartitionIndex(const Options& options, Env* /*env*/,
                               std::unique_ptr<Segments> segments,
                               std::unique_ptr<LogFile> manifest,
                               std::map<PartitionId, PartitionState> states)
    : options_(options),
      window_ns_(std::int64_t{options.partition_window_s} * 1'000'000'000),
      grace_ns_(std::int64_t{options.late_grace_s} * 1'000'000'000),
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
  auto it = partitions_.find(block.header.partition);
  if (it != partitions_.end() && it->second.state == PartitionState::kReclaimed) return;
  pending_.push_back(block);
}

void PartitionIndex::VerifyTail(std::uint64_t first_wal_seq) {
  std::unique_lock lock(mu_);
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
        std::lock_guard c(counters_mu_);
        ++counters_.quarantined_blocks;
        continue;
      }
    }
    const auto n = static_cast<std::uint32_t>(blocks_.size());
    blocks_.push_back({b.address, b.header.partition, b.header.header_len, b.header.body_len,
                       b.header.body_crc, b.header.seq_max, true});
    IndexBlock(n, b.header);
  }
  pending_.clear();
}

void PartitionIndex::IndexBlock(std::uint32_t block, const BlockHeader& h) {
  Partition& p = partitions_[h.partition];
  p.blocks.push_back(block);
  p.flushed_seq = std::max(p.flushed_seq, h.seq_max);
  p.records += h.records;
  p.t_min = std::min(p.t_min, h.t_min);
  p.t_max = std::max(p.t_max, h.t_max);
  for (const auto& e : h.series) {
    if (e.series.value >= extents_.size()) {
      extents_.resize(e.series.value + 1);
      types_.resize(e.series.value + 1);
    }
    types_[e.series.value] = e.type;
    extents_[e.series.value].push_back({block, e.count, e.t_min, e.t_max, e.offset, e.length});
  }
}

PartitionId PartitionIndex::Place(SeriesId series, std::int64_t ts, std::int64_t arrival_ns,
                                  std::uint64_t seq, bool* skip) const {
  const std::uint32_t shard = ShardOf(series, options_.partition_shards);
  PartitionId id{WindowOf(ts), shard, false};
  auto it = partitions_.find(id);
  // Anything at or below a partition's flushed sequence went there and is
  // already in its blocks (only seen during replay).
  if (it != partitions_.end() && seq <= it->second.flushed_seq) {
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
    if (l != partitions_.end() && seq <= l->second.flushed_seq) {
      *skip = true;
      return id;
    }
    if (l == partitions_.end() || l->second.state == PartitionState::kOpen) return id;
  }
  SLUICE_CHECK(false && "a thousand sealed late partitions in a row");
  return id;
}

Status PartitionIndex::Apply(const Batch& batch, std::int64_t arrival_ns, std::uint64_t seq,
                             const std::vector<ValueType>& types, bool replay) {
  std::unique_lock lock(mu_);
  last_seq_ = std::max(last_seq_, seq);
  Status first_error;
  std::vector<PartitionId> full;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Record& r = batch[i];
    bool skip = false;
    const PartitionId id = Place(r.series, r.timestamp_ns, arrival_ns, seq, &skip);
    if (r.series.value >= latest_.size()) latest_.resize(r.series.value + 1);
    auto& latest = latest_[r.series.value];
    if (!latest || latest->timestamp_ns <= r.timestamp_ns) latest = r;
    if (skip) {
      SLUICE_CHECK(replay);
      std::lock_guard c(counters_mu_);
      ++counters_.replay_skipped_records;
      continue;
    }
    if (id.late) {
      std::lock_guard c(counters_mu_);
      ++counters_.late_records;
    }
    if (r.series.value >= types_.size()) {
      types_.resize(r.series.value + 1);
      extents_.resize(r.series.value + 1);
    }
    types_[r.series.value] = types[i];
    Partition& p = partitions_[id];
    if (!p.open) p.open = std::make_unique<BlockBuilder>(id);
    p.open->Add(r, types[i], seq);
    ++p.records;
    p.t_min = std::min(p.t_min, r.timestamp_ns);
    p.t_max = std::max(p.t_max, r.timestamp_ns);
    if (p.open->EncodedSize() + 64 >= options_.block_size) full.push_back(id);
  }
  // Blocks end on batch boundaries: a partition's flushed sequence number
  // then means "every one of its records up to here is in blocks", which is
  // what replay relies on. A block may so exceed block_size by one batch.
  for (const auto& id : full) {
    Status s = Flush(id, partitions_[id]);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

Status PartitionIndex::Flush(const PartitionId& id, Partition& p) {
  if (!p.open || p.open->empty()) return Status::Ok();
  const std::string block = p.open->Finish();
  auto address = segments_->Append(block);
  if (!address.ok()) {
    std::lock_guard c(counters_mu_);
    ++counters_.block_write_failures;
    return address.status().WithContext("writing a block of " + Describe(id));
  }
  std::size_t need = 0;
  auto header = ParseBlockHeader(block, need);
  SLUICE_CHECK(header.ok());  // just built
  const auto n = static_cast<std::uint32_t>(blocks_.size());
  blocks_.push_back({*address, id, header->header_len, header->body_len, header->body_crc,
                     header->seq_max, true});
  // IndexBlock adds the block's records to p.records again; they were
  // counted when applied.
  p.records -= header->records;
  IndexBlock(n, *header);
  p.open.reset();
  std::lock_guard c(counters_mu_);
  ++counters_.blocks_written;
  counters_.block_bytes_written += block.size();
  return Status::Ok();
}

std::uint64_t PartitionIndex::ReleasableSeq() const {
  std::shared_lock lock(mu_);
  std::uint64_t upto = last_seq_;
  for (const auto& [id, p] : partitions_) {
    if (p.open && !p.open->empty()) upto = std::min(upto, p.open->seq_min() - 1);
  }
  return upto;
}

std::optional<Record> PartitionIndex::Latest(SeriesId series) const {
  std::shared_lock lock(mu_);
  if (series.value >= latest_.size()) return std::nullopt;
  return latest_[series.value];
}

Status PartitionIndex::ReadExtent(const Extent& e, SeriesId series, std::vector<Record>& out) const {
  BlockRef ref;
  {
    std::shared_lock lock(mu_);
    ref = blocks_[e.block];
  }
  if (!ref.live) return Status::Ok();
  auto bytes = segments_->Read(ref.address);
  if (!bytes.ok()) return bytes.status();
  BlockHeader h;
  h.body_len = ref.body_len;
  h.body_crc = ref.body_crc;
  const std::string_view body = std::string_view(*bytes).substr(ref.header_len, ref.body_len);
  Status s = VerifyBlockBody(body, h);
  ValueType type;
  {
    std::shared_lock lock(mu_);
    type = types_[series.value];
  }
  const BlockSeriesEntry entry{series, type, e.count, e.t_min, e.t_max, e.offset, e.length};
  Result<std::vector<Record>> records = Corruption("body CRC mismatch");
  if (s.ok()) records = DecodeSeriesChunk(body, entry);
  if (!s.ok() || !records.ok()) {
    // Never served again; counted once.
    std::unique_lock lock(mu_);
    if (blocks_[e.block].live) {
      blocks_[e.block].live = false;
      std::lock_guard c(counters_mu_);
      ++counters_.quarantined_blocks;
    }
    return Status::Ok();
  }
  out.insert(out.end(), std::make_move_iterator(records->begin()),
             std::make_move_iterator(records->end()));
  return Status::Ok();
}

Status PartitionIndex::Scan(SeriesId series, std::int64_t t0, std::int64_t t1,
                            const std::function<bool(const Record&)>& visit) const {
  std::vector<Extent> extents;
  std::vector<Record> records;
  {
    std::shared_lock lock(mu_);
    if (series.value < extents_.size()) {
      for (const auto& e : extents_[series.value]) {
        if (e.t_max >= t0 && e.t_min < t1 && blocks_[e.block].live) extents.push_back(e);
      }
    }
    for (const auto& [id, p] : partitions_) {
      if (p.open) {
        auto in_dram = p.open->Read(series);
        records.insert(records.end(), in_dram.begin(), in_dram.end());
      }
    }
  }
  std::vector<Record> from_disk;
  for (const auto& e : extents) SLUICE_RETURN_IF_ERROR(ReadExtent(e, series, from_disk));
  from_disk.insert(from_disk.end(), std::make_move_iterator(records.begin()),
                   std::make_move_iterator(records.end()));
  std::stable_sort(from_disk.begin(), from_disk.end(),
                   [](const Record& a, const Record& b) { return a.timestamp_ns < b.timestamp_ns; });
  for (const auto& r : from_disk) {
    if (r.timestamp_ns >= t0 && r.timestamp_ns < t1 && !visit(r)) break;
  }
  return Status::Ok();
}

Status PartitionIndex::ReadPartition(const PartitionId& id,
                                     const std::function<bool(const Record&)>& visit) const {
  std::vector<std::pair<SeriesId, Extent>> extents;
  std::vector<Record> in_dram;
  {
    std::shared_lock lock(mu_);
    auto it = partitions_.find(id);
    if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
    const Partition& p = it->second;
    for (std::uint32_t b : p.blocks) {
      if (!blocks_[b].live) continue;
      for (std::uint32_t s = 0; s < extents_.size(); ++s) {
        for (const auto& e : extents_[s]) {
          if (e.block == b) extents.push_back({SeriesId{s}, e});
        }
      }
    }
    if (p.open) {
      for (SeriesId s : p.open->Series()) {
        auto r = p.open->Read(s);
        in_dram.insert(in_dram.end(), r.begin(), r.end());
      }
    }
  }
  std::vector<Record> all;
  for (const auto& [s, e] : extents) SLUICE_RETURN_IF_ERROR(ReadExtent(e, s, all));
  all.insert(all.end(), std::make_move_iterator(in_dram.begin()),
             std::make_move_iterator(in_dram.end()));
  std::stable_sort(all.begin(), all.end(), [](const Record& a, const Record& b) {
    return a.series != b.series ? a.series < b.series : a.timestamp_ns < b.timestamp_ns;
  });
  for (const auto& r : all) {
    if (!visit(r)) break;
  }
  return Status::Ok();
}

Status PartitionIndex::SetState(const PartitionId& id, Partition& p, PartitionState s) {
  std::string entry;
  coding::PutVarint64(entry, coding::ZigZag(id.window_start_ns));
  coding::PutVarint64(entry, id.shard);
  entry.push_back(id.late ? 1 : 0);
  entry.push_back(static_cast<char>(s));
  SLUICE_RETURN_IF_ERROR(manifest_->Append(entry));
  p.state = s;
  return Status::Ok();
}

Status PartitionIndex::FlushAll() {
  std::unique_lock lock(mu_);
  for (auto& [id, p] : partitions_) SLUICE_RETURN_IF_ERROR(Flush(id, p));
  return Status::Ok();
}

Status PartitionIndex::Seal(const PartitionId& id) {
  std::unique_lock lock(mu_);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
  Partition& p = it->second;
  if (p.state != PartitionState::kOpen) {
    return InvalidArgument("cannot seal " + Describe(id) + ": it is " + PartitionStateName(p.state));
  }
  SLUICE_RETURN_IF_ERROR(Flush(id, p));
  return SetState(id, p, PartitionState::kSealed);
}

Status PartitionIndex::MarkSynced(const PartitionId& id) {
  std::unique_lock lock(mu_);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
  if (it->second.state != PartitionState::kSealed) {
    return InvalidArgument("cannot mark " + Describe(id) + " synced: it is " +
                           PartitionStateName(it->second.state) + ", not sealed");
  }
  return SetState(id, it->second, PartitionState::kSynced);
}

Status PartitionIndex::Reclaim(const PartitionId& id) {
  std::unique_lock lock(mu_);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
  Partition& p = it->second;
  if (p.state != PartitionState::kSynced) {
    return InvalidArgument("cannot reclaim " + Describe(id) + ": it is " +
                           PartitionStateName(p.state) + ", not synced");
  }
  SLUICE_RETURN_IF_ERROR(SetState(id, p, PartitionState::kReclaimed));
  return DropBlocks(p);
}

Result<std::uint64_t> PartitionIndex::Evict(const PartitionId& id) {
  std::unique_lock lock(mu_);
  auto it = partitions_.find(id);
  if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
  Partition& p = it->second;
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
  for (auto& list : extents_) {
    std::erase_if(list, [&](const Extent& e) { return !blocks_[e.block].live; });
  }
  p.blocks.clear();
  p.records = 0;
  // A segment with no live block left, other than the one being written, is
  // deleted. Its blocks' partitions are all reclaimed, so recovery would
  // ignore them anyway: a crash before the delete loses nothing.
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
  std::shared_lock lock(mu_);
  std::vector<PartitionInfo> out;
  for (const auto& [id, p] : partitions_) {
    if (state && p.state != *state) continue;
    PartitionInfo info{id, p.state, p.records,
                       static_cast<std::uint32_t>(p.blocks.size()), 0, 0, 0};
    for (std::uint32_t b : p.blocks) info.block_bytes += std::uint64_t{blocks_[b].address.pages} * kPage;
    if (p.t_min <= p.t_max) {
      info.t_min = p.t_min;
      info.t_max = p.t_max;
    }
    out.push_back(info);
  }
  return out;
}

Status PartitionIndex::SealExpired(std::int64_t now_ns) {
  std::vector<PartitionId> due;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, p] : partitions_) {
      const std::int64_t end = id.window_start_ns + window_ns_;
      if (p.state == PartitionState::kOpen && now_ns > end + grace_ns_ &&
          (p.open || !p.blocks.empty())) {
        due.push_back(id);
      }
    }
  }
  for (const auto& id : due) SLUICE_RETURN_IF_ERROR(Seal(id));
  return Status::Ok();
}

IndexCounters PartitionIndex::counters() const {
  std::lock_guard c(counters_mu_);
  return counters_;
}

std::size_t PartitionIndex::dram_index_bytes() const {
  std::shared_lock lock(mu_);
  std::size_t n = blocks_.capacity() * sizeof(BlockRef) + latest_.capacity() * sizeof(latest_[0]);
  for (const auto& e : extents_) n += e.capacity() * sizeof(Extent);
  return n;
}

}  // namespace sluice::store
