// The partition object: what sync uploads for one sealed partition.
// Prose twin: docs/format/partition.md. Persisted and read upstream: every
// constant and enum value here is frozen; a change of layout bumps
// kPartitionFormatVersion.
//
//   object := header chunk* metadata footer
//
//   header, 16 bytes
//      0 magic u32 0x4f504c53 ("SLPO")
//      4 version u16 = 1
//      6 flags u16 = 0           (readers refuse unknown flags)
//      8 reserved u32 = 0
//     12 header_crc u32          masked CRC32C of bytes [0, 12)
//
//   chunk: the bytes of one column of one series, encoded by a ChunkCodec and
//     then optionally compressed (ChunkCompression). Each series has a
//     timestamps chunk and a values chunk; offsets, lengths, codec,
//     compression and a masked CRC32C of the stored bytes are in the metadata.
//     Codec revision 1: ids 1, 10, 11, 12, 20, 30, 40, integer streams with
//     packings 1-2 and transforms none/delta. Revision 2 adds ids 2 and 13,
//     whose integer streams may also use Rice packing (3) and the dictionary
//     transform (2):
//
//     13 FLOAT_DECIMAL_DIGITS
//       digits u8 (P, 1..16) | varint zigzag(qmin) (-22..22) | varint n_exc
//       | n_exc varint position gaps | n_exc varint zigzag(correction)
//       | int64 column of decimal indices (transform u8, integer stream(s))
//       index i: |i| < 10^P -> |i| * 10^qmin; else j = |i| - 10^P,
//       m = 10^(P-1) + j % (9 * 10^(P-1)), q = qmin + 1 + j / (9 * 10^(P-1))
//       (q <= 22) -> m * 10^q; exception bits = bits(value(i)) + correction
//
//     2 TIMESTAMP_SCALED_DELTA_OF_DELTA
//       varint zigzag(t0) | varint unit (>= 1) | varint zigzag(k1)
//       | integer stream of k[i] - k[i-1], k[i] = (t[i] - t[i-1]) / unit
//
//     integer stream, packing 3 (Rice), per block of 128:
//       varint zigzag(center) | k u8 (0..63) | bits, LSB first, byte-padded:
//       u = zigzag(v - center); q = u >> k < 32 ? 0^q 1 low_k(u) : 0^32 u(64)
//
//   metadata: protobuf sluice.proto.partition.PartitionMetadata
//     (proto/partition.proto): gateway, site, window, time range, and per
//     series name, type, unit, tags, statistics and the two chunk references.
//     Stored as is, or (footer flag 1) as one zstd frame when that is smaller.
//
//   footer, 32 bytes, at the very end so that a reader can seek to it
//      0 metadata_offset u64
//      8 metadata_length u32
//     12 metadata_crc u32        masked CRC32C of the metadata bytes
//     16 version u16 = 1
//     18 flags u16               0, or kFooterFlagMetadataZstd (1): metadata is
//                                one zstd frame; readers refuse other bits
//     20 reserved u32 = 0
//     24 footer_crc u32          masked CRC32C of bytes [0, 24)
//     28 magic u32 0x4f504c53 ("SLPO")
//
// Integers are little-endian; masked CRC is ((c >> 15) | (c << 17)) + 0xa282ead8
// (base/crc32c.h). Writers are deterministic: the same records, identity and
// options give the same bytes, which keeps retried uploads idempotent.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::sync {

inline constexpr std::uint32_t kPartitionMagic = 0x4f504c53;  // "SLPO"
inline constexpr std::uint16_t kPartitionFormatVersion = 1;
inline constexpr std::size_t kPartitionHeaderSize = 16;
inline constexpr std::size_t kPartitionFooterSize = 32;
// Footer flag: the metadata bytes are one zstd frame with its content size
// (the metadata CRC covers the stored, compressed bytes). Readers that
// predate it refuse such objects as having unknown flags.
inline constexpr std::uint16_t kFooterFlagMetadataZstd = 1;
// Largest decompressed metadata a reader accepts.
inline constexpr std::uint64_t kMaxMetadataBytes = std::uint64_t{1} << 28;

// How a chunk's bytes encode a column (before compression). Persisted (also
// in proto/partition.proto): never renumber, never reuse.
enum class ChunkCodec : std::uint8_t {
  kTimestampDeltaOfDelta = 1,  // t0, t1 - t0, then packed deltas of deltas
  kTimestampScaledDeltaOfDelta = 2,  // the same in units of the deltas' GCD
  kFloatRaw = 10,              // 8 bytes per value, IEEE-754 bits
  kFloatXor = 11,              // Gorilla: XOR with previous, leading/trailing zeros
  kFloatDecimal = 12,          // ALP-style: value = int / 10^e, exceptions raw
  kFloatDecimalDigits = 13,    // P significant digits: decimal index, ulp exceptions
  kFloatDecimalDigits32 = 14,  // the same over float32 decimals, widened
  kFloatDictionary = 15,       // distinct doubles (a float codec), then codes
  kIntPacked = 20,             // optional delta, then packed integers
  kBoolBitmap = 30,            // one bit per value, LSB first
  kBytesLengthPrefixed = 40,   // packed lengths, then the bytes
};

// Persisted: never renumber.
enum class ChunkCompression : std::uint8_t {
  kNone = 1,
  kZstd = 2,  // one zstd frame with its content size
};

// Integer streams inside chunks start with one of these mode bytes
// (docs/format/partition.md, "Integer streams"). Persisted: never renumber.
enum class IntPacking : std::uint8_t {
  kZigzagVarint = 1,      // LEB128 of zigzag(v), one per value
  kFrameOfReference = 2,  // blocks of 128: min, bit width, packed offsets
  kRice = 3,              // blocks of 128: center, k, Rice codes (codecs 2, 13 only)
};

inline constexpr std::size_t kIntBlockSize = 128;

}  // namespace sluice::sync
