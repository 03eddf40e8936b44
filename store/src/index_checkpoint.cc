#include "index_checkpoint.h"

#include <algorithm>

#include "base/coding.h"
#include "base/crc32c.h"
#include "block_format.h"

namespace sluice::store {
namespace {


void PutI64(std::string& out, std::int64_t v) { PutVarint64(out, ZigZag(v)); }

void PutPartitionId(std::string& out, const PartitionId& id) {
  PutI64(out, id.window_start_ns);
  PutVarint64(out, id.shard);
  out.push_back(id.late ? 1 : 0);
}

void PutSeqs(std::string& out, const std::vector<SeqRange>& seqs) {
  PutVarint64(out, seqs.size());
  for (const auto& [lo, hi] : seqs) {
    PutVarint64(out, lo);
    PutVarint64(out, hi - lo);
  }
}

// A reader that fails once and stays failed; counts are checked against the
// bytes left (every element takes at least one byte), so a damaged count
// never makes the decoder allocate more than the file could describe.
class In {
 public:
  explicit In(std::string_view bytes) : r_(bytes) {}
  bool ok() const { return ok_; }
  std::size_t remaining() const { return r_.remaining(); }

  std::uint64_t U64() {
    std::uint64_t v = 0;
    if (ok_ && !r_.GetVarint64(v)) ok_ = false;
    return ok_ ? v : 0;
  }
  std::uint32_t U32() {
    const std::uint64_t v = U64();
    if (v > UINT32_MAX) ok_ = false;
    return ok_ ? static_cast<std::uint32_t>(v) : 0;
  }
  std::int64_t I64() { return UnZigZag(U64()); }
  std::uint32_t Fixed32() {
    std::uint32_t v = 0;
    if (ok_ && !r_.GetFixed32(v)) ok_ = false;
    return ok_ ? v : 0;
  }
  std::uint64_t Fixed64() {
    std::uint64_t v = 0;
    if (ok_ && !r_.GetFixed64(v)) ok_ = false;
    return ok_ ? v : 0;
  }
  std::uint8_t Byte() {
    std::uint8_t b = 0;
    if (ok_ && !r_.GetByte(b)) ok_ = false;
    return ok_ ? b : 0;
  }
  // A count of elements that take at least `min_bytes` each.
  std::size_t Count(std::size_t min_bytes) {
    const std::uint64_t n = U64();
    if (!ok_ || n > remaining() / min_bytes) ok_ = false;
    return ok_ ? static_cast<std::size_t>(n) : 0;
  }
  PartitionId Partition() {
    PartitionId id;
    id.window_start_ns = I64();
    id.shard = U32();
    const std::uint8_t late = Byte();
    if (late > 1) ok_ = false;
    id.late = late == 1;
    return id;
  }
  PartitionState State() {
    const std::uint8_t s = Byte();
    if (s < 1 || s > 4) ok_ = false;
    return static_cast<PartitionState>(ok_ ? s : 1);
  }
  std::vector<SeqRange> Seqs() {
    std::vector<SeqRange> out(Count(2));
    for (auto& [lo, hi] : out) {
      lo = U64();
      const std::uint64_t span = U64();
      if (span > UINT64_MAX - lo) ok_ = false;
      hi = lo + span;
    }
    if (!std::is_sorted(out.begin(), out.end())) ok_ = false;
    return out;
  }

