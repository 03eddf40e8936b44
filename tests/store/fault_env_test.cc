// The fault-injecting Env (store/testing/fault_env.h): power cuts, injected
// errors, torn writes, flipped bits, full disks, directory entries that a
// power cut undoes, and the call counting that the fault sweeps rely on.
#include "fault_env.h"

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "env_test_util.h"
#include "temp_dir.h"

namespace sluice::store {
namespace {

using env_test::Bytes;
using env_test::MakeEnv;
using env_test::Text;

TEST_CASE("a power cut drops exactly the unsynced writes") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kAuto);
  FaultInjectionEnv env(base.get());
  const std::string path = (dir.path() / "f").string();
  auto file = env.OpenFile(path, {.create = true});
  REQUIRE(file.ok());
  const auto synced = Bytes("durable!"), later = Bytes("LOST"), tail = Bytes("-gone");
  const WriteSlice s{0, synced};
  REQUIRE((*file)->WriteAndSync({&s, 1}).ok());
  REQUIRE((*file)->Write(2, later).ok());
  REQUIRE((*file)->Write(8, tail).ok());
  CHECK(env.unsynced_bytes() == 9);
  REQUIRE(env.DropUnsyncedData().ok());
  std::vector<std::byte> back(32);
  CHECK(Text({back.data(), *(*file)->Read(0, back)}) == "durable!");
  CHECK(env.unsynced_bytes() == 0);
}

TEST_CASE("injected errors fail writes without changing the file") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kAuto);
  FaultInjectionEnv env(base.get());
  auto file = env.OpenFile((dir.path() / "f").string(), {.create = true});
  REQUIRE(file.ok());
  const auto data = Bytes("abc");
  const WriteSlice s{0, data};
  env.SetWriteError(StatusCode::kNoSpace);
  CHECK((*file)->WriteAndSync({&s, 1}).code() == StatusCode::kNoSpace);
  CHECK(*(*file)->Size() == 0);
  env.ClearFaults();
  CHECK((*file)->WriteAndSync({&s, 1}).ok());
}

TEST_CASE("a torn write keeps only its prefix, unsynced, and the machine stays down") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kAuto);
  FaultInjectionEnv env(base.get());
  auto file = env.OpenFile((dir.path() / "f").string(), {.create = true});
  REQUIRE(file.ok());
  const auto data = Bytes("0123456789");
  const WriteSlice s{0, data};
  env.TearNextWrite(4);
  CHECK((*file)->WriteAndSync({&s, 1}).code() == StatusCode::kIoError);
  CHECK((*file)->Sync().code() == StatusCode::kIoError);
  std::vector<std::byte> back(16);
  CHECK(Text({back.data(), *(*file)->Read(0, back)}) == "0123");
  REQUIRE(env.DropUnsyncedData().ok());
  CHECK(*(*file)->Size() == 0);
}

TEST_CASE("file kinds are told by name") {
  CHECK(FileKindOf("/s/wal/wal-00000003.log") == FileKind::kWal);
  CHECK(FileKindOf("/s/segments/seg-00000012.dat") == FileKind::kSegment);
  CHECK(FileKindOf("/s/series.log") == FileKind::kMetadata);
  CHECK(FileKindOf("/s/partitions.log") == FileKind::kMetadata);
  CHECK(FileKindOf("wal-1.log") == FileKind::kWal);
}

// Bytes that differ between two buffers, as (offset, xor).
std::vector<std::pair<std::size_t, unsigned>> Diff(std::span<const std::byte> a,
                                                   std::span<const std::byte> b) {
  std::vector<std::pair<std::size_t, unsigned>> out;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] != b[i]) out.push_back({i, static_cast<unsigned>(a[i] ^ b[i])});
  }
  return out;
}

int PopCount(const std::vector<std::pair<std::size_t, unsigned>>& diff) {
  int n = 0;
  for (const auto& [at, x] : diff) n += __builtin_popcount(x);
  return n;
}

