// Damaged files, checked against a model of what was acknowledged: bits
// flipped in segment blocks and in the write-ahead log as they are written
// or read, bytes overwritten, truncated and missing segment files. The store
// always starts, serves what is intact, counts and notes what is not, and
// loses no acknowledged record that the log can still bring back.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "crash_rig.h"
#include "segments.h"
#include "wal_format.h"

namespace sluice::store::crash {
namespace {

// Runs the calling test twice: restarting from the index checkpoint (what
// a store does by default), and scanning every segment (a store made before
// checkpoints, or one whose checkpoint is damaged). Damage must be found
// and survived on both paths.
std::uint64_t BothRestartPaths() {
  std::uint64_t bytes = Options{}.index_checkpoint;
  SUBCASE("restart from the index checkpoint") {}
  SUBCASE("restart by scanning every segment") { bytes = 0; }
  return bytes;
}

}  // namespace

TEST_CASE("a damaged segment is quarantined and counted, the rest is served, the store starts") {
  Rig rig;
  rig.options.index_checkpoint = BothRestartPaths();
  {
    auto store = rig.Open();
    auto id = *store->RegisterSeries("s1", ValueType::kFloat64, "");
    for (int b = 0; b < 100; ++b) {
      Batch batch;
      for (int i = 0; i < 500; ++i) {
        const std::int64_t ts = kStart + b * 500 + i;
        batch.push_back({id, ts, ValueOf(1, ts)});
        rig.model.attempted.insert({1, ts});
      }
      REQUIRE(store->Append(std::move(batch)).Wait().ok());
    }
    REQUIRE(store->ListPartitions(PartitionState::kOpen).size() == 1);
    REQUIRE(store->Seal(store->ListPartitions()[0].id).ok());
    CHECK(store->stats().blocks_written >= 2);
    MESSAGE("blocks " << store->stats().blocks_written << " bytes " << store->stats().block_bytes_written);
  }
  // Overwrite bytes in the middle of the first segment's second page: a
  // block header or body.
  {
    std::fstream f(SegmentPath(rig.options, 1), std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekp(4096 + 100);
    const char junk[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    f.write(junk, sizeof junk);
  }
  auto store = rig.Open();
  std::size_t served = 0;
  REQUIRE(store->Scan(SeriesId{1}, INT64_MIN, INT64_MAX, [&](const Record& r) {
                   CHECK(std::get<double>(r.value) == ValueOf(1, r.timestamp_ns));
                   ++served;
                   return true;
                 }).ok());
  const auto st = store->stats();
  // The write-ahead log still holds the damaged block's records: replayed.
  // (Where it does not, they are lost and counted: the bit-flip tests.)
  CHECK(served == 50000);
  CHECK(st.quarantined_pages + st.quarantined_blocks > 0);
  for (const auto& n : st.notes) MESSAGE(n);
  MESSAGE("recovered " << st.recovered_records << " from the write buffer");
  MESSAGE("served " << served << " of 50000; quarantined pages " << st.quarantined_pages
                    << ", blocks " << st.quarantined_blocks);
}

TEST_CASE("bits flipped in segment blocks as written: damaged blocks are quarantined and counted, the rest is served") {
  const std::uint64_t checkpoint = BothRestartPaths();
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    Rig rig;
    rig.options.index_checkpoint = checkpoint;
    constexpr std::uint32_t kSeries = 6;
    {
      auto store = rig.Open();
      RegisterAll(*store, kSeries);
      // Two segment writes (block or segment header) land damaged; enough
      // data follows for the log to be recycled past them.
      rig.env.FlipBitsOnWrite({.kind = FileKind::kSegment, .bits = 3, .seed = seed,
                               .skip = static_cast<std::uint32_t>(2 + seed), .times = 2});
      AppendSteadily(*store, rig.model, &rig.now, &rig.ts, 300, 1000, kSeries);
      REQUIRE(store->Close().ok());
    }
    // The records of every block holding a flipped bit in its header or
    // body (a flipped segment header condemns the whole segment), from an
    // image with the flips undone.
    const auto flips = rig.env.flipped_bits();
    Keys damaged;
    int damaged_blocks = 0;
    std::set<std::string> flipped_paths;
    for (const auto& f : flips) flipped_paths.insert(f.path);
    for (const auto& path : flipped_paths) {
      for (const auto& b : BlocksIn(Repaired(ReadFile(path), rig.env, path))) {
        bool hit = false;
        for (const auto& f : flips) {
          hit |= f.path == path && (f.offset < kPage || (f.offset >= b.begin && f.offset < b.used));
        }
        if (!hit) continue;
        ++damaged_blocks;
        damaged.insert(b.records.begin(), b.records.end());
      }
    }
    // Replay brings back what the log still holds.
    const Keys may_lose = NotInWal(damaged, rig.options);
    auto store = rig.Open();
    const Keys found = Verify(*store, rig.model, kSeries, may_lose);
    const auto st = store->stats();
    std::size_t lost = 0;
    for (const auto& k : damaged) lost += found.count(k) == 0;
    if (damaged_blocks > 0 || lost > 0) CHECK(st.quarantined_blocks + st.quarantined_pages > 0);
    MESSAGE("seed " << seed << ": " << damaged_blocks << " damaged blocks, " << damaged.size()
                    << " records in them, " << lost << " lost (" << may_lose.size()
                    << " not in the log); quarantined blocks " << st.quarantined_blocks
                    << ", pages " << st.quarantined_pages << " of " << rig.model.acked.size());
  }
}

namespace {

// The records of the frames of write-ahead log `path` from the first one
// holding one of `flips` on: replay stops at the first damaged frame, so all
// of them may be lost.
Keys FromFirstDamagedFrame(const std::string& path, const FaultInjectionEnv& env) {
  const std::string repaired = Repaired(ReadFile(path), env, path);
  auto contents = ParseWalFile(AsBytes(repaired), path);
  REQUIRE(contents.ok());
  Keys out;
  bool damaged = false;
  for (const auto& r : contents->records) {
    const std::uint64_t begin =
        static_cast<std::uint64_t>(r.payload.data() - AsBytes(repaired).data()) - kWalFrameHeaderSize;
    const std::uint64_t end = begin + WalFrameSize(r.payload.size());
    for (const auto& f : env.flipped_bits()) damaged |= f.offset >= begin && f.offset < end;
    if (damaged) AddKeysOf(r, out);
  }
  return out;
}

}  // namespace

TEST_CASE("bits flipped in the write-ahead log's last write: the store starts, keeps what precedes the damage, says what it lost, appends on") {
  int set_aside = 0, torn = 0, intact = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    CAPTURE(seed);
    Rig rig;
    Model& model = rig.model;
    constexpr std::uint32_t kSeries = 4;
    {
      auto store = rig.Open();
      RegisterAll(*store, kSeries);
      // Blocks get written (their sequence numbers are what a fresh log
      // must not repeat: the first window is sealed, so they are durable),
      // and more records stay only in the log. The clock stays inside the
      // first window's grace: only this test seals.
      rig.now = kStart + 30 * kSecond;
      AppendSteadily(*store, model, nullptr, &rig.ts, 400, 200, kSeries);
      for (const auto& p : store->ListPartitions(PartitionState::kOpen)) {
        if (p.id.window_start_ns == kStart) REQUIRE(store->Seal(p.id).ok());
      }
      REQUIRE(store->stats().blocks_written > 0);
      rig.env.FlipBitsOnWrite({.kind = FileKind::kWal, .bits = static_cast<std::uint32_t>(1 + seed % 3), .seed = seed});
      AppendSteadily(*store, model, nullptr, &rig.ts, 1, 50, kSeries);
      REQUIRE(model.acked.size() == model.attempted.size());  // flipped bits go unnoticed
      // Then the power fails: nothing more reaches the disk.
      rig.env.SetWriteError(StatusCode::kIoError);
      (void)store->Close();
    }
    REQUIRE(rig.env.DropUnsyncedData().ok());
    rig.env.ClearFaults();
    REQUIRE(rig.env.flipped_bits().size() == 1 + seed % 3);
    const Keys may_lose = FromFirstDamagedFrame(rig.env.flipped_bits()[0].path, rig.env);

    auto store = rig.Open();
    const Keys found = Verify(*store, model, kSeries, may_lose);
    const auto st = store->stats();
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
    for (int i = 0; i < 500; ++i, rig.ts += 1'000'000) {
      model.attempted.insert({1, rig.ts});
      model.acked.insert({1, rig.ts});
      tickets.push_back(store->Append({{SeriesId{1}, rig.ts, ValueOf(1, rig.ts)}}));
    }
    for (const auto& t : tickets) REQUIRE(t.Wait().ok());
    REQUIRE(store->Close().ok());
    store.reset();
    Verify(*rig.Open(), model, kSeries, may_lose);
  }
  MESSAGE("outcomes: " << set_aside << " logs set aside, " << torn << " torn tails, " << intact
                       << " without loss");
}

TEST_CASE("a damaged header on the newest log file: the records behind it are kept, the log is set aside") {
  Rig rig;
  constexpr std::uint32_t kSeries = 4;
  {
    auto store = rig.Open();
    RegisterAll(*store, kSeries);
    AppendSteadily(*store, rig.model, &rig.now, &rig.ts, 200, 1000, kSeries);
    // The power fails: what sits in open blocks is only in the log.
    rig.env.SetWriteError(StatusCode::kIoError);
    (void)store->Close();
  }
  REQUIRE(rig.env.DropUnsyncedData().ok());
  rig.env.ClearFaults();
  const auto wal_dir = std::filesystem::path(rig.options.dir) / "wal";
  std::filesystem::path newest;
  for (const auto& e : std::filesystem::directory_iterator(wal_dir)) newest = std::max(newest, e.path());
  REQUIRE(newest.filename().string().rfind("wal-", 0) == 0);
  REQUIRE(newest.filename() != "wal-00000001.log");  // the log rolled: earlier files exist
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('!');
  }
  auto store = rig.Open();
  Verify(*store, rig.model, kSeries);  // nothing acknowledged is lost
  const auto st = store->stats();
  CHECK(st.write_buffer_set_aside);
  CHECK(std::filesystem::exists(rig.options.dir + "/wal.corrupt-1"));
  for (const auto& n : st.notes) MESSAGE(n);
  MESSAGE(st.recovered_records << " records replayed of " << rig.model.acked.size());
}

