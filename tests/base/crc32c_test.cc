#include "base/crc32c.h"

#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace sluice {
std::uint32_t Crc32cExtendPortableForTest(std::uint32_t crc, const void* data, std::size_t n);

TEST_CASE("CRC32C matches the published check values") {
  // RFC 3720 (iSCSI), appendix B.4.
  std::vector<unsigned char> zeros(32, 0x00), ones(32, 0xff), inc(32);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<unsigned char>(i);
  CHECK(Crc32c(zeros.data(), zeros.size()) == 0x8a9136aau);
  CHECK(Crc32c(ones.data(), ones.size()) == 0x62a8ab43u);
  CHECK(Crc32c(inc.data(), inc.size()) == 0x46dd794eu);
  CHECK(Crc32c("123456789", 9) == 0xe3069283u);
}

TEST_CASE("the hardware and table paths agree at every length and alignment") {
  std::mt19937 rng(7);
  std::vector<unsigned char> buf(4096 + 16);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (std::size_t off = 0; off < 8; ++off) {
    for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 1000u, 4096u}) {
      CHECK(Crc32cExtend(0, buf.data() + off, n) ==
            Crc32cExtendPortableForTest(0, buf.data() + off, n));
    }
  }
}

TEST_CASE("long inputs (three streams joined) agree with the table path, from any state") {
  // Around every boundary of the three-stream loops (3 x 256 and 3 x 4096
  // bytes) and well past them, at every alignment, from a zero state and
  // from another input's.
  std::mt19937 rng(11);
  std::vector<unsigned char> buf(64 * 1024 + 64);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  std::vector<std::size_t> lengths;
  for (std::size_t base : {768u, 1536u, 12288u, 24576u, 36864u}) {
    for (std::size_t d = 0; d < 17; ++d) {
      lengths.push_back(base + d);
      lengths.push_back(base - d);
    }
  }
  for (int i = 0; i < 40; ++i) lengths.push_back(rng() % (64 * 1024));
  for (std::size_t off = 0; off < 8; ++off) {
    for (std::size_t n : lengths) {
      for (std::uint32_t from : {0u, 0xe3069283u}) {
        CHECK(Crc32cExtend(from, buf.data() + off, n) ==
              Crc32cExtendPortableForTest(from, buf.data() + off, n));
      }
    }
  }
  const std::vector<unsigned char> zeros(50000, 0);
  CHECK(Crc32cExtend(0, zeros.data(), zeros.size()) ==
        Crc32cExtendPortableForTest(0, zeros.data(), zeros.size()));
}

TEST_CASE("extending in pieces equals one pass") {
  const std::string s = "sensor/line-1/press-3/temperature 21.375";
  const auto whole = Crc32c(s.data(), s.size());
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    CHECK(Crc32cExtend(Crc32c(s.data(), cut), s.data() + cut, s.size() - cut) == whole);
  }
}

TEST_CASE("the span overload and the empty input") {
  const std::string s = "123456789";
  CHECK(Crc32c(std::as_bytes(std::span(s.data(), s.size()))) == 0xe3069283u);
  CHECK(Crc32c(nullptr, 0) == 0u);
  CHECK(Crc32cExtend(0xe3069283u, nullptr, 0) == 0xe3069283u);
}

TEST_CASE("the masked form is LevelDB's: rotate right by 15, add 0xa282ead8") {
  CHECK(MaskCrc(0) == 0xa282ead8u);
  CHECK(MaskCrc(0xe3069283u) == ((0xe3069283u >> 15 | 0xe3069283u << 17) + 0xa282ead8u));
  CHECK(UnmaskCrc(0xa282ead8u) == 0u);
}

TEST_CASE("masking round-trips and changes the value") {
  for (std::uint32_t v : {0u, 1u, 0xe3069283u, 0xffffffffu}) {
    CHECK(UnmaskCrc(MaskCrc(v)) == v);
    CHECK(MaskCrc(v) != v);
  }
}

}  // namespace sluice
