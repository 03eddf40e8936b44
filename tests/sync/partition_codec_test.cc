// The column codecs alone: every encoding the writer may choose must decode
// bit-exact, and must refuse bytes that do not hold the promised count.
#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>

#include "column_codec.h"
#include "datasets.h"
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


// ---- Revision 2: Rice packing, dictionaries, scaled timestamps, decimal digits

std::vector<double> RandomBitPatterns(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> v(n);
  for (auto& d : v) d = Bits(rng());
  return v;
}

std::vector<double> Subnormals() {
  std::vector<double> v;
  for (std::uint64_t m : {1ULL, 2ULL, 3ULL, 0xfffffffffffffULL, 0x8000000000000ULL, 12345ULL}) {
    v.push_back(Bits(m));
    v.push_back(Bits(m | 0x8000000000000000ULL));
  }
  v.push_back(std::numeric_limits<double>::min());  // smallest normal
  return v;
}

// Every decoder path for decimal digits: all transforms and packings.
void CheckDigitsRoundTrip(const std::vector<double>& v, DecimalDigits params) {
  const DecimalDigitsPlan plan = PlanDecimalDigits(v, params);
  for (IntTransform t : {IntTransform::kNone, IntTransform::kDelta, IntTransform::kDictionary}) {
    for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference, IntPacking::kRice}) {
      std::string out;
      EncodeFloatDecimalDigits(plan, t, p, &out);
      std::vector<double> back;
      Status st = DecodeFloatDecimalDigits(out, v.size(), &back, params.float32);
      REQUIRE_MESSAGE(st.ok(), st.ToString() << " P=" << params.digits << " qmin=" << params.qmin);
      CHECK_MESSAGE(SameBits(back, v), "P=" << params.digits << " qmin=" << params.qmin
                                            << " transform " << int(t) << " packing " << int(p));
    }
  }
}

TEST_CASE("Rice streams round-trip int64 extremes and are refused by first-revision codecs") {
  auto ints = NastyInts();
  std::vector<std::uint64_t> words(ints.begin(), ints.end());
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{127}, std::size_t{128},
                        std::size_t{129}, words.size()}) {
    std::span<const std::uint64_t> w(words.data(), n);
    std::string out;
    PutIntStream(&out, w, IntPacking::kRice);
    CHECK(out.size() == IntStreamSize(w, IntPacking::kRice));
    ByteReader in(out);
    std::vector<std::uint64_t> back;
    REQUIRE(GetIntStream(in, n, &back, StreamRevision::kV2).ok());
    CHECK(back == std::vector<std::uint64_t>(w.begin(), w.end()));
    CHECK(in.remaining() == 0);
    ByteReader v1(out);
    CHECK(GetIntStream(v1, n, &back, StreamRevision::kV1).code() == StatusCode::kCorruption);
  }
}

TEST_CASE("Rice beats frame of reference on noisy residuals") {
  // Laplacian, like the deltas of a noisy sensor: the outliers widen a frame.
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> e(1.0 / 1000);
  std::vector<std::uint64_t> w;
  for (int i = 0; i < 4096; ++i) {
    w.push_back(static_cast<std::uint64_t>(std::llround(e(rng) - e(rng))));
  }
  CHECK(IntStreamSize(w, IntPacking::kRice) * 100 <
        IntStreamSize(w, IntPacking::kFrameOfReference) * 93);
  CHECK(SmallestPacking(w, StreamRevision::kV2) == IntPacking::kRice);
  CHECK(SmallestPacking(w) != IntPacking::kRice);
}

TEST_CASE("dictionary columns round-trip and refuse codes outside the dictionary") {
  std::vector<std::int64_t> v;
  for (int i = 0; i < 1000; ++i) v.push_back(std::array<std::int64_t, 4>{I64::min(), -5, 7, I64::max()}[i * 7 % 4]);
  CHECK(FewDistinct(v, 4));
  CHECK(!FewDistinct(v, 3));
  for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference, IntPacking::kRice}) {
    std::string out;
    EncodeInt64s(v, IntTransform::kDictionary, p, &out);
    std::vector<std::int64_t> back;
    REQUIRE(DecodeInt64s(out, v.size(), &back, StreamRevision::kV2).ok());
    CHECK(back == v);
    CHECK(DecodeInt64s(out, v.size(), &back).code() == StatusCode::kCorruption);  // revision 1
  }
  // Dictionary {3} and one code 1: out of range.
  std::string bad("\x02\x01\x01\x06\x01\x02", 6);
  std::vector<std::int64_t> back;
  CHECK(DecodeInt64s(bad, 1, &back, StreamRevision::kV2).code() == StatusCode::kCorruption);
}

