// A segment block: one partition's records, grouped by series. Blocks are
// written in version 2; version 1 blocks (stores made before it) are read.
//
//   block     := header directory body zero-padding-to-4096
//
//   header (80 bytes, little-endian)
//     0  magic        u32  0x4b424c53 "SLBK"
//     4  version      u16  2 (1 is read too)
//     6  late         u8   0 = regular partition, 1 = late partition
//     7  reserved     u8   0
//     8  header_len   u32  80 + directory bytes
//    12  body_len     u32
//    16  window_start i64  partition window start, ns
//    24  shard        u32
//    28  series_count u32
//    32  t_min        i64  smallest timestamp in the block
//    40  t_max        i64  largest timestamp in the block
//    48  seq_min      u64  write-buffer sequence range whose records
//    56  seq_max      u64  this block holds (all of them for this partition)
//    64  records      u32
//    68  body_crc     u32  masked CRC32C of the body
//    72  reserved     u32  0
//    76  header_crc   u32  masked CRC32C of bytes [0, 76) then the directory
//
//   directory entry, one per series, ascending series id; the chunks follow
//   each other in the body in directory order (offset = sum of the lengths
//   before). Version 2, varints, 6 bytes or more:
//     varint(series - previous entry's series; the first: series)
//     type u8 (ValueType)   varint(count >= 1)
//     varint(zigzag(t_min - window_start))   varint(t_max - t_min)
//     varint(length)
//   Version 1, 40 bytes:
//     0  series   u32      8  t_min i64     24  offset u32 (into the body)
//     4  count    u32     16  t_max i64     28  length u32
//    32  type     u8 (ValueType)  33..39 zero
//
//   body: per series, its chunk: timestamps then values, arrival order
//     timestamps := varint(zigzag(delta - previous delta)), delta = ts - previous
//                   ts (delta of delta: a regular series costs one byte per
//                   timestamp). Version 2: the first delta is from the window
//                   start and the previous delta is 0 for the second; version
//                   1: previous ts and previous delta start at 0.
//     float64    := version 2: mode u8, then per record
//                     mode 0..15, decimals: varint(zigzag(m - previous m)),
//                       the value m / 10^mode (decimal.h), previous m from 0
//                     mode 0x80: varint(bits XOR previous bits), from 0
//                   version 1: varint(bits XOR previous bits), from 0
//     int64      := varint(zigzag(v - previous v)), previous starts at 0
//     bool       := ceil(count / 8) bytes, bit i of record i, LSB first
//     bytes      := varint(length) bytes, per record
//
// Recovery reads only headers and directories (the index is rebuilt from
// them); the body CRC is checked when a block is read. docs/format/segment.md
// says the same in prose.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "mapped_array.h"
#include "store/env.h"
#include "store/types.h"

namespace sluice::store {

inline constexpr std::uint32_t kBlockMagic = 0x4b424c53;
inline constexpr std::uint16_t kBlockVersion = 2;  // written; 1 is read too
inline constexpr std::size_t kBlockHeaderBytes = 80;
inline constexpr std::size_t kBlockV1DirEntryBytes = 40;
inline constexpr std::size_t kBlockMinDirEntryBytes = 6;  // version 2
inline constexpr std::uint8_t kBlockFloatXor = 0x80;      // float64 chunk mode

struct BlockSeriesEntry {
  SeriesId series;
  ValueType type = ValueType::kFloat64;
  std::uint32_t count = 0;
  std::int64_t t_min = 0;
  std::int64_t t_max = 0;
  std::uint32_t offset = 0;  // into the body
  std::uint32_t length = 0;
};

struct BlockHeader {
  std::uint16_t version = kBlockVersion;
  PartitionId partition;
  std::int64_t t_min = 0;
  std::int64_t t_max = 0;
  std::uint64_t seq_min = 0;
  std::uint64_t seq_max = 0;
  std::uint32_t records = 0;
  std::uint32_t header_len = 0;
  std::uint32_t body_len = 0;
  std::uint32_t body_crc = 0;  // unmasked
  // Holds only direct batches' records (batch.h, WalRecordType::kDirect):
  // its sequence range says nothing of the write buffer's batches.
  bool direct = false;
  // Direct blocks: the blocks written together (one flush), all or none of
  // which hold their batches. The group's lowest sequence number names it.
  std::uint64_t group_seq = 0;
  std::uint64_t group_blocks = 0;
  std::vector<BlockSeriesEntry> series;
};

// A finished block in memory aligned for O_DIRECT, padded with zeros to a
// multiple of 4096.
struct AlignedBlock {
  AlignedBuffer bytes;
  std::size_t size = 0;
  std::size_t capacity = 0;  // of `bytes`
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.get()), size}; }
};

// Accumulates one partition's records in encoded form. Not thread-safe.
class BlockBuilder {
 public:
  // A direct builder (large values written once) does not copy bytes
  // values: it refers to them until Finish, one copy into the block. The
  // records it is given must outlive it.
  explicit BlockBuilder(PartitionId partition, bool direct = false)
      : partition_(partition), direct_(direct) {}

  void Add(const Record& r, ValueType type, std::uint64_t seq);
  // Bytes the block would take if finished now (before padding), at most:
  // each directory entry's series delta is counted as the whole id.
  std::size_t EncodedSize() const;
  // DRAM it holds, about (its chunks, their strings, its map): at many
  // series of few points each, two to three times EncodedSize.
  std::size_t MemoryBytes() const;
  bool empty() const { return records_ == 0; }
  std::uint32_t records() const { return records_; }
  std::uint64_t seq_min() const { return seq_min_; }
  std::uint64_t seq_max() const { return seq_max_; }
  const PartitionId& partition() const { return partition_; }

