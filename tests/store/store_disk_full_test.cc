// A full or read-only disk, and what a crash on one leaves behind: the store
// always starts, serves what it holds, refuses appends with the reason, and
// takes them again once space is back. Regression tests for a store that
// could not start after a full disk and a crash.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "crash_rig.h"
#include "store_context.h"

namespace sluice::store::crash {
namespace {

namespace fs = std::filesystem;


// A FaultInjectionEnv in front of which removing the reserve file frees
// space: a full disk stays full until something is deleted. While `tight`,
// the file system reports no more free space than the reserve gave back, as
// a full disk would, so the store does not take the reserve again.
class FreedByReserve final : public Env {
 public:
  explicit FreedByReserve(FaultInjectionEnv* env) : env_(env) {}
  Result<std::unique_ptr<File>> OpenFile(const std::string& p, FileOptions o) override {
    return env_->OpenFile(p, o);
  }
  Status CreateDirs(const std::string& p) override { return env_->CreateDirs(p); }
  Status SyncDir(const std::string& p) override { return env_->SyncDir(p); }
  Status Rename(const std::string& a, const std::string& b) override { return env_->Rename(a, b); }
  Status Remove(const std::string& p) override {
    Status s = env_->Remove(p);
    if (s.ok() && p.ends_with("/reserve")) {
      ++reserve_removed;
      env_->ClearFaults();
    }
    return s;
  }
  Result<std::vector<std::string>> ListDir(const std::string& d) override {
    return env_->ListDir(d);
  }
  bool Exists(const std::string& p) override { return env_->Exists(p); }
  IoEngine io_engine() const override { return env_->io_engine(); }
  Result<Space> FileSystemSpace(const std::string& p) override {
    auto space = env_->FileSystemSpace(p);
    if (space.ok() && tight.load()) space->free_bytes = 0;
    return space;
  }
  std::atomic<int> reserve_removed{0};
  std::atomic<bool> tight{false};

