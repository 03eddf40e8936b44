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
