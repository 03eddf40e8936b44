// Crash safety of the whole store, checked against a model of what was
// acknowledged: power cuts at random bytes (writes torn as a prefix or by
// sectors), a full disk, and corruption: bits flipped in segment blocks and
// in the write-ahead log as they are written or read, truncated and missing
// segment files.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "batch_format.h"
#include "block_format.h"
#include "fault_env.h"
#include "segments.h"
#include "store/store.h"
#include "store_context.h"
#include "temp_dir.h"
#include "wal_format.h"

namespace sluice::store {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1'764'100'800 * kSecond;

Options SmallStore(const testing::TempDir& dir) {
  Options o;
  o.dir = (dir.path() / "store").string();
  o.wal_file_size = 1 << 20;
  o.wal_max_group_bytes = 64 << 10;
  o.block_size = 64 << 10;      // many blocks
  o.segment_size = 256 << 10;   // several segments
  o.partition_window_s = 60;
  o.partition_shards = 4;
  o.late_grace_s = 10;
  return o;
}

// A record is (series, timestamp) with a value derived from both, so that
// any record read back can be checked for being one that was appended.
using Key = std::pair<std::uint32_t, std::int64_t>;
using Keys = std::set<Key>;

// What the store acknowledged and what it was asked to store.
struct Model {
  std::mutex mu;
  Keys acked, attempted;
};

double ValueOf(std::uint32_t series, std::int64_t ts) {
  return static_cast<double>(series) * 1000.0 + static_cast<double>(ts % 100000) / 8.0;
}

// Reads everything back and checks it against the model: every acknowledged
// record is there unless in `may_lose`, nothing is there twice, nothing was
// invented. Returns what was found.
Keys Verify(const Store& store, const Model& model, std::uint32_t series_count,
            const Keys& may_lose = {}) {
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

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::span<const std::byte> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// The image with the bits the env flipped in `path` flipped back.
std::string Repaired(std::string image, const FaultInjectionEnv& env, const std::string& path) {
  for (const auto& f : env.flipped_bits()) {
    if (f.on_write && f.path == path && f.offset < image.size()) {
      image[f.offset] = static_cast<char>(image[f.offset] ^ (1 << f.bit));
    }
  }
  return image;
}

// One block of a segment image: [begin, used) is its header and body,
// [used, end) padding.
struct BlockSpan {
  std::uint64_t begin = 0, used = 0, end = 0;
  Keys records;
};

// The blocks of an intact segment image, as recovery walks them.
std::vector<BlockSpan> BlocksIn(std::string_view image) {
  std::vector<BlockSpan> out;
  for (std::uint64_t off = kPage; off + kPage <= image.size();) {
    const std::string_view at = image.substr(off);
    std::size_t need = 0;
    auto h = ParseBlockHeader(at.substr(0, kPage), need);
    if (!h.ok() && need > 0 && need <= at.size()) h = ParseBlockHeader(at.substr(0, need), need);
    if (!h.ok()) break;  // zeros: the end of the segment
    BlockSpan b{off, off + h->header_len + h->body_len, off + PaddedBlockSize(h->header_len + h->body_len), {}};
    const std::string_view body = at.substr(h->header_len, h->body_len);
    for (const auto& e : h->series) {
      auto records = DecodeSeriesChunk(body, e);
      REQUIRE(records.ok());
      for (const Record& r : *records) b.records.insert({r.series.value, r.timestamp_ns});
    }
    out.push_back(std::move(b));
    off = out.back().end;
  }
  return out;
}

// Every record in the intact frames of the write-ahead log files of `dir`
// (up to the first damage in each): what replay can bring back.
Keys InWal(const std::filesystem::path& dir) {
  Keys keys;
  if (!std::filesystem::exists(dir)) return keys;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string image = ReadFile(e.path());
    WalFileContents before_damage;
    auto contents = ParseWalFile(AsBytes(image), e.path().string(), &before_damage);
    for (const auto& r : contents.ok() ? contents->records : before_damage.records) {
      auto batch = DecodeBatch({reinterpret_cast<const char*>(r.payload.data()), r.payload.size()},
                               1 << 20);
      REQUIRE(batch.ok());
      for (const Record& rec : batch->records) keys.insert({rec.series.value, rec.timestamp_ns});
    }
  }
  return keys;
}

// Appends `batches` batches of `per_batch` records spread over `series`
// series, timestamps 1 ms apart from `*ts`, waiting for each ticket: one
// commit group each. `now`, when given, follows the data (as with live
// sensors), so that the store seals partitions by itself.
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

std::filesystem::path SegmentPath(const Options& o, int id) {
  char name[32];
  std::snprintf(name, sizeof name, "seg-%08d.dat", id);
  return std::filesystem::path(o.dir) / "segments" / name;
}

}  // namespace

