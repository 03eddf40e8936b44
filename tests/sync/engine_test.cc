// The sync engine against a real store and a real directory sink, wrapped in
// a fault-injecting sink (engine_test_util.h). Time is a test clock that
// jumps when the engine sleeps, so backoff and pacing cost no wall-clock time.
#include <doctest/doctest.h>

#include "engine_backoff.h"
#include "engine_test_util.h"

namespace sluice::sync {
namespace {

using namespace testing_engine;  // NOLINT: test helpers

TEST_CASE("every sealed partition goes upstream once, decodes to the store's records, and is synced") {
  TestStore ts;
  for (int k = 0; k < 3; ++k) ts.AddWindow(k);
  REQUIRE(ts.Count(store::PartitionState::kSealed) == 6);
  Upstream up;
  FakeClock clock;
  auto engine = MustOpen(ts, up, EngineOptions(), clock.Context());
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 6; }));
  REQUIRE(Await([&] { return engine->health().backlog_partitions == 0; }));
  const SyncHealth h = engine->health();
  CHECK(h.live.uploaded_objects + h.backfill.uploaded_objects == 6);
  CHECK(h.live.uploaded_objects >= 1);
  CHECK(h.backfill.uploaded_objects >= 1);
  CHECK(h.live.uploaded_bytes + h.backfill.uploaded_bytes > 0);
  CHECK(h.last_success_ns != 0);
  CHECK(h.consecutive_failures == 0);
  CHECK(h.oldest_unsynced_age_ns == 0);
  engine->Stop();
  CHECK_FALSE(engine->health().running);
  CheckUpstreamEqualsStore(ts, up);
  CHECK_FALSE(up.faults.concurrent_same_key);
}

TEST_CASE("the same partition encodes to the same bytes before and after a store restart") {
  TestStore ts;
  ts.AddWindow(0);
  const auto id = ts.store->ListPartitions(store::PartitionState::kSealed).at(0).id;
  auto before = EncodePartition(*ts.store, EngineOptions(), id);
  REQUIRE(before.ok());
  REQUIRE(ts.store->Close().ok());
  ts.store.reset();
  ts.Open();
  auto after = EncodePartition(*ts.store, EngineOptions(), id);
  REQUIRE(after.ok());
  CHECK(*before == *after);
}

TEST_CASE("after a restart, objects uploaded before a crash are recognised and not stored twice") {
  TestStore ts;
  for (int k = 0; k < 2; ++k) ts.AddWindow(k);
  Upstream up;
  {  // A previous run uploaded everything, then died before MarkSynced.
    auto sink = up.Dir();
    for (const auto& p : ts.store->ListPartitions(store::PartitionState::kSealed)) {
      auto bytes = EncodePartition(*ts.store, EngineOptions(), p.id);
      REQUIRE(bytes.ok());
      PutRequest r;
      r.key = *SyncObjectKey(EngineOptions(), p.id);
      r.bytes = std::as_bytes(std::span(bytes->data(), bytes->size()));
      REQUIRE(sink->Put(r).ok());
    }
  }
  REQUIRE(ts.store->Close().ok());
  ts.store.reset();
  ts.Open();
  FakeClock clock;
  auto engine = MustOpen(ts, up, EngineOptions(), clock.Context());
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 4; }));
  engine->Stop();
  const SyncHealth h = engine->health();
  CHECK(h.live.already_identical + h.backfill.already_identical == 4);
  CHECK(h.live.permanent_failures + h.backfill.permanent_failures == 0);
  CheckUpstreamEqualsStore(ts, up);
}

TEST_CASE("retryable failures are retried after full-jitter backoff within its bounds") {
  TestStore ts;
  ts.AddWindow(0, 10);
  const auto sealed = ts.store->ListPartitions(store::PartitionState::kSealed);
  REQUIRE(ts.store->MarkSynced(sealed[1].id).ok());  // one partition: one retry chain
  Upstream up;
  FakeClock clock;
  up.faults.clock = [&] { return clock.now.load(); };
  up.faults.policy = [](int, const std::string&, int i) { return i < 6 ? Fault::kFail : Fault::kPass; };
  auto o = EngineOptions();
  auto engine = MustOpen(ts, up, o, clock.Context());
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSealed) == 0; }));
  engine->Stop();
  const auto& calls = up.faults.calls;
  REQUIRE(calls.size() == 7);
  std::int64_t total = 0;
  for (std::size_t n = 1; n < calls.size(); ++n) {
    const std::int64_t gap = calls[n].at_ns - calls[n - 1].at_ns;
    INFO("after failure " << n << ": waited " << gap << " ns");
    CHECK(gap >= 0);
    CHECK(gap <= BackoffCeilingNs(static_cast<std::uint32_t>(n), o.retry_base_ms * kMs,
                                  o.retry_cap_ms * kMs));
    total += gap;
  }
  CHECK(total > 0);  // jitter is not zero every time
  const SyncHealth h = engine->health();
  CHECK(h.live.retries + h.backfill.retries == 6);
  CHECK(h.consecutive_failures == 0);
  CHECK(h.last_error.empty());
}

TEST_CASE("a permanent failure parks its partition until the cool-down, the others go on") {
  TestStore ts;
  for (int k = 0; k < 2; ++k) ts.AddWindow(k);
  Upstream up;
  FakeClock clock;
  const std::string bad = *SyncObjectKey(EngineOptions(), ts.store->ListPartitions().at(0).id);
  std::atomic<bool> fixed{false};
  up.faults.fail_status = InvalidArgument("injected: HTTP 403 AccessDenied");
  up.faults.policy = [&](int, const std::string& key, int) {
    return key == bad && !fixed ? Fault::kFail : Fault::kPass;
  };
  auto engine = MustOpen(ts, up, EngineOptions(), clock.Context());
  REQUIRE(Await([&] {
    const auto h = engine->health();
    return ts.Count(store::PartitionState::kSynced) == 3 && h.parked_partitions == 1 &&
           h.backlog_partitions == 1;
  }));
  SyncHealth h = engine->health();
  CHECK(h.live.permanent_failures + h.backfill.permanent_failures == 1);
  CHECK(h.last_permanent_error.find(bad) != std::string::npos);
  CHECK(h.last_permanent_error.find("403") != std::string::npos);
  CHECK(h.backlog_partitions == 1);
  CHECK(h.oldest_unsynced_window_ns == kT0);
  CHECK(h.oldest_unsynced_age_ns == clock.Context().wall_ns() - kT0);
  // No second attempt before the cool-down, however often the engine looks.
  for (int i = 0; i < 5; ++i) engine->Kick();
  CHECK(up.faults.PutsOf(bad) == 1);
  CHECK(ts.Count(store::PartitionState::kSealed) == 1);
  // A person fixes the cause; after the cool-down the partition goes up.
  fixed = true;
  clock.now += std::int64_t{EngineOptions().permanent_cooldown_s} * kSec;
  engine->Kick();
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 4; }));
  REQUIRE(Await([&] { return engine->health().parked_partitions == 0; }));
  CHECK(up.faults.PutsOf(bad) == 2);
  engine->Stop();
  CheckUpstreamEqualsStore(ts, up);
}

}  // namespace
}  // namespace sluice::sync
