// The real file system (PosixEnv): both I/O engines, direct I/O,
// preallocation, directories, whole-file reads. The fault-injecting Env is
// tested in fault_env_test.cc.
#include "store/env.h"

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "env_test_util.h"
#include "fault_env.h"
#include "temp_dir.h"

namespace sluice::store {
namespace {

using env_test::Bytes;
using env_test::MakeEnv;
using env_test::Text;

// Both engines must behave the same; io_uring is tested where the kernel
// allows it, and says so where it does not.
std::vector<IoEngine> Engines() {
  std::vector<IoEngine> engines{IoEngine::kPwrite};
  if (NewPosixEnv(IoEngine::kIoUring).ok()) {
    engines.push_back(IoEngine::kIoUring);
  } else {
    MESSAGE("io_uring unavailable here: only the pwrite engine is tested");
  }
  return engines;
}

TEST_CASE("written and synced bytes read back, with either engine") {
  for (IoEngine engine : Engines()) {
    CAPTURE(static_cast<int>(engine));
    testing::TempDir dir;
    auto env = MakeEnv(engine);
    const std::string path = (dir.path() / "f").string();
    auto file = env->OpenFile(path, {.create = true});
    REQUIRE(file.ok());
    const auto a = Bytes("hello "), b = Bytes("world");
    const WriteSlice slices[] = {{0, a}, {a.size(), b}};
    REQUIRE((*file)->WriteAndSync(slices).ok());
    std::vector<std::byte> back(64);
    auto n = (*file)->Read(0, back);
    REQUIRE(n.ok());
    CHECK(Text({back.data(), *n}) == "hello world");
    CHECK(*(*file)->Size() == 11);
  }
}

TEST_CASE("a batch larger than the ring is written whole") {
  for (IoEngine engine : Engines()) {
    testing::TempDir dir;
    auto env = MakeEnv(engine);
    auto file = env->OpenFile((dir.path() / "f").string(), {.create = true});
    REQUIRE(file.ok());
    std::vector<std::vector<std::byte>> parts;
    std::vector<WriteSlice> slices;
    for (int i = 0; i < 200; ++i) parts.push_back(Bytes(std::to_string(i % 10)));
    for (int i = 0; i < 200; ++i) slices.push_back({static_cast<std::uint64_t>(i), parts[i]});
    REQUIRE((*file)->WriteAndSync(slices).ok());
    std::vector<std::byte> back(200);
    REQUIRE(*(*file)->Read(0, back) == 200);
    for (int i = 0; i < 200; ++i) CHECK(static_cast<char>(back[i]) == '0' + i % 10);
  }
}

TEST_CASE("direct files take aligned writes and reads") {
  for (IoEngine engine : Engines()) {
    testing::TempDir dir;
    auto env = MakeEnv(engine);
    auto file = env->OpenFile((dir.path() / "d").string(), {.create = true, .direct = true});
    REQUIRE_MESSAGE(file.ok(), file.status().ToString());
    AlignedBuffer buf = AllocateAligned(2 * kDirectAlignment);
    CHECK(reinterpret_cast<std::uintptr_t>(buf.get()) % kDirectAlignment == 0);
    std::memset(buf.get(), 0xab, 2 * kDirectAlignment);
    const WriteSlice slice{kDirectAlignment, {buf.get(), 2 * kDirectAlignment}};
    REQUIRE((*file)->WriteAndSync({&slice, 1}).ok());
    AlignedBuffer back = AllocateAligned(kDirectAlignment);
    REQUIRE(*(*file)->Read(2 * kDirectAlignment, {back.get(), kDirectAlignment}) ==
            kDirectAlignment);
    CHECK(back[kDirectAlignment - 1] == std::byte{0xab});
    CHECK(*(*file)->Size() == 3 * kDirectAlignment);
  }
}

TEST_CASE("forcing pwrite selects it and says why") {
  std::string why;
  auto env = MakeEnv(IoEngine::kPwrite, &why);
  CHECK(env->io_engine() == IoEngine::kPwrite);
  CHECK(why.find("requested") != std::string::npos);
}

TEST_CASE("auto picks io_uring when the kernel allows it, else pwrite with a reason") {
  std::string why;
  auto env = MakeEnv(IoEngine::kAuto, &why);
  const bool uring = NewPosixEnv(IoEngine::kIoUring).ok();
  CHECK(env->io_engine() == (uring ? IoEngine::kIoUring : IoEngine::kPwrite));
  CHECK(!why.empty());
  MESSAGE("engine choice: " << why);
}

void CheckPreallocation(IoEngine engine, bool direct, Preallocation how) {
  CAPTURE(direct);
  CAPTURE(how == Preallocation::kReserve);
  testing::TempDir dir;
  auto env = MakeEnv(engine);
  auto file = env->OpenFile((dir.path() / "p").string(), {.create = true, .direct = direct});
  REQUIRE(file.ok());
  AlignedBuffer head = AllocateAligned(kDirectAlignment);
  std::memset(head.get(), 0x11, kDirectAlignment);
  const WriteSlice slice{0, {head.get(), kDirectAlignment}};
  REQUIRE((*file)->WriteAndSync({&slice, 1}).ok());
  const std::uint64_t size = (3u << 20) + kDirectAlignment;
  REQUIRE((*file)->Preallocate(size, how).ok());
  CHECK(*(*file)->Size() == size);
  AlignedBuffer all = AllocateAligned(size);
  REQUIRE(*(*file)->Read(0, {all.get(), size}) == size);
  CHECK(all[kDirectAlignment - 1] == std::byte{0x11});
  bool zeros = true;
  for (std::uint64_t i = kDirectAlignment; i < size; ++i) zeros &= all[i] == std::byte{0};
  CHECK(zeros);
}

TEST_CASE("preallocation, written or reserved, reads as zeros and keeps what was there") {
  for (IoEngine engine : Engines()) {
    for (bool direct : {false, true}) {
      CheckPreallocation(engine, direct, Preallocation::kWriteZeros);
      CheckPreallocation(engine, direct, Preallocation::kReserve);
    }
  }
}

TEST_CASE("directory operations list, rename, sync and remove") {
  testing::TempDir dir;
  auto env = MakeEnv(IoEngine::kAuto);
  const std::string d = (dir.path() / "a/b").string();
  REQUIRE(env->CreateDirs(d).ok());
  for (const char* name : {"z", "a", "m"}) {
    REQUIRE(env->OpenFile(d + "/" + name, {.create = true}).ok());
  }
  CHECK(*env->ListDir(d) == std::vector<std::string>{"a", "m", "z"});
  REQUIRE(env->Rename(d + "/a", d + "/b").ok());
  REQUIRE(env->SyncDir(d).ok());
  CHECK(env->Exists(d + "/b"));
  CHECK_FALSE(env->Exists(d + "/a"));
  REQUIRE(env->Remove(d + "/b").ok());
  CHECK(*env->ListDir(d) == std::vector<std::string>{"m", "z"});
  CHECK(env->OpenFile(d + "/missing", {}).status().code() == StatusCode::kNotFound);
}

TEST_CASE("O_DIRECT on tmpfs is refused with a clear error") {
  auto env = MakeEnv(IoEngine::kAuto);
  if (!env->Exists("/dev/shm")) return;
  testing::TempDir dir;  // only for a unique name
  const std::string path = "/dev/shm/" + dir.path().filename().string();
  auto file = env->OpenFile(path, {.create = true, .direct = true});
  (void)env->Remove(path);
  if (file.ok()) return;  // a kernel whose tmpfs accepts O_DIRECT (6.6+)
  CHECK(file.status().code() == StatusCode::kUnsupported);
  CHECK(file.status().message().find("O_DIRECT") != std::string::npos);
}

TEST_CASE("a whole file reads back the same mapped by the file system or read through an Env") {
  testing::TempDir dir;
  auto base = MakeEnv(IoEngine::kAuto);
  FaultInjectionEnv faulty(base.get());
  const std::string path = (dir.path() / "whole").string();
  std::string content(3 * 4096 + 123, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 131 % 251);
  std::ofstream(path, std::ios::binary) << content;
  std::ofstream(path + ".empty", std::ios::binary).flush();
  for (Env* env : {base.get(), static_cast<Env*>(&faulty)}) {
    auto whole = env->ReadWholeFile(path);
    REQUIRE(whole.ok());
    CHECK(Text((*whole)->bytes()) == content);
    auto empty = env->ReadWholeFile(path + ".empty");
    REQUIRE(empty.ok());
    CHECK((*empty)->bytes().empty());
    auto missing = env->ReadWholeFile(path + ".missing");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == StatusCode::kNotFound);
    CHECK(missing.status().message().find("whole.missing") != std::string::npos);
  }
  // Through a fault-injecting Env the reads are its own: flipped bits show.
  faulty.FlipBitsOnRead(BitFlips{.kind = FileKind::kMetadata});
  auto flipped = faulty.ReadWholeFile(path);
  REQUIRE(flipped.ok());
  CHECK(Text((*flipped)->bytes()) != content);
}

}  // namespace
}  // namespace sluice::store
