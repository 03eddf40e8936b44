#include "crash_rig.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "batch_format.h"
#include "block_format.h"
#include "segments.h"
#include "store_context.h"
#include "wal_format.h"

namespace sluice::store::crash {

double ValueOf(std::uint32_t series, std::int64_t ts) {
  return static_cast<double>(series) * 1000.0 + static_cast<double>(ts % 100000) / 8.0;
}

Options SmallStore(const testing::TempDir& dir) {
  Options o;
  o.dir = (dir.path() / "store").string();
  o.wal_file_size = 1 << 20;
  o.wal_max_group_bytes = 64 << 10;
  o.block_size = 64 << 10;      // many blocks
  o.segment_size = 256 << 10;   // several segments
  o.partition_window = std::chrono::seconds(60);
  o.partition_shards = 4;
  o.late_grace = std::chrono::seconds(10);
  return o;
}

namespace {

std::unique_ptr<Env> PosixEnv(IoEngine engine) {
  auto env = NewPosixEnv(engine);
  REQUIRE_MESSAGE(env.ok(), env.status().ToString());
  return std::move(*env);
}

}  // namespace

Rig::Rig(IoEngine engine)
    : base(PosixEnv(engine)),
      env(base.get()),
      options(SmallStore(dir)),
      ctx(TestContext([this] { return now.load(); }, &env)) {}

std::unique_ptr<Store> Rig::Open() {
  auto store = Store::Open(options, ctx);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return std::move(*store);
}

Keys Verify(const Store& store, const Model& model, std::uint32_t series_count,
            const Keys& may_lose) {
  Keys found;
  for (std::uint32_t s = 1; s <= series_count; ++s) {
    if (!store.GetSeries(SeriesId{s})) continue;
    REQUIRE(store.Scan(SeriesId{s}, INT64_MIN, INT64_MAX, [&](const Record& r) {
                   CHECK(std::get<double>(r.value) == ValueOf(s, r.timestamp_ns));
                   CHECK_MESSAGE(found.insert({s, r.timestamp_ns}).second,
                                 "duplicate record: series " << s << " at " << r.timestamp_ns);
                   return true;
                 }).ok());
  }
  std::size_t missing = 0;
  for (const auto& k : model.acked) missing += found.count(k) == 0 && may_lose.count(k) == 0;
  CHECK_MESSAGE(missing == 0, missing << " acknowledged records lost of " << model.acked.size()
                                      << " (outside the " << may_lose.size() << " that may be)");
  for (const auto& k : found) CHECK(model.attempted.count(k) == 1);
  return found;
}

void AppendSteadily(Store& store, Model& model, std::atomic<std::int64_t>* now, std::int64_t* ts,
                    int batches, int per_batch, std::uint32_t series) {
  for (int b = 0; b < batches; ++b) {
    Batch batch;
    Keys keys;
    for (int i = 0; i < per_batch; ++i, *ts += 1'000'000) {
      const auto s = static_cast<std::uint32_t>(1 + (*ts / 1'000'000) % series);
      batch.push_back({SeriesId{s}, *ts, ValueOf(s, *ts)});
      keys.insert({s, *ts});
    }
    model.attempted.insert(keys.begin(), keys.end());
    if (now != nullptr) *now = *ts;
    if (store.Append(std::move(batch)).Wait().ok()) model.acked.insert(keys.begin(), keys.end());
  }
}

void RegisterAll(Store& store, std::uint32_t series) {
  for (std::uint32_t s = 1; s <= series; ++s) {
    auto id = store.RegisterSeries("s" + std::to_string(s), ValueType::kFloat64, "");
    REQUIRE(id.ok());
    REQUIRE(id->value == s);
  }
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::span<const std::byte> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::filesystem::path SegmentPath(const Options& o, int id) {
  char name[32];
  std::snprintf(name, sizeof name, "seg-%08d.dat", id);
  return std::filesystem::path(o.dir) / "segments" / name;
}

std::string Repaired(std::string image, const FaultInjectionEnv& env, const std::string& path) {
  for (const auto& f : env.flipped_bits()) {
    if (f.on_write && f.path == path && f.offset < image.size()) {
      image[f.offset] = static_cast<char>(image[f.offset] ^ (1 << f.bit));
    }
  }
  return image;
}

std::vector<BlockSpan> BlocksIn(std::string_view image) {
  std::vector<BlockSpan> out;
  for (std::uint64_t off = kPage; off + kPage <= image.size();) {
    const std::string_view at = image.substr(off);
    std::size_t need = 0;
    auto h = ParseBlockHeader(at.substr(0, kPage), need);
    if (!h.ok() && need > 0 && need <= at.size()) h = ParseBlockHeader(at.substr(0, need), need);
    if (!h.ok()) break;  // zeros: the end of the segment
    const std::uint64_t used = off + h->header_len + h->body_len;
    BlockSpan b{off, used, off + PaddedBlockSize(h->header_len + h->body_len), {}};
    const std::string_view body = at.substr(h->header_len, h->body_len);
    for (const auto& e : h->series) {
      auto records = DecodeSeriesChunk(body, *h, e);
      REQUIRE(records.ok());
      for (const Record& r : *records) b.records.insert({r.series.value, r.timestamp_ns});
    }
    out.push_back(std::move(b));
    off = out.back().end;
  }
  return out;
}

void AddKeysOf(const WriteBufferRecord& record, Keys& keys) {
  auto batch = DecodeBatch(
      {reinterpret_cast<const char*>(record.payload.data()), record.payload.size()}, 1 << 20);
  REQUIRE(batch.ok());
  for (const Record& r : batch->records) keys.insert({r.series.value, r.timestamp_ns});
}

Keys InWal(const std::filesystem::path& dir) {
  Keys keys;
  if (!std::filesystem::exists(dir)) return keys;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string image = ReadFile(e.path());
    WalFileContents before_damage;
    auto contents = ParseWalFile(AsBytes(image), e.path().string(), &before_damage);
    for (const auto& r : contents.ok() ? contents->records : before_damage.records) AddKeysOf(r, keys);
  }
  return keys;
}

Keys NotInWal(const Keys& gone, const Options& options) {
  Keys out;
  const Keys in_wal = InWal(std::filesystem::path(options.dir) / "wal");
  std::set_difference(gone.begin(), gone.end(), in_wal.begin(), in_wal.end(),
                      std::inserter(out, out.end()));
  return out;
}

}  // namespace sluice::store::crash
