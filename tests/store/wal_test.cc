#include "wal.h"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fault_env.h"
#include "temp_dir.h"
#include "wal_format.h"

namespace sluice::store {
namespace {

using namespace std::chrono_literals;

struct Rec {
  std::uint64_t seq = 0;
  std::uint8_t type = 0;
  std::string payload;
  bool operator==(const Rec&) const = default;
};

std::span<const std::byte> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::vector<IoEngine> Engines() {
  std::vector<IoEngine> engines{IoEngine::kPwrite};
  if (NewPosixEnv(IoEngine::kIoUring).ok()) engines.push_back(IoEngine::kIoUring);
  return engines;
}

std::string Name(IoEngine e) { return e == IoEngine::kIoUring ? "io_uring" : "pwrite"; }

// One log directory on the real disk (O_DIRECT needs it), behind a fault env.
struct Fixture {
  explicit Fixture(IoEngine engine) : base(NewPosixEnv(engine).value()), env(base.get()) {
    options.dir = (dir.path() / "wal").string();
    options.file_size = 256 << 10;
    options.max_commit_delay = 500us;
  }

  // Opens the log, returning what it replayed.
  std::vector<Rec> Open() {
    std::vector<Rec> out;
    auto w = TryOpen(out);
    REQUIRE_MESSAGE(w.ok(), w.status().ToString());
    wal = std::move(*w);
    return out;
  }
  // Opens the log, appending what it replayed to `out`, whatever the outcome.
  Result<std::unique_ptr<WriteBuffer>> TryOpen(std::vector<Rec>& out) {
    return OpenWal(&env, options, [&](const WriteBufferRecord& r) {
      out.push_back({r.seq, r.type, std::string(reinterpret_cast<const char*>(r.payload.data()),
                                                r.payload.size())});
      return Status::Ok();
    });
  }

  // Appends and waits for the callback (generously: a hang fails, a slow
  // machine does not).
  std::pair<Status, std::uint64_t> AppendAndWait(std::uint8_t type, const std::string& payload) {
    std::promise<std::pair<Status, std::uint64_t>> done;
    auto f = done.get_future();
    wal->Append(type, AsBytes(payload), [&](Status st, std::uint64_t seq) {
      done.set_value({std::move(st), seq});
    });
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    return f.get();
  }

  void Reopen() {
    REQUIRE(wal->Close().ok());
    wal.reset();
  }

  testing::TempDir dir;
  std::unique_ptr<Env> base;
  FaultInjectionEnv env;
  WalOptions options;
  std::unique_ptr<WriteBuffer> wal;
};

// Counts callbacks until a target is reached; waits without sleeping.
struct Countdown {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t left;
  explicit Countdown(std::size_t n) : left(n) {}
  void Done() {
    std::lock_guard lock(mu);
    if (--left == 0) cv.notify_all();
  }
  bool Wait() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 60s, [&] { return left == 0; });
  }
};

TEST_CASE("records come back in order with their types and payloads after reopen") {
  for (IoEngine engine : Engines()) {
    CAPTURE(Name(engine));
    Fixture fx(engine);
    CHECK(fx.Open().empty());
    std::vector<Rec> expected;
    for (int i = 0; i < 50; ++i) {
      const std::string payload(static_cast<std::size_t>(i * 37), static_cast<char>('a' + i % 26));
      const auto type = static_cast<std::uint8_t>(1 + i % 255);
      auto [st, seq] = fx.AppendAndWait(type, payload);
      REQUIRE(st.ok());
      expected.push_back({seq, type, payload});
      CHECK(seq == static_cast<std::uint64_t>(i + 1));
    }
    fx.Reopen();
    CHECK(fx.Open() == expected);
    CHECK(fx.wal->stats().torn_tail_bytes == 0);
    // And appends continue after the last record.
    CHECK(fx.AppendAndWait(9, "next").second == 51);
  }
}