TEST_CASE("a power cut at a random byte never loses an acknowledged record") {
  std::mt19937_64 rng(20261125);
  for (int round = 0; round < 12; ++round) {
    CAPTURE(round);
    testing::TempDir dir;
    auto base = NewPosixEnv(round % 2 ? IoEngine::kAuto : IoEngine::kPwrite);
    REQUIRE(base.ok());
    FaultInjectionEnv env(base->get());
    const Options o = SmallStore(dir);
    Model model;
    std::atomic<std::int64_t> now{kStart};
    StoreContext ctx = TestContext([&] { return now.load(); }, &env);
    constexpr std::uint32_t kSeries = 12;

    // Several lives of the store, each ended by a cut at a random byte.
    for (int life = 0; life < 3; ++life) {
      auto store = Store::Open(o, ctx);
      REQUIRE_MESSAGE(store.ok(), store.status().ToString());
      Verify(**store, model, kSeries);
      for (std::uint32_t s = 1; s <= kSeries; ++s) {
        auto id = (*store)->RegisterSeries("s" + std::to_string(s), ValueType::kFloat64, "");
        if (!id.ok()) break;  // a cut may hit a registration
        CHECK(id->value == s);
      }
      // Every third life ends with the write in flight torn by sectors
      // (any subset of them reached the disk), the others with a prefix.
      const std::uint64_t budget = rng() % (3 << 20);
      env.FailAfterBytes(budget, StatusCode::kIoError, (round + life) % 3 == 2 ? rng() | 1 : 0);
      std::vector<Ticket> tickets;
      for (int b = 0; b < 400; ++b) {
        Batch batch;
        std::vector<std::pair<std::uint32_t, std::int64_t>> keys;
        for (int i = 0, n = 1 + static_cast<int>(rng() % 40); i < n; ++i) {
          const auto s = static_cast<std::uint32_t>(1 + rng() % kSeries);
          // Mostly current, some late, all unique per series.
          std::int64_t ts = now.load() - static_cast<std::int64_t>(rng() % (90 * kSecond));
          ts = ts / 1000 * 1000 + (life * 400 + b) % 1000;
          if (model.attempted.count({s, ts}) || std::any_of(keys.begin(), keys.end(), [&](auto& k) { return k == std::pair{s, ts}; })) continue;
          batch.push_back({SeriesId{s}, ts, ValueOf(s, ts)});
          keys.push_back({s, ts});
        }
        if (batch.empty()) continue;
        {
          std::lock_guard lock(model.mu);
          model.attempted.insert(keys.begin(), keys.end());
        }
        tickets.push_back((*store)->Append(std::move(batch), [&model, keys](const Status& st) {
          if (!st.ok()) return;
          std::lock_guard lock(model.mu);
          model.acked.insert(keys.begin(), keys.end());
        }));
        now += kSecond / 4;
      }
      for (auto& t : tickets) (void)t.Wait();
      (void)(*store)->Close();
      store->reset();
      REQUIRE(env.DropUnsyncedData().ok());
      env.ClearFaults();
    }
    auto store = Store::Open(o, ctx);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    Verify(**store, model, kSeries);
    MESSAGE("round " << round << ": " << model.acked.size() << " acknowledged of "
                     << model.attempted.size() << ", blocks " << (*store)->stats().blocks_written);
  }
}

