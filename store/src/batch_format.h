// The payload of a write-buffer record of type kBatch: one appended batch.
//
//   batch   := count:varint  arrival:varint  record{count}
//   arrival := zigzag(arrival_ns): when the store accepted the batch, which
//              decides late records' partitions identically at replay
//   record  := series:varint  dts:varint  tag:u8  value
//   dts     := zigzag(timestamp_ns - previous record's timestamp_ns), the
//              first record's previous timestamp being 0
//   value   := f64:8 bytes LE        (tag 1, kFloat64: the IEEE-754 bits)
//            | zigzag(int64):varint  (tag 2, kInt64)
//            | 0x00 or 0x01          (tag 3, kBool)
//            | len:varint bytes      (tag 4, kBytes)
//            | zigzag(m):varint      (tags 16..31, kFloat64 as a decimal:
//                                     the double m / 10^(tag - 16))
//
// Tags 1-4 are ValueType values; no tag is ever renumbered. Sensor values
// are mostly decimals in disguise (21.375, 0.026173): the encoder writes a
// float64 as the shortest decimal with at most 15 digits after the point
// whose m (|m| < 2^53) gives back the same bits through the decoder's one
// division, and as tag 1 otherwise (NaN, infinities, -0.0, noise). Bit-exact
// either way: the encoder checks with the decoder's own arithmetic. The write buffer's
// framing (length, sequence number, CRC32C) protects these bytes; see
// docs/format/wal.md and docs/format/batch.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "decimal.h"
#include "store/types.h"

namespace sluice::store {

// Write-buffer record types used by the store. Persisted: never renumber.
enum class WalRecordType : std::uint8_t {
  kBatch = 1,
  // A batch written to blocks of its own (Options::large_value_bytes): the
  // records are in the blocks whose sequence range is exactly this
  // record's number; the write buffer holds this marker only.
  kDirect = 2,
};

//   direct := records:varint  arrival:varint(zigzag)
// The blocks are found by their sequence range; their records add up to
// `records` when the batch is whole.
struct DirectMarker {
  std::uint64_t records = 0;
  std::int64_t arrival_ns = 0;
};
void EncodeDirectMarker(const DirectMarker& m, std::string& out);
Result<DirectMarker> DecodeDirectMarker(std::string_view payload);

inline constexpr std::uint8_t kDecimalTag = 16;     // + digits after the point

void EncodeBatch(const Batch& batch, std::int64_t arrival_ns, std::string& out);

struct DecodedBatch {
  std::int64_t arrival_ns = 0;
  Batch records;
};

// Decodes a whole payload; Corruption naming the record index and reason on
// any malformation (truncated, trailing bytes, unknown tag, bool not 0/1,
// bytes longer than `max_value_bytes`, count beyond what the bytes can hold).
// The count and arrival time alone, without the records (checked only as
// far as they go).
struct BatchHeader {
  std::uint64_t records = 0;
  std::int64_t arrival_ns = 0;
};
Result<BatchHeader> DecodeBatchHeader(std::string_view payload);

Result<DecodedBatch> DecodeBatch(std::string_view payload, std::uint32_t max_value_bytes);

}  // namespace sluice::store
