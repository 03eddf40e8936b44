#include "batch_format.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace sluice::store {

TEST_CASE("a batch round-trips bit-exact through its encoding") {
  Batch in = {
      {SeriesId{1}, 1'764'100'800'000'000'000, 21.375},
      {SeriesId{1}, 1'764'100'801'000'000'000, -0.0},
      {SeriesId{2}, 5, std::numeric_limits<double>::quiet_NaN()},
      {SeriesId{3}, std::numeric_limits<std::int64_t>::min(), std::int64_t{-7}},
      {SeriesId{4}, std::numeric_limits<std::int64_t>::max(), true},
      {SeriesId{5}, 0, std::string("\x00\x01raw", 5)},
      {SeriesId{4'000'000'000u}, -1, std::numeric_limits<std::int64_t>::max()},
  };
  std::string bytes;
  EncodeBatch(in, -42, bytes);
  auto decoded = DecodeBatch(bytes, 1024);
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().ToString());
  CHECK(decoded->arrival_ns == -42);
  const Batch* out = &decoded->records;
  REQUIRE(out->size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    CHECK((*out)[i].series == in[i].series);
    CHECK((*out)[i].timestamp_ns == in[i].timestamp_ns);
    REQUIRE((*out)[i].value.index() == in[i].value.index());
    if (in[i].value.index() == 0) {  // compare bits: NaN and -0.0 must survive
      double a = std::get<double>(in[i].value), b = std::get<double>((*out)[i].value);
      CHECK(std::memcmp(&a, &b, 8) == 0);
    } else {
      CHECK((*out)[i].value == in[i].value);
    }
  }
}

// The tag byte of a one-record batch holding `v` (count, arrival, series,
// delta: one byte each here), and whether `v` comes back bit for bit.
std::pair<int, bool> FloatTag(double v) {
  std::string bytes;
  EncodeBatch({{SeriesId{1}, 0, v}}, 0, bytes);
  auto decoded = DecodeBatch(bytes, 1024);
  REQUIRE(decoded.ok());
  const double back = std::get<double>(decoded->records[0].value);
  return {static_cast<unsigned char>(bytes[4]), std::memcmp(&back, &v, 8) == 0};
}

TEST_CASE("float64 decimals are written as scaled integers and come back bit for bit") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    double v;
    int tag;  // 1: the raw IEEE-754 bits; 16 + d: a decimal with d digits
  };
  const Case cases[] = {
      {21.375, 16 + 3},       {0.026173, 16 + 6},    {-12.5, 16 + 1},
      {73.96732207, 16 + 8},  {1e-15, 16 + 15},      {123456789.123, 16 + 3},
      {0.0, 16},              {-0.0, 1},             {42.0, 16},
      {0.1 + 0.2, 1},         {1.0 / 3, 1},          {nan, 1},
      {inf, 1},               {-inf, 1},             {std::numeric_limits<double>::denorm_min(), 1},
      {9007199254740991.0, 16}, {9007199254740992.0, 1}, {std::numeric_limits<double>::max(), 1},
      {1e-16, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.v);
    const auto [tag, exact] = FloatTag(c.v);
    CHECK(exact);
    CHECK(tag == c.tag);
  }
  // Every value with up to 6 decimals in a sensor-like range, and noise.
  std::uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 100000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const double decimal = static_cast<double>(static_cast<std::int64_t>(x % 2000000001) - 1000000000) / 1e6;
    double noise;
    std::memcpy(&noise, &x, 8);
    CHECK(FloatTag(decimal).second);
    CHECK(FloatTag(noise).second);
  }
}

TEST_CASE("sensor decimals cost about half of their raw bits in a batch") {
  Batch in;
  for (int i = 0; i < 1000; ++i) {  // 1 s apart, 6 decimals, as SKAB's accelerometers
    // As parsed from text: the double nearest each decimal.
    in.push_back({SeriesId{7}, 1'764'100'800'000'000'000 + i * 1'000'000'000LL, (26173 + i) / 1e6});
  }
  std::string bytes;
  EncodeBatch(in, 0, bytes);
  // series(1) + delta(5) + tag(1) + zigzag(26173..27172)(3): 10 bytes, not 15
  CHECK(bytes.size() <= 1000 * 10 + 16);
  auto decoded = DecodeBatch(bytes, 1024);
  REQUIRE(decoded.ok());
  for (std::size_t i = 0; i < in.size(); ++i) CHECK(decoded->records[i].value == in[i].value);
}

TEST_CASE("regular timestamps cost about two bytes each") {
  Batch in;
  for (int i = 0; i < 1000; ++i) {
    in.push_back({SeriesId{1}, 1'764'100'800'000'000'000 + i * 1'000'000'000LL, true});
  }
  std::string bytes;
  EncodeBatch(in, 0, bytes);
  // series(1) + delta(5, 1 s in ns as zigzag varint) + tag(1) + bool(1)
  CHECK(bytes.size() < 1000 * 9 + 16);
}

TEST_CASE("every truncation of a valid batch is reported as corruption, never a crash") {
  Batch in = {{SeriesId{1}, 10, 1.5}, {SeriesId{2}, 20, std::string("abc")},
              {SeriesId{3}, 30, std::int64_t{1} << 40}};
  std::string bytes;
  EncodeBatch(in, 0, bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto out = DecodeBatch(std::string_view(bytes).substr(0, n), 1024);
    CHECK_FALSE(out.ok());
    CHECK(out.status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("malformed batches name the record and the reason") {
  std::string bytes;
  EncodeBatch(Batch{{SeriesId{1}, 10, true}}, 0, bytes);
  bytes.back() = 2;  // bool must be 0 or 1
  auto bad_bool = DecodeBatch(bytes, 16);
  REQUIRE_FALSE(bad_bool.ok());
  CHECK(bad_bool.status().message() == "batch: record 0: bool is neither 0 nor 1");

  bytes.clear();
  EncodeBatch(Batch{{SeriesId{1}, 10, std::string(100, 'x')}}, 0, bytes);
  auto too_long = DecodeBatch(bytes, 99);
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.status().message().find("longer than max_value_bytes") != std::string::npos);

  auto trailing = DecodeBatch(bytes + "z", 1024);
  REQUIRE_FALSE(trailing.ok());
  CHECK(trailing.status().message().find("trailing") != std::string::npos);

  // A huge count with few bytes must not allocate for the count.
  std::string huge = "\xff\xff\xff\xff\x0f";
  CHECK(DecodeBatch(huge, 1024).status().code() == StatusCode::kCorruption);
}

}  // namespace sluice::store