TEST_CASE("a record appended at a given number gets it or fails and takes none") {
  Fixture fx(IoEngine::kPwrite);
  fx.options.first_seq = 40;
  CHECK(fx.Open().empty());
  auto at = [&](std::uint64_t want, const std::string& payload) {
    std::promise<std::pair<Status, std::uint64_t>> done;
    auto f = done.get_future();
    fx.wal->AppendAt(want, 1, AsBytes(payload), [&](Status st, std::uint64_t seq) {
      done.set_value({std::move(st), seq});
    });
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    return f.get();
  };
  CHECK(at(40, "a").second == 40);
  auto [skip, none] = at(42, "skipped a number");
  CHECK(skip.code() == StatusCode::kUnavailable);
  CHECK(skip.message().find("numbered 42, the log is at 41") != std::string::npos);
  auto [back, zero] = at(40, "an old number");
  CHECK(back.code() == StatusCode::kUnavailable);
  // A queue of records behind a refused one, all in one group: none is
  // stored under another record's number.
  Countdown cd(3);
  std::vector<std::pair<StatusCode, std::uint64_t>> got(3);
  const std::uint64_t want[3] = {41, 43, 44};
  for (int i = 0; i < 3; ++i) {
    fx.wal->AppendAt(want[i], 1, AsBytes("q" + std::to_string(i)), [&, i](Status st, std::uint64_t seq) {
      got[i] = {st.code(), seq};
      cd.Done();
    });
  }
  REQUIRE(cd.Wait());
  CHECK(got[0] == std::pair{StatusCode::kOk, std::uint64_t{41}});
  CHECK(got[1].first == StatusCode::kUnavailable);
  CHECK(got[2].first == StatusCode::kUnavailable);
  CHECK(at(42, "b").second == 42);
  fx.Reopen();
  const std::vector<Rec> expected{{40, 1, "a"}, {41, 1, "q0"}, {42, 1, "b"}};
  CHECK(fx.Open() == expected);
}

TEST_CASE("concurrent appenders share groups and every callback fires once, in order") {
  for (IoEngine engine : Engines()) {
    CAPTURE(Name(engine));
    Fixture fx(engine);
    fx.options.file_size = 1 << 20;
    fx.options.max_group_bytes = 64 << 10;  // so that groups are cut by size, too
    fx.Open();
    constexpr int kThreads = 8, kPerThread = 2000;
    Countdown all(kThreads * kPerThread);
    std::mutex mu;
    std::vector<std::vector<std::uint64_t>> seqs(kThreads);
    std::vector<int> calls(kThreads * kPerThread, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string payload = std::to_string(t) + ":" + std::to_string(i);
          fx.wal->Append(1, AsBytes(payload), [&, t, i](Status st, std::uint64_t seq) {
            CHECK(st.ok());
            {
              std::lock_guard lock(mu);
              ++calls[t * kPerThread + i];
              seqs[t].push_back(seq);
            }
            all.Done();
          });
        }
      });
    }
    for (auto& th : threads) th.join();
    REQUIRE(all.Wait());
    std::set<std::uint64_t> distinct;
    for (int t = 0; t < kThreads; ++t) {
      CHECK(std::is_sorted(seqs[t].begin(), seqs[t].end()));
      distinct.insert(seqs[t].begin(), seqs[t].end());
    }
    CHECK(std::count(calls.begin(), calls.end(), 1) == kThreads * kPerThread);
    CHECK(distinct.size() == kThreads * kPerThread);
    CHECK(*distinct.rbegin() == kThreads * kPerThread);
    const WriteBufferStats stats = fx.wal->stats();
    MESSAGE(Name(engine) << ": " << stats.records << " records in " << stats.groups << " groups");
    CHECK(stats.records == kThreads * kPerThread);
    CHECK(stats.groups * 10 < stats.records);
    // No group holds more than max_group_bytes of frames (about 40 bytes each).
    CHECK(stats.groups * (64 << 10) >= stats.records * 32);
    fx.Reopen();
    CHECK(fx.Open().size() == kThreads * kPerThread);
  }
}

TEST_CASE("a lone record is committed without waiting for company") {
  Fixture fx(IoEngine::kAuto);
  fx.options.max_commit_delay = 20ms;
  fx.options.max_group_bytes = 64 << 10;  // never filled by one record
  fx.Open();
  // AppendAndWait fails if the callback does not come within 30 s; the
  // delay bound (20 ms) is what lets it come at all.
  auto [st, seq] = fx.AppendAndWait(1, "alone");
  CHECK(st.ok());
  CHECK(seq == 1);
  CHECK(fx.wal->stats().groups == 1);
  CHECK(fx.wal->stats().records == 1);
}

