// The column codecs alone: every encoding the writer may choose must decode
// bit-exact, and must refuse bytes that do not hold the promised count.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "float_codec.h"
#include "int_codec.h"
#include "misc_codec.h"

namespace sluice::sync::codec {
namespace {

using I64 = std::numeric_limits<std::int64_t>;

std::vector<std::int64_t> NastyInts() {
  std::vector<std::int64_t> v = {0, 1, -1, I64::max(), I64::min(), I64::min(), I64::max(), 0, 42,
                                 42, -7, I64::min() + 1, I64::max() - 1};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) v.push_back(static_cast<std::int64_t>(rng()));
  for (int i = 0; i < 300; ++i) v.push_back(1'600'000'000'000'000'000 + i * 1'000'000'000LL);
  return v;
}

double Bits(std::uint64_t u) { return std::bit_cast<double>(u); }

std::vector<double> NastyDoubles() {
  std::vector<double> v = {0.0, -0.0, 1.5, -1.5, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(),
                           Bits(0x7ff0000000000001),  // signalling NaN
                           Bits(0xfff8dead0000beef),  // negative NaN with a payload
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                           0.1, 0.2, 0.30000000000000004, 123.456, 9007199254740993.0, 1e300};
  for (int i = 0; i < 500; ++i) v.push_back(20.0 + i * 0.01);  // decimals in disguise
  return v;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

TEST_CASE("integer streams round-trip int64 extremes in both packings") {
  auto ints = NastyInts();
  std::vector<std::uint64_t> words(ints.begin(), ints.end());
  for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference}) {
    std::string out;
    PutIntStream(&out, words, p);
    CHECK(out.size() == IntStreamSize(words, p));
    ByteReader in(out);
    std::vector<std::uint64_t> back;
    REQUIRE(GetIntStream(in, words.size(), &back).ok());
    CHECK(back == words);
    CHECK(in.remaining() == 0);
  }
}

TEST_CASE("timestamps round-trip unordered, duplicate and extreme values") {
  std::vector<std::vector<std::int64_t>> cases = {
      {}, {5}, {I64::min(), I64::max()}, NastyInts(), {3, 3, 3, 2, 1, 10, 10, 9}};
  std::vector<std::int64_t> regular;
  for (int i = 0; i < 1000; ++i) regular.push_back(1'700'000'000'000'000'000 + i * 1'000'000'000LL);
  cases.push_back(regular);
  for (const auto& ts : cases) {
    for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference}) {
      std::string out;
      EncodeTimestamps(ts, p, &out);
      std::vector<std::int64_t> back;
      REQUIRE(DecodeTimestamps(out, ts.size(), &back).ok());
      CHECK(back == ts);
    }
  }
}

TEST_CASE("a regular 1 s clock packs to almost nothing") {
  std::vector<std::int64_t> ts;
  for (int i = 0; i < 10'000; ++i) ts.push_back(1'700'000'000'000'000'000 + i * 1'000'000'000LL);
  std::string out;
  EncodeTimestamps(ts, IntPacking::kFrameOfReference, &out);
  CHECK(out.size() < 200);  // two bytes per 128-value block plus the start
}

TEST_CASE("int64 columns round-trip with and without delta") {
  auto v = NastyInts();
  for (IntTransform t : {IntTransform::kNone, IntTransform::kDelta}) {
    for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference}) {
      std::string out;
      EncodeInt64s(v, t, p, &out);
      std::vector<std::int64_t> back;
      REQUIRE(DecodeInt64s(out, v.size(), &back).ok());
      CHECK(back == v);
    }
  }
}

TEST_CASE("every float codec is bit-exact on NaN payloads, -0.0 and infinities") {
  auto v = NastyDoubles();
  std::vector<double> back;
  std::string raw, xr;
  EncodeFloatRaw(v, &raw);
  REQUIRE(DecodeFloatRaw(raw, v.size(), &back).ok());
  CHECK(SameBits(back, v));
  EncodeFloatXor(v, &xr);
  REQUIRE(DecodeFloatXor(xr, v.size(), &back).ok());
  CHECK(SameBits(back, v));
  for (int e = 0; e <= kMaxDecimalExponent; ++e) {
    for (IntTransform t : {IntTransform::kNone, IntTransform::kDelta}) {
      std::string dec;
      EncodeFloatDecimal(v, e, t, std::nullopt, &dec);
      REQUIRE(DecodeFloatDecimal(dec, v.size(), &back).ok());
      CHECK(SameBits(back, v));
    }
  }
}

TEST_CASE("the decimal codec finds the exponent of decimals in disguise") {
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(90.0 + (i % 37) * 0.0001);  // 4 decimals
  CHECK(ChooseDecimalExponent(v) == 4);
  std::string dec, xr;
  CHECK(EncodeFloatDecimal(v, 4, IntTransform::kDelta, std::nullopt, &dec) == 0);  // no exceptions
  EncodeFloatXor(v, &xr);
  CHECK(dec.size() * 3 < xr.size());
}

TEST_CASE("xor of a constant series costs one bit a value") {
  std::vector<double> v(800, 3.25);
  std::string xr;
  EncodeFloatXor(v, &xr);
  CHECK(xr.size() == 8 + 100);
}

TEST_CASE("bools and bytes round-trip") {
  std::vector<std::uint8_t> b;
  for (int i = 0; i < 77; ++i) b.push_back(i % 3 == 0);
  std::string out;
  EncodeBools(b, &out);
  std::vector<std::uint8_t> bb;
  REQUIRE(DecodeBools(out, b.size(), &bb).ok());
  CHECK(bb == b);
  out.back() = static_cast<char>(out.back() | 0x80);  // a padding bit
  CHECK(!DecodeBools(out, b.size(), &bb).ok());

  std::vector<std::string> s = {"", "a", std::string(1000, 'x'), std::string("\0\xff", 2), ""};
  std::string sb;
  EncodeBytes(s, &sb);
  std::vector<std::string> back;
  REQUIRE(DecodeBytes(sb, s.size(), &back).ok());
  CHECK(back == s);
}

TEST_CASE("decoders refuse a count the bytes cannot hold, without allocating it") {
  std::vector<double> d;
  std::vector<std::int64_t> i;
  std::string one(1, '\x01');
  const std::size_t huge = std::size_t{1} << 60;
  CHECK(DecodeTimestamps(one, huge, &i).code() == StatusCode::kCorruption);
  CHECK(DecodeInt64s("\x01\x02", huge, &i).code() == StatusCode::kCorruption);
  CHECK(DecodeFloatXor(std::string(16, '\0'), huge, &d).code() == StatusCode::kCorruption);
  CHECK(DecodeFloatDecimal(std::string("\x02\x00\x00\x01", 4), huge, &d).code() ==
        StatusCode::kCorruption);
  CHECK(DecodeFloatRaw(std::string(8, '\0'), 2, &d).code() == StatusCode::kCorruption);
}

TEST_CASE("every truncation of an encoded column is refused") {
  auto v = NastyDoubles();
  std::string xr, dec;
  EncodeFloatXor(v, &xr);
  EncodeFloatDecimal(v, 2, IntTransform::kDelta, IntPacking::kFrameOfReference, &dec);
  std::vector<double> back;
  for (std::size_t n = 0; n < xr.size(); ++n) {
    CHECK(!DecodeFloatXor(std::string_view(xr).substr(0, n), v.size(), &back).ok());
  }
  for (std::size_t n = 0; n < dec.size(); ++n) {
    CHECK(!DecodeFloatDecimal(std::string_view(dec).substr(0, n), v.size(), &back).ok());
  }
}

}  // namespace
}  // namespace sluice::sync::codec