TEST_CASE("bits flipped on write land in the file where reported, and only in the chosen kind") {
  for (bool direct : {false, true}) {
    CAPTURE(direct);
    testing::TempDir dir;
    auto base = MakeEnv(IoEngine::kAuto);
    FaultInjectionEnv env(base.get());
    const std::string wal = (dir.path() / "wal-00000001.log").string();
    const std::string seg = (dir.path() / "seg-00000001.dat").string();
    auto w = env.OpenFile(wal, {.create = true, .direct = direct});
    auto s = env.OpenFile(seg, {.create = true, .direct = direct});
    REQUIRE(w.ok());
    REQUIRE(s.ok());
    AlignedBuffer data = AllocateAligned(2 * kDirectAlignment);
    for (std::size_t i = 0; i < 2 * kDirectAlignment; ++i) data[i] = std::byte(i * 7);
    const std::span<const std::byte> bytes{data.get(), 2 * kDirectAlignment};
    const WriteSlice slices[] = {{0, bytes.first(kDirectAlignment)},
                                 {kDirectAlignment, bytes.subspan(kDirectAlignment)}};

    env.FlipBitsOnWrite({.kind = FileKind::kWal, .bits = 5, .seed = 7});
    REQUIRE((*s)->WriteAndSync(slices).ok());  // not a WAL file: intact
    REQUIRE((*w)->WriteAndSync(slices).ok());  // flipped, yet reported written
    CHECK(data[1] == std::byte(7));            // the caller's buffer is untouched

    AlignedBuffer back = AllocateAligned(2 * kDirectAlignment);
    const std::span<std::byte> out{back.get(), 2 * kDirectAlignment};
    REQUIRE(*(*s)->Read(0, out) == out.size());
    CHECK(Diff(bytes, out).empty());
    REQUIRE(*(*w)->Read(0, out) == out.size());
    const auto diff = Diff(bytes, out);
    CHECK(PopCount(diff) == 5);
    const auto flipped = env.flipped_bits();
    REQUIRE(flipped.size() == 5);
    for (const auto& f : flipped) {
      CHECK(f.path == wal);
      CHECK(f.on_write);
      CHECK((static_cast<unsigned>(out[f.offset] ^ bytes[f.offset]) >> f.bit & 1u) == 1u);
    }

    // times = 1: the next write of the same kind is intact.
    REQUIRE((*w)->WriteAndSync(slices).ok());
    REQUIRE(*(*w)->Read(0, out) == out.size());
    CHECK(Diff(bytes, out).empty());
  }
}

TEST_CASE("bits flipped on read leave the file intact") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kAuto);
  FaultInjectionEnv env(base.get());
  const std::string path = (dir.path() / "seg-00000001.dat").string();
  auto file = env.OpenFile(path, {.create = true});
  REQUIRE(file.ok());
  const auto data = Bytes(std::string(1000, 'x'));
  const WriteSlice s{0, data};
  REQUIRE((*file)->WriteAndSync({&s, 1}).ok());
  env.FlipBitsOnRead({.kind = FileKind::kSegment, .bits = 3, .seed = 11});
  std::vector<std::byte> back(1000);
  REQUIRE(*(*file)->Read(0, back) == 1000);
  CHECK(PopCount(Diff(data, back)) == 3);
  for (const auto& f : env.flipped_bits()) CHECK_FALSE(f.on_write);
  REQUIRE(*(*file)->Read(0, back) == 1000);
  CHECK(Diff(data, back).empty());
}

