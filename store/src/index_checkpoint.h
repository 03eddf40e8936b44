// The index checkpoint (<dir>/index.ckpt): the DRAM index of every block
// written before a segment position, so that Open reads neither the
// segments before it nor anything in proportion to what the store holds.
//
//   file    := header recent full
//   header (36 bytes, little-endian)
//     0  magic        u32  0x58494c53 "SLIX"
//     4  version      u32  1
//     8  recent_len   u64  bytes of the recent section
//    16  full_len     u64  bytes of the full section
//    24  recent_crc   u32  masked CRC32C of the recent section
//    28  full_crc     u32  masked CRC32C of the full section
//    32  header_crc   u32  masked CRC32C of bytes [0, 32)
//
//   recent  := what Open needs before the first append (positions,
//              lengths and sequence numbers at fixed width, so that its
//              size never follows the store's): the tail position
//              (segment, page), the highest
//              segment id logged created, the blocks whose records the
//              write buffer still held (address, partition, lengths, body
//              CRC, sequence range: Open checks them as it checks the
//              tail, so that a damaged one is replayed from it), the
//              byte lengths of partitions.log and segments.log covered,
//              the horizon (a window start), the highest sequence number
//              in any block; then every partition whose window is at or
//              after the horizon: id, state, flushed seq, sequence ranges
//              of its blocks. Its size follows the partitions of the last
//              few windows, not the store.
//   full    := the whole index, loaded in the background (varints, i64
//              as zigzag): live segment
//              ids, blocks (address, partition number, lengths, body CRC,
//              seq_max, live, position), partitions (id, state, block
//              numbers, sequence ranges, flushed seq, records, time
//              range), per series its type (0 when it has no records)
//              and extents (block, run, count, time range).
//
// docs/format/index-checkpoint.md says the same in prose. Decoding checks
// every count against the bytes left and every cross reference (a block's
// partition and position, an extent's run) so that a damaged or hostile
// file is refused with Corruption, never indexed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "segments.h"
#include "store/types.h"

namespace sluice::store {

inline constexpr std::uint32_t kCheckpointMagic = 0x58494c53;
inline constexpr std::uint32_t kCheckpointVersion = 1;
inline constexpr std::size_t kCheckpointHeaderBytes = 36;

// One written block as the index knows it.
struct IndexBlockRef {
  BlockAddress address;
  PartitionId partition;
  std::uint32_t header_len = 0;
  std::uint32_t body_len = 0;
  std::uint32_t body_crc = 0;
  std::uint64_t seq_max = 0;
  bool live = true;
  std::uint32_t position = 0;  // in its partition's block list
  friend bool operator==(const IndexBlockRef&, const IndexBlockRef&) = default;
};

// Where one series is on disk: a run of consecutive blocks of one
// partition (positions blocks[block].position .. + run - 1 of its block
// list), each holding records of the series; count and time range over the
// run. A chunk's place in a block comes from the block's directory.
struct IndexExtent {
  std::uint32_t block = 0;
  std::uint32_t run = 0;
  std::uint64_t count = 0;
  std::int64_t t_min = 0, t_max = 0;
  friend bool operator==(const IndexExtent&, const IndexExtent&) = default;
};

using SeqRange = std::pair<std::uint64_t, std::uint64_t>;

struct RecentBlock {
  BlockAddress address;
  PartitionId partition;
  std::uint32_t header_len = 0;
  std::uint32_t body_len = 0;
  std::uint32_t body_crc = 0;
  std::uint64_t seq_min = 0;
  std::uint64_t seq_max = 0;
  friend bool operator==(const RecentBlock&, const RecentBlock&) = default;
};

struct CheckpointPartition {
  PartitionId id;
  PartitionState state = PartitionState::kOpen;
  std::vector<std::uint32_t> blocks;  // full section only
  std::vector<SeqRange> block_seqs;   // sorted
  std::uint64_t flushed_seq = 0;
  std::uint64_t records = 0;          // full section only
  std::int64_t t_min = INT64_MAX, t_max = INT64_MIN;  // full section only
  friend bool operator==(const CheckpointPartition&, const CheckpointPartition&) = default;
};

struct CheckpointRecent {
  // Blocks at or after (segment, page) are the tail, found by scanning.
  std::uint32_t segment = 0;
  std::uint32_t page = 0;
  std::uint32_t max_created_segment = 0;
  // Blocks whose records the write buffer still held: Open reads and
  // checks those it replays records of, as it does the tail's.
  std::vector<RecentBlock> blocks;
  std::uint64_t manifest_bytes = 0;
  std::uint64_t segments_log_bytes = 0;
  std::int64_t horizon_ns = 0;
  std::uint64_t max_seq = 0;
  std::vector<CheckpointPartition> partitions;  // window >= horizon_ns
  friend bool operator==(const CheckpointRecent&, const CheckpointRecent&) = default;
};

struct CheckpointFull {
  std::vector<std::uint32_t> live_segments;
  std::vector<IndexBlockRef> blocks;
  std::vector<CheckpointPartition> partitions;
  std::vector<ValueType> types;                   // by series id
  std::vector<std::vector<IndexExtent>> extents;  // by series id
  friend bool operator==(const CheckpointFull&, const CheckpointFull&) = default;
};

struct CheckpointHeader {
  std::uint64_t recent_len = 0;
  std::uint64_t full_len = 0;
  std::uint32_t recent_crc = 0;  // unmasked
  std::uint32_t full_crc = 0;    // unmasked
};

std::string EncodeCheckpoint(const CheckpointRecent& recent, const CheckpointFull& full);

// The replay mark (<dir>/replay.mark, 16 bytes): a sequence number up to
// which every record of the write buffer is in durable blocks.
//   magic u32 0x4d524c53 "SLRM", seq u64, masked CRC32C of bytes [0, 12) u32
// Written often and never synced: a mark a crash rolls back is only older,
// and so still true; one that does not check is ignored.
inline constexpr std::uint32_t kReplayMarkMagic = 0x4d524c53;
inline constexpr std::size_t kReplayMarkBytes = 16;
std::string EncodeReplayMark(std::uint64_t seq);
Result<std::uint64_t> DecodeReplayMark(std::string_view bytes);

Result<CheckpointHeader> DecodeCheckpointHeader(std::string_view bytes);
// `bytes` is the recent (or full) section; its CRC is checked against the
// header's.
Result<CheckpointRecent> DecodeCheckpointRecent(std::string_view bytes,
                                                const CheckpointHeader& header);
Result<CheckpointFull> DecodeCheckpointFull(std::string_view bytes, const CheckpointHeader& header);

}  // namespace sluice::store
