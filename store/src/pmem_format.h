// Byte layout of the persistent-memory write buffer, `pmem` mode (prose
// twin: docs/format/write_buffer.md). All integers are little-endian.
//
// One file of PmemLogOptions::size bytes, mapped whole: a 4096-byte header
// block, then a ring of record frames that are byte for byte the WAL's
// (wal_format.h), so that both modes share the record format.
//
//   offset 0         64        128                4096                  size
//   +---------+---------+--------------------------+----------------------+
//   | slot 0  | slot 1  | zeros                    | ring: frames, zeros, |
//   |         |         |                          | stale frames         |
//   +---------+---------+--------------------------+----------------------+
//
//   header slot (64 bytes, one cache line each)
//   +--------+---------+-------------+-----------+------------+-------------+----------+-----+-------+
//   | magic  | version | ring_offset | file_size | generation | head_offset | head_seq | crc | zeros |
//   | 8      | u32     | u32         | u64       | u64        | u64         | u64      | u32 | 12    |
//   +--------+---------+-------------+-----------+------------+-------------+----------+-----+-------+
//   magic "SLUICEPM"; version kPmemFormatVersion (1); ring_offset 4096;
//   file_size: the file's size, the ring is [ring_offset, file_size);
//   generation: +1 per header update; of the two slots the valid one with
//        the higher generation is the header. Updates alternate slots, so a
//        torn update leaves the previous header intact.
//   head_offset: file offset of the first frame not yet released (the
//        "durable head"); head_seq: its sequence number, or the next one to
//        be assigned when nothing is live;
//   crc: masked CRC32C of bytes 0..47.
//
//   ring: WAL frames (24-byte header, payload, zero padding to 8 bytes),
//   consecutive sequence numbers from head_seq. A frame never straddles the
//   end of the file: one that does not fit between the writer's position and
//   the end goes to ring_offset instead (the gap is left as it was).
//   group_index numbers the frames of one drain, from 0.
//
// Recovery rules (ParsePmemLog):
//  - The header is the valid slot (magic, version, ring_offset, crc,
//    file_size equal to the file's, head inside the ring and 8-aligned, seq
//    >= 1) of higher generation. No valid slot: the file is fresh when the
//    ring holds no valid frame at all (a crash while it was created), else
//    Corruption.
//  - A frame is valid when its header is inside the file, type != 0,
//    reserved bytes zero, the frame inside the file and at most a quarter of
//    the ring (the writer's limit), and the CRC matches.
//  - From head_offset, frames are accepted while valid with the expected
//    seq (head_seq, then +1). Where that fails, a valid frame with the
//    expected seq at ring_offset is accepted if it would not have fit before
//    the end of the file (the writer's wrap rule). Otherwise the records end.
//    Frames from earlier laps never qualify: their seqs are lower.
//  - The rest of the ring (the free area, up to the head) is searched at
//    every 8-byte boundary for valid frames with a seq >= the expected one
//    (and at most ring / 24 above it: no lap holds more frames).
//    One whose group began at or before the expected seq belongs to the drain
//    in flight at the crash: it is torn, listed to be invalidated, and counted.
//    One of a later group means durable bytes were damaged: Corruption,
//    naming the offset.
//  - Before appending, the writer durably zeroes the headers of the listed
//    frames, so that a remnant of the torn drain never lines up behind new
//    frames.
//
// Never renumber kPmemFormatVersion meanings; a layout change bumps it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "write_buffer.h"

namespace sluice::store {

inline constexpr char kPmemMagic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'P', 'M'};
inline constexpr std::uint32_t kPmemFormatVersion = 1;
inline constexpr std::uint64_t kPmemRingOffset = 4096;
inline constexpr std::size_t kPmemSlotSize = 64;
inline constexpr std::size_t kPmemSlotCount = 2;

struct PmemHeader {
  std::uint64_t file_size = 0;
  std::uint64_t generation = 0;
  std::uint64_t head_offset = kPmemRingOffset;
  std::uint64_t head_seq = 1;
};

// Writes one slot (kPmemSlotSize bytes, zeros past the CRC).
void EncodePmemSlot(const PmemHeader& header, std::span<std::byte> slot);
// Checks one slot against the rules above for a file of `file_size` bytes.
Result<PmemHeader> DecodePmemSlot(std::span<const std::byte> slot, std::uint64_t file_size);

// File offset where a frame of `frame_size` bytes goes when the writer is at
// `offset`: there, or at the ring start when it would not fit before the end.
inline std::uint64_t PmemPlace(std::uint64_t offset, std::uint64_t frame_size,
                               std::uint64_t file_size) {
  return offset + frame_size <= file_size ? offset : kPmemRingOffset;
}

struct PmemRecord {
  WriteBufferRecord view;          // payload points into the parsed bytes
  std::uint64_t offset = 0;    // of the frame
  bool starts_group = false;   // group_index 0
};

// What a pmem log file holds, per the recovery rules above.
struct PmemContents {
  bool fresh = false;  // no header and no frame: to be initialised
  int slot = 0;        // of the header
  PmemHeader header;
  std::vector<PmemRecord> records;  // consecutive seqs from header.head_seq
  std::uint64_t end_offset = 0;     // where the next frame goes (may equal file size)
  std::uint64_t used_bytes = 0;     // ring bytes from the head to end_offset, gaps included
  std::vector<std::uint64_t> discard;  // offsets of torn frames to invalidate
  std::uint64_t torn_bytes = 0;     // bytes of the drain in flight found and discarded
};

// Parses a whole file. Pure: no I/O; any input gives contents or Corruption
// whose message starts with `name`. On Corruption from damage after a valid
// header, `before_damage` (when given) receives the header and the records
// before the damage.
Result<PmemContents> ParsePmemLog(std::span<const std::byte> file, const std::string& name,
                                  PmemContents* before_damage = nullptr);

}  // namespace sluice::store