TEST_CASE("after a power cut every acknowledged record is replayed, as a prefix") {
  for (IoEngine engine : Engines()) {
    CAPTURE(Name(engine));
    Fixture fx(engine);
    fx.options.file_size = 64 << 10;  // roll and recycle often
    fx.options.max_files = 4;
    std::mt19937 rng(42);
    std::map<std::uint64_t, std::string> model;  // everything replayed or acknowledged
    std::uint64_t released = 0;
    for (int cycle = 0; cycle < 20; ++cycle) {
      CAPTURE(cycle);
      const auto replayed = fx.Open();
      // Released records may be gone (recycled); everything after is there.
      std::map<std::uint64_t, std::string> now;
      for (const Rec& r : replayed) now[r.seq] = r.payload;
      for (const auto& kept : model) {
        const std::uint64_t seq = kept.first;
        const std::string& payload = kept.second;
        if (seq <= released) continue;
        REQUIRE_MESSAGE(now.count(seq) == 1, "acknowledged seq " << seq << " lost");
        CHECK(now[seq] == payload);
      }
      const std::uint64_t last_acked = model.empty() ? 0 : model.rbegin()->first;
      for (const auto& [seq, payload] : now) {
        if (model.count(seq) != 0) {
          CHECK(model[seq] == payload);
        } else {
          // Written but not acknowledged before the cut: only the last
          // cycle's records, after every acknowledged one.
          CHECK(payload.starts_with("c" + std::to_string(cycle - 1) + "-"));
          CHECK(seq > last_acked);
          model[seq] = payload;
        }
      }
      for (std::uint64_t s = now.empty() ? 1 : now.begin()->first; !now.empty() && s <= now.rbegin()->first; ++s) {
        CHECK(now.count(s) == 1);  // no holes
      }
      if (!model.empty() && rng() % 3 == 0) released = model.rbegin()->first / 2;
      fx.wal->Release(released);

      // This cycle: appenders race a power cut after a random byte budget.
      fx.env.FailAfterBytes(std::uniform_int_distribution<std::uint64_t>(0, 120000)(rng));
      constexpr int kThreads = 3, kPerThread = 150;
      Countdown all(kThreads * kPerThread);
      std::mutex mu;
      std::map<std::uint64_t, std::string> acked;
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < kPerThread; ++i) {
            const std::string payload = "c" + std::to_string(cycle) + "-" + std::to_string(t) +
                                        "-" + std::to_string(i) + std::string(i % 97, 'x');
            fx.wal->Append(2, AsBytes(payload), [&, payload](Status st, std::uint64_t seq) {
              if (st.ok()) {
                std::lock_guard lock(mu);
                acked[seq] = payload;
              }
              all.Done();
            });
          }
        });
      }
      for (auto& th : threads) th.join();
      REQUIRE(all.Wait());
      (void)fx.wal->Close();
      fx.wal.reset();
      for (const auto& [seq, payload] : acked) {
        CHECK(model.count(seq) == 0);
        model[seq] = payload;
      }
      // Sometimes the torn prefix of the last write survives, sometimes not.
      if (rng() % 2 == 0) REQUIRE(fx.env.DropUnsyncedData().ok());
      fx.env.ClearFaults();
    }
  }
}

TEST_CASE("a log file whose creation a crash cut short is made durable before records go into it") {
  // Regression: kill -9 while rolling to a new file, after its header's
  // first bytes but before its directory entry was synced. At the restart
  // the file read back with a valid header, recovery went on appending into
  // it, and acknowledged records; a power cut then took the file's entry,
  // and every one of them with it.
  for (IoEngine engine : Engines()) {
    CAPTURE(Name(engine));
    Fixture fx(engine);
    fx.options.file_size = 64 << 10;
    fx.Open();
    // Append until the roll, whose file creation the cut stops in the
    // header write: the preallocation fits the byte budget, the header not.
    const std::string payload(1000, 'r');
    bool rolled = false;
    for (int i = 0; i < 200 && !rolled; ++i) {
      fx.env.FailAfterBytes(fx.options.file_size + 100);
      rolled = !fx.AppendAndWait(3, payload).first.ok();
      fx.env.ClearFaults();
    }
    REQUIRE(rolled);
    (void)fx.wal->Close();  // the process dies; the page cache keeps it all
    fx.wal.reset();
    fx.Open();
    const auto acked = fx.AppendAndWait(3, "acknowledged after the restart");
    REQUIRE(acked.first.ok());
    (void)fx.wal->Close();
    fx.wal.reset();
    REQUIRE(fx.env.DropUnsyncedData().ok());  // then the power goes
    const auto after = fx.Open();
    REQUIRE(!after.empty());
    CHECK(after.back().seq == acked.second);
    CHECK(after.back().payload == "acknowledged after the restart");
  }
}

