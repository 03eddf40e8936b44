// The sync engine's lanes, pacing, stuck attempts and the order of "sink
// confirmed" and "marked synced", against a real store and directory sink.
#include <doctest/doctest.h>

#include "engine_test_util.h"

namespace sluice::sync {
namespace {

using namespace testing_engine;  // NOLINT: test helpers

std::string KeyOf(const store::PartitionId& id) { return *SyncObjectKey(EngineOptions(), id); }

store::PartitionId Window(int k, std::uint32_t shard) {
  return {kT0 + k * 60 * kSec, shard, false};
}

TEST_CASE("under a backlog the live lane takes the newest partitions, backfill the oldest, "
          "and freshly sealed data overtakes the backlog") {
  TestStore ts;
  for (int k = 0; k < 4; ++k) ts.AddWindow(k);  // 8 partitions: 2 shards
  Upstream up;
  up.faults.policy = [](int, const std::string&, int) { return Fault::kGate; };
  FakeClock clock;
  auto engine = MustOpen(ts, up, EngineOptions(), clock.Context());
  // Sink 0 belongs to the live worker, sink 1 to the backfill worker.
  REQUIRE(Await([&] { return !up.faults.Held(0).empty() && !up.faults.Held(1).empty(); }));
  CHECK(up.faults.Held(0) == KeyOf(Window(3, 1)));
  CHECK(up.faults.Held(1) == KeyOf(Window(0, 0)));

  // Fresh data is sealed while both lanes are busy.
  ts.AddWindow(9);
  engine->Kick();
  REQUIRE(Await([&] { return engine->health().backlog_partitions == 10; }));
  up.faults.Permit(0);
  REQUIRE(Await([&] { return up.faults.Held(0) == KeyOf(Window(9, 1)); }));
  up.faults.Permit(1);
  REQUIRE(Await([&] { return up.faults.Held(1) == KeyOf(Window(0, 1)); }));

  up.faults.Permit(0, 100);
  up.faults.Permit(1, 100);
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 10; }));
  engine->Stop();
  // Each lane took its partitions in its own order.
  std::vector<std::string> live, backfill;
  for (const auto& c : up.faults.calls) (c.instance == 0 ? live : backfill).push_back(c.key);
  CHECK(std::is_sorted(live.begin() + 1, live.end(), std::greater<>()));
  CHECK(std::is_sorted(backfill.begin(), backfill.end()));
  const SyncHealth h = engine->health();
  CHECK(h.live.uploaded_objects == live.size());
  CHECK(h.backfill.uploaded_objects == backfill.size());
  CHECK_FALSE(up.faults.concurrent_same_key);
  CheckUpstreamEqualsStore(ts, up);
}

// Syncs 8 partitions (4 windows x 2 shards) at 100 B/s with a 100-byte
// burst, on the test clock, which moves only when the engine waits.
struct PacedRun {
  std::uint64_t bytes = 0;  // uploaded, counted once per object
  double elapsed_s = 0;     // test time
  double paced_s = 0;       // what the token bucket imposes on `bytes`: (bytes - burst) / rate
  std::uint64_t retries = 0;
};

PacedRun SyncPaced(TestStore& ts, Upstream& up) {
  for (int k = 0; k < 4; ++k) ts.AddWindow(k, 400);
  FakeClock clock;
  auto o = EngineOptions();
  o.bandwidth = 100;
  o.bandwidth_burst = 100;
  const std::int64_t start = clock.now.load();
  auto engine = MustOpen(ts, up, o, clock.Context());
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 8; }));
  engine->Stop();
  const SyncHealth h = engine->health();
  PacedRun r;
  r.bytes = h.live.uploaded_bytes + h.backfill.uploaded_bytes;
  REQUIRE(r.bytes > 8 * o.bandwidth_burst);
  r.elapsed_s = static_cast<double>(clock.now.load() - start) / 1e9;
  r.paced_s = static_cast<double>(r.bytes - o.bandwidth_burst) / 100.0;
  r.retries = h.live.retries + h.backfill.retries;
  MESSAGE(r.bytes << " bytes in " << r.elapsed_s << " s of test time; pacing alone " << r.paced_s
                  << " s");
  return r;
}

TEST_CASE("the bandwidth limit paces all uploads together to the configured rate") {
  TestStore ts;
  Upstream up;
  const PacedRun r = SyncPaced(ts, up);
  // Nothing else makes the engine wait: exactly the token bucket's time.
  CHECK(r.elapsed_s == doctest::Approx(r.paced_s).epsilon(0.001));
}

TEST_CASE("an attempt that fails before sending spends none of the bandwidth") {
  TestStore ts;
  Upstream up;
  std::set<std::string> failed_once;
  // Every key's first Put fails before a byte is written (a refused
  // connection, a 503 on the first byte).
  up.faults.policy = [&](int, const std::string& key, int) {
    return failed_once.insert(key).second ? Fault::kFail : Fault::kPass;
  };
  const PacedRun r = SyncPaced(ts, up);
  CHECK(r.retries == 8);
  // The bucket's wait for the bytes that went out once, plus the retries'
  // backoff (up to 2 s each, overlapping the pacing). Charging the failed
  // attempts too would take twice as long.
  CHECK(r.elapsed_s >= r.paced_s);
  CHECK(r.elapsed_s < r.paced_s + 8 * 2.0);
  CHECK(r.elapsed_s < 1.5 * r.paced_s);
  CheckUpstreamEqualsStore(ts, up);
}