TEST_CASE("skip and times choose which operations are corrupted, and a seed repeats them") {
  auto run = [](std::uint64_t seed) {
    testing::TempDir dir;
    auto base = MakeEnv(IoEngine::kPwrite);
    FaultInjectionEnv env(base.get());
    auto file = env.OpenFile((dir.path() / "wal-00000001.log").string(), {.create = true});
    REQUIRE(file.ok());
    env.FlipBitsOnWrite({.kind = FileKind::kAny, .bits = 2, .seed = seed, .skip = 2, .times = 3});
    const auto data = Bytes(std::string(64, 'a'));
    for (std::uint64_t i = 0; i < 8; ++i) REQUIRE((*file)->Write(i * 64, data).ok());
    std::vector<std::uint64_t> offsets;
    for (const auto& f : env.flipped_bits()) offsets.push_back(f.offset * 8 + f.bit);
    return offsets;
  };
  const auto a = run(5), b = run(5), c = run(6);
  REQUIRE(a.size() == 6);  // writes 2, 3 and 4, two bits each
  for (std::uint64_t bit : a) {
    CHECK(bit / 8 >= 2 * 64);
    CHECK(bit / 8 < 5 * 64);
  }
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("a write torn by sectors keeps some of its 512-byte sectors, and a power cut drops them") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kAuto);
  FaultInjectionEnv env(base.get());
  auto file = env.OpenFile((dir.path() / "f").string(), {.create = true, .direct = true});
  REQUIRE(file.ok());
  constexpr std::size_t kSize = 16 * 512;
  AlignedBuffer zeros = AllocateAligned(kSize);
  std::memset(zeros.get(), 0, kSize);
  const WriteSlice z{0, {zeros.get(), kSize}};
  REQUIRE((*file)->WriteAndSync({&z, 1}).ok());
  AlignedBuffer data = AllocateAligned(kSize);
  std::memset(data.get(), 0x5a, kSize);
  const WriteSlice s{0, {data.get(), kSize}};
  env.TearNextWriteSectors(99);
  CHECK((*file)->WriteAndSync({&s, 1}).code() == StatusCode::kIoError);
  CHECK((*file)->Sync().code() == StatusCode::kIoError);  // the machine is off
  AlignedBuffer back = AllocateAligned(kSize);
  REQUIRE(*(*file)->Read(0, {back.get(), kSize}) == kSize);
  int kept = 0;
  bool lost_before_kept = false;  // not a prefix
  for (std::size_t sector = 0; sector < 16; ++sector) {
    const std::byte first = back[sector * 512];
    bool whole = true;
    for (std::size_t i = 0; i < 512; ++i) whole &= back[sector * 512 + i] == first;
    CHECK(whole);  // each sector is all old or all new
    if (first == std::byte{0x5a}) {
      lost_before_kept |= kept < static_cast<int>(sector);
      ++kept;
    }
  }
  MESSAGE(kept << " of 16 sectors reached the file");
  CHECK(kept > 0);
  CHECK(kept < 16);
  CHECK(lost_before_kept);
  REQUIRE(env.DropUnsyncedData().ok());
  env.ClearFaults();
  REQUIRE(*(*file)->Read(0, {back.get(), kSize}) == kSize);
  bool all_zero = true;
  for (std::size_t i = 0; i < kSize; ++i) all_zero &= back[i] == std::byte{0};
  CHECK(all_zero);
}

// --- Full disks, directory entries and sweeps.

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void Put(Env& env, const std::string& path, const std::string& text) {
  auto file = env.OpenFile(path, {.create = true});
  REQUIRE(file.ok());
  const auto data = Bytes(text);
  const WriteSlice s{0, data};
  REQUIRE((*file)->WriteAndSync({&s, 1}).ok());
}