TEST_CASE("scaled timestamps round-trip any sequence and shrink a whole-second clock") {
  std::vector<std::vector<std::int64_t>> cases = {
      {}, {5}, {I64::min(), I64::max()}, {I64::max(), I64::min(), 0}, NastyInts(),
      {3, 3, 3, 2, 1, 10, 10, 9}};
  std::vector<std::int64_t> seconds;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 5000; ++i) {
    seconds.push_back(1'600'000'000'000'000'000 + (i + (rng() % 10 == 0)) * 1'000'000'000LL);
  }
  cases.push_back(seconds);
  for (const auto& ts : cases) {
    for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference, IntPacking::kRice}) {
      std::string out;
      EncodeScaledTimestamps(ts, TimestampUnit(ts), p, &out);
      std::vector<std::int64_t> back;
      REQUIRE(DecodeScaledTimestamps(out, ts.size(), &back).ok());
      CHECK(back == ts);
    }
  }
  CHECK(TimestampUnit(seconds) == 1'000'000'000);
  std::string scaled, plain;
  EncodeScaledTimestamps(seconds, TimestampUnit(seconds), IntPacking::kRice, &scaled);
  EncodeTimestamps(seconds, IntPacking::kFrameOfReference, &plain);
  CHECK(scaled.size() * 5 < plain.size());
}

TEST_CASE("decimal digits are bit-exact on NaN payloads, -0.0, infinities, subnormals, random bits") {
  std::vector<double> v = NastyDoubles();
  auto sub = Subnormals();
  v.insert(v.end(), sub.begin(), sub.end());
  auto rnd = RandomBitPatterns(300, 11);
  v.insert(v.end(), rnd.begin(), rnd.end());
  for (int p : {1, 2, 6, 9, 15, 16}) {
    for (int q : {-22, -18, -7, -1, 0, 3, 21, 22}) CheckDigitsRoundTrip(v, {p, q});
  }
  CheckDigitsRoundTrip(v, ChooseDecimalDigits(v));
  CheckDigitsRoundTrip(RandomBitPatterns(1000, 12), ChooseDecimalDigits(RandomBitPatterns(1000, 12)));
  CheckDigitsRoundTrip({}, {6, -3});
  // Over float32 decimals (codec 14): the same values, including those no
  // float32 holds (out of its range, subnormal in float64, NaN payloads).
  for (int p : {1, 6, 9, 16}) {
    for (int q : {-22, -3, 0, 22}) CheckDigitsRoundTrip(v, {p, q, true});
  }
  CheckDigitsRoundTrip(v, ChooseDecimalDigits(v, true));
  CheckDigitsRoundTrip({}, {6, -3, true});
}

// Fills this much of the stack below the caller with `fill`, so that a
// callee reading bytes it never wrote sees them.
[[gnu::noinline]] void PaintStack(char fill) {
  volatile char area[16384];
  for (std::size_t i = 0; i < sizeof(area); ++i) area[i] = fill;
}

TEST_CASE("the decimal-digits choice does not depend on stale stack bytes") {
  // Regression: the exponent of a shortest decimal was read with atoi from a
  // to_chars buffer without a terminating NUL, so digits left on the stack
  // by earlier calls became part of it, and the codec chosen for the same
  // column changed from run to run.
  const testing::CsvTable t = testing::Float32Readings(4, 600, 21);
  for (const std::vector<double>& v : t.columns) {
    std::vector<DecimalDigits> seen;
    for (char fill : {'\0', '9', '5', 'e'}) {
      PaintStack(fill);
      seen.push_back(ChooseDecimalDigits(v, true));
      PaintStack(fill);
      seen.push_back(ChooseDecimalDigits(v, false));
    }
    for (std::size_t i = 2; i < seen.size(); ++i) {
      CHECK(seen[i].digits == seen[i % 2].digits);
      CHECK(seen[i].qmin == seen[i % 2].qmin);
      CHECK(seen[i].float32 == seen[i % 2].float32);
    }
  }
}

