// Restarts from the index checkpoint (index_checkpoint.h): what a restart
// reads before it acknowledges again does not grow with the store; the
// first acknowledgement does not wait for the index of older partitions;
// a checkpoint torn, bit-flipped or cut off by a power failure while it is
// written costs a scan, never a record; a store made before checkpoints
// (a fixture kept in the tree) opens.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "crash_rig.h"
#include "index_checkpoint.h"
#include "gated_env.h"
#include "store_context.h"

namespace sluice::store::crash {
namespace {

constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::uint32_t kSeries = 8;

std::unique_ptr<Env> Posix() {
  auto env = NewPosixEnv(IoEngine::kAuto);
  REQUIRE_MESSAGE(env.ok(), env.status().ToString());
  return std::move(*env);
}

std::unique_ptr<Store> MustOpen(const Options& o, const StoreContext& ctx) {
  auto store = Store::Open(o, ctx);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return std::move(*store);
}

// Records of kSeries series every `step` from `from` to `to`, 1000 to a
// batch, each batch acknowledged before the next.
void AppendRange(Store& store, Model& model, std::int64_t from, std::int64_t to,
                 std::int64_t step) {
  Batch batch;
  Keys keys;
  auto flush = [&] {
    if (batch.empty()) return;
    model.attempted.insert(keys.begin(), keys.end());
    REQUIRE(store.Append(std::move(batch)).Wait().ok());
    model.acked.insert(keys.begin(), keys.end());
    batch.clear();
    keys.clear();
  };
  for (std::int64_t ts = from; ts < to; ts += step) {
    const auto s = static_cast<std::uint32_t>(1 + (ts / step) % kSeries);
    batch.push_back({SeriesId{s}, ts, ValueOf(s, ts)});
    keys.insert({s, ts});
    if (batch.size() == 1000) flush();
  }
  flush();
}

void SealAll(Store& store) {
  for (const auto& p : store.ListPartitions(PartitionState::kOpen)) (void)store.Seal(p.id);
  REQUIRE(store.ListPartitions(PartitionState::kOpen).empty());
}

struct Restart {
  std::uint64_t foreground_bytes = 0;  // read by Open, before the first acknowledgement
  std::uint64_t background_bytes = 0;  // read loading the rest of the index
  std::uint64_t segment_bytes = 0;
  std::uint64_t records = 0;
};

// `windows` minutes of sealed history, then the same last half minute, a
// power cut, and a restart whose other threads cannot read until the first
// append is acknowledged.
Restart CrashAndRestart(int windows) {
  testing::TempDir dir;
  auto base = Posix();
  FaultInjectionEnv fault(base.get());
  GatedEnv env(&fault, [](const std::string&) { return false; });
  Options o = SmallStore(dir);
  o.block_max_age = std::chrono::seconds(3600);  // blocks are written when full, not by the clock
  const std::int64_t t0 = kStart + 1000 * kMinute;
  std::atomic<std::int64_t> now{t0 - windows * kMinute};
  const StoreContext ctx = TestContext([&] { return now.load(); }, &env);
  Model model;
  {
    auto store = MustOpen(o, ctx);
    RegisterAll(*store, kSeries);
    AppendRange(*store, model, t0 - windows * kMinute, t0 - 2 * kMinute, 10'000'000);
    now = t0;
    SealAll(*store);
  }
  // What the write buffer holds is bounded by its configuration, not by
  // the store: both stores start the last part with an empty one, and with
  // a checkpoint taken after a clean start and stop.
  std::filesystem::remove_all(o.dir + "/wal");
  MustOpen(o, ctx).reset();
  {
    auto store = MustOpen(o, ctx);
    AppendRange(*store, model, t0, t0 + 30 * kSecond, 10'000'000);
    fault.PowerOff();
    store.reset();
    REQUIRE(fault.DropUnsyncedData().ok());
    fault.ClearFaults();
  }

  env.ResetReadCounts();
  const auto me = std::this_thread::get_id();
  env.HoldReadsExcept(me);
  auto store = MustOpen(o, ctx);
  Restart r;
  r.foreground_bytes = env.bytes_read(me);
  const StoreStats opened = store->stats();
  CHECK(opened.recovery_path == "checkpoint");
  CHECK_FALSE(opened.index_ready);
  // Acknowledged while the index of the older partitions cannot load.
  const std::int64_t ts = t0 + 31 * kSecond;
  REQUIRE(store->Append({{SeriesId{1}, ts, ValueOf(1, ts)}}).Wait().ok());
  model.acked.insert({1, ts});
  model.attempted.insert({1, ts});
  CHECK_FALSE(store->stats().index_ready);
  CHECK(env.bytes_read(me) == r.foreground_bytes);
  env.ReleaseReads();
  REQUIRE(Eventually([&] { return store->stats().index_ready; }));
  r.background_bytes = env.bytes_read() - r.foreground_bytes;
  r.records = Verify(*store, model, kSeries).size();
  r.segment_bytes = store->stats().block_bytes_written + opened.segment_bytes;
  CHECK(store->stats().index_load_us >= opened.recovery_us);
  return r;
}

}  // namespace

TEST_CASE("a restart reads the same bytes before its first acknowledgement from a store ten times as large") {
  const Restart small = CrashAndRestart(10);
  const Restart large = CrashAndRestart(100);
  MESSAGE("10 windows: " << small.records << " records, " << small.segment_bytes
                         << " segment bytes; read before the first ack " << small.foreground_bytes
                         << ", in the background " << small.background_bytes);
  MESSAGE("100 windows: " << large.records << " records, " << large.segment_bytes
                          << " segment bytes; read before the first ack " << large.foreground_bytes
                          << ", in the background " << large.background_bytes);
  CHECK(large.records > 8 * small.records);
  CHECK(large.segment_bytes > 5 * small.segment_bytes);
  CHECK(large.foreground_bytes == small.foreground_bytes);
  CHECK(large.background_bytes > small.background_bytes);
}

TEST_CASE("a record bound for a window before the checkpoint's horizon waits for the whole index, and lands where a scan would put it") {
  Rig rig;
  rig.options.block_max_age = std::chrono::seconds(3600);
  const std::int64_t t0 = kStart + 100 * kMinute;
  {
    auto store = rig.Open();
    RegisterAll(*store, kSeries);
    AppendRange(*store, rig.model, t0 - 20 * kMinute, t0 - 2 * kMinute, 10'000'000);
    rig.now = t0;
    SealAll(*store);
  }
  auto store = rig.Open();
  CHECK(store->stats().recovery_path == "checkpoint");
  // An old window, sealed: the record goes to the late partition.
  const std::int64_t old = t0 - 15 * kMinute + 1;
  REQUIRE(store->Append({{SeriesId{2}, old, ValueOf(2, old)}}).Wait().ok());
  rig.model.acked.insert({2, old});
  rig.model.attempted.insert({2, old});
  CHECK(store->stats().index_ready);
  CHECK(store->stats().late_records == 1);
  Verify(*store, rig.model, kSeries);
}

TEST_CASE("a damaged index checkpoint costs a scan, never a record") {
  Rig rig;
  const std::int64_t t0 = kStart + 100 * kMinute;
  {
    auto store = rig.Open();
    RegisterAll(*store, kSeries);
    AppendRange(*store, rig.model, t0 - 10 * kMinute, t0, 10'000'000);
    rig.now = t0;
  }
  const std::filesystem::path path = std::filesystem::path(rig.options.dir) / "index.ckpt";
  const std::string good = ReadFile(path);
  auto header = DecodeCheckpointHeader(good);
  REQUIRE(header.ok());
  const std::size_t recent_end = kCheckpointHeaderBytes + header->recent_len;
  struct Damage {
    const char* what;
    std::size_t at;    // where
    bool cut;          // cut there, or flip a bit there
    const char* path;  // the expected recovery path, its first word
  };
  const Damage damages[] = {
      {"a bit in the header", 9, false, "scan"},
      {"a bit in the recent section", kCheckpointHeaderBytes + 3, false, "scan"},
      {"a bit in the full section", recent_end + 5, false, "checkpoint"},
      {"a bit in the last byte", good.size() - 1, false, "checkpoint"},
      {"cut inside the header", 20, true, "scan"},
      {"cut inside the recent section", recent_end - 1, true, "scan"},
      {"cut inside the full section", recent_end + (good.size() - recent_end) / 2, true, "scan"},
      {"empty", 0, true, "scan"},
  };
  for (const Damage& d : damages) {
    CAPTURE(d.what);
    std::string bad = good;
    if (d.cut) {
      bad.resize(d.at);
    } else {
      bad[d.at] = static_cast<char>(bad[d.at] ^ 0x10);
    }
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bad.data(), static_cast<std::streamsize>(bad.size()));
    }
    auto store = rig.Open();
    REQUIRE(Eventually([&] { return store->stats().index_ready; }));
    const StoreStats st = store->stats();
    CHECK(st.recovery_path.starts_with(d.path));
    bool said = false;
    for (const auto& n : st.notes) said |= n.find("index checkpoint") != std::string::npos;
    CHECK(said);
    Verify(*store, rig.model, kSeries);
    // The next start has a good checkpoint again.
    store.reset();
    CHECK(rig.Open()->stats().recovery_path == "checkpoint");
  }
}

