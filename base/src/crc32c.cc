#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#elif defined(__aarch64__)
#include <arm_acle.h>
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace sluice {
namespace {

constexpr std::uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

// Slicing-by-8 tables, built at compile time.
constexpr std::array<std::array<std::uint32_t, 256>, 8> MakeTables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i) {
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
  return t;
}
constexpr auto kTables = MakeTables();

std::uint32_t ExtendPortable(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  std::uint32_t c = ~crc;
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);  // little-endian hosts only (x86-64, arm64)
    w ^= c;
    c = kTables[7][w & 0xff] ^ kTables[6][(w >> 8) & 0xff] ^ kTables[5][(w >> 16) & 0xff] ^
        kTables[4][(w >> 24) & 0xff] ^ kTables[3][(w >> 32) & 0xff] ^
        kTables[2][(w >> 40) & 0xff] ^ kTables[1][(w >> 48) & 0xff] ^ kTables[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xff];
  return ~c;
}

#if defined(__x86_64__)
// The crc32 instruction takes three cycles and can start one each cycle:
// one stream of words leaves two thirds of it idle. Long inputs go as three
// streams over three adjacent blocks, each from a zero state, joined by
// shifting: a state followed by n zero bytes is a linear function of the
// state over GF(2), kept as four tables of 256 entries (one per byte of the
// state) built once with the instruction itself.
struct ZeroShift {
  std::array<std::array<std::uint32_t, 256>, 4> t;
  std::uint32_t operator()(std::uint32_t s) const {
    return t[0][s & 0xff] ^ t[1][(s >> 8) & 0xff] ^ t[2][(s >> 16) & 0xff] ^ t[3][s >> 24];
  }
};

__attribute__((target("sse4.2"))) ZeroShift MakeZeroShift(std::size_t bytes) {
  std::array<std::uint32_t, 32> image{};  // of each bit of the state
  for (int i = 0; i < 32; ++i) {
    std::uint64_t s = std::uint64_t{1} << i;
    for (std::size_t k = 0; k < bytes / 8; ++k) s = _mm_crc32_u64(s, 0);
    image[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(s);
  }
  ZeroShift z{};
  for (std::size_t b = 0; b < 4; ++b) {
    for (std::uint32_t v = 0; v < 256; ++v) {
      std::uint32_t out = 0;
      for (std::size_t j = 0; j < 8; ++j) {
        if ((v >> j) & 1) out ^= image[8 * b + j];
      }
      z.t[b][v] = out;
    }
  }
  return z;
}

std::uint64_t Load64(const unsigned char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// Three blocks of `block` bytes at a time while n allows; advances p and n.
__attribute__((target("sse4.2"))) std::uint64_t ThreeStreams(std::uint64_t c, std::size_t block,
                                                             const ZeroShift& shift,
                                                             const unsigned char*& p,
                                                             std::size_t& n) {
  while (n >= 3 * block) {
    std::uint64_t c1 = 0, c2 = 0;
    for (std::size_t i = 0; i < block; i += 8) {
      c = _mm_crc32_u64(c, Load64(p + i));
      c1 = _mm_crc32_u64(c1, Load64(p + block + i));
      c2 = _mm_crc32_u64(c2, Load64(p + 2 * block + i));
    }
    const auto joined = shift(static_cast<std::uint32_t>(c)) ^ static_cast<std::uint32_t>(c1);
    c = shift(joined) ^ static_cast<std::uint32_t>(c2);
    p += 3 * block;
    n -= 3 * block;
  }
  return c;
}

__attribute__((target("sse4.2"))) std::uint32_t ExtendHardware(std::uint32_t crc,
                                                               const unsigned char* p,
                                                               std::size_t n) {
  constexpr std::size_t kLong = 4096, kShort = 256;
  std::uint64_t c = ~crc;
  if (n >= 3 * kShort) {
    static const ZeroShift long_shift = MakeZeroShift(kLong);
    static const ZeroShift short_shift = MakeZeroShift(kShort);
    c = ThreeStreams(c, kLong, long_shift, p, n);
    c = ThreeStreams(c, kShort, short_shift, p, n);
  }
  while (n >= 8) {
    c = _mm_crc32_u64(c, Load64(p));
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}
bool HasHardware() { return __builtin_cpu_supports("sse4.2"); }
#elif defined(__aarch64__)
__attribute__((target("+crc"))) std::uint32_t ExtendHardware(std::uint32_t crc,
                                                             const unsigned char* p,
                                                             std::size_t n) {
  std::uint32_t c = ~crc;
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    c = __crc32cd(c, w);
    p += 8;
    n -= 8;
  }
  while (n--) c = __crc32cb(c, *p++);
  return ~c;
}
bool HasHardware() { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }
#else
std::uint32_t ExtendHardware(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  return ExtendPortable(crc, p, n);
}
bool HasHardware() { return false; }
#endif

using ExtendFn = std::uint32_t (*)(std::uint32_t, const unsigned char*, std::size_t);
const ExtendFn kExtend = HasHardware() ? ExtendHardware : ExtendPortable;

}  // namespace

std::uint32_t Crc32cExtend(std::uint32_t crc, const void* data, std::size_t n) {
  return kExtend(crc, static_cast<const unsigned char*>(data), n);
}

// Exposed for the test that compares both paths.
std::uint32_t Crc32cExtendPortableForTest(std::uint32_t crc, const void* data, std::size_t n) {
  return ExtendPortable(crc, static_cast<const unsigned char*>(data), n);
}

}  // namespace sluice
