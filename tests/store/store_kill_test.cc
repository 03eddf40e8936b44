// kill -9 loop: a child process appends and reports each acknowledgement
// through a pipe; the parent kills it at a random moment, reopens the store
// and checks that every acknowledged record is there, once. 50 kills by
// default, 30 more with large values among the records (written straight
// to blocks); SLUICE_KILL_ROUNDS=N for more.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>
#include <thread>

#include "store/store.h"
#include "temp_dir.h"

namespace sluice::store {
namespace {

constexpr std::int64_t kBase = 1'764'100'800'000'000'000;

Options KillOptions(const testing::TempDir& dir) {
  Options o;
  o.dir = (dir.path() / "store").string();
  o.wal_file_size = 1 << 20;
  o.wal_max_group_bytes = 64 << 10;
  o.block_size = 64 << 10;
  o.segment_size = 512 << 10;
  o.partition_window = std::chrono::seconds(60);
  o.late_grace = std::chrono::seconds(10);
  return o;
}

// A large value for counter value v: over large_value_bytes, its size and
// bytes following from v, so that a record read back can be checked.
std::string LargeOf(std::int64_t v) {
  std::string s(4096 + static_cast<std::size_t>(v % 3000), static_cast<char>('a' + v % 26));
  const std::string head = std::to_string(v) + ":";
  s.replace(0, head.size(), head);
  return s;
}

// The child: four threads append batches of values taken from a shared
// counter starting at `next`, each waiting for its acknowledgement (so that
// the rate stays that of durable appends and groups form across threads),
// and write (first, count) to `fd` once a batch is acknowledged. With
// `large`, two of the threads append large values (series 2, written
// straight to blocks) instead. Never returns.
[[noreturn]] void AppendUntilKilled(const Options& o, std::int64_t next, int fd, unsigned seed,
                                    bool large) {
  auto store = Store::Open(o);
  if (!store.ok()) _exit(2);
  auto id = (*store)->RegisterSeries("counter", ValueType::kInt64, "");
  if (!id.ok()) _exit(3);
  auto frames = (*store)->RegisterSeries("frames", ValueType::kBytes, "");
  if (!frames.ok()) _exit(3);
  std::atomic<std::int64_t> counter{next};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(seed * 4 + t);
      const bool big = large && t % 2 == 1;
      for (;;) {
        const int n = 1 + static_cast<int>(rng() % (big ? 8 : 64));
        const std::int64_t first = counter.fetch_add(n);
        Batch batch;
        for (int i = 0; i < n; ++i) {
          const std::int64_t v = first + i;
          if (big) {
            batch.push_back({*frames, kBase + v, LargeOf(v)});
          } else {
            batch.push_back({*id, kBase + v, v});
          }
        }
        if ((*store)->Append(std::move(batch)).Wait().ok()) {
          const std::int64_t msg[2] = {first, n};
          if (write(fd, msg, sizeof msg) != sizeof msg) _exit(4);  // atomic: < PIPE_BUF
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  _exit(5);
}

void KillLoop(bool large) {
  const char* env_rounds = std::getenv("SLUICE_KILL_ROUNDS");
  const int rounds = env_rounds ? std::atoi(env_rounds) : (large ? 30 : 50);
  testing::TempDir dir;
  const Options o = KillOptions(dir);
  std::set<std::int64_t> acked;
  std::int64_t next = 0;
  std::mt19937 rng(large ? 7 : 42);
  std::uint64_t lost_total = 0;
  std::size_t large_found = 0;

  for (int round = 0; round < rounds; ++round) {
    CAPTURE(round);
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      AppendUntilKilled(o, next, fds[1], static_cast<unsigned>(round), large);
    }
    close(fds[1]);
    // Let it run for a random time once it acknowledges, then kill it.
    const auto run_for = std::chrono::milliseconds(5 + rng() % 120);
    // The first acknowledgement may take long on a loaded machine (the
    // child recovers the store first); the kill timing starts from it.
    std::chrono::steady_clock::time_point deadline{};
    bool started = false;
    for (;;) {
      int timeout = 60000;
      if (started) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        timeout = static_cast<int>(left.count());
      }
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, timeout) <= 0) break;
      std::int64_t msg[2];
      const ssize_t got = read(fds[0], msg, sizeof msg);
      if (got != sizeof msg) break;  // the child died by itself
      for (std::int64_t v = msg[0]; v < msg[0] + msg[1]; ++v) acked.insert(v);
      if (!started) {
        started = true;
        deadline = std::chrono::steady_clock::now() + run_for;
      }
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE_MESSAGE(started, "the child acknowledged nothing (exit status " << status << ")");
    // Acknowledgements written before the kill are still in the pipe.
    for (std::int64_t msg[2]; read(fds[0], msg, sizeof msg) == sizeof msg;) {
      for (std::int64_t v = msg[0]; v < msg[0] + msg[1]; ++v) acked.insert(v);
    }
    close(fds[0]);

    auto store = Store::Open(o);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    std::set<std::int64_t> found;
    bool consistent = true;
    REQUIRE((*store)->Scan(SeriesId{1}, INT64_MIN, INT64_MAX, [&](const Record& r) {
                     const auto v = std::get<std::int64_t>(r.value);
                     consistent &= r.timestamp_ns == kBase + v;
                     consistent &= found.insert(v).second;  // no duplicates
                     return true;
                   }).ok());
    REQUIRE((*store)->Scan(SeriesId{2}, INT64_MIN, INT64_MAX, [&](const Record& r) {
                     const std::int64_t v = r.timestamp_ns - kBase;
                     consistent &= std::get<std::string>(r.value) == LargeOf(v);
                     consistent &= found.insert(v).second;  // no duplicates, in either series
                     ++large_found;
                     return true;
                   }).ok());
    CHECK(consistent);
    std::uint64_t lost = 0;
    for (std::int64_t v : acked) lost += found.count(v) == 0;
    lost_total += lost;
    CHECK_MESSAGE(lost == 0, lost << " acknowledged records lost after kill " << round);
    // What survived without an acknowledgement reaching us is fine (the kill
    // came between durability and the pipe write); it counts as acked now.
    acked.insert(found.begin(), found.end());
    next = found.empty() ? next : *found.rbegin() + 1;
  }
  if (large) CHECK(large_found > 0);
  MESSAGE(rounds << " kills, " << acked.size() << " records acknowledged, " << lost_total
                 << " lost; large values read back over the rounds: " << large_found);
}

}  // namespace

