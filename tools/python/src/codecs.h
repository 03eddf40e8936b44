// Decoders of partition-object chunks (docs/format/partition.md) for
// sluice_reader._native: a standalone twin of sync/src/*_codec.cc (the
// package builds from tools/python alone, so it cannot include the C++
// tree). Every function refuses bad bytes by throwing Corrupt with the C++
// reader's message; none reads outside its input. No Python here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice_reader {

struct Corrupt {
  std::string what;
};
[[noreturn]] void Fail(std::string what);  // throws Corrupt

// CRC32C (Castagnoli) continuing from `crc`; SSE 4.2 when the CPU has it.
std::uint32_t Crc32c(std::uint32_t crc, const void* data, std::size_t n);
// Inverse of Sluice's MaskCrc.
std::uint32_t Unmask(std::uint32_t masked);

// One zstd frame with its content size equal to raw_length, nothing after
// (DecompressChunk in chunk_compression.cc).
std::string DecompressChunk(std::string_view stored, std::uint64_t raw_length);

// What an integer stream may hold (StreamRevision in int_codec.h).
enum class Rev { kV1 = 1, kV2 = 2 };

// Column decoders by codec id; `count` comes from the metadata.
std::vector<std::int64_t> DecodeTimestamps(std::string_view data, std::size_t count);        // 1
std::vector<std::int64_t> DecodeScaledTimestamps(std::string_view data, std::size_t count);  // 2
std::vector<double> DecodeFloatRaw(std::string_view data, std::size_t count);                // 10
std::vector<double> DecodeFloatXor(std::string_view data, std::size_t count);                // 11
std::vector<double> DecodeFloatDecimal(std::string_view data, std::size_t count);            // 12
std::vector<double> DecodeFloatDecimalDigits(std::string_view data, std::size_t count,
                                             bool float32);  // 13, 14 when float32
std::vector<double> DecodeFloatDictionary(std::string_view data, std::size_t count);         // 15
std::vector<std::int64_t> DecodeInt64s(std::string_view data, std::size_t count, Rev rev);   // 20
std::vector<std::uint8_t> DecodeBools(std::string_view data, std::size_t count);             // 30
// 40: each value's (offset, length) in `data`.
std::vector<std::pair<std::size_t, std::size_t>> DecodeBytes(std::string_view data,
                                                             std::size_t count);

}  // namespace sluice_reader
