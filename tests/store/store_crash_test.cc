// Crash safety of the whole store, checked against a model of what was
// acknowledged: power cuts at random bytes, a full disk, damaged segments.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "fault_env.h"
#include "store/store.h"
#include "store_context.h"
#include "temp_dir.h"

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

// What the store acknowledged and what it was asked to store: a record is
// (series, timestamp) with a value derived from both, so that any record read
// back can be checked for being one that was appended.
struct Model {
  std::mutex mu;
  std::set<std::pair<std::uint32_t, std::int64_t>> acked, attempted;
};

double ValueOf(std::uint32_t series, std::int64_t ts) {
  return static_cast<double>(series) * 1000.0 + static_cast<double>(ts % 100000) / 8.0;
}

// Reads everything back and checks it against the model: every acknowledged
// record is there, nothing is there twice, nothing was invented.
void Verify(const Store& store, const Model& model, std::uint32_t series_count) {
  std::set<std::pair<std::uint32_t, std::int64_t>> found;
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
  for (const auto& k : model.acked) missing += found.count(k) == 0;
  CHECK_MESSAGE(missing == 0, missing << " acknowledged records lost of " << model.acked.size());
  for (const auto& k : found) CHECK(model.attempted.count(k) == 1);
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
      env.FailAfterBytes(rng() % (3 << 20));
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
  CHECK(served > 0);
  CHECK(served < 20000);  // the damaged block's records are not served
  CHECK(st.quarantined_pages + st.quarantined_blocks > 0);
  for (const auto& n : st.notes) MESSAGE(n);
  MESSAGE("recovered " << st.recovered_records << " from the write buffer");
  MESSAGE("served " << served << " of 20000; quarantined pages " << st.quarantined_pages
                    << ", blocks " << st.quarantined_blocks);
}

}  // namespace sluice::store
