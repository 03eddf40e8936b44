// crc32c_bench: base's CRC32C (three streams of the crc32 instruction on
// x86-64 for inputs of 768 bytes or more) against one stream of the same
// instruction, the way it was computed before, and against the slicing-by-8
// table path, over pieces of the sizes the store checksums (4 KiB values,
// 16 KiB values, 1 MiB blocks). Prints GB/s and the ratio.
//
//   crc32c_bench
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "base/crc32c.h"

namespace sluice {
std::uint32_t Crc32cExtendPortableForTest(std::uint32_t crc, const void* data, std::size_t n);
}

namespace {

#if defined(__x86_64__)
// The baseline: one stream of the crc32 instruction.
__attribute__((target("sse4.2"))) std::uint32_t OneStream(std::uint32_t crc, const void* data,
                                                          std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}
#endif

// GB/s of `f` over `buf` in pieces of `piece` bytes, best of three passes
// of 256 MiB; `out` takes the last CRC so that none is optimized away.
template <typename F>
double Rate(F f, const std::vector<unsigned char>& buf, std::size_t piece, std::uint32_t& out) {
  double best = 0;
  for (int pass = 0; pass < 3; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t bytes = 0;
    std::uint32_t c = 0;
    while (bytes < (256u << 20)) {
      for (std::size_t at = 0; at + piece <= buf.size(); at += piece) {
        c = f(c, buf.data() + at, piece);
      }
      bytes += buf.size() / piece * piece;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(bytes) / 1e9 / s);
    out = c;
  }
  return best;
}

}  // namespace

int main() {
  std::vector<unsigned char> buf(4u << 20);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<unsigned char>(i * 131 + 7);
  std::printf("%-10s %12s %12s %12s %10s\n", "piece", "base GB/s", "1 stream", "tables",
              "base / 1");
  for (const std::size_t piece : {std::size_t{4096}, std::size_t{16384}, std::size_t{1} << 20}) {
    std::uint32_t a = 0, b = 0, t = 0;
    const double base = Rate(sluice::Crc32cExtend, buf, piece, a);
    const double table = Rate(sluice::Crc32cExtendPortableForTest, buf, piece, t);
#if defined(__x86_64__)
    const double one = Rate(OneStream, buf, piece, b);
    std::printf("%-10zu %12.2f %12.2f %12.2f %9.2fx\n", piece, base, one, table, base / one);
#else
    b = a;
    std::printf("%-10zu %12.2f %12s %12.2f %10s\n", piece, base, "-", table, "-");
#endif
    if (a != b || a != t) {
      std::fprintf(stderr, "crc32c_bench: the paths disagree (%08x %08x %08x)\n", a, b, t);
      return 1;
    }
  }
  return 0;
}
