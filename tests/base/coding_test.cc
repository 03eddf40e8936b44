#include "base/coding.h"

#include <doctest/doctest.h>

#include <limits>
#include <string>
#include <vector>

namespace sluice {
namespace {

using U64 = std::numeric_limits<std::uint64_t>;
using I64 = std::numeric_limits<std::int64_t>;

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

}  // namespace

TEST_CASE("fixed-width words are little-endian") {
  std::string out;
  PutFixed16(out, 0x0102);
  PutFixed32(out, 0x03040506u);
  PutFixed64(out, 0x0708090a0b0c0d0eull);
  CHECK(out == Bytes({0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09,
                      0x08, 0x07}));
  CHECK(LoadFixed32(out.data() + 2) == 0x03040506u);
  CHECK(LoadFixed64(out.data() + 6) == 0x0708090a0b0c0d0eull);
}

TEST_CASE("varints are LEB128, seven bits a byte, low groups first") {
  auto enc = [](std::uint64_t v) {
    std::string s;
    PutVarint64(s, v);
    return s;
  };
  CHECK(enc(0) == Bytes({0x00}));
  CHECK(enc(127) == Bytes({0x7f}));
  CHECK(enc(128) == Bytes({0x80, 0x01}));
  CHECK(enc(300) == Bytes({0xac, 0x02}));
  CHECK(enc(U64::max()) ==
        Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST_CASE("VarintLength is the number of bytes PutVarint64 appends") {
  for (int bits = 0; bits <= 64; ++bits) {
    for (std::uint64_t v : {bits == 64 ? U64::max() : (std::uint64_t{1} << bits) - 1,
                            bits == 64 ? U64::max() : std::uint64_t{1} << bits}) {
      std::string s;
      PutVarint64(s, v);
      CHECK_MESSAGE(VarintLength(v) == s.size(), v);
    }
  }
}

TEST_CASE("ZigZag maps small magnitudes to small numbers and round-trips the extremes") {
  CHECK(ZigZag(0) == 0);
  CHECK(ZigZag(-1) == 1);
  CHECK(ZigZag(1) == 2);
  CHECK(ZigZag(-2) == 3);
  CHECK(ZigZag(I64::max()) == U64::max() - 1);
  CHECK(ZigZag(I64::min()) == U64::max());
  for (std::int64_t v : {I64::min(), I64::min() + 1, std::int64_t{-300}, std::int64_t{-1},
                         std::int64_t{0}, std::int64_t{1}, std::int64_t{300}, I64::max()}) {
    CHECK(UnZigZag(ZigZag(v)) == v);
  }
}

TEST_CASE("everything written reads back in order through ByteReader") {
  const std::vector<std::uint64_t> values = {0,   1,        127,           128,
                                             300, 1u << 31, U64::max() / 3, U64::max()};
  std::string out;
  for (std::uint64_t v : values) {
    PutVarint64(out, v);
    PutFixed64(out, v);
    PutFixed32(out, static_cast<std::uint32_t>(v));
    PutFixed16(out, static_cast<std::uint16_t>(v));
    out.push_back(static_cast<char>(v));
  }
  out += "tail";
  ByteReader in(out);
  for (std::uint64_t v : values) {
    std::uint64_t var = 0, f64 = 0;
    std::uint32_t f32 = 0;
    std::uint16_t f16 = 0;
    std::uint8_t b = 0;
    REQUIRE(in.GetVarint64(var));
    REQUIRE(in.GetFixed64(f64));
    REQUIRE(in.GetFixed32(f32));
    REQUIRE(in.GetFixed16(f16));
    REQUIRE(in.GetByte(b));
    CHECK(var == v);
    CHECK(f64 == v);
    CHECK(f32 == static_cast<std::uint32_t>(v));
    CHECK(f16 == static_cast<std::uint16_t>(v));
    CHECK(b == static_cast<std::uint8_t>(v));
  }
  CHECK(in.rest() == "tail");
  std::string_view tail;
  REQUIRE(in.GetBytes(4, tail));
  CHECK(tail == "tail");
  CHECK(in.remaining() == 0);
  CHECK(in.position() == out.size());
}

TEST_CASE("a truncated input fails every getter and leaves the reader failed") {
  std::string full;
  PutVarint64(full, U64::max());
  PutFixed64(full, 42);
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    ByteReader in(std::string_view(full).substr(0, cut));
    std::uint64_t v = 7, w = 7;
    const bool ok = in.GetVarint64(v) && in.GetFixed64(w);
    CHECK_FALSE_MESSAGE(ok, cut);
    CHECK(in.remaining() == 0);
    std::uint8_t b;
    CHECK_FALSE(in.GetByte(b));
  }
  ByteReader in("abc");
  std::string_view s;
  CHECK_FALSE(in.GetBytes(4, s));
  CHECK(in.remaining() == 0);
  ByteReader skip("abc");
  CHECK(skip.Skip(2));
  CHECK_FALSE(skip.Skip(2));
  CHECK(skip.remaining() == 0);
}

TEST_CASE("a varint longer than 64 bits is refused, and the value left alone") {
  // Ten bytes whose last carries more than bit 63.
  const std::string over = Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02});
  std::uint64_t v = 7;
  ByteReader a(over);
  CHECK_FALSE(a.GetVarint64(v));
  CHECK(v == 7);
  // Eleven bytes: continuation on the tenth.
  const std::string eleven =
      Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00});
  ByteReader b(eleven);
  CHECK_FALSE(b.GetVarint64(v));
  // A continuation bit on the last byte of the input.
  const std::string open = Bytes({0x80});
  ByteReader c(open);
  CHECK_FALSE(c.GetVarint64(v));
  CHECK(v == 7);
}

}  // namespace sluice