TEST_CASE("kill -9 at random moments never loses an acknowledged record") { KillLoop(false); }

TEST_CASE("kill -9 at random moments never loses an acknowledged large value") { KillLoop(true); }

}  // namespace sluice::store

namespace sluice::store {

TEST_CASE("a write-ahead log damaged before its last write is set aside, and the store starts") {
  testing::TempDir dir;
  const Options o = KillOptions(dir);
  // A child writes three batches, each its own commit group, and dies
  // without closing: the records live only in the write-ahead log.
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto store = Store::Open(o);
    if (!store.ok()) _exit(2);
    auto id = (*store)->RegisterSeries("x", ValueType::kInt64, "");
    for (std::int64_t b = 0; b < 3; ++b) {
      if (!(*store)->Append({{*id, kBase + b, b}}).Wait().ok()) _exit(3);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  // Damage the first record's frame; later writes stay intact.
  const auto wal = std::filesystem::path(o.dir) / "wal";
  std::filesystem::path file;
  for (const auto& e : std::filesystem::directory_iterator(wal)) file = e.path();
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekp(4096 + 30);
    f.write("\x55\xaa\x55\xaa", 4);
  }
  auto store = Store::Open(o);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  const auto st = (*store)->stats();
  CHECK(st.write_buffer_set_aside);
  REQUIRE_FALSE(st.notes.empty());
  CHECK(st.notes.back().find("set aside") != std::string::npos);
  CHECK(std::filesystem::exists(std::filesystem::path(o.dir) / "wal.corrupt-1"));
  // The store works on: new appends are durable and readable after reopen.
  auto id = (*store)->RegisterSeries("x", ValueType::kInt64, "");
  REQUIRE(id.ok());
  REQUIRE((*store)->Append({{*id, kBase + 10, std::int64_t{10}}}).Wait().ok());
  REQUIRE((*store)->Close().ok());
  store->reset();
  auto again = Store::Open(o);
  REQUIRE(again.ok());
  CHECK((*again)->Latest(*id)->timestamp_ns == kBase + 10);
  CHECK_FALSE((*again)->stats().write_buffer_set_aside);
}

}  // namespace sluice::store
