// Integer streams, timestamp columns and int64 value columns
// (docs/format/partition.md, "Integer streams", "Timestamps", "Int64").
//
// Encoders return every candidate encoding they consider; the writer keeps
// the smallest (after compression, when asked to), so a decoder must accept
// them all. Decoders take the count from the metadata and refuse anything
// that does not decode to exactly that many values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "codec_io.h"
#include "sync/partition_format.h"

namespace sluice::sync::codec {

// Appends `mode` then the values (two's complement words) packed that way.
void PutIntStream(std::string* out, std::span<const std::uint64_t> values, IntPacking mode);
// Bytes PutIntStream would append, without encoding.
std::size_t IntStreamSize(std::span<const std::uint64_t> values, IntPacking mode);
// The packing with the fewest bytes (ties go to varint, which zstd likes).
IntPacking SmallestPacking(std::span<const std::uint64_t> values);
// Reads one stream of exactly `count` values.
Status GetIntStream(ByteReader& in, std::size_t count, std::vector<std::uint64_t>* out);

// kTimestampDeltaOfDelta. Any int64 sequence round-trips (unordered,
// duplicates, extremes): arithmetic wraps modulo 2^64.
void EncodeTimestamps(std::span<const std::int64_t> ts, IntPacking mode, std::string* out);
Status DecodeTimestamps(std::string_view data, std::size_t count, std::vector<std::int64_t>* out);

// kIntPacked: a transform byte (0 none, 1 delta) then one integer stream.
enum class IntTransform : std::uint8_t { kNone = 0, kDelta = 1 };
void EncodeInt64s(std::span<const std::int64_t> v, IntTransform transform, IntPacking mode,
                  std::string* out);
Status DecodeInt64s(std::string_view data, std::size_t count, std::vector<std::int64_t>* out);

// Deltas with wrap-around, the form both int codecs pack.
std::vector<std::uint64_t> Deltas(std::span<const std::int64_t> v);

}  // namespace sluice::sync::codec
