// `sluice lake` as a library (sync/lake.h) over directory sinks: every .slp
// becomes a .parquet under the same relative key, reruns change nothing,
// shards split the work disjointly and completely, .parquet inputs are
// copied or left alone, sources go only with --delete-source.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <cmath>
#include <ctime>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "parquet_reader.h"
#include "sync/lake.h"
#include "sync/object_key.h"
#include "sync/parquet.h"
#include "sync/partition.h"
#include "temp_dir.h"

namespace sluice::sync {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kHourNs = 3'600'000'000'000;
constexpr std::int64_t kT0 = 1'764'100'800'000'000'000;  // 2025-11-25T20:00:00Z

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// One .slp object of a few series and types; `unsorted` writes one series'
// timestamps out of order (objects of older writers may be so).
std::string MakeSlp(const std::string& gateway, int hour, int n, bool unsorted = false) {
  PartitionIdentity id{gateway, "plant", kT0 + hour * kHourNs, kHourNs, 3, false};
  PartitionWriter w(id);
  const std::vector<store::SeriesInfo> series = {
      {store::SeriesId{1}, "line/temp", store::ValueType::kFloat64, "degC"},
      {store::SeriesId{2}, "line/count", store::ValueType::kInt64, ""},
      {store::SeriesId{3}, "a/door", store::ValueType::kBool, ""},
      {store::SeriesId{4}, "a/tag", store::ValueType::kBytes, ""},
  };
  for (const auto& s : series) REQUIRE(w.AddSeries(s).ok());
  for (int i = 0; i < n; ++i) {
    const std::int64_t t =
        kT0 + hour * kHourNs + std::int64_t{unsorted ? (n - i) : i} * 1'000'000'123;
    REQUIRE(w.Append({store::SeriesId{1}, t, 20.0 + i * 0.25}).ok());
    REQUIRE(w.Append({store::SeriesId{2}, kT0 + hour * kHourNs + i * 7, std::int64_t{i * 3}}).ok());
    if (i % 3 == 0) REQUIRE(w.Append({store::SeriesId{3}, t, i % 2 == 0}).ok());
    if (i % 5 == 0) REQUIRE(w.Append({store::SeriesId{4}, t, std::string("x") + std::to_string(i)}).ok());
  }
  auto bytes = w.Finish();
  REQUIRE(bytes.ok());
  return *bytes;
}

std::string KeyFor(const std::string& gateway, int hour, const std::string& ext = "slp") {
  ObjectKeyParts parts;
  parts.site = "plant";
  parts.gateway_id = gateway;
  parts.window_start_ns = kT0 + hour * kHourNs;
  parts.shard = 3;
  parts.extension = ext;
  auto key = BuildObjectKey(parts);
  REQUIRE(key.ok());
  return *key;
}

// A source of `gateways` x `hours` .slp objects; returns key -> bytes.
std::map<std::string, std::string> Populate(const fs::path& root, int gateways, int hours) {
  std::map<std::string, std::string> out;
  for (int g = 0; g < gateways; ++g) {
    for (int h = 0; h < hours; ++h) {
      const std::string gw = "gw-" + std::to_string(g);
      const std::string key = KeyFor(gw, h);
      out[key] = MakeSlp(gw, h, 50 + g * 10 + h);
      Spit(root / key, out[key]);
    }
  }
  return out;
}

// Relative path -> bytes of every file under `root` (sidecars included).
std::map<std::string, std::string> Tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = Slurp(e.path());
  }
  return out;
}

std::string ParquetKey(const std::string& slp_key) {
  auto k = LakeTargetKey(slp_key);
  REQUIRE(k.ok());
  return *k;
}

LakeOptions Options(const fs::path& from, const fs::path& to) {
  LakeOptions o;
  o.from = from.string();
  o.to = to.string();
  o.workers = 3;
  o.dir_sync = false;
  return o;
}

LakeStats Run(const LakeOptions& o) {
  auto stats = RunLake(o);
  REQUIRE_MESSAGE(stats.ok(), stats.status().ToString());
  for (const auto& e : stats->errors) MESSAGE(e);
  return *stats;
}

