#include "block_format.h"

#include <doctest/doctest.h>

#include <bit>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
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
    auto got = DecodeSeriesChunk(body, h, e);
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
  std::int64_t milli = 20000;  // a random walk of 3-decimal readings
  std::vector<Record> want;
  for (int i = 0; i < 10000; ++i) {
    milli += static_cast<int>(rng() % 21) - 10;
    want.push_back({SeriesId{1}, 1'000'000'000LL * i, static_cast<double>(milli) / 1000});
    b.Add(want.back(), ValueType::kFloat64, 1);
  }
  const double per_point = static_cast<double>(b.EncodedSize()) / 10000;
  MESSAGE("block bytes per float64 point: " << per_point);
  CHECK(per_point < 2.5);  // timestamp 1 B, the decimal's change 1 B
  const std::string block = b.Finish();
  const BlockHeader h = MustParse(block);
  CHECK(block.size() >= h.header_len + h.body_len);
  CHECK(h.header_len + h.body_len <= b.EncodedSize());
  auto got = DecodeSeriesChunk(std::string_view(block).substr(h.header_len), h, h.series[0]);
  REQUIRE(got.ok());
  REQUIRE(got->size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK((*got)[i].timestamp_ns == want[i].timestamp_ns);
    CHECK(SameBits((*got)[i].value, want[i].value));
  }
}

namespace {

// Decodes every chunk of `block` and checks it against `want` (by series,
// in arrival order), bit for bit; and the builder's own Read.
void CheckBlock(const BlockBuilder& b, const std::map<std::uint32_t, std::vector<Record>>& want) {
  const std::string block = b.Finish();
  const BlockHeader h = MustParse(block);
  CHECK(h.version == kBlockVersion);
  CHECK(h.header_len + h.body_len <= b.EncodedSize());
  const std::string_view body = std::string_view(block).substr(h.header_len, h.body_len);
  REQUIRE(VerifyBlockBody(body, h).ok());
  REQUIRE(h.series.size() == want.size());
  for (const BlockSeriesEntry& e : h.series) {
    const auto& records = want.at(e.series.value);
    auto got = DecodeSeriesChunk(body, h, e);
    REQUIRE_MESSAGE(got.ok(), got.status().ToString());
    REQUIRE(got->size() == records.size());
    const std::vector<Record> read = b.Read(e.series);
    REQUIRE(read.size() == records.size());
    std::int64_t t_min = INT64_MAX, t_max = INT64_MIN;
    for (std::size_t i = 0; i < records.size(); ++i) {
      CAPTURE(e.series.value);
      CAPTURE(i);
      CHECK((*got)[i].timestamp_ns == records[i].timestamp_ns);
      CHECK(SameBits((*got)[i].value, records[i].value));
      CHECK(SameBits(read[i].value, records[i].value));
      t_min = std::min(t_min, records[i].timestamp_ns);
      t_max = std::max(t_max, records[i].timestamp_ns);
    }
    CHECK(e.t_min == t_min);
    CHECK(e.t_max == t_max);
  }
}

}  // namespace

TEST_CASE("float64 chunks keep decimals as integers, raising their digits or turning to bits as "
          "values need, bit-exact") {
  const PartitionId p{7'200'000'000'000, 2, false};
  std::map<std::uint32_t, std::vector<Record>> want;
  want[1] = {{SeriesId{1}, 7'200'000'000'000, 1.5}, {SeriesId{1}, 7'201'000'000'000, 2.25},
             {SeriesId{1}, 7'202'000'000'000, 3.125}, {SeriesId{1}, 7'203'000'000'000, -4.0}};
  // Decimals, then values no decimal gives back bit for bit.
  want[2] = {{SeriesId{2}, 7'200'000'000'000, 0.1},
             {SeriesId{2}, 7'200'500'000'000, -0.0},
             {SeriesId{2}, 7'201'000'000'000, std::numeric_limits<double>::quiet_NaN()},
             {SeriesId{2}, 7'201'500'000'000, 0.2},
             {SeriesId{2}, 7'202'000'000'000, std::numeric_limits<double>::infinity()},
             {SeriesId{2}, 7'202'500'000'000, 1.0 / 3}};
  // A large integer and then a fraction: m would reach 2^53 at more digits.
  want[3] = {{SeriesId{3}, 7'200'000'000'000, 1e15}, {SeriesId{3}, 7'200'000'000'001, 0.5},
             {SeriesId{3}, 7'200'000'000'002, 123.456}};
  // Timestamps before the window (a late partition holds such) and far after.
  want[4] = {{SeriesId{4}, INT64_MIN, 26.0}, {SeriesId{4}, 0, 26.01},
             {SeriesId{4}, INT64_MAX, 0.000000000000001}, {SeriesId{4}, 5, 1e-300}};
  BlockBuilder b(p);
  std::uint64_t seq = 1;
  // Interleaved, as records arrive.
  for (std::size_t i = 0; i < 6; ++i) {
    for (auto& [id, records] : want) {
      if (i < records.size()) b.Add(records[i], ValueType::kFloat64, seq++);
    }
  }
  CheckBlock(b, want);
}

TEST_CASE("random chunks of every type round-trip, in any order of arrival") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    const PartitionId p{static_cast<std::int64_t>(rng() % 1000) * 3'600'000'000'000, 1, round % 2 == 1};
    BlockBuilder b(p);
    std::map<std::uint32_t, std::vector<Record>> want;
    const int series = 1 + static_cast<int>(rng() % 20);
    const int records = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < records; ++i) {
      const auto id = static_cast<std::uint32_t>(rng() % series) * 977;
      const ValueType type = static_cast<ValueType>(1 + id % 4);
      const std::int64_t ts = p.window_start_ns + static_cast<std::int64_t>(rng() % 10'000'000'000) -
                              (rng() % 8 == 0 ? 5'000'000'000'000 : 0);
      Value v;
      switch (type) {
        case ValueType::kFloat64: {
          const auto pick = rng() % 4;
          double d = static_cast<double>(static_cast<std::int64_t>(rng() % 2'000'001) - 1'000'000);
          if (pick == 0) d /= 1000;                                          // decimals
          if (pick == 1) d /= static_cast<double>(1 + rng() % 7);            // noise
          if (pick == 2) d = std::bit_cast<double>(rng());                    // any bits
          v = d;
          break;
        }
        case ValueType::kInt64: v = static_cast<std::int64_t>(rng()); break;
        case ValueType::kBool: v = rng() % 2 == 0; break;
        case ValueType::kBytes: v = std::string(rng() % 9, static_cast<char>(rng())); break;
      }
      const Record r{SeriesId{id}, ts, v};
      want[id].push_back(r);
      b.Add(r, type, static_cast<std::uint64_t>(i));
    }
    CheckBlock(b, want);
  }
}