TEST_CASE("a full disk fails appends with NoSpace, corrupts nothing, and they succeed again later") {
  testing::TempDir dir;
  auto base = NewPosixEnv(IoEngine::kAuto);
  REQUIRE(base.ok());
  FaultInjectionEnv env(base->get());
  const Options o = SmallStore(dir);
  std::atomic<std::int64_t> now{kStart};
  StoreContext ctx = TestContext([&] { return now.load(); }, &env);
  Model model;
  {
    auto store = Store::Open(o, ctx);
    REQUIRE(store.ok());
    auto id = (*store)->RegisterSeries("s1", ValueType::kFloat64, "");
    REQUIRE(id.ok());
    auto append = [&](std::int64_t ts) {
      Status st = (*store)->Append({{*id, ts, ValueOf(1, ts)}}).Wait();
      model.attempted.insert({1, ts});
      if (st.ok()) model.acked.insert({1, ts});
      return st;
    };
    for (int i = 0; i < 100; ++i) REQUIRE(append(now + i).ok());
    env.SetWriteError(StatusCode::kNoSpace);
    Status full = append(now + 1000);
    CHECK(full.code() == StatusCode::kNoSpace);
    env.ClearFaults();
    for (int i = 0; i < 100; ++i) CHECK(append(now + 2000 + i).ok());
    Verify(**store, model, 1);
  }
  auto store = Store::Open(o, ctx);
  REQUIRE(store.ok());
  Verify(**store, model, 1);
  CHECK(model.acked.size() == 200);
}

TEST_CASE("a damaged segment is quarantined and counted, the rest is served, the store starts") {
  testing::TempDir dir;
  Options o = SmallStore(dir);
  std::int64_t now = kStart;
  Model model;
  {
    auto store = Store::Open(o, TestContext([&] { return now; }));
    REQUIRE(store.ok());
    auto id = *(*store)->RegisterSeries("s1", ValueType::kFloat64, "");
    for (int b = 0; b < 40; ++b) {
      Batch batch;
      for (int i = 0; i < 500; ++i) {
        const std::int64_t ts = now + b * 500 + i;
        batch.push_back({id, ts, ValueOf(1, ts)});
        model.attempted.insert({1, ts});
      }
      REQUIRE((*store)->Append(std::move(batch)).Wait().ok());
    }
    REQUIRE((*store)->ListPartitions(PartitionState::kOpen).size() == 1);
    REQUIRE((*store)->Seal((*store)->ListPartitions()[0].id).ok());
    CHECK((*store)->stats().blocks_written >= 2);
    MESSAGE("blocks " << (*store)->stats().blocks_written << " bytes " << (*store)->stats().block_bytes_written);
  }
  // Flip bytes in the middle of the first segment's second page: a block
  // header or body.
  const auto seg = std::filesystem::path(o.dir) / "segments" / "seg-00000001.dat";
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekp(4096 + 100);
    const char junk[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    f.write(junk, sizeof junk);
  }
  auto store = Store::Open(o, TestContext([&] { return now; }));
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  std::size_t served = 0;
  REQUIRE((*store)->Scan(SeriesId{1}, INT64_MIN, INT64_MAX, [&](const Record& r) {
                   CHECK(std::get<double>(r.value) == ValueOf(1, r.timestamp_ns));
                   ++served;
                   return true;
                 }).ok());
  const auto st = (*store)->stats();
  // The write-ahead log still holds the damaged block's records: replayed.
  // (Where it does not, they are lost and counted: the bit-flip tests.)
  CHECK(served == 20000);
  CHECK(st.quarantined_pages + st.quarantined_blocks > 0);
  for (const auto& n : st.notes) MESSAGE(n);
  MESSAGE("recovered " << st.recovered_records << " from the write buffer");
  MESSAGE("served " << served << " of 20000; quarantined pages " << st.quarantined_pages
                    << ", blocks " << st.quarantined_blocks);
}