TEST_CASE("every .slp becomes a .parquet under the same relative key, with the converted bytes") {
  ::sluice::testing::TempDir dir("sluice-lake");
  const auto sources = Populate(dir.path() / "raw", 3, 4);
  std::vector<LakeProgress> seen;
  auto stats = RunLake(Options(dir.path() / "raw", dir.path() / "lake"),
                       [&](const LakeProgress& p) { seen.push_back(p); });
  REQUIRE_MESSAGE(stats.ok(), stats.status().ToString());
  CHECK(stats->converted == sources.size());
  CHECK(stats->failed == 0);
  CHECK(stats->already_there == 0);
  std::uint64_t points = 0;
  for (const auto& [key, slp] : sources) {
    const fs::path target = dir.path() / "lake" / ParquetKey(key);
    REQUIRE(fs::exists(target));
    CHECK(fs::exists(target.string() + ".sha256"));
    auto want = ConvertSlpToParquet(slp, {});
    REQUIRE(want.ok());
    CHECK(Slurp(target) == want->parquet);
    points += want->points;
    // The source stays.
    CHECK(Slurp(dir.path() / "raw" / key) == slp);
  }
  CHECK(stats->points == points);
  // Nothing but the objects and their sidecars.
  CHECK(Tree(dir.path() / "lake").size() == 2 * sources.size());
  REQUIRE(!seen.empty());
  CHECK(seen.back().objects_done == sources.size());
  CHECK(seen.back().objects_total == sources.size());
  CHECK(seen.back().points == points);
  CHECK(seen.back().bytes_done == seen.back().bytes_total);
}

TEST_CASE("the Parquet holds every record, series sorted by name and records by time") {
  const std::string slp = MakeSlp("gw", 0, 40, /*unsorted=*/true);
  auto converted = ConvertSlpToParquet(slp, {});
  REQUIRE_MESSAGE(converted.ok(), converted.status().ToString());
  // The same as the writer's own builder from the records, which sorts.
  auto reader = PartitionReader::Open(slp);
  REQUIRE(reader.ok());
  ParquetInputBuilder builder(reader->metadata().identity);
  std::uint64_t records = 0;
  for (std::size_t i = 0; i < reader->series_count(); ++i) {
    REQUIRE(builder.AddSeries(reader->series(i).info).ok());
    auto rs = reader->ReadRecords(i);
    REQUIRE(rs.ok());
    for (const auto& r : *rs) REQUIRE(builder.Append(r).ok());
    records += rs->size();
  }
  auto want = WriteParquet(builder.Finish());
  REQUIRE(want.ok());
  CHECK(converted->parquet == *want);
  CHECK(converted->points == records);
  const auto file = testing::ReadParquetFile(converted->parquet);
  REQUIRE(file.columns.size() == kParquetColumnCount);
  const auto& names = file.columns[0].bytes;
  CHECK(names.size() == records);
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(file.key_value.at("sluice.gateway") == "gw");
}

TEST_CASE("a damaged .slp fails alone, the others are converted") {
  ::sluice::testing::TempDir dir("sluice-lake");
  const auto sources = Populate(dir.path() / "raw", 1, 3);
  const std::string bad = sources.begin()->first;
  std::string damaged = sources.begin()->second;
  damaged[damaged.size() / 2] ^= 0x55;
  Spit(dir.path() / "raw" / bad, damaged);
  const auto stats = Run(Options(dir.path() / "raw", dir.path() / "lake"));
  CHECK(stats.failed == 1);
  CHECK(stats.converted == sources.size() - 1);
  REQUIRE(stats.errors.size() == 1);
  CHECK(stats.errors[0].starts_with(bad + ": "));
  CHECK_FALSE(fs::exists(dir.path() / "lake" / ParquetKey(bad)));
}

TEST_CASE("a rerun finds every object already there and changes nothing") {
  ::sluice::testing::TempDir dir("sluice-lake");
  const auto sources = Populate(dir.path() / "raw", 2, 3);
  const auto o = Options(dir.path() / "raw", dir.path() / "lake");
  CHECK(Run(o).converted == sources.size());
  const auto before = Tree(dir.path() / "lake");
  const auto again = Run(o);
  CHECK(again.converted == 0);
  CHECK(again.already_there == sources.size());
  CHECK(again.failed == 0);
  CHECK(Tree(dir.path() / "lake") == before);
}

TEST_CASE("a target holding different bytes is an error for that object and stays as it was") {
  ::sluice::testing::TempDir dir("sluice-lake");
  const auto sources = Populate(dir.path() / "raw", 1, 2);
  const std::string key = ParquetKey(sources.begin()->first);
  Spit(dir.path() / "lake" / key, "not the parquet we would write");
  const auto stats = Run(Options(dir.path() / "raw", dir.path() / "lake"));
  CHECK(stats.failed == 1);
  CHECK(stats.converted == sources.size() - 1);
  CHECK(Slurp(dir.path() / "lake" / key) == "not the parquet we would write");
}