TEST_CASE("on ENOSPC a preallocation stops part-way at an unaligned size, which a power cut keeps") {
  for (const bool sweep : {false, true}) {
    CAPTURE(sweep);
    for (const Preallocation how : {Preallocation::kWriteZeros, Preallocation::kReserve}) {
      testing::TempDir dir;
      auto base = MakeEnv(IoEngine::kPwrite);
      FaultInjectionEnv env(base.get());
      const std::string path = (dir.path() / "seg-00000001.dat").string();
      auto file = env.OpenFile(path, {.create = true, .direct = true});
      REQUIRE(file.ok());
      REQUIRE(env.SyncDir(dir.path().string()).ok());
      const std::uint64_t target = 16 << 20;
      if (sweep) {
        env.FailCall(FaultInjectionEnv::CallFault::kNoSpaceFrom, 1);
      } else {
        env.SetWriteError(StatusCode::kNoSpace);
      }
      CHECK((*file)->Preallocate(target, how).code() == StatusCode::kNoSpace);
      const std::uint64_t size = *(*file)->Size();
      CHECK(size > 0);
      CHECK(size < target);
      CHECK(size % kDirectAlignment != 0);
      // Nothing more to allocate: that works on a full disk.
      CHECK((*file)->Preallocate(size, how).ok());
      REQUIRE(env.DropUnsyncedData().ok());
      env.ClearFaults();
      CHECK(std::filesystem::file_size(path) == size);
    }
  }
}

TEST_CASE("a file created since its directory was last synced disappears in a power cut") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kPwrite);
  FaultInjectionEnv env(base.get());
  const std::string d = dir.path().string();
  Put(env, d + "/kept", "synced entry");
  REQUIRE(env.SyncDir(d).ok());
  Put(env, d + "/lost", "synced data, unsynced entry");
  REQUIRE(env.DropUnsyncedData().ok());
  CHECK(Slurp(d + "/kept") == "synced entry");
  CHECK_FALSE(std::filesystem::exists(d + "/lost"));
  // Another directory's sync does not help.
  REQUIRE(env.CreateDirs(d + "/sub").ok());
  Put(env, d + "/lost2", "x");
  REQUIRE(env.SyncDir(d + "/sub").ok());
  REQUIRE(env.DropUnsyncedData().ok());
  CHECK_FALSE(std::filesystem::exists(d + "/lost2"));
}

TEST_CASE("a rename or remove not followed by a directory sync is undone by a power cut") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kPwrite);
  FaultInjectionEnv env(base.get());
  const std::string d = dir.path().string();
  Put(env, d + "/log", "old log");
  Put(env, d + "/gone", "removed");
  REQUIRE(env.SyncDir(d).ok());

  SUBCASE("tmp file, rename over the old one: without the sync the old one is back") {
    Put(env, d + "/log.tmp", "new log");
    REQUIRE(env.Rename(d + "/log.tmp", d + "/log").ok());
    CHECK(Slurp(d + "/log") == "new log");
    REQUIRE(env.DropUnsyncedData().ok());
    CHECK(Slurp(d + "/log") == "old log");
    CHECK_FALSE(std::filesystem::exists(d + "/log.tmp"));
  }
  SUBCASE("with the sync the new one stays") {
    Put(env, d + "/log.tmp", "new log");
    REQUIRE(env.Rename(d + "/log.tmp", d + "/log").ok());
    REQUIRE(env.SyncDir(d).ok());
    REQUIRE(env.DropUnsyncedData().ok());
    CHECK(Slurp(d + "/log") == "new log");
    CHECK_FALSE(std::filesystem::exists(d + "/log.tmp"));
  }
  SUBCASE("a rename to a free name: the old name comes back with its synced content only") {
    auto file = env.OpenFile(d + "/log", {});
    REQUIRE(file.ok());
    REQUIRE((*file)->Write(0, Bytes("UNSYNCED")).ok());
    REQUIRE(env.Rename(d + "/log", d + "/log.1").ok());
    REQUIRE(env.DropUnsyncedData().ok());
    CHECK(Slurp(d + "/log") == "old log");
    CHECK_FALSE(std::filesystem::exists(d + "/log.1"));
  }
  SUBCASE("a removed file comes back with its synced content, unless the removal was synced") {
    auto file = env.OpenFile(d + "/gone", {});
    REQUIRE(file.ok());
    REQUIRE((*file)->Write(0, Bytes("UNSYNCED")).ok());
    file->reset();
    REQUIRE(env.Remove(d + "/gone").ok());
    REQUIRE(env.DropUnsyncedData().ok());
    CHECK(Slurp(d + "/gone") == "removed");
    REQUIRE(env.Remove(d + "/gone").ok());
    REQUIRE(env.SyncDir(d).ok());
    REQUIRE(env.DropUnsyncedData().ok());
    CHECK_FALSE(std::filesystem::exists(d + "/gone"));
  }
  SUBCASE("a failed directory sync makes nothing durable") {
    Put(env, d + "/new", "n");
    env.FailCall(FaultInjectionEnv::CallFault::kIoErrorAt, 1);
    CHECK(env.SyncDir(d).code() == StatusCode::kIoError);
    REQUIRE(env.DropUnsyncedData().ok());
    CHECK_FALSE(std::filesystem::exists(d + "/new"));
  }
}

