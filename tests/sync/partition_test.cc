// PartitionWriter and PartitionReader: what goes in comes out, bit-exact and in
// write order, with the metadata a reader upstream needs.
#include "sync/partition.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "store/env.h"
#include "temp_dir.h"

namespace sluice::sync {
namespace {

using store::Record;
using store::SeriesId;
using store::SeriesInfo;
using store::ValueType;
using I64 = std::numeric_limits<std::int64_t>;

PartitionIdentity Identity() {
  PartitionIdentity id;
  id.gateway_id = "edge-01";
  id.site = "plant-a";
  id.window_start_ns = 1'764'100'800'000'000'000;
  id.window_length_ns = 3'600'000'000'000;
  id.shard = 3;
  return id;
}

// Values compare by bits, so NaN == NaN with the same payload and -0.0 != 0.0.
bool SameRecord(const Record& a, const Record& b) {
  if (a.series != b.series || a.timestamp_ns != b.timestamp_ns) return false;
  if (a.value.index() != b.value.index()) return false;
  if (const auto* d = std::get_if<double>(&a.value)) {
    return std::bit_cast<std::uint64_t>(*d) == std::bit_cast<std::uint64_t>(std::get<double>(b.value));
  }
  return a.value == b.value;
}

std::vector<Record> EdgeCaseRecords() {
  std::vector<Record> r;
  const double nan_payload = std::bit_cast<double>(std::uint64_t{0x7ff4000000c0ffee});
  const double neg_nan = std::bit_cast<double>(std::uint64_t{0xfff8000000000001});
  const double inf = std::numeric_limits<double>::infinity();
  // Float: out of order and duplicate timestamps, special values.
  std::vector<std::pair<std::int64_t, double>> f = {
      {100, 1.5}, {50, -0.0}, {50, 0.0}, {I64::min(), nan_payload}, {I64::max(), neg_nan},
      {0, inf}, {0, -inf}, {7, std::numeric_limits<double>::denorm_min()}, {7, 21.37}};
  for (auto [t, v] : f) r.push_back({SeriesId{1}, t, v});
  for (std::int64_t v : {I64::min(), I64::max(), std::int64_t{0}, std::int64_t{-1}, I64::min()}) {
    r.push_back({SeriesId{2}, v, v});
  }
  for (int i = 0; i < 19; ++i) r.push_back({SeriesId{3}, 1000 - i, i % 4 == 1});
  r.push_back({SeriesId{4}, 5, std::string()});
  r.push_back({SeriesId{4}, 5, std::string("\0binary\xff", 8)});
  r.push_back({SeriesId{4}, 4, std::string("{\"a\":1}")});
  return r;
}

PartitionWriter EdgeCaseWriter(PartitionWriterOptions opt = {}) {
  PartitionWriter w(Identity(), opt);
  REQUIRE(w.AddSeries({SeriesId{1}, "press/temp", ValueType::kFloat64, "degC"},
                      {{"line", "1"}, {"area", "north"}}).ok());
  REQUIRE(w.AddSeries({SeriesId{2}, "press/count", ValueType::kInt64, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{3}, "press/on", ValueType::kBool, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{4}, "press/raw", ValueType::kBytes, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{9}, "press/never", ValueType::kFloat64, "bar"}).ok());
  for (const Record& rec : EdgeCaseRecords()) REQUIRE(w.Append(rec).ok());
  return w;
}

std::vector<Record> ReadAll(const PartitionReader& r) {
  std::vector<Record> out;
  for (std::size_t i = 0; i < r.series_count(); ++i) {
    auto recs = r.ReadRecords(i);
    REQUIRE(recs.ok());
    out.insert(out.end(), recs->begin(), recs->end());
  }
  return out;
}

void CheckSame(const std::vector<Record>& got, const std::vector<Record>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("record " << i);
    CHECK(SameRecord(got[i], want[i]));
  }
}

TEST_CASE("edge-case records round-trip bit-exact in every writer configuration") {
  for (auto rev : {CodecRevision::k1, CodecRevision::k2}) {
    for (bool compress : {true, false}) {
      for (auto sel : {CodecSelection::kSmallestEncoded, CodecSelection::kSmallestCompressed}) {
        PartitionWriterOptions opt;
        opt.compress = compress;
        opt.selection = sel;
        opt.revision = rev;
        auto bytes = EdgeCaseWriter(opt).Finish();
        REQUIRE(bytes.ok());
        auto r = PartitionReader::Open(*bytes);
        REQUIRE(r.ok());
        CHECK(r->VerifyChecksums().ok());
        CheckSame(ReadAll(*r), EdgeCaseRecords());  // records were added grouped by series
      }
    }
  }
}

TEST_CASE("revision 1 writes only the codecs and footer older readers know") {
  PartitionWriterOptions opt;
  opt.revision = CodecRevision::k1;
  auto bytes = EdgeCaseWriter(opt).Finish();
  REQUIRE(bytes.ok());
  const std::size_t footer = bytes->size() - kPartitionFooterSize;
  CHECK((*bytes)[footer + 18] == 0);  // footer flags: metadata stored as is
  auto r = PartitionReader::Open(*bytes);
  REQUIRE(r.ok());
  for (std::size_t i = 0; i < r->series_count(); ++i) {
    CHECK(r->series(i).timestamps.codec == ChunkCodec::kTimestampDeltaOfDelta);
    CHECK(r->series(i).values.codec != ChunkCodec::kFloatDecimalDigits);
  }
  // Revision 2 (the default) compresses the metadata when that is smaller.
  auto v2 = EdgeCaseWriter({}).Finish();
  REQUIRE(v2.ok());
  CHECK((*v2)[v2->size() - kPartitionFooterSize + 18] == kFooterFlagMetadataZstd);
  CHECK(v2->size() < bytes->size());
}

TEST_CASE("the metadata describes the partition and each series") {
  auto bytes = EdgeCaseWriter().Finish();
  REQUIRE(bytes.ok());
  auto r = PartitionReader::Open(*bytes);
  REQUIRE(r.ok());
  const PartitionMetadata& m = r->metadata();
  CHECK(m.format_version == kPartitionFormatVersion);
  CHECK(m.identity.gateway_id == "edge-01");
  CHECK(m.identity.site == "plant-a");
  CHECK(m.identity.shard == 3);
  CHECK(m.identity.window_length_ns == 3'600'000'000'000);
  CHECK(m.record_count == EdgeCaseRecords().size());
  CHECK(m.min_time_ns == I64::min());
  CHECK(m.max_time_ns == I64::max());
  CHECK(m.zstd_level == 3);
  REQUIRE(r->series_count() == 5);
  const SeriesEntry& temp = r->series(0);
  CHECK(temp.info.name == "press/temp");
  CHECK(temp.info.unit == "degC");
  CHECK(temp.info.type == ValueType::kFloat64);
  CHECK(temp.tags == Tags{{"area", "north"}, {"line", "1"}});  // sorted by key
  CHECK(temp.stats.count == 9);
  CHECK(temp.stats.nan_count == 2);
  CHECK(*temp.stats.min_float == -std::numeric_limits<double>::infinity());
  CHECK(*temp.stats.max_float == std::numeric_limits<double>::infinity());
  CHECK(*r->series(1).stats.min_int == I64::min());
  CHECK(r->series(2).stats.true_count == 5);
  CHECK(r->series(4).stats.count == 0);
  CHECK(!r->series(4).stats.min_float.has_value());
  auto idx = r->FindSeries("press/raw");
  REQUIRE(idx.ok());
  CHECK(*idx == 3);
  CHECK(r->FindSeries("nope").status().code() == StatusCode::kNotFound);
}

TEST_CASE("a time range keeps matching records in write order") {
  auto bytes = EdgeCaseWriter().Finish();
  REQUIRE(bytes.ok());
  auto r = PartitionReader::Open(*bytes);
  REQUIRE(r.ok());
  auto recs = r->ReadRecords(0, TimeRange{0, 100});
  REQUIRE(recs.ok());
  std::vector<std::int64_t> ts;
  for (const auto& rec : *recs) ts.push_back(rec.timestamp_ns);
  CHECK(ts == std::vector<std::int64_t>{100, 50, 50, 0, 0, 7, 7});
  auto none = r->ReadColumns(2, TimeRange{2000, 3000});  // misses the stats: no decode
  REQUIRE(none.ok());
  CHECK(none->timestamps.empty());
  CHECK(std::get<std::vector<std::uint8_t>>(none->values).empty());
}

TEST_CASE("the same input gives the same bytes") {
  auto a = EdgeCaseWriter().Finish();
  auto b = EdgeCaseWriter().Finish();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
}

TEST_CASE("columns appended whole equal records appended one by one") {
  PartitionWriter w(Identity());
  REQUIRE(w.AddSeries({SeriesId{1}, "a", ValueType::kFloat64, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{2}, "b", ValueType::kBool, ""}).ok());
  SeriesColumns c{{3, 1, 2}, std::vector<double>{0.5, -0.0, 2.25}};
  REQUIRE(w.AppendColumns(SeriesId{1}, c).ok());
  REQUIRE(w.AppendColumns(SeriesId{1}, c).ok());
  REQUIRE(w.AppendColumns(SeriesId{2}, {{1, 2}, std::vector<std::uint8_t>{7, 0}}).ok());
  auto bytes = w.Finish();
  REQUIRE(bytes.ok());
  auto r = PartitionReader::Open(*bytes);
  REQUIRE(r.ok());
  auto got = r->ReadColumns(0);
  REQUIRE(got.ok());
  CHECK(got->timestamps == std::vector<std::int64_t>{3, 1, 2, 3, 1, 2});
  CHECK(std::signbit(std::get<std::vector<double>>(got->values)[1]));
  auto bools = r->ReadColumns(1);
  REQUIRE(bools.ok());
  CHECK(std::get<std::vector<std::uint8_t>>(bools->values) == std::vector<std::uint8_t>{1, 0});
}

TEST_CASE("the writer refuses what it cannot represent faithfully") {
  PartitionWriter w(Identity());
  REQUIRE(w.AddSeries({SeriesId{1}, "a", ValueType::kFloat64, ""}).ok());
  CHECK(w.AddSeries({SeriesId{1}, "other", ValueType::kFloat64, ""}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.AddSeries({SeriesId{2}, "a", ValueType::kFloat64, ""}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.AddSeries({SeriesId{3}, "", ValueType::kFloat64, ""}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.AddSeries({SeriesId{4}, "t", ValueType::kInt64, ""}, {{"k", "1"}, {"k", "2"}}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.AddSeries({SeriesId{5}, "bad\xff", ValueType::kFloat64, ""}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.AddSeries({SeriesId{6}, "ok", ValueType::kFloat64, "\xed\xa0\x80"}).code() ==
        StatusCode::kInvalidArgument);  // a UTF-16 surrogate
  CHECK(w.AddSeries({SeriesId{7}, "Temperatur \xc2\xb0" "C \xe2\x82\xac \xf0\x9f\x94\xa5",
                     ValueType::kFloat64, "\xc2\xb0" "C"}).ok());
  CHECK(w.Append({SeriesId{1}, 0, std::int64_t{1}}).code() == StatusCode::kInvalidArgument);
  CHECK(w.Append({SeriesId{8}, 0, 1.0}).code() == StatusCode::kInvalidArgument);
  CHECK(w.AppendColumns(SeriesId{1}, {{1, 2}, std::vector<double>{1.0}}).code() ==
        StatusCode::kInvalidArgument);
  PartitionWriterOptions bad;
  bad.zstd_level = 0;
  CHECK(bad.Validate().code() == StatusCode::kInvalidArgument);
  PartitionWriter wb(Identity(), bad);
  CHECK(wb.Finish().status().code() == StatusCode::kInvalidArgument);
  PartitionIdentity id = Identity();
  id.site = "\xc0\xaf";  // overlong '/'
  CHECK(PartitionWriter(id).Finish().status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("an empty partition is a valid object") {
  auto bytes = PartitionWriter(Identity()).Finish();
  REQUIRE(bytes.ok());
  CHECK(bytes->size() < 100);
  auto r = PartitionReader::Open(*bytes);
  REQUIRE(r.ok());
  CHECK(r->series_count() == 0);
  CHECK(r->metadata().record_count == 0);
}

TEST_CASE("a partition is read back from a file through the Env") {
  auto bytes = EdgeCaseWriter().Finish();
  REQUIRE(bytes.ok());
  sluice::testing::TempDir dir;
  auto env = store::NewPosixEnv(store::IoEngine::kPwrite);
  REQUIRE(env.ok());
  const std::string path = (dir.path() / "p.slp").string();
  {
    store::FileOptions fo;
    fo.create = true;
    auto f = (*env)->OpenFile(path, fo);
    REQUIRE(f.ok());
    REQUIRE((*f)->Write(0, std::as_bytes(std::span(bytes->data(), bytes->size()))).ok());
    REQUIRE((*f)->Sync().ok());
  }
  auto r = PartitionReader::OpenFile(**env, path);
  REQUIRE(r.ok());
  CheckSame(ReadAll(*r), EdgeCaseRecords());
  CHECK(PartitionReader::OpenFile(**env, (dir.path() / "missing").string()).status().code() !=
        StatusCode::kOk);
}

}  // namespace
}  // namespace sluice::sync