TEST_CASE("a partition is marked synced only after the sink confirmed it") {
  TestStore ts;
  ts.AddWindow(0);
  Upstream up;
  FakeClock clock;
  std::atomic<int> sealed_while_held{-1};
  up.faults.policy = [](int, const std::string&, int) { return Fault::kPauseAfterWrite; };
  up.faults.after_write = [&](const std::string&) {
    // The object is in the directory already, but Put has not returned.
    sealed_while_held = static_cast<int>(ts.Count(store::PartitionState::kSealed));
  };
  auto engine = MustOpen(ts, up, EngineOptions(), clock.Context());
  REQUIRE(Await([&] { return !up.faults.Held(0).empty() || !up.faults.Held(1).empty(); }));
  CHECK(sealed_while_held == 2);
  CHECK(ts.Count(store::PartitionState::kSynced) == 0);
  up.faults.Release();
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 2; }));
  engine->Stop();
}

TEST_CASE("a lost response leaves the partition sealed, the retry finds the identical object") {
  TestStore ts;
  ts.AddWindow(0);
  Upstream up;
  FakeClock clock;
  std::atomic<int> synced_after_failure{0};
  up.faults.policy = [&](int, const std::string& key, int) {
    return up.faults.PutsOfLocked(key) == 1 ? Fault::kFailAfterWrite : Fault::kPass;
  };
  auto ctx = clock.Context();
  ctx.on_upload_done = [&](const store::PartitionId& id, const Status& s) {
    if (s.ok()) return;
    for (const auto& p : ts.store->ListPartitions(store::PartitionState::kSynced)) {
      synced_after_failure += p.id == id;
    }
  };
  auto engine = MustOpen(ts, up, EngineOptions(), std::move(ctx));
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 2; }));
  engine->Stop();
  CHECK(synced_after_failure == 0);
  const SyncHealth h = engine->health();
  CHECK(h.live.retries + h.backfill.retries == 2);
  CHECK(h.live.already_identical + h.backfill.already_identical == 2);
  CHECK(up.Objects() == 2);
  CheckUpstreamEqualsStore(ts, up);
}

TEST_CASE("a stuck upload is detected, never duplicated while it hangs, and retried when it "
          "returns") {
  TestStore ts;
  for (int k = 0; k < 2; ++k) ts.AddWindow(k);
  Upstream up;
  const std::string stuck = KeyOf(Window(1, 1));  // the newest: the live lane's first
  up.faults.policy = [&](int, const std::string& key, int) {
    return key == stuck && up.faults.PutsOfLocked(key) == 1 ? Fault::kHangThenFail : Fault::kPass;
  };
  auto o = EngineOptions();
  // Real time: it bounds a real blocking call. Long enough that no upload
  // but the hanging one is ever taken for stuck, on slow or emulated
  // hardware too; the hanging one waits for Release() whatever it is.
  o.attempt_timeout = std::chrono::milliseconds(1000);
  o.retry_base = std::chrono::milliseconds(1);
  o.retry_cap = std::chrono::milliseconds(5);
  auto engine = MustOpen(ts, up, o);
  // While the stuck call hangs, both lanes upload everything else.
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 3; }));
  REQUIRE(Await([&] { return engine->health().live.stuck_attempts == 1; }));
  SyncHealth h = engine->health();
  // last_error may already be cleared by a later success; last_stuck stays.
  CHECK(h.last_stuck.find("still running") != std::string::npos);
  CHECK(up.faults.PutsOf(stuck) == 1);  // claimed by the stuck call: no second upload
  // One per worker, the watermark writer's, and the fresh one the live
  // worker went on with.
  CHECK(up.faults.sinks_opened == 4);
  up.faults.Release();                  // the call gives up (e.g. low-speed limit)
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 4; }));
  engine->Stop();
  CHECK(up.faults.PutsOf(stuck) == 2);
  CHECK_FALSE(up.faults.concurrent_same_key);
  h = engine->health();
  CHECK(h.live.retries + h.backfill.retries == 1);
  CheckUpstreamEqualsStore(ts, up);
}

TEST_CASE("Stop joins every thread and waits for a running upload, whose outcome still counts") {
  TestStore ts;
  ts.AddWindow(0);
  Upstream up;
  FakeClock clock;
  up.faults.policy = [](int, const std::string&, int) { return Fault::kPauseAfterWrite; };
  auto engine = MustOpen(ts, up, EngineOptions(), clock.Context());
  REQUIRE(Await([&] { return !up.faults.Held(0).empty() && !up.faults.Held(1).empty(); }));
  std::thread stopper([&] { engine->Stop(); });
  up.faults.Release();
  stopper.join();
  CHECK(ts.Count(store::PartitionState::kSynced) == 2);
  engine->Stop();  // idempotent
}

}  // namespace
}  // namespace sluice::sync