TEST_CASE("shards split the objects disjointly and completely, by FNV-1a of the target key") {
  ::sluice::testing::TempDir dir("sluice-lake");
  const auto sources = Populate(dir.path() / "raw", 4, 6);
  constexpr std::uint32_t kShards = 3;
  std::set<std::string> all;
  std::uint64_t converted = 0;
  for (std::uint32_t i = 0; i < kShards; ++i) {
    auto o = Options(dir.path() / "raw", dir.path() / ("lake" + std::to_string(i)));
    o.shard_index = i;
    o.shard_count = kShards;
    const auto stats = Run(o);
    converted += stats.converted;
    CHECK(stats.other_shards == sources.size() - stats.converted);
    for (const auto& file : Tree(dir.path() / ("lake" + std::to_string(i)))) {
      const std::string& rel = file.first;
      if (rel.ends_with(".sha256")) continue;
      CHECK(LakeShardOf(rel, kShards) == i);
      CHECK_MESSAGE(all.insert(rel).second, rel << " in two shards");
    }
  }
  CHECK(converted == sources.size());
  CHECK(all.size() == sources.size());
  // The hash is pinned: FNV-1a 64 of the bytes, fmix64, modulo N
  // (0xefd01f60ba992926 for "", 0x82a2a958a9bece5b for "a").
  CHECK(LakeShardOf("", 1000) == 342);
  CHECK(LakeShardOf("a", 1u << 31) == 700370523);
}

TEST_CASE("one gateway's consecutive hours spread over power-of-two shard counts") {
  // Plain FNV-1a modulo 2 is the parity of the key bytes: all of these
  // keys would land in one shard.
  for (std::uint32_t n : {2u, 4u, 8u}) {
    std::vector<int> per(n);
    for (int h = 0; h < 64; ++h) ++per[LakeShardOf(ParquetKey(KeyFor("gw-1", h)), n)];
    for (std::uint32_t i = 0; i < n; ++i) CHECK_MESSAGE(per[i] >= 64 / n / 3, "shard " << i << " of " << n);
  }
}

TEST_CASE("mixed input: .parquet is copied as is, other files ignored, .slp wins over its .parquet") {
  ::sluice::testing::TempDir dir("sluice-lake");
  const auto sources = Populate(dir.path() / "raw", 1, 2);
  const std::string parquet_key = KeyFor("gw-other", 7, "parquet");
  Spit(dir.path() / "raw" / parquet_key, "PAR1 made elsewhere PAR1");
  Spit(dir.path() / "raw" / "site=plant/README.txt", "hello");
  // A .parquet beside its own .slp (an earlier in-place run): the .slp wins.
  const std::string shadowed = ParquetKey(sources.begin()->first);
  Spit(dir.path() / "raw" / shadowed, "stale");
  const auto stats = Run(Options(dir.path() / "raw", dir.path() / "lake"));
  CHECK(stats.converted == sources.size());
  CHECK(stats.copied == 1);
  CHECK(stats.not_inputs == 1);
  CHECK(stats.skipped_parquet == 1);
  CHECK(stats.failed == 0);
  CHECK(Slurp(dir.path() / "lake" / parquet_key) == "PAR1 made elsewhere PAR1");
  CHECK(Slurp(dir.path() / "lake" / shadowed) != "stale");
  CHECK_FALSE(fs::exists(dir.path() / "lake" / "site=plant/README.txt"));
}

TEST_CASE("in place (--from = --to): .slp gets its .parquet beside it, .parquet is left alone") {
  ::sluice::testing::TempDir dir("sluice-lake");
  const auto sources = Populate(dir.path() / "raw", 1, 2);
  const std::string parquet_key = KeyFor("gw-other", 7, "parquet");
  Spit(dir.path() / "raw" / parquet_key, "PAR1 made elsewhere PAR1");
  const auto stats = Run(Options(dir.path() / "raw", dir.path() / "raw"));
  CHECK(stats.converted == sources.size());
  CHECK(stats.copied == 0);
  CHECK(stats.skipped_parquet == 1);
  for (const auto& [key, slp] : sources) CHECK(fs::exists(dir.path() / "raw" / ParquetKey(key)));
  // Running again: the .parquet written next to each .slp is shadowed by it.
  const auto again = Run(Options(dir.path() / "raw", dir.path() / "raw"));
  CHECK(again.already_there == sources.size());
  CHECK(again.skipped_parquet == 1 + sources.size());
}

TEST_CASE("--delete-source removes each .slp after its Parquet is confirmed, never a .parquet") {
  ::sluice::testing::TempDir dir("sluice-lake");
  const auto sources = Populate(dir.path() / "raw", 2, 2);
  const std::string parquet_key = KeyFor("gw-other", 7, "parquet");
  Spit(dir.path() / "raw" / parquet_key, "PAR1 made elsewhere PAR1");
  auto o = Options(dir.path() / "raw", dir.path() / "lake");
  o.delete_source = true;
  const auto stats = Run(o);
  CHECK(stats.deleted_sources == sources.size());
  for (const auto& [key, slp] : sources) {
    CHECK_FALSE(fs::exists(dir.path() / "raw" / key));
    CHECK(fs::exists(dir.path() / "lake" / ParquetKey(key)));
  }
  CHECK(fs::exists(dir.path() / "raw" / parquet_key));
  // Without the flag sources stay (the first test); a rerun has nothing left to convert.
  const auto again = Run(o);
  CHECK(again.converted + again.already_there == 0);
  CHECK(again.copied == 1);
}