TEST_CASE("a whole directory set aside by rename comes back unless its parent was synced") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kPwrite);
  FaultInjectionEnv env(base.get());
  const std::string d = dir.path().string();
  REQUIRE(env.CreateDirs(d + "/wal").ok());
  Put(env, d + "/wal/wal-00000001.log", "frames");
  REQUIRE(env.SyncDir(d + "/wal").ok());
  // Unsynced data in a file of the directory moves along with it.
  auto file = env.OpenFile(d + "/wal/wal-00000001.log", {});
  REQUIRE(file.ok());
  REQUIRE((*file)->Write(6, Bytes("+more")).ok());
  file->reset();
  REQUIRE(env.Rename(d + "/wal", d + "/wal.corrupt-1").ok());
  CHECK(env.unsynced_bytes() == 5);
  REQUIRE(env.DropUnsyncedData().ok());
  CHECK(Slurp(d + "/wal/wal-00000001.log") == "frames");
  CHECK_FALSE(std::filesystem::exists(d + "/wal.corrupt-1"));

  REQUIRE(env.Rename(d + "/wal", d + "/wal.corrupt-1").ok());
  REQUIRE(env.SyncDir(d).ok());
  REQUIRE(env.DropUnsyncedData().ok());
  CHECK(Slurp(d + "/wal.corrupt-1/wal-00000001.log") == "frames");
  CHECK_FALSE(std::filesystem::exists(d + "/wal"));
}

TEST_CASE("free space reads 0 while the disk is full, and the real figure otherwise") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kPwrite);
  FaultInjectionEnv env(base.get());
  const std::string d = dir.path().string();
  auto real = env.FileSystemSpace(d);
  REQUIRE(real.ok());
  CHECK(real->total_bytes > 0);
  CHECK(real->free_bytes > 0);
  env.SetWriteError(StatusCode::kNoSpace);
  CHECK(env.FileSystemSpace(d)->free_bytes == 0);
  CHECK(env.FileSystemSpace(d)->total_bytes == real->total_bytes);
  env.ClearFaults();
  CHECK(env.FileSystemSpace(d)->free_bytes > 0);
  // A sweep's disk fills at its k-th call, not before.
  env.FailCall(FaultInjectionEnv::CallFault::kNoSpaceFrom, 2);
  auto file = env.OpenFile(d + "/a", {.create = true});  // call 1
  REQUIRE(file.ok());
  CHECK(env.FileSystemSpace(d)->free_bytes > 0);
  CHECK((*file)->Write(0, Bytes("a")).code() == StatusCode::kNoSpace);  // call 2
  CHECK(env.FileSystemSpace(d)->free_bytes == 0);
  env.ClearFaults();
  CHECK(env.FileSystemSpace(d)->free_bytes > 0);
}

