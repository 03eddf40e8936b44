// Byte layout of the write-ahead log (prose twin: docs/format/wal.md).
//
// The log is a sequence of files wal-<NNNNNNNN>.log (8 decimal digits, the
// file number, increasing by one). Each file is preallocated with zeros to
// WalOptions::file_size and starts with a 4096-byte header block; record
// frames follow from offset 4096. All integers are little-endian.
//
//   offset 0                                                  4096
//   +----------------------------------------------------------+
//   | header block                                             |
//   |  0  magic          8 bytes  "SLUICEWL"                   |
//   |  8  version        u32      kWalFormatVersion (1)        |
//   | 12  block_size     u32      4096                         |
//   | 16  file_number    u64      = the NNNNNNNN of the name   |
//   | 24  first_seq      u64      seq of the file's 1st record |
//   | 32  header_crc     u32      masked CRC32C of bytes 0..31 |
//   | 36  zeros up to 4096                                     |
//   +----------------------------------------------------------+
//   | frame | frame | ... | frame | zeros (or stale bytes)     |
//   +----------------------------------------------------------+
//
//   frame (24-byte header, payload, zero padding to a multiple of 8)
//   +-------+--------+-------+-------------+------+----------+---------+-----+
//   | crc   | length | seq   | group_index | type | reserved | payload | pad |
//   | u32   | u32    | u64   | u32         | u8   | 3 zeros  | length  | 0-7 |
//   +-------+--------+-------+-------------+------+----------+---------+-----+
//   crc: masked CRC32C of bytes 4 .. 24+length (header after crc, payload).
//   seq: the record's sequence number; +1 from frame to frame, and the first
//        frame of a file has seq == first_seq.
//   group_index: position of the frame within its write (the frames one
//        WriteAndSync put down); group_index 0 starts a write. seq -
//        group_index is the first seq of that write.
//   type: the caller's record type, 1..255 (0 never appears in a frame, so a
//        zeroed header is never valid).
//
// O_DIRECT: the writer keeps the last, partial 4096-byte block of the file in
// memory and rewrites it with every commit: each write covers whole blocks,
// [block containing the tail .. end of the new frames rounded up to 4096),
// zero-padded after the last frame. Frames never straddle files; a frame
// that does not fit goes to the next file.
//
// Recovery rules (what ParseWalFile decides for one file, and OpenWal
// across files):
//  - Frames are read from 4096 while they are valid: header inside the file,
//    reserved bytes zero, type != 0, payload inside the file and at most a
//    quarter of the file's size (the writer's limit), seq equal to the
//    expected one, crc matching. The first frame that fails is the end.
//  - Past the end, the parser looks at every 8-byte-aligned offset for a
//    valid frame with seq > the last valid seq, by at most file size / 24
//    (no file holds more frames). Stale frames of a recycled file, and
//    zeros, can never qualify: their seq is below first_seq. One
//    with seq - group_index <= last valid seq + 1 belongs to the write that
//    was in flight at the crash: the tail is torn, and it is discarded (its
//    bytes counted in torn_tail_bytes). One that starts a later write means
//    bytes before it were damaged after they had been synced: Corruption,
//    naming the file and the offset. So only the last write may be torn.
//  - Across files: the first file sets the first seq; each later file's
//    first_seq must be the previous file's last seq + 1, else Corruption. Only
//    the last file may have an invalid header: a crash while creating or
//    recycling it, and then it is treated as unused, unless its first frame
//    goes on from the previous file's last seq (with no previous file: is
//    valid). Then the header was damaged over live frames: OpenWal replays
//    them and reports Corruption, so the store keeps them and sets the log
//    aside.
//  - After recovery the writer zeroes the discarded bytes (durably) before
//    appending, so that a torn remnant can never line up after new frames.
//
// Never renumber kWalFormatVersion meanings; a layout change bumps it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "wal.h"

namespace sluice::store {

inline constexpr char kWalMagic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'W', 'L'};
inline constexpr std::uint32_t kWalFormatVersion = 1;
inline constexpr std::size_t kWalBlockSize = 4096;
inline constexpr std::size_t kWalHeaderSize = 36;        // bytes used of the header block
inline constexpr std::size_t kWalFrameHeaderSize = 24;
inline constexpr std::size_t kWalFrameAlignment = 8;

// Byte offsets inside a frame header; never renumbered.
enum WalFrameField : std::size_t {
  kFrameCrc = 0,
  kFrameLength = 4,
  kFrameSeq = 8,
  kFrameGroupIndex = 16,
  kFrameType = 20,
  kFrameReserved = 21,
};

struct WalFileHeader {
  std::uint64_t file_number = 0;
  std::uint64_t first_seq = 0;
};

// Bytes a frame with `payload_size` bytes occupies, padding included.
inline std::size_t WalFrameSize(std::size_t payload_size) {
  return (kWalFrameHeaderSize + payload_size + kWalFrameAlignment - 1) & ~(kWalFrameAlignment - 1);
}

// Writes a header block (kWalBlockSize bytes, zero-filled past the header).
void EncodeWalHeader(const WalFileHeader& header, std::span<std::byte> block);
// Checks magic, version, block size and CRC.
Result<WalFileHeader> DecodeWalHeader(std::span<const std::byte> block);

// Writes one frame (WalFrameSize(payload.size()) bytes, padding zeroed).
void EncodeWalFrame(std::uint64_t seq, std::uint32_t group_index, std::uint8_t type,
                    std::span<const std::byte> payload, std::span<std::byte> out);

// What one log file holds, per the recovery rules above.
struct WalFileContents {
  WalFileHeader header;
  std::vector<WriteBufferRecord> records;  // payloads point into the parsed bytes
  std::uint64_t valid_end = 0;         // offset just past the last valid frame
  std::uint64_t torn_end = 0;          // >= valid_end; bytes in between are discarded
};

// The seq field of whatever sits where a file's first frame goes (offset
// 4096), unchecked; 0 when the file is shorter. Recovery uses it to tell a
// damaged header over live frames from a file that never got any.
std::uint64_t FirstFrameSeqField(std::span<const std::byte> file);

// Parses a whole log file. Pure: no I/O, any input gives contents or a
// Status (Corruption for a bad header or damage before the final write).
// `file_name` prefixes error messages. On Corruption from damage after a
// valid header, `before_damage` (when given) receives what precedes it:
// the header and the records up to the first invalid frame.
Result<WalFileContents> ParseWalFile(std::span<const std::byte> file, const std::string& file_name,
                                     WalFileContents* before_damage = nullptr);

// Reads and checks the header block of log file `number` in `dir` (it must
// name that number): what the reader and the log's Open use to bound files
// without reading them.
Result<WalFileHeader> ReadWalFileHeader(Env* env, const std::string& dir, std::uint64_t number);

// "wal-00000042.log"; ParseWalFileName returns false for other names.
std::string WalFileName(std::uint64_t file_number);
bool ParseWalFileName(const std::string& name, std::uint64_t* file_number);

}  // namespace sluice::store