TEST_CASE("a power cut while the index checkpoint is written leaves the old one or the new one") {
  // The k-th metadata write or sync of a clean stop is the last; the stop
  // writes the checkpoint last of all, so every step of it is cut somewhere.
  for (std::uint64_t k = 1; k <= 8; ++k) {
    CAPTURE(k);
    Rig rig;
    const std::int64_t t0 = kStart + 100 * kMinute;
    {
      auto store = rig.Open();
      RegisterAll(*store, kSeries);
      AppendRange(*store, rig.model, t0 - 6 * kMinute, t0 - 3 * kMinute, 10'000'000);
    }
    {
      auto store = rig.Open();
      AppendRange(*store, rig.model, t0 - 3 * kMinute, t0, 10'000'000);
      rig.env.FailCall(FaultInjectionEnv::CallFault::kCrashAfter, k, FileKind::kMetadata);
      store.reset();
      rig.env.PowerOff();
      REQUIRE(rig.env.DropUnsyncedData().ok());
      rig.env.ClearFaults();
    }
    auto store = rig.Open();
    REQUIRE(Eventually([&] { return store->stats().index_ready; }));
    Verify(*store, rig.model, kSeries);
  }
}

TEST_CASE("a store made before index checkpoints opens, is scanned once, and restarts from a checkpoint after") {
  const std::filesystem::path fixture =
      std::filesystem::path(SLUICE_SOURCE_DIR) / "tests" / "store" / "fixtures" / "store-v1";
  REQUIRE(std::filesystem::exists(fixture / "series.log"));
  REQUIRE_FALSE(std::filesystem::exists(fixture / "index.ckpt"));
  testing::TempDir dir;
  Options o = SmallStore(dir);
  std::filesystem::copy(fixture, o.dir, std::filesystem::copy_options::recursive);
  auto base = Posix();
  std::atomic<std::int64_t> now{kStart + 100 * kMinute};
  const StoreContext ctx = TestContext([&] { return now.load(); }, base.get());
  // What the fixture holds (tests/store/fixtures/README.md).
  auto check = [&](Store& store) {
    REQUIRE(store.ListSeries().size() == 4);
    std::uint64_t records = 0;
    for (std::uint32_t s = 1; s <= 4; ++s) {
      REQUIRE(store.Scan(SeriesId{s}, INT64_MIN, INT64_MAX, [&](const Record& r) {
                     CHECK(std::get<double>(r.value) == ValueOf(s, r.timestamp_ns));
                     ++records;
                     return true;
                   }).ok());
    }
    CHECK(records == 40000);
  };
  {
    auto store = MustOpen(o, ctx);
    CHECK(store->stats().recovery_path == "scan");
    check(*store);
  }
  auto store = MustOpen(o, ctx);
  CHECK(store->stats().recovery_path == "checkpoint");
  REQUIRE(Eventually([&] { return store->stats().index_ready; }));
  check(*store);
}

}  // namespace sluice::store::crash