TEST_CASE("a torn last write is truncated and appends continue after it") {
  for (IoEngine engine : Engines()) {
    CAPTURE(Name(engine));
    Fixture fx(engine);
    fx.Open();
    std::vector<Rec> expected;
    for (int i = 0; i < 10; ++i) {
      const std::string payload = "record-" + std::to_string(i);  // 32-byte frames
      expected.push_back({fx.AppendAndWait(3, payload).second, 3, payload});
    }
    // The next write rewrites the tail block (320 bytes of frames) and adds a
    // 6000-byte record; only half of that record reaches the disk.
    fx.env.TearNextWrite(320 + 3000);
    CHECK(fx.AppendAndWait(3, std::string(6000, 'T')).first.code() == StatusCode::kIoError);
    (void)fx.wal->Close();
    fx.wal.reset();
    fx.env.ClearFaults();
    CHECK(fx.Open() == expected);
    CHECK(fx.wal->stats().torn_tail_bytes > 0);
    for (int i = 10; i < 12; ++i) {
      auto [st, seq] = fx.AppendAndWait(4, "after");
      CHECK(st.ok());
      CHECK(seq == static_cast<std::uint64_t>(i + 1));
      expected.push_back({seq, 4, "after"});
    }
    fx.Reopen();
    CHECK(fx.Open() == expected);
    CHECK(fx.wal->stats().torn_tail_bytes == 0);
  }
}

TEST_CASE("a failed write is never replayed after later records, even without a crash") {
  Fixture fx(IoEngine::kAuto);
  fx.Open();
  REQUIRE(fx.AppendAndWait(1, "kept").first.ok());
  fx.env.TearNextWrite(4095);  // all but the last padding byte lands, unsynced
  CHECK_FALSE(fx.AppendAndWait(1, "failed").first.ok());
  fx.env.ClearFaults();
  REQUIRE(fx.AppendAndWait(1, "x").second == 2);  // the failed seq is reused
  fx.Reopen();
  const auto replayed = fx.Open();
  REQUIRE(replayed.size() == 2);
  CHECK(replayed[1].payload == "x");
}

TEST_CASE("NoSpace from the disk reaches the callbacks and the log stays usable") {
  for (IoEngine engine : Engines()) {
    CAPTURE(Name(engine));
    Fixture fx(engine);
    fx.Open();
    REQUIRE(fx.AppendAndWait(1, "one").first.ok());
    fx.env.SetWriteError(StatusCode::kNoSpace);
    auto [st, seq] = fx.AppendAndWait(1, "refused");
    CHECK(st.code() == StatusCode::kNoSpace);
    CHECK(seq == 0);
    fx.env.ClearFaults();
    CHECK(fx.AppendAndWait(1, "two").second == 2);
    fx.Reopen();
    CHECK(fx.Open() == std::vector<Rec>{{1, 1, "one"}, {2, 1, "two"}});
  }
}

TEST_CASE("files roll over, released files are recycled, and replay stays correct") {
  for (IoEngine engine : Engines()) {
    CAPTURE(Name(engine));
    Fixture fx(engine);
    fx.options.file_size = 16 << 10;  // 12 KiB of frames: 11 records of 1000 bytes
    fx.options.max_files = 3;
    fx.Open();
    SUBCASE("without Release the log fills up and says NoSpace") {
      Status last;
      for (int i = 0; i < 40 && last.ok(); ++i) last = fx.AppendAndWait(1, std::string(1000, 'n')).first;
      CHECK(last.code() == StatusCode::kNoSpace);
    }
    SUBCASE("with Release old files are reused") {
      std::vector<Rec> all;
      for (int i = 0; i < 100; ++i) {
        const std::string payload = std::to_string(i) + std::string(1000, 'r');
        auto [st, seq] = fx.AppendAndWait(5, payload);
        REQUIRE(st.ok());
        all.push_back({seq, 5, payload});
        fx.wal->Release(seq);
      }
      auto names = fx.env.ListDir(fx.options.dir);
      REQUIRE(names.ok());
      CHECK(names->size() <= 3);
      fx.Reopen();
      const auto replayed = fx.Open();
      // What is left is a suffix of everything appended: stale records of
      // recycled files never show up.
      REQUIRE(!replayed.empty());
      REQUIRE(replayed.size() < all.size());
      CHECK(std::equal(replayed.begin(), replayed.end(), all.end() - static_cast<long>(replayed.size())));
      CHECK(fx.AppendAndWait(5, "more").second == 101);
    }
  }
}

// Rewrites one byte of a log file behind the log's back.
void Poke(const std::string& path, std::uint64_t offset, char value) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(value);
}