TEST_CASE("a block of many series with a few points each spends a few bytes of directory on each") {
  // 12,500 series of one shard, 3 points each, as at 100,000 series.
  BlockBuilder b({3'600'000'000'000, 0, false});
  for (int i = 0; i < 3; ++i) {
    for (std::uint32_t s = 0; s < 12'500; ++s) {
      const double v = static_cast<double>(2000 + (s * 7 + i * 3) % 101) / 100;
      b.Add({SeriesId{s * 8 + 3}, 3'600'000'000'000 + i * 1'000'000'000LL + s * 1000, v},
            ValueType::kFloat64, 1);
    }
  }
  const std::string block = b.Finish();
  const BlockHeader h = MustParse(block);
  const double dir_per_series = static_cast<double>(h.header_len - kBlockHeaderBytes) / 12'500;
  const double per_point = static_cast<double>(h.header_len + h.body_len) / 37'500;
  MESSAGE("directory bytes per series " << dir_per_series << ", block bytes per point "
                                        << per_point);
  CHECK(dir_per_series < 16);  // 40 in version 1
  CHECK(per_point < 12);       // 16 bytes of payload (timestamp and float64)
  // What the open block held in DRAM (sluice_store_open_blocks_memory_bytes):
  // a chunk of about 120 B and a table slot or two per series, mapped in
  // whole pages.
  const double memory_per_series = static_cast<double>(b.MemoryBytes()) / 12'500;
  MESSAGE("DRAM per series while open " << memory_per_series << " B");
  CHECK(memory_per_series > 100);
  CHECK(memory_per_series < 160);
  CHECK(b.MemoryBytes() > b.EncodedSize());
  // Every series is found again through the table, none twice.
  const auto series = b.Series();
  REQUIRE(series.size() == 12'500);
  for (std::uint32_t s = 0; s < 12'500; ++s) CHECK(series[s].value == s * 8 + 3);
  CHECK(b.Read(SeriesId{8 * 777 + 3}).size() == 3);
  CHECK(b.Read(SeriesId{8 * 777 + 4}).empty());
}

TEST_CASE("version 1 blocks, as stores made before version 2 hold them, are read") {
  // The first block of the store-v1 fixture (tests/store/fixtures/README.md):
  // series 1 to 4, one record every 10 ms in turn, value ValueOf.
  const std::filesystem::path seg = std::filesystem::path(SLUICE_SOURCE_DIR) / "tests" / "store" /
                                    "fixtures" / "store-v1" / "segments" / "seg-00000001.dat";
  std::ifstream in(seg, std::ios::binary);
  REQUIRE(in);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 8192);
  const std::string_view block = std::string_view(bytes).substr(4096);
  std::size_t need = 0;
  auto h = ParseBlockHeader(block, need);
  REQUIRE_MESSAGE(h.ok(), h.status().ToString());
  CHECK(h->version == 1);
  CHECK(h->header_len == kBlockHeaderBytes + h->series.size() * kBlockV1DirEntryBytes);
  const std::string_view body = block.substr(h->header_len, h->body_len);
  REQUIRE(VerifyBlockBody(body, *h).ok());
  std::uint64_t records = 0;
  for (const BlockSeriesEntry& e : h->series) {
    auto got = DecodeSeriesChunk(body, *h, e);
    REQUIRE(got.ok());
    REQUIRE(got->size() == e.count);
    for (std::size_t i = 1; i < got->size(); ++i) {
      CHECK((*got)[i].timestamp_ns - (*got)[i - 1].timestamp_ns == 40'000'000);  // 4 series
    }
    CHECK(got->front().timestamp_ns == e.t_min);
    CHECK(got->back().timestamp_ns == e.t_max);
    records += got->size();
  }
  CHECK(records == h->records);
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
  CHECK(need == MustParse(block).header_len);
  CHECK(need > 100);
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

namespace sluice::store {

TEST_CASE("a direct block copies its large values once, at Finish, into the body a copy would make") {
  // The same records, of every length from none to 6000 bytes and small
  // values between, in a regular builder (values copied as added) and a
  // direct one (values referred to until Finish).
  std::deque<Record> records;
  for (int i = 0; i < 300; ++i) {
    const std::size_t size = i % 3 == 0 ? static_cast<std::size_t>(i) * 20 : i % 7;
    std::string v(size, static_cast<char>('a' + i % 26));
    records.push_back({SeriesId{1u + static_cast<std::uint32_t>(i) % 5}, 1000 + i, std::move(v)});
  }
  BlockBuilder plain({0, 2, false});
  BlockBuilder direct({0, 2, false}, true);
  direct.SetGroup(5, 3);  // a group is named by its lowest sequence number
  for (const Record& r : records) {
    plain.Add(r, ValueType::kBytes, 5);
    direct.Add(r, ValueType::kBytes, 5);
  }
  CHECK(direct.EncodedSize() >= plain.EncodedSize());
  for (std::uint32_t s = 1; s <= 5; ++s) {
    const auto a = plain.Read(SeriesId{s});
    const auto b = direct.Read(SeriesId{s});
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) CHECK(a[k].value == b[k].value);
  }
  const std::string x = plain.Finish();
  const std::string y(direct.FinishAligned().view());
  const BlockHeader hx = MustParse(x);
  const BlockHeader hy = MustParse(y);
  CHECK(hy.direct);
  CHECK(hy.group_seq == 5);
  CHECK(hy.group_blocks == 3);
  CHECK(hx.body_len == hy.body_len);
  CHECK(hx.body_crc == hy.body_crc);
  CHECK(x.substr(hx.header_len, hx.body_len) == y.substr(hy.header_len, hy.body_len));
  REQUIRE(VerifyBlockBody(std::string_view(y).substr(hy.header_len, hy.body_len), hy).ok());
  for (const auto& e : hy.series) {
    auto got = DecodeSeriesChunk(std::string_view(y).substr(hy.header_len, hy.body_len), hy, e);
    REQUIRE(got.ok());
    CHECK(got->size() == direct.Read(e.series).size());
  }
}

}  // namespace sluice::store