TEST_CASE("bits flipped as blocks are read: the block is not served until the store reopens") {
  Rig rig;
  Model& model = rig.model;
  constexpr std::uint32_t kSeries = 3;
  {
    auto store = rig.Open();
    RegisterAll(*store, kSeries);
    AppendSteadily(*store, model, &rig.now, &rig.ts, 100, 500, kSeries);
  }
  auto store = rig.Open();
  // One bit flipped in every block read: most land in a body.
  rig.env.FlipBitsOnRead({.kind = FileKind::kSegment, .bits = 1, .seed = 3, .times = 2});
  const Keys first = Verify(*store, model, kSeries, model.acked);
  rig.env.ClearFaults();
  const auto st = store->stats();
  CHECK(st.quarantined_blocks > 0);
  CHECK(first.size() < model.acked.size());
  // Quarantined for the life of the store, even though the disk is sound.
  CHECK(Verify(*store, model, kSeries, model.acked) == first);
  MESSAGE(st.quarantined_blocks << " blocks quarantined; served " << first.size() << " of "
                                << model.acked.size());
  store.reset();
  auto again = rig.Open();
  Verify(*again, model, kSeries);
  CHECK(again->stats().quarantined_blocks == 0);
}

namespace {

// 300,000 records over `series` series in one window: every partition has
// many blocks, spread over several segments.
void FillOneWindow(Rig& rig, std::uint32_t series) {
  rig.options.partition_window = std::chrono::seconds(3600);
  auto store = rig.Open();
  RegisterAll(*store, series);
  AppendSteadily(*store, rig.model, &rig.now, &rig.ts, 300, 1000, series);
}

}  // namespace