TEST_CASE("damage before the last write is Corruption naming the file and offset") {
  Fixture fx(IoEngine::kAuto);
  fx.Open();
  for (int i = 0; i < 5; ++i) REQUIRE(fx.AppendAndWait(1, "payload-" + std::to_string(i)).first.ok());
  fx.Reopen();
  // Frames are 40 bytes; damage the second record's payload.
  Poke(fx.options.dir + "/" + WalFileName(1), kWalBlockSize + 40 + 30, '!');
  auto w = OpenWal(&fx.env, fx.options, [](const WriteBufferRecord&) { return Status::Ok(); });
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().code() == StatusCode::kCorruption);
  CHECK(w.status().message().find("wal-00000001.log") != std::string::npos);
  CHECK(w.status().message().find("offset 4136") != std::string::npos);
}

// Appends `count` records of 1000 bytes to a log of 16 KiB files (11 records
// each) and closes it; what was appended, and the newest file's number.
std::pair<std::vector<Rec>, std::uint64_t> FillAndClose(Fixture& fx, int count) {
  fx.options.file_size = 16 << 10;
  fx.Open();
  std::vector<Rec> all;
  for (int i = 0; i < count; ++i) {
    const std::string payload = std::to_string(i) + std::string(1000, 'h');
    auto [st, seq] = fx.AppendAndWait(3, payload);
    REQUIRE(st.ok());
    all.push_back({seq, 3, payload});
  }
  fx.Reopen();
  auto names = fx.env.ListDir(fx.options.dir);
  REQUIRE(names.ok());
  return {all, names->size()};
}

TEST_CASE("files holding only records the caller needs no replay of are passed over unread") {
  Fixture fx(IoEngine::kAuto);
  // 40 records in files of 11: seq 1-11, 12-22, 23-33, 34-40.
  const auto [all, newest] = FillAndClose(fx, 40);
  REQUIRE(newest == 4u);
  std::vector<std::uint64_t> asked;
  auto open_with_bound = [&](std::uint64_t bound) {
    fx.options.needs_replay_above = [&asked, bound](std::uint64_t first_seq) {
      asked.push_back(first_seq);
      return bound;
    };
    return fx.Open();
  };
  SUBCASE("a bound inside the second file passes over the first only") {
    // Damage the first file's records: unread, it cannot fail the Open.
    Poke(fx.options.dir + "/" + WalFileName(1), kWalBlockSize + 30, '!');
    const auto replayed = open_with_bound(15);
    CHECK(asked == std::vector<std::uint64_t>{1});
    REQUIRE(replayed.size() == 29);  // the second file whole, and on
    CHECK(std::equal(replayed.begin(), replayed.end(), all.begin() + 11));
    CHECK(fx.wal->stats().passed_over == 11);
    CHECK(fx.wal->stats().first_seq == 1);  // still held until released
    CHECK(fx.AppendAndWait(3, "more").second == 41);
    // The passed-over file is recycled like any other.
    fx.wal->Release(22);
    for (int i = 0; i < 30; ++i) REQUIRE(fx.AppendAndWait(3, std::string(1000, 'm')).first.ok());
    CHECK(fx.wal->stats().first_seq > 22);
    CHECK_FALSE(fx.env.Exists(fx.options.dir + "/" + WalFileName(1)));
  }
  SUBCASE("a bound past every record still reads the newest file") {
    const auto replayed = open_with_bound(1000);
    CHECK(replayed.size() == 7);
    CHECK(std::equal(replayed.begin(), replayed.end(), all.begin() + 33));
    CHECK(fx.wal->stats().passed_over == 33);
    CHECK(fx.AppendAndWait(3, "more").second == 41);
  }
  SUBCASE("a bound of 0 reads everything") {
    CHECK(open_with_bound(0) == all);
    CHECK(fx.wal->stats().passed_over == 0);
  }
  SUBCASE("a file whose header does not check ends the passing over before it") {
    Poke(fx.options.dir + "/" + WalFileName(2), 20, '!');
    std::vector<Rec> replayed;
    fx.options.needs_replay_above = [](std::uint64_t) { return std::uint64_t{1000}; };
    auto w = fx.TryOpen(replayed);
    // Only the first file could be bounded, by a header that does not check:
    // every file is read, and the damage is reported as without a bound.
    REQUIRE_FALSE(w.ok());
    CHECK(w.status().code() == StatusCode::kCorruption);
    CHECK(w.status().message().find(WalFileName(2)) != std::string::npos);
  }
  SUBCASE("a sole file is read whatever the bound, and the caller is not asked") {
    Fixture one(IoEngine::kAuto);
    const auto [few, n] = FillAndClose(one, 5);
    REQUIRE(n == 1u);
    bool called = false;
    one.options.needs_replay_above = [&](std::uint64_t) {
      called = true;
      return std::uint64_t{1000};
    };
    CHECK(one.Open() == few);
    CHECK_FALSE(called);
  }
}

