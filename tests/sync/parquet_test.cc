// WriteParquet: files that a reader written from the specification
// (parquet_reader.h) takes apart into the same records, bit-exact, with the
// schema, encodings, statistics and page index the format promises.
#include "sync/parquet.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>

#include "parquet_checks.h"
#include "parquet_reader.h"

namespace sluice::sync {
namespace {

using testing::ParquetFileSeen;
using testing::CheckRoundTrip;
using testing::CheckStatisticsAndPageIndex;
using testing::ReadParquetFile;
using testing::TValue;
using I64 = std::numeric_limits<std::int64_t>;
using Dbl = std::numeric_limits<double>;

constexpr int kBoolean = 0, kInt32 = 1, kInt64 = 2, kDouble = 5, kByteArray = 6;
constexpr int kPlain = 0, kRle = 3, kDelta = 5, kRleDictionary = 8;

std::size_t Col(ParquetColumn c) { return static_cast<std::size_t>(c); }

PartitionIdentity Identity() {
  PartitionIdentity id;
  id.gateway_id = "edge-01";
  id.site = "plant-a";
  id.window_start_ns = 1'764'100'800'000'000'000;
  id.window_length_ns = 3'600'000'000'000;
  id.shard = 3;
  return id;
}

// `series` series of `points` records each, cycling through the four types,
// with the awkward values each type has.
ParquetInput MakeInput(int series, int points, std::uint32_t seed = 7) {
  std::mt19937_64 rng(seed);
  ParquetInput in;
  in.identity = Identity();
  static const char* const kUnits[] = {"degC", "", "bar", "rpm"};
  for (int s = 0; s < series; ++s) {
    ParquetSeries ps;
    char name[64];
    std::snprintf(name, sizeof name, "plant/sensor-%04d/line-%d", s, s % 3);
    ps.name = name;
    ps.unit = kUnits[s % 4];
    // One series straddles the epoch, to check the floor division.
    std::int64_t t = s == 1 ? -5'000'000'123 : 1'764'100'800'000'000'000 + s * 17;
    for (int i = 0; i < points; ++i) {
      ps.columns.timestamps.push_back(t);
      t += 1'000'000'000 + static_cast<std::int64_t>(rng() % 3) * 1'000 +
           (i % 5 == 0 ? static_cast<std::int64_t>(rng() % 1000) : 0);
      if (i % 97 == 3) t -= 1'000'000'000;  // a duplicate-ish step: equal times are allowed
    }
    switch (s % 4) {
      case 0: {
        std::vector<double> v;
        double x = 20.0 + s;
        for (int i = 0; i < points; ++i) {
          x += static_cast<double>(static_cast<int>(rng() % 21) - 10) / 100.0;
          v.push_back(std::round(x * 100) / 100);
        }
        const double specials[] = {Dbl::quiet_NaN(), -0.0, 0.0, Dbl::infinity(), -Dbl::infinity(),
                                   std::bit_cast<double>(std::uint64_t{0x7ff0000000000bad}),
                                   Dbl::denorm_min(), Dbl::max(), -Dbl::max()};
        for (std::size_t k = 0; k < std::size(specials) && k * 7 < v.size(); ++k) v[k * 7] = specials[k];
        ps.columns.values = std::move(v);
        break;
      }
      case 1: {
        std::vector<std::int64_t> v;
        for (int i = 0; i < points; ++i) v.push_back(static_cast<std::int64_t>(rng() % 1000) - 500);
        if (points > 2) {
          v[0] = I64::min();
          v[1] = I64::max();
        }
        ps.columns.values = std::move(v);
        break;
      }
      case 2: {
        std::vector<std::uint8_t> v;
        for (int i = 0; i < points; ++i) v.push_back((i / 3) % 2 == 0 ? 1 : 0);
        ps.columns.values = std::move(v);
        break;
      }
      default: {
        std::vector<std::string> v;
        static const char* const kStates[] = {"RUNNING", "IDLE", "", "FAULT\xff\x00x"};
        for (int i = 0; i < points; ++i) v.push_back(kStates[(i / 4) % 4]);
        if (points > 1) v[1] = std::string("\x00\x01\x02", 3);
        ps.columns.values = std::move(v);
        break;
      }
    }
    in.series.push_back(std::move(ps));
  }
  return in;
}

// The data page encodings of one chunk.
std::set<int> PageEncodings(const testing::ChunkSeen& ch) {
  std::set<int> e;
  for (const testing::PageSeen& p : ch.data_pages) e.insert(p.encoding);
  return e;
}

ParquetFileSeen WriteAndRead(const ParquetInput& in, const ParquetOptions& o) {
  Result<std::string> file = WriteParquet(in, o);
  REQUIRE_MESSAGE(file.ok(), file.status().ToString());
  return ReadParquetFile(*file);
}

TEST_CASE("a partition's records come back bit-exact, with the schema and metadata engines need") {
  const ParquetInput in = MakeInput(40, 300);
  const ParquetFileSeen f = WriteAndRead(in, {});
  CheckRoundTrip(in, f);
  CheckStatisticsAndPageIndex(f);

  const std::vector<TValue>& schema = f.footer[2].list;
  REQUIRE(schema.size() == 10);
  CHECK(schema[0][4].bin == "schema");
  const std::vector<std::string> names = {"series", "timestamp", "timestamp_nanos",
                                          "value_double", "value_int", "value_bool",
                                          "value_bytes", "type", "unit"};
  const std::vector<int> types = {kByteArray, kInt64, kInt32, kDouble, kInt64,
                                  kBoolean, kByteArray, kByteArray, kByteArray};
  for (std::size_t i = 0; i < names.size(); ++i) {
    const TValue& e = schema[i + 1];
    CHECK(e[4].bin == names[i]);
    CHECK(e[1].i == types[i]);
    CHECK(e[3].i == (i >= 3 && i <= 6 ? 1 : 0));  // OPTIONAL : REQUIRED
  }
  for (std::size_t i : {0u, 7u, 8u}) {
    CHECK(schema[i + 1][6].i == 0);         // converted type UTF8
    CHECK(schema[i + 1][10].Has(1));        // logical type STRING
  }
  const TValue& ts = schema[2][10][8];      // logical type TIMESTAMP
  CHECK(ts[1].b);                           // isAdjustedToUTC
  CHECK(ts[2].Has(2));                      // MICROS
  CHECK(schema[2][6].i == 10);              // TIMESTAMP_MICROS
  CHECK(!schema[3].Has(10));                // timestamp_nanos: plain INT32
  CHECK(!schema[7].Has(10));                // value_bytes: no logical type
  CHECK(f.footer[7].list.size() == 9);      // column orders
  CHECK(f.footer[7].list[0].Has(1));        // TYPE_ORDER
  CHECK(f.footer[6].bin.rfind("sluice version ", 0) == 0);

  CHECK(f.key_value.at("sluice.parquet.schema_version") == "1");
  CHECK(f.key_value.at("sluice.gateway") == "edge-01");
  CHECK(f.key_value.at("sluice.site") == "plant-a");
  CHECK(f.key_value.at("sluice.shard") == "3");
  CHECK(f.key_value.at("sluice.window_start_ns") == "1764100800000000000");
  CHECK(f.key_value.count("sluice.record_count") == 0);  // num_rows says it
  CHECK(f.footer[3].i == 12000);

  // One row group, sorted by series then time; a dictionary for the strings,
  // deltas for a regular clock, PLAIN or a dictionary elsewhere.
  REQUIRE(f.chunks.size() == 1);
  const TValue& sorting = f.footer[4].list[0][4];
  REQUIRE(sorting.list.size() == 3);
  CHECK(sorting.list[0][1].i == 0);
  CHECK(sorting.list[1][1].i == 1);
  const auto& ch = f.chunks[0];
  CHECK(PageEncodings(ch[Col(ParquetColumn::kSeries)]) == std::set<int>{kRleDictionary});
  CHECK(PageEncodings(ch[Col(ParquetColumn::kType)]) == std::set<int>{kRleDictionary});
  CHECK(PageEncodings(ch[Col(ParquetColumn::kUnit)]) == std::set<int>{kRleDictionary});
  CHECK(PageEncodings(ch[Col(ParquetColumn::kTimestamp)]) == std::set<int>{kDelta});
  // 12,000 rows: one page per column, so no page index.
  CHECK(!ch[Col(ParquetColumn::kSeries)].has_column_index);
  ParquetOptions paged;
  paged.max_page_rows = 4000;
  const ParquetFileSeen p = WriteAndRead(in, paged);
  CheckStatisticsAndPageIndex(p);
  REQUIRE(p.chunks[0][Col(ParquetColumn::kSeries)].data_pages.size() == 3);
  CHECK(p.chunks[0][Col(ParquetColumn::kSeries)].column_index[4].i == 1);  // ASCENDING
  for (const auto& chunk : ch) {
    for (const TValue& e : chunk.column_chunk[3][2].list) {
      CHECK(std::set<std::int64_t>{kPlain, kRle, kDelta, kRleDictionary}.count(e.i) == 1);
    }
    CHECK(chunk.column_chunk[3][4].i == 6);  // ZSTD
  }
}

TEST_CASE("multiple pages and row groups round-trip in every page version, codec and encoding set") {
  const ParquetInput in = MakeInput(13, 1000, 11);
  for (auto version : {ParquetPageVersion::kV1, ParquetPageVersion::kV2}) {
    for (int zstd : {0, 3}) {
      for (auto set : {ParquetEncodingSet::kCompatible, ParquetEncodingSet::kCompact}) {
        CAPTURE(static_cast<int>(version));
        CAPTURE(zstd);
        CAPTURE(static_cast<int>(set));
        ParquetOptions o;
        o.page_version = version;
        o.zstd_level = zstd;
        o.encodings = set;
        o.max_row_group_rows = 2500;
        o.target_page_bytes = 700;
        o.max_page_rows = 300;
        const ParquetFileSeen f = WriteAndRead(in, o);
        CheckRoundTrip(in, f);
        CheckStatisticsAndPageIndex(f);
        CHECK(f.chunks.size() == 6);  // 13,000 rows in groups of 2,500
        CHECK(f.footer[4].list[5][3].i == 500);
        CHECK(f.chunks[0][Col(ParquetColumn::kTimestamp)].data_pages.size() >= 9);
        for (const auto& chunk : f.chunks[0]) {
          CHECK(chunk.data_pages.front().page_type == (version == ParquetPageVersion::kV1 ? 0 : 3));
          CHECK(chunk.column_chunk[3][4].i == (zstd == 0 ? 0 : 6));
        }
      }
    }
  }
}

TEST_CASE("each encoding can be forced on each column it fits") {
  const ParquetInput in = MakeInput(9, 400, 5);
  struct Case {
    ParquetColumn column;
    ParquetEncoding encoding;
  };
  std::vector<Case> cases;
  using C = ParquetColumn;
  using E = ParquetEncoding;
  for (C c : {C::kSeries, C::kValueBytes, C::kType, C::kUnit}) {
    for (E e : {E::kPlain, E::kRleDictionary, E::kDeltaLengthByteArray, E::kDeltaByteArray}) {
      cases.push_back({c, e});
    }
  }
  for (C c : {C::kTimestamp, C::kTimestampNanos, C::kValueInt}) {
    for (E e : {E::kPlain, E::kRleDictionary, E::kDeltaBinaryPacked}) cases.push_back({c, e});
  }
  for (E e : {E::kPlain, E::kRleDictionary, E::kByteStreamSplit}) cases.push_back({C::kValueDouble, e});
  for (E e : {E::kPlain, E::kRle}) cases.push_back({C::kValueBool, e});
  for (const Case& k : cases) {
    for (auto version : {ParquetPageVersion::kV1, ParquetPageVersion::kV2}) {
      CAPTURE(ParquetColumnName(k.column));
      CAPTURE(ParquetEncodingName(k.encoding));
      CAPTURE(static_cast<int>(version));
      ParquetOptions o;
      o.force_encoding[Col(k.column)] = k.encoding;
      o.page_version = version;
      o.max_page_rows = 500;
      const ParquetFileSeen f = WriteAndRead(in, o);
      CheckRoundTrip(in, f);
      CheckStatisticsAndPageIndex(f);
      const testing::ChunkSeen& ch = f.chunks[0][Col(k.column)];
      CHECK(PageEncodings(ch) == std::set<int>{static_cast<int>(k.encoding)});
      CHECK(ch.has_dictionary == (k.encoding == E::kRleDictionary));
    }
  }
  // Encodings that do not fit the column are refused.
  ParquetOptions bad;
  bad.force_encoding[Col(C::kValueBool)] = E::kRleDictionary;
  CHECK(bad.Validate().code() == StatusCode::kInvalidArgument);
  bad = {};
  bad.force_encoding[Col(C::kTimestamp)] = E::kByteStreamSplit;
  CHECK(bad.Validate().code() == StatusCode::kInvalidArgument);
  bad = {};
  bad.force_encoding[Col(C::kValueDouble)] = E::kDeltaBinaryPacked;
  CHECK(WriteParquet(in, bad).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a dictionary that outgrows its bound falls back to plain pages within the chunk") {
  const ParquetInput in = MakeInput(200, 30, 3);
  ParquetOptions o;
  o.max_page_rows = 100;                 // about 3 series per page
  o.max_dictionary_bytes = 1000;         // about 30 series names
  const ParquetFileSeen f = WriteAndRead(in, o);
  CheckRoundTrip(in, f);
  CheckStatisticsAndPageIndex(f);
  const testing::ChunkSeen& series = f.chunks[0][Col(ParquetColumn::kSeries)];
  CHECK(series.has_dictionary);
  CHECK(series.dictionary_entries > 0);
  CHECK(series.dictionary_entries < 200);
  CHECK(PageEncodings(series) == std::set<int>{kPlain, kRleDictionary});
  // Dictionary pages first, then plain ones: the fallback is for good.
  bool fell_back = false;
  for (const testing::PageSeen& p : series.data_pages) {
    if (p.encoding == kPlain) fell_back = true;
    if (fell_back) CHECK(p.encoding == kPlain);
  }
  // Both kinds of pages are listed in the chunk's encoding stats.
  int dict_pages = 0, plain_pages = 0;
  for (const TValue& e : series.column_chunk[3][13].list) {
    if (e[1].i == 0 && e[2].i == kRleDictionary) dict_pages = static_cast<int>(e[3].i);
    if (e[1].i == 0 && e[2].i == kPlain) plain_pages = static_cast<int>(e[3].i);
  }
  CHECK(dict_pages + plain_pages == static_cast<int>(series.data_pages.size()));
  CHECK(dict_pages > 0);
  CHECK(plain_pages > 0);

  // A bound below the first page's entries means no dictionary at all.
  o.max_dictionary_bytes = 10;
  const ParquetFileSeen g = WriteAndRead(in, o);
  CheckRoundTrip(in, g);
  CHECK(!g.chunks[0][Col(ParquetColumn::kSeries)].has_dictionary);

  ParquetOptions none;
  none.disable_dictionary = true;
  const ParquetFileSeen h = WriteAndRead(in, none);
  CheckRoundTrip(in, h);
  for (const auto& chunk : h.chunks[0]) CHECK(!chunk.has_dictionary);
}

TEST_CASE("the trial picks encodings that pay: doubles with few levels get a dictionary") {
  ParquetInput in;
  in.identity = Identity();
  ParquetSeries s;
  s.name = "a/levels";
  std::vector<double> v;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 5000; ++i) {
    s.columns.timestamps.push_back(1'000'000'000LL * i);
    v.push_back(1.5 * static_cast<double>(rng() % 7));
  }
  s.columns.values = v;
  in.series.push_back(s);
  const ParquetFileSeen f = WriteAndRead(in, {});
  CheckRoundTrip(in, f);
  CHECK(PageEncodings(f.chunks[0][Col(ParquetColumn::kValueDouble)]) == std::set<int>{kRleDictionary});
  CHECK(PageEncodings(f.chunks[0][Col(ParquetColumn::kTimestamp)]) == std::set<int>{kDelta});

  // Noise: no dictionary.
  for (double& x : v) x = std::bit_cast<double>((rng() >> 12) | 0x3ff0000000000000ULL);
  in.series[0].columns.values = v;
  const ParquetFileSeen g = WriteAndRead(in, {});
  CheckRoundTrip(in, g);
  CHECK(PageEncodings(g.chunks[0][Col(ParquetColumn::kValueDouble)]) == std::set<int>{kPlain});
}

TEST_CASE("pages holding only NaN get no column index, long bytes get truncated bounds") {
  ParquetInput in;
  in.identity = Identity();
  ParquetSeries a;
  a.name = "a";
  std::vector<double> v(100, Dbl::quiet_NaN());
  v[60] = 2.5;
  for (int i = 0; i < 100; ++i) a.columns.timestamps.push_back(i);
  a.columns.values = v;
  ParquetSeries b;
  b.name = "b";
  std::vector<std::string> bytes;
  for (int i = 0; i < 50; ++i) {
    b.columns.timestamps.push_back(i);
    bytes.push_back(std::string(100, static_cast<char>('a' + i % 3)) + std::to_string(i));
  }
  bytes[7] = std::string(80, '\xff');
  b.columns.values = bytes;
  in.series = {a, b};
  ParquetOptions o;
  o.max_page_rows = 40;
  const ParquetFileSeen f = WriteAndRead(in, o);
  CheckRoundTrip(in, f);
  CheckStatisticsAndPageIndex(f);
  const testing::ChunkSeen& d = f.chunks[0][Col(ParquetColumn::kValueDouble)];
  CHECK(!d.has_column_index);
  CHECK(d.column_chunk[3][12][9].i == 99);  // nan_count
  const TValue& st = f.chunks[0][Col(ParquetColumn::kValueBytes)].column_chunk[3][12];
  CHECK(st[6].bin == std::string(64, 'a'));
  CHECK(!st[8].b);                           // min not exact
  CHECK(st[5].bin == std::string(80, '\xff'));  // all 0xff: kept whole
  CHECK(st[7].b);
}

TEST_CASE("output is deterministic and empty input gives a valid empty file") {
  const ParquetInput in = MakeInput(20, 200, 9);
  ParquetOptions o;
  o.encodings = ParquetEncodingSet::kCompact;
  Result<std::string> a = WriteParquet(in, o);
  Result<std::string> b = WriteParquet(in, o);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);

  ParquetInput empty;
  empty.identity = Identity();
  ParquetSeries none;
  none.name = "nothing";
  none.columns.values = std::vector<double>{};
  empty.series.push_back(none);
  const ParquetFileSeen f = WriteAndRead(empty, {});
  CHECK(f.footer[3].i == 0);
  CHECK(f.chunks.empty());
}

TEST_CASE("unsorted or malformed input is refused with the reason") {
  ParquetInput in = MakeInput(3, 10);
  std::swap(in.series[0], in.series[1]);
  Result<std::string> r = WriteParquet(in, {});
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("strictly increasing") != std::string::npos);