TEST_CASE("readings that passed through float32 are float32 decimals plus small exceptions") {
  const testing::CsvTable t = testing::Float32Readings(8, 3600, 21);
  std::size_t k3_total = 0, k2_total = 0;
  std::set<ChunkCodec> chosen;
  ChunkCompressor z(3);
  for (const std::vector<double>& v : t.columns) {
    REQUIRE(LooksFloat32(v));
    const DecimalDigits d = ChooseDecimalDigits(v, true);
    CHECK(d.float32);
    // Fixed point at the readings' thousandths, or float32's shortest
    // decimals (at most 9 digits).
    CHECK((d.digits <= 9 || d.qmin >= -3));
    const DecimalDigitsPlan plan = PlanDecimalDigits(v, d);
    // Exceptions are the readings 1-3 ulps off their float32, no others.
    for (std::uint64_t c : plan.exception_corrections) CHECK(c <= 6);
    CheckDigitsRoundTrip(v, d);
    const EncodedChunk k3 = ChooseChunk(ValueCandidates(ValueColumn{v}, true, CodecRevision::k3),
                                        CodecSelection::kSmallestCompressed, &z);
    const EncodedChunk k2 = ChooseChunk(ValueCandidates(ValueColumn{v}, true, CodecRevision::k2),
                                        CodecSelection::kSmallestCompressed, &z);
    CHECK(k2.codec != ChunkCodec::kFloatDecimalDigits32);
    CHECK(k3.stored.size() <= k2.stored.size());
    chosen.insert(k3.codec);
    k3_total += k3.stored.size();
    k2_total += k2.stored.size();
  }
  MESSAGE("float32-origin columns: revision 3 " << k3_total << " bytes, revision 2 " << k2_total);
  CHECK(k3_total * 100 < k2_total * 85);
  CHECK(chosen.count(ChunkCodec::kFloatDecimalDigits32) + chosen.count(ChunkCodec::kFloatDictionary) > 0);
  CHECK(!LooksFloat32(std::vector<double>{0.1, 0.2, 0.3, 1.7, 2.9}));
}

TEST_CASE("float dictionaries are bit-exact, smaller on a few held levels, and refuse bad codes") {
  // A few levels of arbitrary bits, held for runs: NaN payloads, -0.0 and
  // +0.0, infinities, values no decimal index hits.
  std::vector<double> levels = NastyDoubles();
  levels.resize(std::min<std::size_t>(levels.size(), 24));
  std::mt19937_64 rng(9);
  std::vector<double> v;
  while (v.size() < 5000) {
    const double x = levels[rng() % levels.size()];
    for (std::uint64_t n = 1 + rng() % 20; n > 0; --n) v.push_back(x);
  }
  FloatDictionary dict;
  REQUIRE(BuildFloatDictionary(v, v.size() / 4, &dict));
  CHECK(!BuildFloatDictionary(v, dict.values.size() - 1, &dict));
  REQUIRE(BuildFloatDictionary(v, v.size() / 4, &dict));
  for (ChunkCodec inner : {ChunkCodec::kFloatRaw, ChunkCodec::kFloatXor}) {
    std::string values;
    if (inner == ChunkCodec::kFloatRaw) EncodeFloatRaw(dict.values, &values);
    else EncodeFloatXor(dict.values, &values);
    for (IntPacking p : {IntPacking::kZigzagVarint, IntPacking::kFrameOfReference, IntPacking::kRice}) {
      std::string out;
      EncodeFloatDictionary(dict, inner, values, p, &out);
      std::vector<double> back;
      REQUIRE(DecodeFloatDictionary(out, v.size(), &back).ok());
      CHECK(SameBits(back, v));
    }
  }
  ChunkCompressor z(3);
  const EncodedChunk best = ChooseChunk(ValueCandidates(ValueColumn{v}, true, CodecRevision::k3),
                                        CodecSelection::kSmallestCompressed, &z);
  CHECK(best.codec == ChunkCodec::kFloatDictionary);
  ValueColumn column;
  REQUIRE(DecodeValues(best.codec, store::ValueType::kFloat64,
                       best.compression == ChunkCompression::kZstd
                           ? *DecompressChunk(best.stored, best.raw_length)
                           : best.stored,
                       v.size(), &column)
              .ok());
  CHECK(SameBits(std::get<std::vector<double>>(column), v));
  std::vector<double> back;
  // Damage: a dictionary larger than the column, a dictionary of
  // dictionaries, a code past the dictionary.
  std::string raw;
  EncodeFloatRaw(dict.values, &raw);
  std::string good;
  EncodeFloatDictionary(dict, ChunkCodec::kFloatRaw, raw, IntPacking::kZigzagVarint, &good);
  CHECK(DecodeFloatDictionary(good, dict.values.size() - 1, &back).code() == StatusCode::kCorruption);
  std::string nested = good;
  nested[1] = static_cast<char>(ChunkCodec::kFloatDictionary);
  CHECK(DecodeFloatDictionary(nested, v.size(), &back).code() == StatusCode::kCorruption);
  FloatDictionary wrong = dict;
  wrong.codes[17] = static_cast<std::int64_t>(dict.values.size());
  std::string past;
  EncodeFloatDictionary(wrong, ChunkCodec::kFloatRaw, raw, IntPacking::kZigzagVarint, &past);
  CHECK(DecodeFloatDictionary(past, v.size(), &back).code() == StatusCode::kCorruption);
}