TEST_CASE("a header damaged over live records: they are all replayed and the log is reported damaged") {
  for (int count : {5, 30}) {  // one file; three
    CAPTURE(count);
    Fixture fx(IoEngine::kAuto);
    const auto [all, newest] = FillAndClose(fx, count);
    CHECK(newest == (count == 5 ? 1u : 3u));
    Poke(fx.options.dir + "/" + WalFileName(newest), 20, '!');  // inside file_number
    std::vector<Rec> replayed;
    auto w = fx.TryOpen(replayed);
    REQUIRE_FALSE(w.ok());
    CHECK(w.status().code() == StatusCode::kCorruption);
    CHECK(w.status().message().find(WalFileName(newest) + ": header damaged") != std::string::npos);
    CHECK(replayed == all);  // every record, in order, once
  }
}

TEST_CASE("a newest file a crash left with a bad header and no frames is reused as empty") {
  for (int count : {5, 30}) {
    CAPTURE(count);
    Fixture fx(IoEngine::kAuto);
    const auto [all, newest] = FillAndClose(fx, count);
    const std::string extra = fx.options.dir + "/" + WalFileName(newest + 1);
    std::ofstream(extra, std::ios::binary) << std::string(16 << 10, '\0');
    Poke(extra, 0, 'X');
    std::vector<Rec> replayed;
    auto w = fx.TryOpen(replayed);
    REQUIRE_MESSAGE(w.ok(), w.status().ToString());
    CHECK(replayed == all);
    fx.wal = std::move(*w);
    CHECK(fx.AppendAndWait(3, "after").second == all.size() + 1);
    fx.Reopen();
    CHECK(fx.Open().size() == all.size() + 1);
  }
}

TEST_CASE("a sole log file a crash left with a bad header numbers on from first_seq, not from 1") {
  Fixture fx(IoEngine::kAuto);
  fx.options.file_size = 16 << 10;
  fx.options.first_seq = 1000;  // the store holds records up to 999 in blocks
  std::filesystem::create_directories(fx.options.dir);
  const std::string only = fx.options.dir + "/" + WalFileName(1);
  std::ofstream(only, std::ios::binary) << std::string(16 << 10, '\0');
  Poke(only, 0, 'X');
  CHECK(fx.Open().empty());
  CHECK(fx.AppendAndWait(3, "first").second == 1000);
}

TEST_CASE("damage inside the last write is a torn tail, not Corruption") {
  Fixture fx(IoEngine::kAuto);
  fx.options.max_commit_delay = 10s;  // the group closes when full, not by time
  fx.options.max_group_bytes = 2 * 64;
  fx.Open();
  REQUIRE(fx.AppendAndWait(1, std::string(104, 'a')).first.ok());  // a full 128-byte group
  Countdown both(2);  // then one group of two 64-byte frames
  for (int i = 0; i < 2; ++i) {
    fx.wal->Append(1, AsBytes(std::string(40, 'b')), [&](Status st, std::uint64_t) {
      CHECK(st.ok());
      both.Done();
    });
  }
  REQUIRE(both.Wait());
  CHECK(fx.wal->stats().groups == 2);
  fx.Reopen();
  // Damage the first frame of the last group; its second frame stays valid.
  Poke(fx.options.dir + "/" + WalFileName(1), kWalBlockSize + 128 + 30, '!');
  const auto replayed = fx.Open();
  CHECK(replayed.size() == 1);
  CHECK(fx.wal->stats().torn_tail_bytes >= 128);
  CHECK(fx.AppendAndWait(1, "next").second == 2);
  fx.Reopen();
  CHECK(fx.Open().size() == 2);
}

TEST_CASE("appends after Close fail with Aborted") {
  Fixture fx(IoEngine::kAuto);
  fx.Open();
  REQUIRE(fx.AppendAndWait(1, "before").first.ok());
  REQUIRE(fx.wal->Close().ok());
  CHECK(fx.AppendAndWait(1, "after").first.code() == StatusCode::kAborted);
}

}  // namespace
}  // namespace sluice::store
