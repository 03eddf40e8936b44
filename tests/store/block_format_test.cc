#include "block_format.h"

#include <doctest/doctest.h>

#include <cstring>
#include <limits>
#include <random>

namespace sluice::store {
namespace {

BlockHeader MustParse(const std::string& block) {
  std::size_t need = 0;
  auto h = ParseBlockHeader(block, need);
  REQUIRE_MESSAGE(h.ok(), h.status().ToString());
  return *h;
}

bool SameBits(const Value& a, const Value& b) {
  if (a.index() != b.index()) return false;
  if (a.index() != 0) return a == b;
  return std::memcmp(&std::get<double>(a), &std::get<double>(b), 8) == 0;
}

}  // namespace

TEST_CASE("a block round-trips every value type bit-exact, per series in arrival order") {
  const PartitionId p{3'600'000'000'000, 5, false};
  BlockBuilder b(p);
  std::vector<Record> floats = {{SeriesId{7}, 100, 21.375},
                                {SeriesId{7}, 90, -0.0},
                                {SeriesId{7}, 110, std::numeric_limits<double>::infinity()},
                                {SeriesId{7}, 120, std::numeric_limits<double>::quiet_NaN()}};
  std::vector<Record> ints = {{SeriesId{2}, INT64_MIN, std::int64_t{INT64_MAX}},
                              {SeriesId{2}, INT64_MAX, std::int64_t{INT64_MIN}},
                              {SeriesId{2}, 0, std::int64_t{-1}}};
  std::vector<Record> bools;
  for (int i = 0; i < 19; ++i) bools.push_back({SeriesId{9}, i, i % 3 == 0});
  std::vector<Record> bytes = {{SeriesId{4}, 5, std::string("")},
                               {SeriesId{4}, 6, std::string("\0\xff", 2)}};
  std::uint64_t seq = 10;
  for (const auto* v : {&floats, &ints, &bools, &bytes}) {
    for (const auto& r : *v) b.Add(r, TypeOf(r.value), seq++);
  }
  const std::string block = b.Finish();
  CHECK(block.size() % 4096 == 0);
  CHECK(block.size() >= b.EncodedSize());

  const BlockHeader h = MustParse(block);
  CHECK(h.partition == p);
  CHECK(h.records == 28);
  CHECK(h.seq_min == 10);
  CHECK(h.seq_max == 37);
  CHECK(h.t_min == INT64_MIN);
  CHECK(h.t_max == INT64_MAX);
  REQUIRE(h.series.size() == 4);
  CHECK(h.series[0].series == SeriesId{2});  // ascending ids
  const std::string_view body = std::string_view(block).substr(h.header_len, h.body_len);
  REQUIRE(VerifyBlockBody(body, h).ok());

  auto check = [&](const BlockSeriesEntry& e, const std::vector<Record>& want) {
    auto got = DecodeSeriesChunk(body, e);
    REQUIRE(got.ok());
    REQUIRE(got->size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      CHECK((*got)[i].timestamp_ns == want[i].timestamp_ns);
      CHECK(SameBits((*got)[i].value, want[i].value));
    }
    CHECK(b.Read(e.series).size() == want.size());
  };
  check(h.series[0], ints);
  check(h.series[1], bytes);
  check(h.series[2], floats);
  check(h.series[3], bools);
  CHECK(h.series[2].t_min == 90);
  CHECK(h.series[2].t_max == 120);
}

TEST_CASE("a regular sensor series costs a few bytes per point in a block") {
  BlockBuilder b({0, 0, false});
  std::mt19937 rng(1);
  double v = 20.0;
  for (int i = 0; i < 10000; ++i) {
    v += (static_cast<int>(rng() % 21) - 10) * 0.001;
    b.Add({SeriesId{1}, 1'000'000'000LL * i, v}, ValueType::kFloat64, 1);
  }
  const double per_point = static_cast<double>(b.EncodedSize()) / 10000;
  MESSAGE("block bytes per float64 point: " << per_point);
  CHECK(per_point < 10.0);  // timestamps ~5 B, XOR'd values ~4-5 B
}

TEST_CASE("any flipped bit in header or directory is detected, in the body, by the body CRC") {
  BlockBuilder b({0, 1, true});
  for (int i = 0; i < 50; ++i) b.Add({SeriesId{1u + i % 3}, i, i * 1.5}, ValueType::kFloat64, 1);
  const std::string block = b.Finish();
  const BlockHeader h = MustParse(block);
  const std::size_t used = h.header_len + h.body_len;
  for (std::size_t byte = 0; byte < used; ++byte) {
    std::string bad = block;
    bad[byte] = static_cast<char>(bad[byte] ^ (1 << (byte % 8)));
    std::size_t need = 0;
    auto parsed = ParseBlockHeader(bad, need);
    if (byte < h.header_len) {
      CHECK_FALSE(parsed.ok());
    } else {
      REQUIRE(parsed.ok());
      CHECK_FALSE(VerifyBlockBody(std::string_view(bad).substr(h.header_len, h.body_len), *parsed).ok());
    }
  }
}

TEST_CASE("a short read asks for the bytes the header and directory need") {
  BlockBuilder b({0, 0, false});
  for (std::uint32_t s = 1; s <= 200; ++s) b.Add({SeriesId{s}, 1, true}, ValueType::kBool, 1);
  const std::string block = b.Finish();
  std::size_t need = 0;
  auto first = ParseBlockHeader(std::string_view(block).substr(0, 100), need);
  CHECK_FALSE(first.ok());
  CHECK(need == kBlockHeaderBytes + 200 * kBlockDirEntryBytes);
  CHECK(ParseBlockHeader(std::string_view(block).substr(0, need), need).ok());
}

TEST_CASE("zeros, as found past the last block of a segment, are not a block") {
  std::string zeros(4096, '\0');
  std::size_t need = 0;
  auto h = ParseBlockHeader(zeros, need);
  REQUIRE_FALSE(h.ok());
  CHECK(h.status().code() == StatusCode::kCorruption);
}

}  // namespace sluice::store