TEST_CASE("bits flipped in segment blocks as written: damaged blocks are quarantined and counted, the rest is served") {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    testing::TempDir dir;
    auto base = NewPosixEnv(IoEngine::kAuto);
    REQUIRE(base.ok());
    FaultInjectionEnv env(base->get());
    const Options o = SmallStore(dir);
    std::atomic<std::int64_t> now{kStart};
    const StoreContext ctx = TestContext([&] { return now.load(); }, &env);
    constexpr std::uint32_t kSeries = 6;
    Model model;
    std::int64_t ts = kStart;
    {
      auto store = Store::Open(o, ctx);
      REQUIRE(store.ok());
      RegisterAll(**store, kSeries);
      // Two segment writes (block or segment header) land damaged; enough
      // data follows for the log to be recycled past them.
      env.FlipBitsOnWrite({.kind = FileKind::kSegment, .bits = 3, .seed = seed,
                           .skip = static_cast<std::uint32_t>(2 + seed), .times = 2});
      AppendSteadily(**store, model, &now, &ts, 300, 1000, kSeries);
      REQUIRE((*store)->Close().ok());
    }
    // The records of every block holding a flipped bit in its header or
    // body (a flipped segment header condemns the whole segment), from an
    // image with the flips undone.
    Keys damaged;
    int damaged_blocks = 0;
    std::set<std::string> flipped_paths;
    for (const auto& f : env.flipped_bits()) flipped_paths.insert(f.path);
    for (const auto& path : flipped_paths) {
      const auto blocks = BlocksIn(Repaired(ReadFile(path), env, path));
      for (const auto& b : blocks) {
        bool hit = false;
        for (const auto& f : env.flipped_bits()) {
          hit |= f.path == path && (f.offset < kPage || (f.offset >= b.begin && f.offset < b.used));
        }
        if (!hit) continue;
        ++damaged_blocks;
        damaged.insert(b.records.begin(), b.records.end());
      }
    }
    // Replay brings back what the log still holds.
    Keys may_lose;
    const Keys in_wal = InWal(std::filesystem::path(o.dir) / "wal");
    std::set_difference(damaged.begin(), damaged.end(), in_wal.begin(), in_wal.end(),
                        std::inserter(may_lose, may_lose.end()));
    auto store = Store::Open(o, ctx);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    const Keys found = Verify(**store, model, kSeries, may_lose);
    const auto st = (*store)->stats();
    std::size_t lost = 0;
    for (const auto& k : damaged) lost += found.count(k) == 0;
    if (damaged_blocks > 0) CHECK(st.quarantined_blocks + st.quarantined_pages > 0);
    if (lost > 0) CHECK(st.quarantined_blocks + st.quarantined_pages > 0);
    MESSAGE("seed " << seed << ": " << damaged_blocks << " damaged blocks, " << damaged.size()
                    << " records in them, " << lost << " lost (" << may_lose.size()
                    << " not in the log); quarantined blocks " << st.quarantined_blocks
                    << ", pages " << st.quarantined_pages << " of " << model.acked.size());
  }
}