 private:
  ByteReader r_;
  bool ok_ = true;
};

Status Damaged(const std::string& what) { return Corruption("index checkpoint: " + what); }

Status CheckCrc(std::string_view bytes, std::uint64_t len, std::uint32_t crc, const char* what) {
  if (bytes.size() != len) return Damaged(std::string(what) + " section has the wrong length");
  if (Crc32c(bytes.data(), bytes.size()) != crc) {
    return Damaged(std::string(what) + " section fails its CRC");
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeCheckpoint(const CheckpointRecent& recent, const CheckpointFull& full) {
  // The recent section writes positions, lengths and sequence numbers at
  // fixed width: its size then depends on the recent partitions and blocks
  // alone, not on how much the store ever held.
  std::string r;
  PutFixed32(r, recent.segment);
  PutFixed32(r, recent.page);
  PutFixed32(r, recent.max_created_segment);
  PutFixed64(r, recent.manifest_bytes);
  PutFixed64(r, recent.segments_log_bytes);
  PutFixed64(r, static_cast<std::uint64_t>(recent.horizon_ns));
  PutFixed64(r, recent.max_seq);
  PutVarint64(r, recent.blocks.size());
  for (const RecentBlock& b : recent.blocks) {
    PutFixed32(r, b.address.segment);
    PutFixed32(r, b.address.page);
    PutFixed32(r, b.address.pages);
    PutPartitionId(r, b.partition);
    PutFixed32(r, b.header_len);
    PutFixed32(r, b.body_len);
    PutFixed32(r, b.body_crc);
    PutFixed64(r, b.seq_min);
    PutFixed64(r, b.seq_max);
  }
  PutVarint64(r, recent.partitions.size());
  for (const auto& p : recent.partitions) {
    PutPartitionId(r, p.id);
    r.push_back(static_cast<char>(p.state));
    PutFixed64(r, p.flushed_seq);
    PutVarint64(r, p.block_seqs.size());
    for (const auto& [lo, hi] : p.block_seqs) {
      PutFixed64(r, lo);
      PutFixed64(r, hi);
    }
  }

  std::string f;
  PutVarint64(f, full.live_segments.size());
  for (std::uint32_t s : full.live_segments) PutVarint64(f, s);
  // Blocks name their partition by its place in the partition list.
  std::vector<PartitionId> ids;
  ids.reserve(full.partitions.size());
  for (const auto& p : full.partitions) ids.push_back(p.id);
  PutVarint64(f, full.partitions.size());
  for (const auto& p : full.partitions) {
    PutPartitionId(f, p.id);
    f.push_back(static_cast<char>(p.state));
    PutVarint64(f, p.flushed_seq);
    PutVarint64(f, p.records);
    PutI64(f, p.t_min);
    PutI64(f, p.t_max);
    PutSeqs(f, p.block_seqs);
    PutVarint64(f, p.blocks.size());
    for (std::uint32_t b : p.blocks) PutVarint64(f, b);
  }
  PutVarint64(f, full.blocks.size());
  for (const auto& b : full.blocks) {
    PutVarint64(f, b.address.segment);
    PutVarint64(f, b.address.page);
    PutVarint64(f, b.address.pages);
    const auto at = std::lower_bound(ids.begin(), ids.end(), b.partition);
    PutVarint64(f, static_cast<std::uint64_t>(at - ids.begin()));
    PutVarint64(f, b.header_len);
    PutVarint64(f, b.body_len);
    PutFixed32(f, b.body_crc);
    PutVarint64(f, b.seq_max);
    f.push_back(b.live ? 1 : 0);
    PutVarint64(f, b.position);
  }
  PutVarint64(f, full.types.size());
  for (std::size_t s = 0; s < full.types.size(); ++s) {
    f.push_back(static_cast<char>(full.types[s]));
    const auto& list = s < full.extents.size() ? full.extents[s] : std::vector<IndexExtent>{};
    PutVarint64(f, list.size());
    for (const auto& e : list) {
      PutVarint64(f, e.block);
      PutVarint64(f, e.run);
      PutVarint64(f, e.count);
      PutI64(f, e.t_min);
      PutI64(f, e.t_max);
    }
  }

  std::string out;
  PutFixed32(out, kCheckpointMagic);
  PutFixed32(out, kCheckpointVersion);
  PutFixed64(out, r.size());
  PutFixed64(out, f.size());
  PutFixed32(out, MaskCrc(Crc32c(r.data(), r.size())));
  PutFixed32(out, MaskCrc(Crc32c(f.data(), f.size())));
  PutFixed32(out, MaskCrc(Crc32c(out.data(), out.size())));
  out += r;
  out += f;
  return out;
}

std::string EncodeReplayMark(std::uint64_t seq) {
  std::string out;
  PutFixed32(out, kReplayMarkMagic);
  PutFixed64(out, seq);
  PutFixed32(out, MaskCrc(Crc32c(out.data(), out.size())));
  return out;
}

Result<std::uint64_t> DecodeReplayMark(std::string_view bytes) {
  if (bytes.size() != kReplayMarkBytes) return Corruption("replay mark: not 16 bytes");
  ByteReader in(bytes);
  std::uint32_t magic = 0, crc = 0;
  std::uint64_t seq = 0;
  in.GetFixed32(magic);
  in.GetFixed64(seq);
  in.GetFixed32(crc);
  if (magic != kReplayMarkMagic || UnmaskCrc(crc) != Crc32c(bytes.data(), 12)) {
    return Corruption("replay mark: bad magic or CRC");
  }
  return seq;
}

Result<CheckpointHeader> DecodeCheckpointHeader(std::string_view bytes) {
  if (bytes.size() < kCheckpointHeaderBytes) return Damaged("shorter than its header");
  ByteReader in(bytes.substr(0, kCheckpointHeaderBytes));
  std::uint32_t magic = 0, version = 0, rcrc = 0, fcrc = 0, hcrc = 0;
  CheckpointHeader h;
  in.GetFixed32(magic);
  in.GetFixed32(version);
  in.GetFixed64(h.recent_len);
  in.GetFixed64(h.full_len);
  in.GetFixed32(rcrc);
  in.GetFixed32(fcrc);
  in.GetFixed32(hcrc);
  if (magic != kCheckpointMagic) return Damaged("bad magic");
  if (UnmaskCrc(hcrc) != Crc32c(bytes.data(), kCheckpointHeaderBytes - 4)) {
    return Damaged("header fails its CRC");
  }
  if (version != kCheckpointVersion) {
    return Damaged("version " + std::to_string(version) + ", this build reads " +
                   std::to_string(kCheckpointVersion));
  }
  if (h.recent_len > (1ull << 40) || h.full_len > (1ull << 40)) {
    return Damaged("section lengths out of range");
  }
  h.recent_crc = UnmaskCrc(rcrc);
  h.full_crc = UnmaskCrc(fcrc);
  return h;
}

Result<CheckpointRecent> DecodeCheckpointRecent(std::string_view bytes,
                                                const CheckpointHeader& header) {
  SLUICE_RETURN_IF_ERROR(CheckCrc(bytes, header.recent_len, header.recent_crc, "recent"));
  In in(bytes);
  CheckpointRecent r;
  r.segment = in.Fixed32();
  r.page = in.Fixed32();
  r.max_created_segment = in.Fixed32();
  r.manifest_bytes = in.Fixed64();
  r.segments_log_bytes = in.Fixed64();
  r.horizon_ns = static_cast<std::int64_t>(in.Fixed64());
  r.max_seq = in.Fixed64();
  r.blocks.resize(in.Count(44));
  for (auto& b : r.blocks) {
    b.address.segment = in.Fixed32();
    b.address.page = in.Fixed32();
    b.address.pages = in.Fixed32();
    b.partition = in.Partition();
    b.header_len = in.Fixed32();
    b.body_len = in.Fixed32();
    b.body_crc = in.Fixed32();
    b.seq_min = in.Fixed64();
    b.seq_max = in.Fixed64();
    if (!in.ok()) break;
    if (b.seq_max < b.seq_min || b.address.segment == 0 || b.address.pages == 0 ||
        b.header_len < kBlockHeaderBytes ||
        std::uint64_t{b.header_len} + b.body_len > std::uint64_t{b.address.pages} * kPage) {
      return Damaged("a recent block's address, lengths or sequence range are impossible");
    }
  }
  r.partitions.resize(in.Count(12));
  for (auto& p : r.partitions) {
    p.id = in.Partition();
    p.state = in.State();
    p.flushed_seq = in.Fixed64();
    p.block_seqs.resize(in.Count(16));
    for (auto& [lo, hi] : p.block_seqs) {
      lo = in.Fixed64();
      hi = in.Fixed64();
      if (hi < lo) return Damaged("a recent partition's sequence range is reversed");
    }
    if (!std::is_sorted(p.block_seqs.begin(), p.block_seqs.end())) {
      return Damaged("a recent partition's sequence ranges are out of order");
    }
    if (!in.ok()) break;
  }
  if (!in.ok() || in.remaining() != 0) return Damaged("recent section does not parse");
  for (std::size_t i = 1; i < r.partitions.size(); ++i) {
    if (!(r.partitions[i - 1].id < r.partitions[i].id)) {
      return Damaged("recent partitions out of order");
    }
  }
  return r;
}

Result<CheckpointFull> DecodeCheckpointFull(std::string_view bytes,
                                            const CheckpointHeader& header) {
  SLUICE_RETURN_IF_ERROR(CheckCrc(bytes, header.full_len, header.full_crc, "full"));
  In in(bytes);
  CheckpointFull f;
  f.live_segments.resize(in.Count(1));
  for (auto& s : f.live_segments) s = in.U32();
  f.partitions.resize(in.Count(8));
  for (auto& p : f.partitions) {
    p.id = in.Partition();
    p.state = in.State();
    p.flushed_seq = in.U64();
    p.records = in.U64();
    p.t_min = in.I64();
    p.t_max = in.I64();
    p.block_seqs = in.Seqs();
    p.blocks.resize(in.Count(1));
    for (auto& b : p.blocks) b = in.U32();
    if (!in.ok()) break;
  }
  for (std::size_t i = 1; in.ok() && i < f.partitions.size(); ++i) {
    if (!(f.partitions[i - 1].id < f.partitions[i].id)) {
      return Damaged("partitions out of order");
    }
  }
  f.blocks.resize(in.Count(14));
  for (auto& b : f.blocks) {
    b.address.segment = in.U32();
    b.address.page = in.U32();
    b.address.pages = in.U32();
    const std::uint64_t part = in.U64();
    if (part >= f.partitions.size()) return Damaged("a block names no partition");
    b.partition = f.partitions[part].id;
    b.header_len = in.U32();
    b.body_len = in.U32();
    b.body_crc = in.Fixed32();
    b.seq_max = in.U64();
    const std::uint8_t live = in.Byte();
    if (live > 1) return Damaged("a block's live flag is not 0 or 1");
    b.live = live == 1;
    b.position = in.U32();
    if (!in.ok()) break;
  }
  f.types.resize(in.Count(2));
  f.extents.resize(f.types.size());
  for (std::size_t s = 0; in.ok() && s < f.types.size(); ++s) {
    const std::uint8_t t = in.Byte();
    if (t > 4) return Damaged("series " + std::to_string(s) + " has no value type");
    f.types[s] = static_cast<ValueType>(t);
    f.extents[s].resize(in.Count(5));
    for (auto& e : f.extents[s]) {
      e.block = in.U32();
      e.run = in.U32();
      e.count = in.U64();
      e.t_min = in.I64();
      e.t_max = in.I64();
    }
  }
  if (!in.ok() || in.remaining() != 0) return Damaged("full section does not parse");

  // Cross references: what the index follows without checking again.
  // (Every block's partition is in the list: it was named by its place.)
  auto partition_of = [&f](const IndexBlockRef& b) -> const CheckpointPartition& {
    return *std::lower_bound(
        f.partitions.begin(), f.partitions.end(), b.partition,
        [](const CheckpointPartition& a, const PartitionId& id) { return a.id < id; });
  };
  for (const auto& p : f.partitions) {
    for (std::size_t i = 0; i < p.blocks.size(); ++i) {
      const std::uint32_t b = p.blocks[i];
      if (b >= f.blocks.size() || f.blocks[b].partition != p.id || f.blocks[b].position != i) {
        return Damaged("the block list of " + std::to_string(p.id.window_start_ns) +
                       "/" + std::to_string(p.id.shard) + " does not match its blocks");
      }
    }
  }
  for (const auto& b : f.blocks) {
    if (b.address.segment == 0 || b.address.pages == 0) return Damaged("a block has no address");
    const CheckpointPartition& p = partition_of(b);
    if (b.live && (b.position >= p.blocks.size() ||
                   &f.blocks[p.blocks[b.position]] != &b)) {
      return Damaged("a live block is missing from its partition's list");
    }
  }
  for (std::size_t s = 0; s < f.extents.size(); ++s) {
    for (const auto& e : f.extents[s]) {
      if (e.block >= f.blocks.size() || e.run == 0) {
        return Damaged("an extent of series " + std::to_string(s) + " names no block");
      }
      const IndexBlockRef& first = f.blocks[e.block];
      const CheckpointPartition& p = partition_of(first);
      if (std::uint64_t{first.position} + e.run > p.blocks.size() ||
          p.blocks[first.position] != e.block) {
        return Damaged("an extent of series " + std::to_string(s) + " runs past its partition");
      }
    }
  }
  return f;
}

}  // namespace sluice::store