TEST_CASE("every mutating call is counted, by kind, and reads are not") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kPwrite);
  FaultInjectionEnv env(base.get());
  const std::string d = dir.path().string();
  REQUIRE(env.CreateDirs(d + "/wal").ok());
  auto log = env.OpenFile(d + "/wal/wal-00000001.log", {.create = true});  // 1 wal
  REQUIRE(log.ok());
  REQUIRE((*log)->Preallocate(8192, Preallocation::kWriteZeros).ok());  // 2 wal
  const auto data = Bytes("abc");
  const WriteSlice s{0, data};
  REQUIRE((*log)->WriteAndSync({&s, 1}).ok());  // 3 wal
  REQUIRE((*log)->Write(3, data).ok());          // 4 wal
  REQUIRE((*log)->Sync().ok());                  // 5 wal
  REQUIRE(env.SyncDir(d + "/wal").ok());          // 6 wal
  std::vector<std::byte> back(3);
  REQUIRE((*log)->Read(0, back).ok());
  REQUIRE(env.OpenFile(d + "/wal/wal-00000001.log", {}).ok());
  Put(env, d + "/series.log", "m");                                      // 7, 8 metadata
  REQUIRE(env.Rename(d + "/series.log", d + "/partitions.log").ok());    // 9 metadata
  REQUIRE(env.Remove(d + "/partitions.log").ok());                       // 10 metadata
  CHECK(env.mutating_calls() == 10);
  CHECK(env.mutating_calls(FileKind::kWal) == 6);
  CHECK(env.mutating_calls(FileKind::kMetadata) == 4);
  CHECK(env.mutating_calls(FileKind::kSegment) == 0);
}

TEST_CASE("sweep: ENOSPC from the k-th call on leaves half of that write and fails all after it") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kPwrite);
  FaultInjectionEnv env(base.get());
  const std::string d = dir.path().string();
  auto file = env.OpenFile(d + "/f", {.create = true});
  REQUIRE(file.ok());
  REQUIRE(env.SyncDir(d).ok());
  env.FailCall(FaultInjectionEnv::CallFault::kNoSpaceFrom, 2);
  const auto data = Bytes("0123456789");
  const WriteSlice s{0, data};
  REQUIRE((*file)->WriteAndSync({&s, 1}).ok());  // call 1
  const WriteSlice t{10, data};
  CHECK((*file)->WriteAndSync({&t, 1}).code() == StatusCode::kNoSpace);  // call 2: half lands
  CHECK(Slurp(d + "/f") == "012345678901234");
  CHECK((*file)->Write(20, data).code() == StatusCode::kNoSpace);  // full: nothing lands
  CHECK((*file)->Sync().code() == StatusCode::kNoSpace);
  CHECK(env.OpenFile(d + "/g", {.create = true}).status().code() == StatusCode::kNoSpace);
  CHECK_FALSE(std::filesystem::exists(d + "/g"));
  CHECK(env.Rename(d + "/f", d + "/h").code() == StatusCode::kNoSpace);
  CHECK(env.Remove(d + "/f").code() == StatusCode::kNoSpace);
  CHECK(env.SyncDir(d).code() == StatusCode::kNoSpace);
  CHECK(Slurp(d + "/f") == "012345678901234");
  REQUIRE(env.DropUnsyncedData().ok());
  CHECK(Slurp(d + "/f") == "0123456789");
  env.ClearFaults();
  CHECK((*file)->Write(10, data).ok());
}

