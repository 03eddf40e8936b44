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

#include "base/coding.h"
#include "base/status.h"
#include "sync/partition_format.h"

namespace sluice::sync::codec {

// What a stream may hold. The codecs of the first format revision
// (timestamps 1, float decimal 12, int packed 20, bytes 40) know only
// varint and frame-of-reference packing and the none/delta transforms, and
// keep refusing anything else; codecs added later (float decimal digits 13,
// scaled timestamps 2) also Rice packing and the dictionary transform.
enum class StreamRevision : std::uint8_t {
  kV1 = 1,  // packings kZigzagVarint, kFrameOfReference; transforms none, delta
  kV2 = 2,  // also kRice and the dictionary transform
};

// Appends `mode` then the values (two's complement words) packed that way.
void PutIntStream(std::string* out, std::span<const std::uint64_t> values, IntPacking mode);
// Bytes PutIntStream would append, without encoding.
std::size_t IntStreamSize(std::span<const std::uint64_t> values, IntPacking mode);
// The packing of `set` with the fewest bytes (ties go to varint, which zstd
// likes, then to frame of reference).
IntPacking SmallestPacking(std::span<const std::uint64_t> values,
                           StreamRevision rev = StreamRevision::kV1);
// Reads one stream of exactly `count` values; packings outside `set` are
// refused as corruption.
Status GetIntStream(ByteReader& in, std::size_t count, std::vector<std::uint64_t>* out,
                    StreamRevision rev = StreamRevision::kV1);

// kTimestampDeltaOfDelta. Any int64 sequence round-trips (unordered,
// duplicates, extremes): arithmetic wraps modulo 2^64.
void EncodeTimestamps(std::span<const std::int64_t> ts, IntPacking mode, std::string* out);
Status DecodeTimestamps(std::string_view data, std::size_t count, std::vector<std::int64_t>* out);

// kTimestampScaledDeltaOfDelta: the deltas divided by their greatest common
// divisor `unit` (1 s for a clock in whole seconds) before the delta of
// deltas, so that the stream holds small numbers; revision-2 packings.
// varint(zigzag(t0)), varint(unit >= 1), varint(zigzag((t1 - t0) / unit)),
// then a stream of the scaled deltas of deltas. Any int64 sequence
// round-trips: deltas are taken modulo 2^64 as signed, and unit * k wraps
// back to them.
std::uint64_t TimestampUnit(std::span<const std::int64_t> ts);
void EncodeScaledTimestamps(std::span<const std::int64_t> ts, std::uint64_t unit, IntPacking mode,
                            std::string* out);
Status DecodeScaledTimestamps(std::string_view data, std::size_t count,
                              std::vector<std::int64_t>* out);

// kIntPacked: a transform byte (0 none, 1 delta; in revision 2 also 2
// dictionary) then integer streams.
//
// Dictionary: varint(D) distinct values, a stream of the D sorted distinct
// values delta-coded (strictly increasing), then a stream of the `count`
// codes in [0, D). For columns of a few levels (quantised sensors, states).
enum class IntTransform : std::uint8_t { kNone = 0, kDelta = 1, kDictionary = 2 };
void EncodeInt64s(std::span<const std::int64_t> v, IntTransform transform, IntPacking mode,
                  std::string* out);
Status DecodeInt64s(std::string_view data, std::size_t count, std::vector<std::int64_t>* out,
                    StreamRevision rev = StreamRevision::kV1);
// The words an int64 column with `transform` kNone or kDelta packs.
std::vector<std::uint64_t> TransformWords(std::span<const std::int64_t> v, IntTransform transform);
// True when `v` holds at most `max_distinct` distinct values (cheap when it
// holds many more: stops early).
bool FewDistinct(std::span<const std::int64_t> v, std::size_t max_distinct);

// Deltas with wrap-around, the form both int codecs pack.
std::vector<std::uint64_t> Deltas(std::span<const std::int64_t> v);

}  // namespace sluice::sync::codec