TEST_CASE("a truncated segment file: blocks cut short are quarantined and counted, a cut at a block boundary is noted") {
  const std::uint64_t checkpoint = BothRestartPaths();
  for (bool mid_block : {true, false}) {
    CAPTURE(mid_block);
    Rig rig;
    rig.options.index_checkpoint = checkpoint;
    constexpr std::uint32_t kSeries = 6;
    FillOneWindow(rig, kSeries);
    const auto seg = SegmentPath(rig.options, 2);
    const auto blocks = BlocksIn(ReadFile(seg));
    REQUIRE(blocks.size() >= 2);
    const std::uint64_t cut = mid_block ? blocks[1].begin + kPage : blocks[1].begin;
    Keys cut_off;
    for (const auto& b : blocks) {
      if (b.end > cut) cut_off.insert(b.records.begin(), b.records.end());
    }
    std::filesystem::resize_file(seg, cut);
    const Keys may_lose = NotInWal(cut_off, rig.options);
    auto store = rig.Open();
    Verify(*store, rig.model, kSeries, may_lose);
    const auto st = store->stats();
    // A scan at Open finds the torn block's pages; after a checkpoint, the
    // read (Verify) finds the block cut short.
    if (mid_block) CHECK(st.quarantined_pages + st.quarantined_blocks > 0);
    bool noted = false;
    for (const auto& n : st.notes) noted |= n.find(seg.filename().string()) != std::string::npos;
    CHECK(noted);
    for (const auto& n : st.notes) MESSAGE(n);
    MESSAGE(cut_off.size() << " records in blocks past the cut, " << may_lose.size()
                           << " of them not in the log");
  }
}