TEST_CASE("--prefix limits the run to matching relative keys") {
  ::sluice::testing::TempDir dir("sluice-lake");
  const auto sources = Populate(dir.path() / "raw", 3, 2);
  auto o = Options(dir.path() / "raw", dir.path() / "lake");
  o.prefixes = {"site=plant/gateway=gw-1/", "site=plant/gateway=gw-2/date=2025-11-25/hour=21"};
  const auto stats = Run(o);
  CHECK(stats.converted == 3);
  for (const auto& [key, slp] : sources) {
    const bool want = key.starts_with(o.prefixes[0]) || key.starts_with(o.prefixes[1]);
    CHECK(fs::exists(dir.path() / "lake" / ParquetKey(key)) == want);
  }
}

TEST_CASE("locations: one inside the other is refused, s3:// URLs parse") {
  ::sluice::testing::TempDir dir("sluice-lake");
  fs::create_directories(dir.path() / "raw");
  auto o = Options(dir.path() / "raw", dir.path() / "raw" / "lake");
  auto r = RunLake(o);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  auto loc = ParseLakeLocation("s3://bucket/a/b/");
  REQUIRE(loc.ok());
  CHECK(loc->kind == LakeLocation::Kind::kS3);
  CHECK(loc->bucket == "bucket");
  CHECK(loc->prefix == "a/b");
  CHECK(loc->ToString() == "s3://bucket/a/b");
  CHECK_FALSE(ParseLakeLocation("gs://bucket").ok());
  o.shard_index = 2;
  o.shard_count = 2;
  CHECK(RunLake(o).status().code() == StatusCode::kInvalidArgument);
  CHECK(LakeTargetKey("a/b.slp").value() == "a/b.parquet");
  CHECK(LakeTargetKey("a/b.parquet").value() == "a/b.parquet");
  CHECK(LakeTargetKey("a/b.csv").status().code() == StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice::sync

namespace sluice::sync {
namespace {

// Informational (skipped by default; run with
// `build/.../tests/sync/lake_test -tc='*throughput*' --no-skip`): the CPU
// cost of conversion alone, directory to directory, as the baseline for the
// RGW figure printed by tests/integration/lake_kill_test.cc.
TEST_CASE("informational: lake throughput directory to directory" * doctest::skip()) {
  ::sluice::testing::TempDir dir("sluice-lake-bench");
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 1);
  std::uint64_t points = 0;
  for (int i = 0; i < 8; ++i) {
    PartitionIdentity id{"gw", "plant", kT0 + i * kHourNs, kHourNs, 0, false};
    PartitionWriter w(id);
    const bool noisy = i % 2 == 0;
    for (int s = 0; s < 50; ++s) {
      const store::SeriesId sid{static_cast<std::uint32_t>(s + 1)};
      REQUIRE(w.AddSeries({sid, "line/sensor-" + std::to_string(s), store::ValueType::kFloat64, ""}).ok());
      SeriesColumns c;
      std::vector<double> values;
      double v = 20;
      for (int k = 0; k < 10'000; ++k) {
        c.timestamps.push_back(kT0 + i * kHourNs + std::int64_t{k} * 360'000'000);
        v += noise(rng) * 0.01;
        values.push_back(noisy ? noise(rng) : std::round(v * 1000) / 1000);
      }
      c.values = std::move(values);
      REQUIRE(w.AppendColumns(sid, c).ok());
      points += 10'000;
    }
    auto bytes = w.Finish();
    REQUIRE(bytes.ok());
    Spit(dir.path() / "raw" / KeyFor("gw", i), *bytes);
  }
  for (unsigned workers : {1u, 2u}) {
    auto o = Options(dir.path() / "raw", dir.path() / ("lake" + std::to_string(workers)));
    o.workers = workers;
    const std::clock_t cpu0 = std::clock();
    const auto stats = Run(o);
    const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    REQUIRE(stats.converted == 8);
    const double s = static_cast<double>(stats.elapsed_ns) / 1e9;
    MESSAGE(workers << " worker(s): " << points << " points in " << s << " s: "
                    << static_cast<double>(points) / s << " points/s, "
                    << static_cast<double>(stats.bytes_read) / s / 1e6 << " MB/s of .slp; CPU "
                    << cpu << " s: " << static_cast<double>(points) / cpu << " points per CPU-second");
  }
}

}  // namespace
}  // namespace sluice::sync
