#include "store/env.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fault_env.h"
#include "temp_dir.h"

namespace sluice::store {
namespace {

std::vector<std::byte> Bytes(const std::string& s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

std::string Text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::unique_ptr<Env> MakeEnv(IoEngine engine, std::string* why = nullptr) {
  auto env = NewPosixEnv(engine, why);
  REQUIRE_MESSAGE(env.ok(), env.status().ToString());
  return std::move(*env);
}

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

TEST_CASE("preallocation gives real zeros and keeps what was there") {
  for (IoEngine engine : Engines()) {
    for (bool direct : {false, true}) {
      testing::TempDir dir;
      auto env = MakeEnv(engine);
      auto file = env->OpenFile((dir.path() / "p").string(), {.create = true, .direct = direct});
      REQUIRE(file.ok());
      AlignedBuffer head = AllocateAligned(kDirectAlignment);
      std::memset(head.get(), 0x11, kDirectAlignment);
      const WriteSlice slice{0, {head.get(), kDirectAlignment}};
      REQUIRE((*file)->WriteAndSync({&slice, 1}).ok());
      const std::uint64_t size = (3u << 20) + kDirectAlignment;
      REQUIRE((*file)->Preallocate(size).ok());
      CHECK(*(*file)->Size() == size);
      AlignedBuffer all = AllocateAligned(size);
      REQUIRE(*(*file)->Read(0, {all.get(), size}) == size);
      CHECK(all[kDirectAlignment - 1] == std::byte{0x11});
      bool zeros = true;
      for (std::uint64_t i = kDirectAlignment; i < size; ++i) zeros &= all[i] == std::byte{0};
      CHECK(zeros);
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

}  // namespace
}  // namespace sluice::store
