#include "store/store.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <filesystem>
#include <cstdlib>
#include <chrono>

#include "gated_env.h"
#include "store_context.h"
#include "temp_dir.h"

namespace sluice::store {
namespace {

Options OptionsIn(const testing::TempDir& dir) {
  Options o;
  o.dir = (dir.path() / "store").string();
  o.wal_file_size = 1 << 20;
  o.wal_max_group_bytes = 64 << 10;
  return o;
}

std::unique_ptr<Store> MustOpen(const Options& o) {
  auto s = Store::Open(o);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return std::move(*s);
}

std::vector<Record> ScanAll(const Store& s, SeriesId id) {
  std::vector<Record> out;
  REQUIRE(s.Scan(id, INT64_MIN, INT64_MAX, [&](const Record& r) {
               out.push_back(r);
               return true;
             }).ok());
  return out;
}

}  // namespace

TEST_CASE("an acknowledged batch is readable and survives reopening the store") {
  testing::TempDir dir;
  const Options o = OptionsIn(dir);
  SeriesId temp, state;
  {
    auto store = MustOpen(o);
    temp = *store->RegisterSeries("plant/l1/p3/temperature", ValueType::kFloat64, "degC");
    state = *store->RegisterSeries("plant/l1/p3/state", ValueType::kBytes, "");
    Ticket t = store->Append({{temp, 100, 21.5}, {temp, 200, 21.75}, {state, 150, std::string("run")}});
    REQUIRE(t.Wait().ok());
    CHECK(store->Latest(temp)->timestamp_ns == 200);
    CHECK(store->stats().records == 3);
    REQUIRE(store->Close().ok());
  }
  auto store = MustOpen(o);
  CHECK(store->FindSeries("plant/l1/p3/temperature")->id == temp);
  CHECK(store->GetSeries(state)->type == ValueType::kBytes);
  auto points = ScanAll(*store, temp);
  REQUIRE(points.size() == 2);
  CHECK(std::get<double>(points[1].value) == 21.75);
  CHECK(std::get<std::string>(store->Latest(state)->value) == "run");
  CHECK(store->stats().recovered_records == 0);  // Close wrote every open block
}

TEST_CASE("registering a name again returns its id, with another type it is refused") {
  testing::TempDir dir;
  auto store = MustOpen(OptionsIn(dir));
  auto a = store->RegisterSeries("m/speed", ValueType::kInt64, "rpm");
  REQUIRE(a.ok());
  CHECK(*store->RegisterSeries("m/speed", ValueType::kInt64, "rpm") == *a);
  auto clash = store->RegisterSeries("m/speed", ValueType::kFloat64, "rpm");
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.status().message().find("registered as int64") != std::string::npos);
  CHECK_FALSE(store->RegisterSeries("", ValueType::kInt64, "").ok());
  CHECK(store->ListSeries().size() == 1);
}