TEST_CASE("six significant digits across a power of ten stay small deltas") {
  // %g-style: 0.0999951, 0.0999952, ... then 0.100000, 0.100001, ...
  std::vector<double> v;
  for (int i = 0; i < 2000; ++i) {
    const long long n = 999000 + i * 3;  // crosses 10^6 at i = 334
    v.push_back(n < 1000000 ? static_cast<double>(n) / 1e7 : static_cast<double>(n / 10) / 1e6);
  }
  const DecimalDigits d = ChooseDecimalDigits(v);
  CHECK(d.digits == 6);
  const DecimalDigitsPlan plan = PlanDecimalDigits(v, d);
  CHECK(plan.exception_positions.empty());
  std::string digits, fixed;
  EncodeFloatDecimalDigits(plan, IntTransform::kDelta, IntPacking::kRice, &digits);
  EncodeFloatDecimalDigits(PlanDecimalDigits(v, {kMaxDigits, -7}), IntTransform::kDelta,
                           IntPacking::kRice, &fixed);
  CHECK(digits.size() < fixed.size());
  CheckDigitsRoundTrip(v, d);
}

TEST_CASE("a decimal printed a few ulps off costs a few bytes, not eight") {
  // NAB-style: 74.93588199999998 is 74.935882 off by ulps.
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(70.0 + i * 0.00000001 * 1234567);
  v[500] = 74.93588199999998;
  v[600] = std::nextafter(v[600], 1e9);
  const DecimalDigitsPlan plan = PlanDecimalDigits(v, ChooseDecimalDigits(v));
  CHECK(plan.params.qmin >= -8);
  REQUIRE(plan.exception_positions.size() >= 2);
  for (std::uint64_t c : plan.exception_corrections) CHECK(c < 16);
  CheckDigitsRoundTrip(v, plan.params);
}

TEST_CASE("revision-2 decoders refuse truncations and lying counts") {
  std::vector<double> v = NastyDoubles();
  std::string dec;
  EncodeFloatDecimalDigits(PlanDecimalDigits(v, ChooseDecimalDigits(v)), IntTransform::kDelta,
                           IntPacking::kRice, &dec);
  std::vector<double> back;
  for (std::size_t n = 0; n < dec.size(); ++n) {
    CHECK(!DecodeFloatDecimalDigits(std::string_view(dec).substr(0, n), v.size(), &back).ok());
  }
  std::vector<std::int64_t> ts = NastyInts(), tback;
  std::string t;
  EncodeScaledTimestamps(ts, TimestampUnit(ts), IntPacking::kRice, &t);
  for (std::size_t n = 0; n < t.size(); ++n) {
    CHECK(!DecodeScaledTimestamps(std::string_view(t).substr(0, n), ts.size(), &tback).ok());
  }
  const std::size_t huge = std::size_t{1} << 60;
  CHECK(DecodeFloatDecimalDigits(dec, huge, &back).code() == StatusCode::kCorruption);
  CHECK(DecodeScaledTimestamps(t, huge, &tback).code() == StatusCode::kCorruption);
  // Bad parameters: 17 digits, an exponent beyond 10^22, a zero unit.
  CHECK(!DecodeFloatDecimalDigits(std::string("\x11\x00\x00\x00\x03", 5), 0, &back).ok());
  CHECK(!DecodeFloatDecimalDigits(std::string("\x06\x2e\x00\x00\x03", 5), 0, &back).ok());
  CHECK(!DecodeScaledTimestamps(std::string("\x00\x00\x01\x00", 4), 2, &tback).ok());
}

TEST_CASE("an index beyond 10^22 is refused, not decoded to garbage") {
  // P = 1, qmin = 21: indices 0..9 at 10^21, then 10..18 at 10^22; 19 is out.
  std::string chunk("\x01\x2a\x00", 3);  // digits 1, zigzag(21) = 42, no exceptions
  chunk += std::string("\x00\x01\x26", 3);  // transform none, varint packing, zigzag(19)
  std::vector<double> back;
  CHECK(DecodeFloatDecimalDigits(chunk, 1, &back).code() == StatusCode::kCorruption);
  chunk.back() = 0x24;  // 18: 9e22
  REQUIRE(DecodeFloatDecimalDigits(chunk, 1, &back).ok());
  CHECK(back[0] == 9e22);
}

}  // namespace
}  // namespace sluice::sync::codec
