// Parquet value and level encodings (Encodings.md in apache/parquet-format).
// Writers only; each appends to a caller's string and never fails. Inputs are
// plain arrays so that the hot loops have no virtual calls or allocations
// per value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::sync::parquet {

// PLAIN: little-endian fixed width; BOOLEAN bit-packed LSB first; BYTE_ARRAY
// as a 4-byte little-endian length and the bytes.
void PutPlainInt32(const std::int32_t* v, std::size_t n, std::string* out);
void PutPlainInt64(const std::int64_t* v, std::size_t n, std::string* out);
void PutPlainDouble(const double* v, std::size_t n, std::string* out);
void PutPlainBool(const std::uint8_t* v, std::size_t n, std::string* out);  // nonzero: true
void PutPlainByteArray(const std::string_view* v, std::size_t n, std::string* out);

// The RLE / bit-packing hybrid of `n` values of `width` bits (0..32), no
// length prefix. Runs of 8 or more equal values become RLE runs, the rest
// bit-packed runs of multiples of 8 (the last one padded with zeros).
void PutRleHybrid(const std::uint32_t* v, std::size_t n, int width, std::string* out);
// The same over bytes (definition levels, booleans), values 0..(2^width - 1).
void PutRleHybridBytes(const std::uint8_t* v, std::size_t n, int width, std::string* out);

// DELTA_BINARY_PACKED: blocks of 128 values in 4 miniblocks of 32. INT32
// deltas wrap in 32 bits so no miniblock is wider than 32 bits.
void PutDeltaBinaryPacked32(const std::int32_t* v, std::size_t n, std::string* out);
void PutDeltaBinaryPacked64(const std::int64_t* v, std::size_t n, std::string* out);

// DELTA_LENGTH_BYTE_ARRAY: the lengths delta-packed, then the bytes.
void PutDeltaLengthByteArray(const std::string_view* v, std::size_t n, std::string* out);
// DELTA_BYTE_ARRAY: prefix lengths shared with the previous value (delta
// packed), then the suffixes as DELTA_LENGTH_BYTE_ARRAY.
void PutDeltaByteArray(const std::string_view* v, std::size_t n, std::string* out);

// BYTE_STREAM_SPLIT for DOUBLE: byte k of every value, for k = 0..7.
void PutByteStreamSplitDouble(const double* v, std::size_t n, std::string* out);

// Bits needed for values up to `max_value` (0 for 0).
int BitWidth(std::uint64_t max_value);

}  // namespace sluice::sync::parquet
