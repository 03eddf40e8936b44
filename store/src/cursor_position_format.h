// Byte layout of <store dir>/stream.pos, the durable-record cursor's
// confirmed position (prose twin: docs/format/stream-position.md).
//
// One fixed 48-byte record, written whole to stream.pos.tmp, synced, and
// renamed over stream.pos (then the directory synced): a reader sees the old
// position or the new one, never a mix. All integers little-endian.
//
//   0  magic          8 bytes  "SLUICESP"
//   8  version        u32      kCursorPositionVersion (1)
//  12  reserved       u32      0
//  16  position       u64      last confirmed write-buffer sequence number
//  24  lost_batches   u64      given up since the store was created
//  32  lost_records   u64      records in them, where known
//  40  crc            u32      masked CRC32C of bytes 0..39
//  44  zeros          4 bytes
//
// A file that fails any check is refused with Corruption naming the field:
// the store does not open (the cursor must not silently restart from the
// oldest record, nor skip what was never delivered); deleting the file
// restarts the cursor at the oldest record the log holds.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"

namespace sluice::store {

inline constexpr char kCursorPositionMagic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'S', 'P'};
inline constexpr std::uint32_t kCursorPositionVersion = 1;
inline constexpr std::size_t kCursorPositionSize = 48;
inline constexpr char kCursorPositionFile[] = "stream.pos";

struct CursorPosition {
  std::uint64_t position = 0;
  std::uint64_t lost_batches = 0;
  std::uint64_t lost_records = 0;
  friend bool operator==(const CursorPosition&, const CursorPosition&) = default;
};

// kCursorPositionSize bytes.
std::string EncodeCursorPosition(const CursorPosition& p);
// Pure: any input gives a position or Corruption naming what is wrong.
Result<CursorPosition> DecodeCursorPosition(std::span<const std::byte> bytes);

}  // namespace sluice::store