TEST_CASE("a bad record rejects its whole batch, names it, and changes nothing") {
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.max_value_bytes = 8;
  auto store = MustOpen(o);
  auto flow = *store->RegisterSeries("flow", ValueType::kFloat64, "l/min");
  auto blob = *store->RegisterSeries("blob", ValueType::kBytes, "");

  Status seen;
  Ticket wrong_type = store->Append({{flow, 1, 1.0}, {flow, 2, std::int64_t{3}}},
                                    [&](const Status& s) { seen = s; });
  REQUIRE(wrong_type.done());  // refused before the write buffer
  CHECK(wrong_type.status().message() == "record 1: series 'flow' holds float64, got int64");
  CHECK(seen.code() == StatusCode::kInvalidArgument);  // the callback ran too

  CHECK(store->Append({{SeriesId{99}, 1, 1.0}}).Wait().message().find("not registered") !=
        std::string::npos);
  CHECK(store->Append({{blob, 1, std::string(9, 'x')}}).Wait().message().find("max_value_bytes") !=
        std::string::npos);
  CHECK(store->Append({}).Wait().code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(store->Latest(flow).has_value());
  CHECK(store->stats().rejected_batches == 4);
  CHECK(store->stats().records == 0);
}

TEST_CASE("scans return a time range in timestamp order, late records included") {
  testing::TempDir dir;
  auto store = MustOpen(OptionsIn(dir));
  auto id = *store->RegisterSeries("t", ValueType::kInt64, "");
  REQUIRE(store->Append({{id, 30, std::int64_t{3}}, {id, 10, std::int64_t{1}}}).Wait().ok());
  REQUIRE(store->Append({{id, 20, std::int64_t{2}}, {id, 20, std::int64_t{22}}}).Wait().ok());
  std::vector<std::int64_t> got;
  REQUIRE(store->Scan(id, 10, 30, [&](const Record& r) {
                  got.push_back(std::get<std::int64_t>(r.value));
                  return true;
                }).ok());
  CHECK(got == std::vector<std::int64_t>{1, 2, 22});
  CHECK(std::get<std::int64_t>(store->Latest(id)->value) == 3);
  CHECK(store->Scan(SeriesId{42}, 0, 1, [](const Record&) { return true; }).code() ==
        StatusCode::kNotFound);
}

TEST_CASE("concurrent appenders share commit groups and every batch is acknowledged") {
  testing::TempDir dir;
  const Options o = OptionsIn(dir);
  constexpr int kThreads = 8, kBatches = 300;
  {
    auto store = MustOpen(o);
    std::vector<SeriesId> ids;
    for (int t = 0; t < kThreads; ++t) {
      ids.push_back(*store->RegisterSeries("s" + std::to_string(t), ValueType::kFloat64, ""));
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int b = 0; b < kBatches; ++b) {
          if (!store->Append({{ids[t], b, b * 0.5}}).Wait().ok()) failures++;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    const auto st = store->stats();
    CHECK(st.appends == kThreads * kBatches);
    CHECK(st.commit_groups < st.appends);  // syncs were shared
    MESSAGE("batches " << st.appends << ", commit groups " << st.commit_groups << ", engine "
                       << st.io_engine);
  }
  auto store = MustOpen(o);
  for (int t = 0; t < kThreads; ++t) {
    CHECK(ScanAll(*store, SeriesId{static_cast<std::uint32_t>(t + 1)}).size() == kBatches);
  }
}

TEST_CASE("after Close, appends and registrations fail with Aborted") {
  testing::TempDir dir;
  auto store = MustOpen(OptionsIn(dir));
  auto id = *store->RegisterSeries("x", ValueType::kBool, "");
  REQUIRE(store->Close().ok());
  CHECK(store->Append({{id, 1, true}}).Wait().code() == StatusCode::kAborted);
  CHECK(store->RegisterSeries("y", ValueType::kBool, "").status().code() == StatusCode::kAborted);
}

TEST_CASE("options out of bounds are refused with the field named") {
  Options o;
  o.dir = "/tmp/x";
  o.wal_max_group_bytes = 1;
  auto s = Store::Open(o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().starts_with("wal_max_group_bytes:"));
}

}  // namespace sluice::store

namespace sluice::store {
namespace {
constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'764'100'800 * kSec;  // a window boundary for 60 s windows
}  // namespace

TEST_CASE("full blocks go to segments and scans read across disk and DRAM") {
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.block_size = 64 << 10;
  o.segment_size = 256 << 10;
  std::int64_t now = kT0;
  auto s = Store::Open(o, TestContext([&] { return now; }));
  REQUIRE(s.ok());
  auto& store = **s;
  auto id = *store.RegisterSeries("vibration", ValueType::kInt64, "um");
  for (int b = 0; b < 50; ++b) {
    Batch batch;
    for (int i = 0; i < 1000; ++i) {
      const std::int64_t n = b * 1000 + i;
      batch.push_back({id, kT0 + n * 1000, n * 7919 % 1000003});  // values jump around
    }
    REQUIRE(store.Append(std::move(batch)).Wait().ok());
  }
  // Full blocks are written by the background flusher; the store offers no
  // event for it, so poll its counter (bounded) before checking.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store.stats().blocks_written < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto st = store.stats();
  CHECK(st.blocks_written >= 2);
  CHECK(st.segment_bytes >= (256 << 10));
  std::int64_t expect = 0;
  bool ordered = true;
  REQUIRE(store.Scan(id, INT64_MIN, INT64_MAX, [&](const Record& r) {
                 ordered &= std::get<std::int64_t>(r.value) == expect++ * 7919 % 1000003;
                 return true;
               }).ok());
  CHECK(ordered);
  CHECK(expect == 50000);
  std::size_t in_range = 0;
  REQUIRE(store.Scan(id, kT0 + 10'000'000, kT0 + 20'000'000, [&](const Record&) {
                 ++in_range;
                 return true;
               }).ok());
  CHECK(in_range == 10000);
  MESSAGE("blocks " << st.blocks_written << ", block bytes " << st.block_bytes_written
                    << " for 50000 int64 points, DRAM index " << st.dram_index_bytes << " B");
}

TEST_CASE("a series spread over many blocks of two partitions is indexed by block runs, and reads stay exact") {
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.wal_file_size = 4 << 20;
  o.block_size = 64 << 10;
  o.segment_size = 1 << 20;
  o.partition_window = std::chrono::seconds(60);
  o.partition_shards = 2;
  o.late_grace = std::chrono::seconds(10);
  std::int64_t now = kT0;
  constexpr int kSeries = 200, kRounds = 1000;
  std::vector<SeriesId> ids;
  // Each series gets one point per round (50 ms apart), in each of two windows: every block
  // holds a few points of every series of its partition. Thirds are no decimals: the values
  // take their 8 bytes of bits, so that the blocks stay many.
  const auto value = [](int series, int window, int round) {
    return static_cast<double>(series * 100000 + window * 10000 + round) / 3;
  };
  std::size_t blocks = 0;
  {
    auto s = Store::Open(o, TestContext([&] { return now; }));
    REQUIRE(s.ok());
    auto& store = **s;
    for (int i = 0; i < kSeries; ++i) {
      ids.push_back(*store.RegisterSeries("s" + std::to_string(i), ValueType::kFloat64, ""));
    }
    for (int w = 0; w < 2; ++w) {
      for (int r0 = 0; r0 < kRounds; r0 += 10) {
        Batch batch;
        for (int r = r0; r < r0 + 10; ++r) {
          for (int i = 0; i < kSeries; ++i) {
            batch.push_back({ids[i], kT0 + w * 60 * kSec + r * (kSec / 20), value(i, w, r)});
          }
        }
        const Status appended = store.Append(std::move(batch)).Wait();
        REQUIRE_MESSAGE(appended.ok(), appended.ToString());
      }
    }
    for (const auto& p : store.ListPartitions(PartitionState::kOpen)) REQUIRE(store.Seal(p.id).ok());
    const auto st = store.stats();
    blocks = st.blocks_written;
    REQUIRE(blocks >= 8);  // several blocks per partition
    // One 32-byte entry per series per block would be blocks x series/2 x 32. Runs take a
    // few per series: the seals at the end write both windows' last blocks after each
    // other, so each series has two runs per window, and the index's per-series latest
    // values add 17 B a series (in chunks of 1,024 series).
    CHECK(st.dram_index_bytes < blocks * (kSeries / 2) * 32 / 2);
    MESSAGE(blocks << " blocks, DRAM index " << st.dram_index_bytes << " B for "
                   << kSeries * kRounds * 2 << " points");
  }
  const auto check_series = [&](const Store& store, int i, int first_window) {
    const auto got = ScanAll(store, ids[i]);
    REQUIRE(got.size() == static_cast<std::size_t>((2 - first_window) * kRounds));
    std::size_t k = 0;
    for (int w = first_window; w < 2; ++w) {
      for (int r = 0; r < kRounds; ++r, ++k) {
        CHECK(std::get<double>(got[k].value) == value(i, w, r));
        CHECK(got[k].timestamp_ns == kT0 + w * 60 * kSec + r * (kSec / 20));
      }
    }
  };
  auto s = Store::Open(o, TestContext([&] { return now; }));  // runs rebuilt from block headers
  REQUIRE(s.ok());
  auto& store = **s;
  for (int i = 0; i < kSeries; i += 7) check_series(store, i, 0);
  // A window's range scan reads only that window's runs.
  std::size_t in_second = 0;
  REQUIRE(store.Scan(ids[3], kT0 + 60 * kSec, kT0 + 120 * kSec, [&](const Record& r) {
                 in_second += std::get<double>(r.value) >= value(3, 1, 0);
                 return true;
               }).ok());
  CHECK(in_second == kRounds);
  // A partition read returns every record of its shard's series once.
  std::size_t records = 0;
  const auto sealed = store.ListPartitions(PartitionState::kSealed);
  REQUIRE(sealed.size() == 4);
  for (const auto& p : sealed) {
    REQUIRE(store.ReadPartition(p.id, [&](const Record&) {
                   ++records;
                   return true;
                 }).ok());
  }
  CHECK(records == static_cast<std::size_t>(kSeries * kRounds * 2));
  // Reclaiming the first window's partitions drops their runs, not the others.
  for (const auto& p : sealed) {
    if (p.id.window_start_ns != kT0) continue;
    REQUIRE(store.MarkSynced(p.id).ok());
    REQUIRE(store.Reclaim(p.id).ok());
  }
  for (int i = 0; i < kSeries; i += 7) check_series(store, i, 1);
}

TEST_CASE("a partition marked synced while its seal is still writing is reclaimed only after the write") {
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.partition_shards = 1;
  auto posix = NewPosixEnv(IoEngine::kPwrite);
  REQUIRE(posix.ok());
  // Segment writes held at a gate: a partition's block still queued while
  // its seal goes on.
  GatedEnv env(posix->get(), [](const std::string& path) {
    return path.find("/segments/seg-") != std::string::npos;
  });
  const std::int64_t now = 1'700'000'000'000'000'000;
  auto opened = Store::Open(o, TestContext([] { return now; }, &env));
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  Store& store = **opened;
  const SeriesId id = *store.RegisterSeries("gate", ValueType::kFloat64, "");
  REQUIRE(store.Append({{id, now - 1000, 1.0}, {id, now, 2.0}}).Wait().ok());
  const PartitionId p = store.ListPartitions(PartitionState::kOpen).front().id;
  // The seal's block write is held: the partition is sealed, its block
  // still queued, as when the maintenance thread seals it.
  env.Close();
  std::thread seal([&] { CHECK(store.Seal(p).ok()); });
  for (int i = 0; i < 5000 && env.held() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(env.held() > 0);
  REQUIRE(store.MarkSynced(p).ok());
  std::atomic<bool> reclaimed{false};
  std::thread reclaim([&] {
    CHECK(store.Reclaim(p).ok());
    reclaimed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(reclaimed.load());  // waits for the block, not around it
  env.Open();
  seal.join();
  reclaim.join();
  const auto all = store.ListPartitions(std::nullopt);
  REQUIRE(all.size() == 1);
  CHECK(all.front().state == PartitionState::kReclaimed);
  CHECK(all.front().blocks == 0);  // the block landed before the drop, and went with it
  REQUIRE(store.Close().ok());
}

TEST_CASE("a partition goes OPEN -> SEALED -> SYNCED -> RECLAIMED, durably, and only in that order") {
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.partition_window = std::chrono::seconds(60);
  o.partition_shards = 1;
  o.late_grace = std::chrono::seconds(10);
  std::int64_t now = kT0;
  PartitionId first;
  {
    auto s = Store::Open(o, TestContext([&] { return now; }));
    REQUIRE(s.ok());
    auto& store = **s;
    auto id = *store.RegisterSeries("t", ValueType::kFloat64, "");
    REQUIRE(store.Append({{id, kT0 + 5 * kSec, 1.0}, {id, kT0 + 65 * kSec, 2.0}}).Wait().ok());
    auto open = store.ListPartitions(PartitionState::kOpen);
    REQUIRE(open.size() == 2);
    first = open[0].id;
    CHECK(first.window_start_ns == kT0);
    CHECK(open[0].records == 1);

    CHECK(store.MarkSynced(first).code() == StatusCode::kInvalidArgument);
    REQUIRE(store.Seal(first).ok());
    CHECK(store.Seal(first).message().find("it is sealed") != std::string::npos);
    // A record for a sealed window goes to the late partition of now's window.
    REQUIRE(store.Append({{id, kT0 + 6 * kSec, 3.0}}).Wait().ok());
    CHECK(store.stats().late_records == 1);
    std::vector<double> in_first;
    REQUIRE(store.ReadPartition(first, [&](const Record& r) {
                   in_first.push_back(std::get<double>(r.value));
                   return true;
                 }).ok());
    CHECK(in_first == std::vector<double>{1.0});
    REQUIRE(store.MarkSynced(first).ok());
    // Confirmed twice (an upload retried after its answer was lost): the
    // second changes nothing and is not an error.
    CHECK(store.MarkSynced(first).ok());
    CHECK(store.ListPartitions(PartitionState::kSynced).size() == 1);
  }
  auto s = Store::Open(o, TestContext([&] { return now; }));
  REQUIRE(s.ok());
  auto& store = **s;
  REQUIRE(store.ListPartitions(PartitionState::kSynced).size() == 1);
  CHECK(store.ListPartitions(PartitionState::kOpen).size() == 2);  // window 2, late
  REQUIRE(store.Reclaim(first).ok());
  CHECK(store.ListPartitions(PartitionState::kReclaimed).size() == 1);
  std::vector<double> all;
  REQUIRE(store.Scan(SeriesId{1}, INT64_MIN, INT64_MAX, [&](const Record& r) {
                 all.push_back(std::get<double>(r.value));
                 return true;
               }).ok());
  CHECK(all == std::vector<double>{3.0, 2.0});  // the reclaimed record is gone
}

TEST_CASE("partitions whose window and grace have passed are sealed by the store itself") {
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.partition_window = std::chrono::seconds(60);
  o.late_grace = std::chrono::seconds(10);
  std::atomic<std::int64_t> now{kT0};
  auto s = Store::Open(o, TestContext([&] { return now.load(); }));
  REQUIRE(s.ok());
  auto& store = **s;
  auto id = *store.RegisterSeries("t", ValueType::kBool, "");
  REQUIRE(store.Append({{id, kT0, true}}).Wait().ok());
  now = kT0 + 71 * kSec;
  for (int i = 0; i < 100 && store.ListPartitions(PartitionState::kSealed).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the sealer runs every 200 ms
  }
  CHECK(store.ListPartitions(PartitionState::kSealed).size() == 1);
}

TEST_CASE("partition parameters are fixed when the store is created") {
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.partition_shards = 4;
  { REQUIRE(Store::Open(o).ok()); }
  o.partition_shards = 16;
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  const auto notes = (*s)->stats().notes;
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("fixed at creation") != std::string::npos);
}

}  // namespace sluice::store

namespace sluice::store {
namespace {

// Waits for the store's periodic maintenance (every 200 ms) to reach `want`.
bool WaitForPressure(const Store& store, bool want) {
  for (int i = 0; i < 100; ++i) {
    if (store.pressure().full == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Fills the store with 1 KiB values over successive 60 s windows until an
// append is refused; returns how many were accepted.
int FillUntilRefused(Store& store, SeriesId id, std::atomic<std::int64_t>& now, Status* refusal) {
  const std::string kilobyte(1024, 'v');
  for (int i = 0; i < 100000; ++i) {
    Batch batch;
    for (int j = 0; j < 32; ++j) batch.push_back({id, now.load() + j, kilobyte});
    Status s = store.Append(std::move(batch)).Wait();
    if (!s.ok()) {
      *refusal = s;
      return i;
    }
    now += 2 * kSec;
    if (i % 16 == 0) WaitForPressure(store, false);  // let maintenance catch up now and then
  }
  return -1;
}

}  // namespace

TEST_CASE("above the disk budget's high watermark appends are refused until synced data is reclaimed") {
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.block_size = 64 << 10;
  o.segment_size = 256 << 10;
  o.partition_window = std::chrono::seconds(60);
  o.late_grace = std::chrono::seconds(10);
  o.disk_budget = 8 * o.segment_size + 16 * o.wal_file_size;
  std::atomic<std::int64_t> now{kT0};
  auto s = Store::Open(o, TestContext([&] { return now.load(); }));
  REQUIRE(s.ok());
  auto& store = **s;
  auto id = *store.RegisterSeries("blob", ValueType::kBytes, "");

  Status refusal;
  const int accepted = FillUntilRefused(store, id, now, &refusal);
  REQUIRE(accepted > 0);
  CHECK(refusal.code() == StatusCode::kNoSpace);
  CHECK(refusal.message().find("disk budget") != std::string::npos);
  CHECK(store.pressure().full);
  CHECK(store.stats().rejected_full >= 1);

  // The sync engine confirms the sealed partitions; the store reclaims them
  // and takes appends again.
  for (const auto& p : store.ListPartitions(PartitionState::kSealed)) REQUIRE(store.MarkSynced(p.id).ok());
  REQUIRE(WaitForPressure(store, false));
  CHECK(store.stats().reclaimed_partitions > 0);
  CHECK(store.stats().evicted_records == 0);
  CHECK(store.Append({{id, now.load(), std::string("again")}}).Wait().ok());
  MESSAGE("accepted " << accepted << " batches of 32 KiB before the budget of "
                      << o.disk_budget << " bytes pushed back; reclaimed "
                      << store.stats().reclaimed_partitions << " partitions");
}

TEST_CASE("the eviction hook may drop sealed unsynced partitions, and every dropped record is counted") {
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.block_size = 64 << 10;
  o.segment_size = 256 << 10;
  o.partition_window = std::chrono::seconds(60);
  o.late_grace = std::chrono::seconds(10);
  o.disk_budget = 8 * o.segment_size + 16 * o.wal_file_size;
  std::atomic<std::int64_t> now{kT0};
  std::atomic<int> offered{0};
  StoreContext ctx = TestContext([&] { return now.load(); });
  ctx.evict_unsynced = [&](const PartitionInfo&) {
    ++offered;
    return true;
  };
  auto s = Store::Open(o, ctx);
  REQUIRE(s.ok());
  auto& store = **s;
  auto id = *store.RegisterSeries("blob", ValueType::kBytes, "");
  // With eviction allowed, the store keeps up for far longer than the budget holds.
  Status refusal;
  const std::string kilobyte(1024, 'v');
  // Bounded in wall time too: a store that stays full makes each refused
  // batch wait up to 5 s for maintenance.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < 1500 && std::chrono::steady_clock::now() < deadline; ++i) {
    Batch batch;
    for (int j = 0; j < 32; ++j) batch.push_back({id, now.load() + j, kilobyte});
    Status st = store.Append(std::move(batch)).Wait();
    if (!st.ok()) WaitForPressure(store, false);  // eviction runs periodically
    now += 2 * kSec;
  }
  // Maintenance evicts and reclaims periodically: appends made since its
  // last pass may hold the disk above the budget until the next one.
  for (int i = 0; i < 1000 && store.pressure().disk_used_bytes > o.disk_budget; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto st = store.stats();
  CHECK(offered > 0);
  CHECK(st.evicted_partitions > 0);
  CHECK(st.evicted_records > 0);
  CHECK(store.pressure().disk_used_bytes <= o.disk_budget);
  MESSAGE("evicted " << st.evicted_partitions << " partitions, " << st.evicted_records
                     << " records lost before sync, counted");
}

}  // namespace sluice::store

namespace sluice::store {

TEST_CASE("in pmem mode acknowledged records survive reopening, through the persistent-memory ring") {
  if (!std::filesystem::is_directory("/dev/shm")) {
    MESSAGE("SKIPPED: /dev/shm is missing, nothing to emulate persistent memory with");
    return;
  }
  // Test-only: make libpmem2 treat the tmpfs file as cache-line persistent.
  setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
  testing::TempDir dir;
  testing::TempDir shm_dir("sluice-pmem");
  Options o = OptionsIn(dir);
  o.write_buffer = WriteBufferMode::kPmem;
  o.pmem_path = "/dev/shm/" + shm_dir.path().filename().string() + ".pmem";
  o.pmem_size = 4 << 20;
  {
    auto s = Store::Open(o);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    auto id = *(*s)->RegisterSeries("p", ValueType::kFloat64, "bar");
    for (int i = 0; i < 200; ++i) REQUIRE((*s)->Append({{id, i, i * 0.5}}).Wait().ok());
    CHECK((*s)->stats().write_buffer.starts_with("pmem "));
  }
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  std::size_t n = 0;
  REQUIRE((*s)->Scan(SeriesId{1}, INT64_MIN, INT64_MAX, [&](const Record& r) {
                 CHECK(std::get<double>(r.value) == r.timestamp_ns * 0.5);
                 ++n;
                 return true;
               }).ok());
  CHECK(n == 200);
  s->reset();
  std::filesystem::remove(o.pmem_path);
  unsetenv("PMEM2_FORCE_GRANULARITY");
}

TEST_CASE("pmem mode on a file that is not persistent memory is refused, pointing to wal") {
  unsetenv("PMEM2_FORCE_GRANULARITY");
  testing::TempDir dir;
  Options o = OptionsIn(dir);
  o.write_buffer = WriteBufferMode::kPmem;  // <dir>/wal.pmem, on the real disk
  auto s = Store::Open(o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kUnsupported);
  CHECK(s.status().message().find("wal") != std::string::npos);
}

}  // namespace sluice::store
