// PartitionIndex's read path: latest values, range scans of one series and
// whole-partition reads for sync, from blocks on disk and blocks still in
// DRAM. A block that fails its checks on read is quarantined, never served.
#include <algorithm>

#include "partition_index.h"

namespace sluice::store {

std::optional<Record> PartitionIndex::Latest(SeriesId series) const {
  std::vector<std::uint32_t> blocks;
  {
    ReaderLock lock(mu_);
    if (auto kept = latest_.Get(series)) return kept;
    // Nothing of it applied since the start (its records were all in blocks
    // already, or passed over by the replay mark): the newest is in the run
    // of blocks that reaches latest in time.
    AwaitReady(lock);
    if (series.value >= extents_.size() || extents_[series.value].empty()) return std::nullopt;
    const auto& list = extents_[series.value];
    const Extent& e =
        *std::max_element(list.begin(), list.end(),
                          [](const Extent& a, const Extent& b) { return a.t_max < b.t_max; });
    const BlockRef& first = blocks_[e.block];
    const Partition& p = partitions_.at(first.partition);
    for (std::uint32_t i = 0; i < e.run; ++i) blocks.push_back(p.blocks[first.position + i]);
  }
  std::vector<Record> records;
  for (std::uint32_t b : blocks) {
    if (!ReadBlock(b, series, records).ok()) return std::nullopt;
  }
  if (records.empty()) return std::nullopt;
  const Record* newest = &records.front();
  for (const Record& r : records) {
    if (r.timestamp_ns >= newest->timestamp_ns) newest = &r;
  }
  WriterLock lock(mu_);
  latest_.Offer(*newest);
  return latest_.Get(series);
}

Result<BlockHeader> PartitionIndex::CheckRead(const Result<std::string>& bytes,
                                              std::uint32_t header_len, std::uint32_t body_len,
                                              std::uint32_t body_crc) {
  if (!bytes.ok()) return bytes.status();
  std::size_t need = 0;
  SLUICE_ASSIGN_OR_RETURN(auto header, ParseBlockHeader(*bytes, need));
  if (header.header_len != header_len || header.body_len != body_len ||
      header.body_crc != body_crc) {
    return Corruption("block: not the block the index recorded at this address");
  }
  SLUICE_RETURN_IF_ERROR(
      VerifyBlockBody(std::string_view(*bytes).substr(header_len, body_len), header));
  return header;
}

Result<std::optional<DirectGroup>> PartitionIndex::DirectGroupOf(std::uint64_t seq) const {
  // Candidates: live blocks whose highest number is at or above `seq`, in
  // the order written; a group's blocks were written, and are indexed,
  // together.
  std::vector<std::uint32_t> candidates;
  {
    ReaderLock lock(mu_);
    for (std::uint32_t n = 0; n < blocks_.size(); ++n) {
      if (blocks_[n].live && blocks_[n].seq_max >= seq) candidates.push_back(n);
    }
  }
  std::optional<std::uint64_t> group;
  std::uint64_t expected = 0, found = 0;
  DirectGroup out;
  for (const std::uint32_t n : candidates) {
    BlockRef ref;
    {
      ReaderLock lock(mu_);
      ref = blocks_[n];
    }
    auto bytes = segments_->Read(ref.address);
    auto header = CheckRead(bytes, ref.header_len, ref.body_len, ref.body_crc);
    if (!header.ok() || !header->direct) continue;
    if (!group) {
      if (header->seq_min > seq) continue;
      group = header->group_seq;
      expected = header->group_blocks;
    }
    if (header->group_seq != *group) continue;
    std::vector<Record> records;
    SLUICE_RETURN_IF_ERROR(ReadBlock(n, std::nullopt, records));
    out.records.insert(out.records.end(), std::make_move_iterator(records.begin()),
                       std::make_move_iterator(records.end()));
    out.last_seq = std::max(out.last_seq, header->seq_max);
    if (++found == expected) break;
  }
  if (!group) return std::optional<DirectGroup>();
  return std::optional<DirectGroup>(std::move(out));
}

Status PartitionIndex::ReadBlock(std::uint32_t block, std::optional<SeriesId> series,
                                 std::vector<Record>& out) const {
  BlockRef ref;
  {
    ReaderLock lock(mu_);
    ref = blocks_[block];
  }
  if (!ref.live) return Status::Ok();
  auto bytes = segments_->Read(ref.address);
  // A block cut short (a truncated segment) or whose segment is gone is
  // damage, like a bad CRC; any other error (EIO) fails the read.
  if (!bytes.ok() && bytes.status().code() != StatusCode::kCorruption &&
      bytes.status().code() != StatusCode::kNotFound) {
    return bytes.status();
  }
  auto header = CheckRead(bytes, ref.header_len, ref.body_len, ref.body_crc);
  bool good = header.ok();
  const std::size_t start = out.size();
  if (good) {
    const std::string_view body = std::string_view(*bytes).substr(ref.header_len, ref.body_len);
    for (const BlockSeriesEntry& entry : header->series) {
      if (!good) break;
      if (series && entry.series != *series) continue;
      auto records = DecodeSeriesChunk(body, *header, entry);
      if (!records.ok()) {
        good = false;
        break;
      }
      out.insert(out.end(), std::make_move_iterator(records->begin()),
                 std::make_move_iterator(records->end()));
    }
  }
  if (!good) {
    // Never served again; counted once. Nothing of it is returned.
    out.resize(start);
    WriterLock lock(mu_);
    if (blocks_[block].live) {
      blocks_[block].live = false;
      read_failures_.insert(block);
      MutexLock c(counters_mu_);
      ++counters_.quarantined_blocks;
    }
  }
  return Status::Ok();
}

Status PartitionIndex::Scan(SeriesId series, std::int64_t t0, std::int64_t t1,
                            const std::function<bool(const Record&)>& visit) const {
  std::vector<std::uint32_t> blocks;  // holding the series in [t0, t1), in write order
  std::vector<Record> records;
  {
    ReaderLock lock(mu_);
    AwaitReady(lock);
    if (series.value < extents_.size()) {
      for (const auto& e : extents_[series.value]) {
        if (e.t_max < t0 || e.t_min >= t1) continue;
        const BlockRef& first = blocks_[e.block];
        const Partition& p = partitions_.at(first.partition);
        for (std::uint32_t i = 0; i < e.run; ++i) {
          const std::uint32_t b = p.blocks[first.position + i];
          if (blocks_[b].live) blocks.push_back(b);
        }
      }
    }
    for (const auto& [id, p] : partitions_) {
      for (const auto& q : p.queued) {
        auto in_dram = q->Read(series);
        records.insert(records.end(), in_dram.begin(), in_dram.end());
      }
      if (p.open) {
        auto in_dram = p.open->Read(series);
        records.insert(records.end(), in_dram.begin(), in_dram.end());
      }
    }
  }
  std::vector<Record> from_disk;
  for (std::uint32_t b : blocks) SLUICE_RETURN_IF_ERROR(ReadBlock(b, series, from_disk));
  from_disk.insert(from_disk.end(), std::make_move_iterator(records.begin()),
                   std::make_move_iterator(records.end()));
  std::stable_sort(from_disk.begin(), from_disk.end(), [](const Record& a, const Record& b) {
    return a.timestamp_ns < b.timestamp_ns;
  });
  for (const auto& r : from_disk) {
    if (r.timestamp_ns >= t0 && r.timestamp_ns < t1 && !visit(r)) break;
  }
  return Status::Ok();
}

Status PartitionIndex::ReadPartition(const PartitionId& id,
                                     const std::function<bool(const Record&)>& visit) const {
  std::vector<std::uint32_t> blocks;
  std::vector<Record> in_dram;
  {
    ReaderLock lock(mu_);
    AwaitReady(lock);
    auto it = partitions_.find(id);
    if (it == partitions_.end()) return NotFound(Describe(id) + " does not exist");
    const Partition& p = it->second;
    blocks = p.blocks;
    std::vector<const BlockBuilder*> builders;
    for (const auto& q : p.queued) builders.push_back(q.get());
    if (p.open) builders.push_back(p.open.get());
    for (const BlockBuilder* b : builders) {
      for (SeriesId s : b->Series()) {
        auto r = b->Read(s);
        in_dram.insert(in_dram.end(), r.begin(), r.end());
      }
    }
  }
  // Each block is read and checked once, every chunk of it decoded.
  std::vector<Record> all;
  for (std::uint32_t b : blocks) SLUICE_RETURN_IF_ERROR(ReadBlock(b, std::nullopt, all));
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

}  // namespace sluice::store
