// CRC32C (Castagnoli), the checksum of every persistent byte layout in Sluice.
//
// Uses the CPU's CRC32 instruction where present (SSE4.2 on x86-64, the CRC
// extension on arm64) and a table otherwise; all paths give identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sluice {

// Extends `crc` (the CRC of the bytes before `data`) over `data`.
std::uint32_t Crc32cExtend(std::uint32_t crc, const void* data, std::size_t n);

inline std::uint32_t Crc32c(const void* data, std::size_t n) { return Crc32cExtend(0, data, n); }
inline std::uint32_t Crc32c(std::span<const std::byte> bytes) {
  return Crc32cExtend(0, bytes.data(), bytes.size());
}

// Masked form for CRCs stored next to the data they cover, so that a CRC of
// bytes that themselves contain CRCs stays well distributed (as LevelDB does).
inline std::uint32_t MaskCrc(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
inline std::uint32_t UnmaskCrc(std::uint32_t masked) {
  std::uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace sluice