  in = MakeInput(3, 10);
  std::swap(in.series[2].columns.timestamps[3], in.series[2].columns.timestamps[4]);
  CHECK(WriteParquet(in, {}).status().code() == StatusCode::kInvalidArgument);

  in = MakeInput(3, 10);
  in.series[1].columns.timestamps.pop_back();
  CHECK(WriteParquet(in, {}).status().code() == StatusCode::kInvalidArgument);

  in = MakeInput(3, 10);
  in.series[1].unit = "\xc3\x28";
  CHECK(WriteParquet(in, {}).status().code() == StatusCode::kInvalidArgument);

  ParquetOptions o;
  o.zstd_level = 23;
  CHECK(o.Validate().code() == StatusCode::kInvalidArgument);
  o = {};
  o.max_row_group_rows = 0;
  CHECK(o.Validate().code() == StatusCode::kInvalidArgument);
  o = {};
  o.max_page_rows = 0;
  CHECK(o.Validate().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("the input builder sorts a partition's records by series and time") {
  ParquetInputBuilder b(Identity());
  REQUIRE(b.AddSeries({store::SeriesId{2}, "z/temp", store::ValueType::kFloat64, "degC"}).ok());
  REQUIRE(b.AddSeries({store::SeriesId{1}, "a/state", store::ValueType::kBytes, ""}).ok());
  CHECK(!b.AddSeries({store::SeriesId{1}, "other", store::ValueType::kBool, ""}).ok());
  REQUIRE(b.Append({store::SeriesId{2}, 30, 1.5}).ok());
  REQUIRE(b.Append({store::SeriesId{2}, 10, 2.5}).ok());
  REQUIRE(b.Append({store::SeriesId{1}, 20, std::string("on")}).ok());
  CHECK(!b.Append({store::SeriesId{1}, 20, 3.0}).ok());
  CHECK(!b.Append({store::SeriesId{9}, 20, 3.0}).ok());
  const ParquetInput in = b.Finish();
  REQUIRE(in.series.size() == 2);
  CHECK(in.series[0].name == "a/state");
  CHECK(in.series[1].columns.timestamps == std::vector<std::int64_t>{10, 30});
  CheckRoundTrip(in, WriteAndRead(in, {}));
}

}  // namespace
}  // namespace sluice::sync