TEST_CASE("bits flipped in the write-ahead log's last write: the store starts, keeps what precedes the damage, says what it lost, appends on") {
  int set_aside = 0, torn = 0, intact = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    CAPTURE(seed);
    testing::TempDir dir;
    auto base = NewPosixEnv(IoEngine::kAuto);
    REQUIRE(base.ok());
    FaultInjectionEnv env(base->get());
    const Options o = SmallStore(dir);
    std::atomic<std::int64_t> now{kStart};
    const StoreContext ctx = TestContext([&] { return now.load(); }, &env);
    constexpr std::uint32_t kSeries = 4;
    Model model;
    std::int64_t ts = kStart;
    {
      auto store = Store::Open(o, ctx);
      REQUIRE(store.ok());
      RegisterAll(**store, kSeries);
      // Blocks get written (their sequence numbers are what a fresh log
      // must not repeat: the first window is sealed, so they are durable),
      // and more records stay only in the log. The clock stays inside the
      // first window's grace: only this test seals.
      now = kStart + 30 * kSecond;
      AppendSteadily(**store, model, nullptr, &ts, 400, 200, kSeries);
      for (const auto& p : (*store)->ListPartitions(PartitionState::kOpen)) {
        if (p.id.window_start_ns == kStart) REQUIRE((*store)->Seal(p.id).ok());
      }
      REQUIRE((*store)->stats().blocks_written > 0);
      env.FlipBitsOnWrite({.kind = FileKind::kWal, .bits = static_cast<std::uint32_t>(1 + seed % 3), .seed = seed});
      AppendSteadily(**store, model, nullptr, &ts, 1, 50, kSeries);
      REQUIRE(model.acked.size() == model.attempted.size());  // flipped bits go unnoticed
      // Then the power fails: nothing more reaches the disk.
      env.SetWriteError(StatusCode::kIoError);
      (void)(*store)->Close();
    }
    REQUIRE(env.DropUnsyncedData().ok());
    env.ClearFaults();
    // Where the flips landed: frames of an image with them undone. Replay
    // stops at the first damaged frame; it and everything after it in that
    // file may be lost.
    const auto flips = env.flipped_bits();
    REQUIRE(flips.size() == 1 + seed % 3);
    const std::string path = flips[0].path;
    const std::string repaired = Repaired(ReadFile(path), env, path);
    auto contents = ParseWalFile(AsBytes(repaired), path);
    REQUIRE(contents.ok());
    Keys may_lose;
    bool damaged = false;
    for (const auto& r : contents->records) {
      const std::uint64_t begin =
          static_cast<std::uint64_t>(r.payload.data() - AsBytes(repaired).data()) - kWalFrameHeaderSize;
      const std::uint64_t end = begin + WalFrameSize(r.payload.size());
      for (const auto& f : flips) damaged |= f.offset >= begin && f.offset < end;
      if (!damaged) continue;
      auto batch = DecodeBatch({reinterpret_cast<const char*>(r.payload.data()), r.payload.size()}, 1 << 20);
      REQUIRE(batch.ok());
      for (const Record& rec : batch->records) may_lose.insert({rec.series.value, rec.timestamp_ns});
    }

    auto store = Store::Open(o, ctx);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    const Keys found = Verify(**store, model, kSeries, may_lose);
    const auto st = (*store)->stats();
    std::size_t lost = 0;
    for (const auto& k : model.acked) lost += found.count(k) == 0;
    if (lost > 0) CHECK((st.torn_tail_bytes > 0 || st.write_buffer_set_aside));
    set_aside += st.write_buffer_set_aside;
    torn += !st.write_buffer_set_aside && st.torn_tail_bytes > 0;
    intact += lost == 0;
    for (const auto& n : st.notes) MESSAGE(n);
    MESSAGE("seed " << seed << ": " << lost << " acknowledged records lost, " << may_lose.size()
                    << " in damaged frames; torn tail bytes " << st.torn_tail_bytes
                    << std::string(st.write_buffer_set_aside ? ", log set aside" : ""));

    // The store goes on: new appends, into partitions that blocks written
    // at recovery already hold, are durable and survive a reopen. (Their
    // sequence numbers must not restart below those blocks': replay would
    // take them for records already in blocks.)
    std::vector<Ticket> tickets;
    for (int i = 0; i < 500; ++i, ts += 1'000'000) {
      model.attempted.insert({1, ts});
      model.acked.insert({1, ts});
      tickets.push_back((*store)->Append({{SeriesId{1}, ts, ValueOf(1, ts)}}));
    }
    for (const auto& t : tickets) REQUIRE(t.Wait().ok());
    REQUIRE((*store)->Close().ok());
    store->reset();
    auto again = Store::Open(o, ctx);
    REQUIRE_MESSAGE(again.ok(), again.status().ToString());
    Verify(**again, model, kSeries, may_lose);
  }
  MESSAGE("outcomes: " << set_aside << " logs set aside, " << torn << " torn tails, " << intact
                       << " without loss");
}

TEST_CASE("bits flipped as blocks are read: the block is not served until the store reopens") {
  testing::TempDir dir;
  auto base = NewPosixEnv(IoEngine::kAuto);
  REQUIRE(base.ok());
  FaultInjectionEnv env(base->get());
  const Options o = SmallStore(dir);
  std::atomic<std::int64_t> now{kStart};
  const StoreContext ctx = TestContext([&] { return now.load(); }, &env);
  constexpr std::uint32_t kSeries = 3;
  Model model;
  std::int64_t ts = kStart;
  {
    auto store = Store::Open(o, ctx);
    REQUIRE(store.ok());
    RegisterAll(**store, kSeries);
    AppendSteadily(**store, model, &now, &ts, 100, 500, kSeries);
  }
  auto store = Store::Open(o, ctx);
  REQUIRE(store.ok());
  // One bit flipped in every block read: most land in a body.
  env.FlipBitsOnRead({.kind = FileKind::kSegment, .bits = 1, .seed = 3, .times = 2});
  const Keys first = Verify(**store, model, kSeries, model.acked);
  env.ClearFaults();
  const auto st = (*store)->stats();
  CHECK(st.quarantined_blocks > 0);
  CHECK(first.size() < model.acked.size());
  // Quarantined for the life of the store, even though the disk is sound.
  CHECK(Verify(**store, model, kSeries, model.acked) == first);
  MESSAGE(st.quarantined_blocks << " blocks quarantined; served " << first.size() << " of "
                                << model.acked.size());
  store->reset();
  auto again = Store::Open(o, ctx);
  REQUIRE(again.ok());
  Verify(**again, model, kSeries);
  CHECK((*again)->stats().quarantined_blocks == 0);
}