namespace sluice::store::crash {

TEST_CASE("the replay mark never passes a record that an open block still holds") {
  Rig rig;
  rig.options.block_max_age = std::chrono::seconds(3600);
  const std::int64_t t0 = kStart + 100 * kMinute;  // a window start (windows of 60 s)
  const std::filesystem::path mark = std::filesystem::path(rig.options.dir) / "replay.mark";
  rig.now = t0 + 30 * kSecond;
  auto store = rig.Open();
  RegisterAll(*store, kSeries);
  // The current window's records first: they stay in its open blocks...
  AppendRange(*store, rig.model, t0, t0 + 30 * kSecond, 10'000'000);
  const auto current = store->ListPartitions(PartitionState::kOpen);
  REQUIRE_FALSE(current.empty());
  // ...while the previous window's, appended after them, are written to
  // blocks (sealed by hand) and so let the log go.
  AppendRange(*store, rig.model, t0 - 60 * kSecond, t0 - 30 * kSecond, 10'000'000);
  const std::uint64_t appends = store->stats().appends;
  for (const auto& p : store->ListPartitions(PartitionState::kOpen)) {
    const bool is_current = std::any_of(current.begin(), current.end(),
                                        [&](const PartitionInfo& c) { return c.id == p.id; });
    if (!is_current) REQUIRE(store->Seal(p.id).ok());
  }
  REQUIRE(store->stats().blocks_written > 0);
  // Two maintenance ticks: time for a wrong mark to be written, if any.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto early = DecodeReplayMark(ReadFile(mark));
  CHECK((!early.ok() || *early == 0));  // the current window's first batch is record 1
  // Once those blocks are written too, the mark reaches the last record.
  SealAll(*store);
  REQUIRE(Eventually([&] {
    auto seq = DecodeReplayMark(ReadFile(mark));
    return seq.ok() && *seq >= appends;
  }));
  Verify(*store, rig.model, kSeries);
}

TEST_CASE("the replay mark: records already in blocks are passed over at a restart, unless a block that holds them is damaged") {
  for (bool damage : {false, true}) {
    CAPTURE(damage);
    Rig rig;
    rig.options.block_max_age = std::chrono::seconds(3600);
    const std::int64_t t0 = kStart + 100 * kMinute;
    const std::filesystem::path mark = std::filesystem::path(rig.options.dir) / "replay.mark";
    {
      auto store = rig.Open();
      RegisterAll(*store, kSeries);
      AppendRange(*store, rig.model, t0 - 10 * kMinute, t0 - 5 * kMinute, 10'000'000);
      rig.now = t0 - 5 * kMinute;
      SealAll(*store);  // every block written: the mark may reach the last record
      const std::uint64_t appends = store->stats().appends;
      // The checkpoint after the sealed window too: the restart takes its
      // path, which checks the blocks whose records the log holds.
      REQUIRE(Eventually([&] {
        auto seq = DecodeReplayMark(ReadFile(mark));
        return seq.ok() && *seq >= appends && store->stats().checkpoints_written > 0;
      }));
      // kill -9: nothing more is written, nothing written is lost.
      rig.env.PowerOff();
      store.reset();
      rig.env.ClearFaults();
    }
    if (damage) {
      // The first block's body: its records are below the mark, and the
      // write-ahead log still holds them.
      std::fstream f(SegmentPath(rig.options, 1), std::ios::in | std::ios::out | std::ios::binary);
      REQUIRE(f);
      f.seekp(4096 + 4096 + 17);
      f.put('\x5a');
    }
    auto store = rig.Open();
    const StoreStats st = store->stats();
    // Damaged: found by the check of the blocks whose records the log
    // holds, and Verify finds its records, replayed from the log.
    CHECK(st.recovery_path == "checkpoint");
    if (damage) CHECK(st.quarantined_blocks >= 1);
    if (!damage) CHECK(st.replay_mark_skipped > 0);
    Verify(*store, rig.model, kSeries);
  }
}

}  // namespace sluice::store::crash