 private:
  FaultInjectionEnv* env_;
};

void AppendSome(Store& store, Rig& rig, int batches) {
  AppendSteadily(store, rig.model, nullptr, &rig.ts, batches, 50, 4);
}

}  // namespace

TEST_CASE("a segment file left short and unaligned by an interrupted creation is deleted, and "
          "appends go on at aligned offsets") {
  Rig rig;
  {
    auto store = rig.Open();
    RegisterAll(*store, 4);
    AppendSome(*store, rig, 40);
    REQUIRE(store->Close().ok());
  }
  // What ENOSPC during fallocate left in the field: the next segment's file,
  // created, reserved part-way to a size that is no whole page, no header,
  // never logged.
  int next = 1;
  while (fs::exists(SegmentPath(rig.options, next))) ++next;
  {
    std::ofstream out(SegmentPath(rig.options, next), std::ios::binary);
    out << std::string(8'989'696 % rig.options.segment_size + 123, '\0');
  }
  {
    auto store = rig.Open();
    const StoreStats st = store->stats();
    CHECK(st.leftover_files == 1);
    CHECK_FALSE(fs::exists(SegmentPath(rig.options, next)));
    // Enough to fill blocks into new segments: every write lands aligned.
    AppendSome(*store, rig, 200);
    REQUIRE(store->Close().ok());
    CHECK(store->stats().block_write_failures == 0);
  }
  auto store = rig.Open();
  Verify(*store, rig.model, 4);
}

TEST_CASE("the newest segment cut short at an unaligned size is never appended to") {
  Rig rig;
  {
    auto store = rig.Open();
    RegisterAll(*store, 4);
    AppendSome(*store, rig, 40);
    REQUIRE(store->Close().ok());
  }
  int last = 1;
  while (fs::exists(SegmentPath(rig.options, last + 1))) ++last;
  const auto path = SegmentPath(rig.options, last);
  // Its blocks stay, the reserved tail goes: as a file system repair might.
  std::uint64_t used = 4096;
  {
    const std::string image = ReadFile(path);
    for (const auto& b : BlocksIn(image)) used = std::max<std::uint64_t>(used, b.end);
  }
  fs::resize_file(path, used + 1000);
  {
    auto store = rig.Open();
    AppendSome(*store, rig, 200);
    REQUIRE(store->Close().ok());
    CHECK(store->stats().block_write_failures == 0);
  }
  CHECK(fs::file_size(path) == used + 1000);  // nothing written to it
  auto store = rig.Open();
  Verify(*store, rig.model, 4);
}

TEST_CASE("on a full disk the store opens read-only, serves what it holds, and takes appends "
          "again once space is back") {
  Rig rig;
  {
    auto store = rig.Open();
    RegisterAll(*store, 4);
    AppendSome(*store, rig, 60);
    rig.env.SetWriteError(StatusCode::kIoError);  // the power goes: no more writes land
  }
  REQUIRE(rig.env.DropUnsyncedData().ok());
  rig.env.ClearFaults();
  // A crash while rolling the log left the next log file half made (no
  // header, an unaligned size): opening must make it whole, which a full
  // disk refuses.
  const fs::path wal = fs::path(rig.options.dir) / "wal";
  int newest = 0;
  for (const auto& e : fs::directory_iterator(wal)) {
    newest = std::max(newest, std::stoi(e.path().filename().string().substr(4, 8)));
  }
  {
    char name[32];
    std::snprintf(name, sizeof name, "wal-%08d.log", newest + 1);
    std::ofstream out(wal / name, std::ios::binary);
    out << std::string(12345, '\0');
  }
  rig.env.SetWriteError(StatusCode::kNoSpace);
  auto opened = Store::Open(rig.options, rig.ctx);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  auto& store = *opened;
  CHECK(store->stats().recovered_records > 0);
  Verify(*store, rig.model, 4);
  const StorePressure p = store->pressure();
  CHECK(p.full);
  CHECK_MESSAGE(p.full_reason.find("write buffer not writable") != std::string::npos, p.full_reason);
  Batch b{{SeriesId{1}, rig.ts, ValueOf(1, rig.ts)}};
  rig.model.attempted.insert({1, rig.ts});
  CHECK(store->Append(std::move(b)).Wait().code() == StatusCode::kNoSpace);
  rig.ts += 1'000'000;
  rig.env.ClearFaults();
  CHECK(Eventually([&] { return !store->pressure().full; }));
  AppendSome(*store, rig, 60);
  CHECK(rig.model.acked.size() == 120 * 50);
  REQUIRE(store->Close().ok());
  auto again = rig.Open();
  Verify(*again, rig.model, 4);
}

TEST_CASE("a write buffer that cannot be created on a full disk: the store opens without one and "
          "creates it once space is back") {
  Rig rig;
  {
    auto store = rig.Open();
    RegisterAll(*store, 4);
    AppendSome(*store, rig, 60);
    REQUIRE(store->Close().ok());  // everything in blocks
  }
  // A crash while creating the first log file of a fresh log left none.
  fs::remove_all(fs::path(rig.options.dir) / "wal");
  fs::create_directories(fs::path(rig.options.dir) / "wal");
  rig.env.SetWriteError(StatusCode::kNoSpace);
  auto opened = Store::Open(rig.options, rig.ctx);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  auto& store = *opened;
  Verify(*store, rig.model, 4);
  StorePressure p = store->pressure();
  CHECK(p.full);
  CHECK(p.full_reason.find("write buffer") != std::string::npos);
  Batch b{{SeriesId{1}, rig.ts, ValueOf(1, rig.ts)}};
  rig.model.attempted.insert({1, rig.ts});
  CHECK(store->Append(std::move(b)).Wait().code() == StatusCode::kNoSpace);
  CHECK(store->stats().rejected_no_space >= 1);
  rig.ts += 1'000'000;
  rig.env.ClearFaults();
  CHECK(Eventually([&] { return !store->pressure().full; }));
  AppendSome(*store, rig, 20);
  REQUIRE(store->Close().ok());
  auto again = rig.Open();
  Verify(*again, rig.model, 4);
}

TEST_CASE("marking synced and reclaiming succeed on a full disk by giving up the reserve") {
  Rig rig;
  FreedByReserve env(&rig.env);
  rig.ctx.env = &env;
  auto store = rig.Open();
  RegisterAll(*store, 4);
  // Three windows of data, sealed by the clock.
  for (int w = 0; w < 3; ++w) {
    AppendSteadily(*store, rig.model, &rig.now, &rig.ts, 20, 50, 4);
    rig.ts += 60 * kSecond;
  }
  rig.now = rig.ts + 60 * kSecond;
  CHECK(Eventually([&] { return store->ListPartitions(PartitionState::kSealed).size() >= 3; }));
  CHECK(fs::exists(fs::path(rig.options.dir) / "reserve"));
  const auto sealed = store->ListPartitions(PartitionState::kSealed);
  REQUIRE(!sealed.empty());
  env.tight = true;
  rig.env.SetWriteError(StatusCode::kNoSpace);
  CHECK(store->MarkSynced(sealed[0].id).ok());
  CHECK(env.reserve_removed == 1);
  rig.env.SetWriteError(StatusCode::kNoSpace);
  for (std::size_t i = 1; i < sealed.size(); ++i) {
    Status s = store->MarkSynced(sealed[i].id);
    CHECK(s.code() == StatusCode::kNoSpace);  // the reserve is spent
  }
  rig.env.ClearFaults();
  env.tight = false;
  // The reserve is taken back once space returns, then saves a reclaim. It
  // is back once its file has its whole size: the file exists a moment
  // before that, and a disk full in that moment would fail its reservation.
  CHECK(Eventually([&] {
    std::error_code ec;
    const auto size = fs::file_size(fs::path(rig.options.dir) / "reserve", ec);
    return !ec && size == rig.options.reserve;
  }));
  rig.env.SetWriteError(StatusCode::kNoSpace);
  CHECK(store->Reclaim(sealed[0].id).ok());
  CHECK(env.reserve_removed == 2);
  rig.env.ClearFaults();
}

TEST_CASE("a clean stop on a full disk succeeds, what could not reach blocks is replayed at the "
          "next start") {
  Rig rig;
  {
    auto store = rig.Open();
    RegisterAll(*store, 4);
    AppendSome(*store, rig, 30);
    rig.env.SetWriteError(StatusCode::kNoSpace);
    CHECK(store->Close().ok());
  }
  rig.env.ClearFaults();
  auto store = rig.Open();
  CHECK(store->stats().recovered_records > 0);
  Verify(*store, rig.model, 4);
}

}  // namespace sluice::store::crash