TEST_CASE("a segment file deleted behind the store's back: counted and noted once, the rest served") {
  const std::uint64_t checkpoint = BothRestartPaths();
  for (bool from_old_store : {false, true}) {
    CAPTURE(from_old_store);
    Rig rig;
    rig.options.index_checkpoint = checkpoint;
    constexpr std::uint32_t kSeries = 6;
    FillOneWindow(rig, kSeries);
    const auto segment_log = std::filesystem::path(rig.options.dir) / "segments" / "segments.log";
    REQUIRE(std::filesystem::exists(segment_log));
    if (from_old_store) {
      // A store made before segments were logged: the log is filled from
      // the files present at the next open, and tracks them from then on.
      std::filesystem::remove(segment_log);
      auto store = rig.Open();
      CHECK(store->stats().missing_segments == 0);
      Verify(*store, rig.model, kSeries);
    }
    const auto seg = SegmentPath(rig.options, 2);
    REQUIRE(std::filesystem::exists(seg));
    Keys gone;
    for (const auto& b : BlocksIn(ReadFile(seg))) gone.insert(b.records.begin(), b.records.end());
    std::filesystem::remove(seg);
    const Keys may_lose = NotInWal(gone, rig.options);
    auto store = rig.Open();
    const Keys found = Verify(*store, rig.model, kSeries, may_lose);
    const auto st = store->stats();
    CHECK(st.missing_segments == 1);
    bool noted = false;
    for (const auto& n : st.notes) noted |= n.find(seg.filename().string() + ": missing") != std::string::npos;
    CHECK(noted);
    std::size_t lost = 0;
    for (const auto& k : gone) lost += found.count(k) == 0;
    MESSAGE(gone.size() << " records in the removed segment, " << lost << " lost, "
                        << gone.size() - lost << " replayed from the log");
    // Appends go on, and a second reopen is clean: the loss was said once.
    REQUIRE(store->Append({{SeriesId{1}, rig.ts, ValueOf(1, rig.ts)}}).Wait().ok());
    rig.model.attempted.insert({1, rig.ts});
    rig.model.acked.insert({1, rig.ts});
    store.reset();
    auto again = rig.Open();
    Verify(*again, rig.model, kSeries, may_lose);
    CHECK(again->stats().missing_segments == 0);
  }
}

TEST_CASE("segments the store removed itself are not reported missing") {
  Rig rig;
  rig.options.partition_shards = 1;
  constexpr std::uint32_t kSeries = 2;
  {
    auto store = rig.Open();
    RegisterAll(*store, kSeries);
    // Ten one-minute windows, every partition over several segments.
    AppendSteadily(*store, rig.model, &rig.now, &rig.ts, 600, 1000, kSeries);
    std::size_t reclaimed = 0;
    for (const auto& p : store->ListPartitions()) {
      if (p.state == PartitionState::kOpen) {
        const Status sealed = store->Seal(p.id);  // unless the store just sealed it itself
        REQUIRE((sealed.ok() || sealed.code() == StatusCode::kInvalidArgument));
      }
      REQUIRE(store->MarkSynced(p.id).ok());
      REQUIRE(store->Reclaim(p.id).ok());
      ++reclaimed;
    }
    CHECK(reclaimed >= 10);
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(rig.options.dir) / "segments")) {
      files += e.path().filename().string().rfind("seg-", 0) == 0;
    }
    CHECK(files <= 1);  // the current segment stays
    MESSAGE(reclaimed << " partitions reclaimed; " << files << " segment file left");
  }
  auto store = rig.Open();
  CHECK(store->stats().missing_segments == 0);
  for (const auto& n : store->stats().notes) CHECK_MESSAGE(n.find("missing") == std::string::npos, n);
  CHECK(store->ListPartitions(PartitionState::kReclaimed).size() >= 10);
}

}  // namespace sluice::store::crash