  // The finished block, padded with zeros to a multiple of 4096.
  std::string Finish() const;
  // The same, encoded straight into aligned memory: each record's bytes are
  // copied once, and the block can go to the device as it is.
  // `spare` is memory to reuse when large enough (memory faulted in once,
  // not again for every block).
  AlignedBlock FinishAligned(AlignedBlock spare = {}) const;
  // A direct block's flush group (BlockHeader::group_seq, group_blocks).
  void SetGroup(std::uint64_t seq, std::uint64_t blocks) {
    group_seq_ = seq;
    group_blocks_ = blocks;
  }

  // The records of one series still in this builder, in arrival order.
  std::vector<Record> Read(SeriesId series) const;
  // Every series id present.
  std::vector<SeriesId> Series() const;

 private:
  struct Chunk {
    SeriesId id;
    std::uint32_t count = 0;
    std::int64_t t_min = INT64_MAX, t_max = INT64_MIN;
    std::int64_t prev_ts = 0;
    std::int64_t prev_delta = 0;
    std::uint64_t prev_bits = 0;  // float64 bits or m, or int64 value
    ValueType type = ValueType::kFloat64;
    std::uint8_t float_mode = 0;  // decimal digits, or kBlockFloatXor
    std::uint8_t dir_bytes = 0;   // its directory entry, at most
    std::uint32_t ref_bytes = 0;  // of the values referred to (refs_)
    std::string ts;               // encoded timestamps
    std::string values;           // encoded values, but those referred to
  };
  // A bytes value of a direct builder, not copied: at Finish its bytes go
  // into chunk `chunk`'s values at `at` (an offset in Chunk::values).
  struct Ref {
    std::uint32_t chunk;
    std::uint32_t at;
    std::string_view bytes;
  };
  // A chunk's body (timestamps, then values), its references filled in.
  std::string Body(std::uint32_t chunk) const;
  // The same in pieces, `emit(begin, end)` each; `refs`: the chunk's
  // references (indices into refs_), in offset order.
  template <typename Emit>
  void EmitBody(const Chunk& c, std::span<const std::uint32_t> refs, Emit&& emit) const;
  static void AddFloat(Chunk& c, double v);
  // The heap block a string holds, 0 when it fits inside the object.
  static std::size_t HeapBytes(const std::string& s);
  // Re-encodes a decimal chunk's values at more digits; false when a value
  // would reach 2^53 (the chunk is unchanged then).
  static bool Rescale(Chunk& c, int digits);
  // Re-encodes a decimal chunk's values as XOR'd bits.
  static void ToXor(Chunk& c);
  // A version 2 directory entry after its series delta and type: count,
  // zigzag(t_min - window start), t_max - t_min, length.
  std::array<std::uint64_t, 4> DirFields(const Chunk& c) const;
  std::size_t DirEntryBytes(SeriesId id, const Chunk& c) const;
  // Chunks in order of first record, found by series id through `slots_`;
  // sorted by id only when finished. (Kept sorted, each new series in the
  // middle moved every chunk after it: with 10,000s of series per block that
  // took most of the commit thread's time.)
  // Positions in the chunks, by ascending series id.
  std::vector<std::uint32_t> SortedOrder() const;
  Chunk& At(std::uint32_t i) { return pages_[i / kPageChunks][i % kPageChunks]; }
  const Chunk& At(std::uint32_t i) const { return pages_[i / kPageChunks][i % kPageChunks]; }
  // The position of `series`' chunk; kNone when it has none.
  static constexpr std::uint32_t kNone = UINT32_MAX;
  std::uint32_t Find(std::uint32_t series) const;
  void InsertSlot(std::uint32_t series, std::uint32_t position);

  PartitionId partition_;
  bool direct_ = false;
  std::uint64_t group_seq_ = 0, group_blocks_ = 0;
  // The chunks, in pages of kPageChunks that never move: a block of 12,500
  // series grows without copying. Pages and slots are mapped for this
  // block alone (mapped_array.h), so that its memory goes back to the
  // system once it is written.
  static constexpr std::uint32_t kPageChunks = 64 * 1024 / sizeof(Chunk);
  std::vector<MappedArray<Chunk>> pages_;
  std::uint32_t chunks_ = 0;
  // Series id -> position: open addressing, each slot
  // (id << 32 | position + 1), 0 when empty; at most half full.
  MappedArray<std::uint64_t> slots_;
  std::uint32_t records_ = 0;
  std::size_t body_bytes_ = 0;
  std::size_t dir_bytes_ = 0;
  std::size_t heap_bytes_ = 0;  // of the chunks' strings
  std::vector<Ref> refs_;       // direct builders only, in order of Add
  std::int64_t t_min_ = INT64_MAX, t_max_ = INT64_MIN;
  std::uint64_t seq_min_ = UINT64_MAX, seq_max_ = 0;
};

// Parses and checks a header and directory from the first bytes of a block.
// `need` is set to the bytes required when `bytes` is too short (the caller
// reads more and calls again). Corruption on bad magic, version, CRC or
// inconsistent lengths.
Result<BlockHeader> ParseBlockHeader(std::string_view bytes, std::size_t& need);

// Decodes one series chunk of `block`'s body (its version and window
// decide the encoding). The body CRC is not checked here: see
// VerifyBlockBody.
Result<std::vector<Record>> DecodeSeriesChunk(std::string_view body, const BlockHeader& block,
                                              const BlockSeriesEntry& entry);
Status VerifyBlockBody(std::string_view body, const BlockHeader& header);

inline std::size_t PaddedBlockSize(std::size_t n) { return (n + 4095) / 4096 * 4096; }

}  // namespace sluice::store