TEST_CASE("a truncated segment file: blocks cut short are quarantined and counted, a cut at a block boundary is noted") {
  for (bool mid_block : {true, false}) {
    CAPTURE(mid_block);
    testing::TempDir dir;
    Options o = SmallStore(dir);
    o.partition_window_s = 3600;  // one window: every partition has many blocks
    std::atomic<std::int64_t> now{kStart};
    const StoreContext ctx = TestContext([&] { return now.load(); });
    constexpr std::uint32_t kSeries = 6;
    Model model;
    std::int64_t ts = kStart;
    {
      auto store = Store::Open(o, ctx);
      REQUIRE(store.ok());
      RegisterAll(**store, kSeries);
      AppendSteadily(**store, model, &now, &ts, 300, 1000, kSeries);
    }
    const auto seg = SegmentPath(o, 2);
    const auto blocks = BlocksIn(ReadFile(seg));
    REQUIRE(blocks.size() >= 2);
    const std::uint64_t cut = mid_block ? blocks[1].begin + kPage : blocks[1].begin;
    Keys cut_off;
    for (const auto& b : blocks) {
      if (b.end > cut) cut_off.insert(b.records.begin(), b.records.end());
    }
    std::filesystem::resize_file(seg, cut);
    Keys may_lose;
    const Keys in_wal = InWal(std::filesystem::path(o.dir) / "wal");
    std::set_difference(cut_off.begin(), cut_off.end(), in_wal.begin(), in_wal.end(),
                        std::inserter(may_lose, may_lose.end()));
    auto store = Store::Open(o, ctx);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    Verify(**store, model, kSeries, may_lose);
    const auto st = (*store)->stats();
    if (mid_block) CHECK(st.quarantined_pages > 0);
    bool noted = false;
    for (const auto& n : st.notes) noted |= n.find(seg.filename().string()) != std::string::npos;
    CHECK(noted);
    for (const auto& n : st.notes) MESSAGE(n);
    MESSAGE(cut_off.size() << " records in blocks past the cut, " << may_lose.size()
                           << " of them not in the log");
  }
}

TEST_CASE("a missing segment file: the store starts and serves everything else") {
  testing::TempDir dir;
  Options o = SmallStore(dir);
  o.partition_window_s = 3600;  // one window: every partition has many blocks
  std::atomic<std::int64_t> now{kStart};
  const StoreContext ctx = TestContext([&] { return now.load(); });
  constexpr std::uint32_t kSeries = 6;
  Model model;
  std::int64_t ts = kStart;
  {
    auto store = Store::Open(o, ctx);
    REQUIRE(store.ok());
    RegisterAll(**store, kSeries);
    AppendSteadily(**store, model, &now, &ts, 300, 1000, kSeries);
  }
  Keys gone;
  for (int id : {2}) {
    const auto seg = SegmentPath(o, id);
    REQUIRE(std::filesystem::exists(seg));
    for (const auto& b : BlocksIn(ReadFile(seg))) gone.insert(b.records.begin(), b.records.end());
    std::filesystem::remove(seg);
  }
  Keys may_lose;
  const Keys in_wal = InWal(std::filesystem::path(o.dir) / "wal");
  std::set_difference(gone.begin(), gone.end(), in_wal.begin(), in_wal.end(),
                      std::inserter(may_lose, may_lose.end()));
  auto store = Store::Open(o, ctx);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  const Keys found = Verify(**store, model, kSeries, may_lose);
  std::size_t lost = 0;
  for (const auto& k : gone) lost += found.count(k) == 0;
  MESSAGE(gone.size() << " records in the removed segments, " << lost << " lost, "
                      << gone.size() - lost << " replayed from the log");
  // Appends go on, and a second reopen is clean.
  REQUIRE((*store)->Append({{SeriesId{1}, ts, ValueOf(1, ts)}}).Wait().ok());
  model.attempted.insert({1, ts});
  model.acked.insert({1, ts});
  store->reset();
  auto again = Store::Open(o, ctx);
  REQUIRE(again.ok());
  Verify(**again, model, kSeries, may_lose);
}

}  // namespace sluice::store