TEST_CASE("sweep: EIO hits exactly the k-th call, its failed sync syncs nothing") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kPwrite);
  FaultInjectionEnv env(base.get());
  const std::string d = dir.path().string();
  auto file = env.OpenFile(d + "/seg-00000001.dat", {.create = true});
  REQUIRE(file.ok());
  REQUIRE(env.SyncDir(d).ok());
  const auto data = Bytes("0123456789");
  const WriteSlice s{0, data};
  REQUIRE((*file)->WriteAndSync({&s, 1}).ok());
  // Only segment calls count towards k: metadata calls in between do not.
  env.FailCall(FaultInjectionEnv::CallFault::kIoErrorAt, 2, FileKind::kSegment);
  REQUIRE((*file)->Write(0, Bytes("ab")).ok());  // segment call 1
  Put(env, d + "/series.log", "m");               // metadata
  const WriteSlice t{10, data};
  // Segment call 2: the bytes went, the sync failed.
  CHECK((*file)->WriteAndSync({&t, 1}).code() == StatusCode::kIoError);
  CHECK(Slurp(d + "/seg-00000001.dat") == "ab234567890123456789");
  CHECK((*file)->Sync().ok());  // call 3 works again
  REQUIRE(env.DropUnsyncedData().ok());
  CHECK(Slurp(d + "/seg-00000001.dat") == "ab234567890123456789");

  // A failed Sync leaves the writes before it unsynced.
  env.FailCall(FaultInjectionEnv::CallFault::kIoErrorAt, 2);
  REQUIRE((*file)->Write(0, Bytes("XY")).ok());
  CHECK((*file)->Sync().code() == StatusCode::kIoError);
  CHECK(env.unsynced_bytes() == 2);
  REQUIRE(env.DropUnsyncedData().ok());
  CHECK(Slurp(d + "/seg-00000001.dat").starts_with("ab23"));
}

TEST_CASE("sweep: a crash right after the k-th call keeps that call and nothing later") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kPwrite);
  FaultInjectionEnv env(base.get());
  const std::string d = dir.path().string();
  env.FailCall(FaultInjectionEnv::CallFault::kCrashAfter, 3);
  Put(env, d + "/a", "synced");      // calls 1, 2
  REQUIRE(env.SyncDir(d).ok());      // call 3: completes
  CHECK(env.powered_off());
  CHECK(env.OpenFile(d + "/b", {.create = true}).status().code() == StatusCode::kIoError);
  auto file = env.OpenFile(d + "/a", {});
  REQUIRE(file.ok());                  // opening to read is not mutating
  CHECK((*file)->Write(0, Bytes("X")).code() == StatusCode::kIoError);
  CHECK(env.Remove(d + "/a").code() == StatusCode::kIoError);
  CHECK(env.mutating_calls() == 6);
  REQUIRE(env.DropUnsyncedData().ok());
  env.ClearFaults();
  CHECK(Slurp(d + "/a") == "synced");
  CHECK_FALSE(std::filesystem::exists(d + "/b"));
  CHECK((*file)->Write(0, Bytes("X")).ok());
}

TEST_CASE("sweep: region writes, flushes and drains count, and a crash drops what was not drained") {
  ::setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);  // test-only emulation
  testing::TempDir dir("sluice-env-region");
  auto base = MakeEnv(IoEngine::kPwrite);
  FaultInjectionEnv env(base.get());
  const std::string path = (dir.path() / "r.pmem").string();
  auto region = env.MapPersistent(path, 4096);
  if (!region.ok()) {
    MESSAGE("no persistent mapping here (" << region.status().ToString() << "): skipped");
    return;
  }
  REQUIRE(env.SyncDir(dir.path().string()).ok());  // else the power cut takes the file
  env.FailCall(FaultInjectionEnv::CallFault::kCrashAfter, 2);
  REQUIRE((*region)->Write(0, Bytes("drained")).ok());  // 1
  REQUIRE((*region)->Drain().ok());                      // 2
  CHECK((*region)->Write(0, Bytes("lost")).code() == StatusCode::kIoError);
  CHECK((*region)->Flush(0, 64).code() == StatusCode::kIoError);
  CHECK(env.mutating_calls(FileKind::kPmem) == 4);
  region->reset();
  REQUIRE(env.DropUnsyncedData().ok());
  CHECK(Slurp(path).starts_with("drained"));
  ::unsetenv("PMEM2_FORCE_GRANULARITY");
}


}  // namespace
}  // namespace sluice::store
