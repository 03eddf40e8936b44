// The sync engine against a real store and a real directory sink, wrapped in
// a fault-injecting sink (engine_test_util.h). Time is a test clock that
// jumps when the engine sleeps, so backoff and pacing cost no wall-clock time.
#include <doctest/doctest.h>

#include "engine_backoff.h"
#include "engine_test_util.h"

namespace sluice::sync {
namespace {

using namespace testing_engine;  // NOLINT: test helpers

std::int64_t HourOfForTest(std::int64_t ts) {
  constexpr std::int64_t kHour = 3'600'000'000'000;
  return ts / kHour * kHour;
}

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
    CHECK(gap <= BackoffCeilingNs(static_cast<std::uint32_t>(n),
                                  std::chrono::nanoseconds(o.retry_base).count(),
                                  std::chrono::nanoseconds(o.retry_cap).count()));
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
  clock.now += std::chrono::nanoseconds(EngineOptions().permanent_cooldown).count();
  engine->Kick();
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 4; }));
  REQUIRE(Await([&] { return engine->health().parked_partitions == 0; }));
  CHECK(up.faults.PutsOf(bad) == 2);
  engine->Stop();
  CheckUpstreamEqualsStore(ts, up);
}

TEST_CASE("a late partition holding days of backfill becomes one object per data hour, keyed by "
          "the data's own date and hour") {
  TestStore ts;
  ts.AddWindow(0);
  // Two years of hourly readings of one sensor, replayed now: all late.
  constexpr std::int64_t kHour = 3600 * kSec;
  const std::int64_t first = kT0 - 2 * 365 * 24 * kHour;
  store::Batch b;
  for (int h = 0; h < 50; ++h) b.push_back({ts.temp, first + h * kHour + 17 * kSec, 1.0 * h});
  ts.now = kT0 + 2 * 60 * kSec;
  REQUIRE(ts.store->Append(std::move(b)).Wait().ok());
  std::optional<store::PartitionInfo> late;
  for (const auto& p : ts.store->ListPartitions()) {
    if (p.id.late) late = p;
  }
  REQUIRE(late);
  if (late->state == store::PartitionState::kOpen) REQUIRE(ts.store->Seal(late->id).ok());
  auto encoded = EncodePartitionObjects(*ts.store, EngineOptions(), late->id);
  REQUIRE(encoded.ok());
  REQUIRE(encoded->objects.size() == 50);
  CHECK(encoded->records == 50);
  for (int h = 0; h < 50; ++h) {
    const PartitionObject& o = encoded->objects[static_cast<std::size_t>(h)];
    CHECK(o.hour_start_ns == (first + h * kHour) / kHour * kHour);
    CHECK(o.records == 1);
    CHECK(o.key == *SyncObjectKey(EngineOptions(), late->id, o.hour_start_ns));
    auto reader = PartitionReader::Open(o.bytes);
    REQUIRE(reader.ok());
    auto recs = reader->ReadRecords(0);
    REQUIRE(recs.ok());
    REQUIRE(recs->size() == 1);
    CHECK(HourOfForTest(recs->front().timestamp_ns) == o.hour_start_ns);
  }
  // The first hour's key names that hour, two years back, not the window.
  CHECK(encoded->objects.front().key.find("/date=2023-11-26/hour=") != std::string::npos);
  Upstream up;
  FakeClock clock;
  auto engine = MustOpen(ts, up, EngineOptions(), clock.Context());
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSealed) == 0; }));
  engine->Stop();
  const SyncHealth h = engine->health();
  CHECK(h.live.uploaded_objects + h.backfill.uploaded_objects == 50 + 2);
  CHECK(up.Objects() == 50 + 2);
}

TEST_CASE("exact duplicates are dropped at encode and counted, same time with another value is "
          "kept and counted, deduplicate = false keeps everything") {
  TestStore ts;
  const std::int64_t w = kT0;
  ts.now = w + kSec;
  store::Batch first, again;
  for (int i = 0; i < 10; ++i) {
    first.push_back({ts.temp, w + i * kSec, 20.0 + i});
    if (i < 4) again.push_back({ts.temp, w + i * kSec, 20.0 + i});  // redelivered
  }
  again.push_back({ts.temp, w + 5 * kSec, 99.0});  // same time, another value
  // -0.0 and 0.0 are different values, bit for bit: both kept.
  first.push_back({ts.temp, w + 20 * kSec, 0.0});
  again.push_back({ts.temp, w + 20 * kSec, -0.0});
  REQUIRE(ts.store->Append(std::move(again)).Wait().ok());
  REQUIRE(ts.store->Append(std::move(first)).Wait().ok());
  const auto id = ts.store->ListPartitions().at(0).id;
  REQUIRE(ts.store->Seal(id).ok());
  auto encoded = EncodePartitionObjects(*ts.store, EngineOptions(), id);
  REQUIRE(encoded.ok());
  CHECK(encoded->duplicates_dropped == 4);
  CHECK(encoded->timestamp_conflicts == 2);
  CHECK(encoded->records == 11 + 6 - 4);
  auto reader = PartitionReader::Open(encoded->objects.at(0).bytes);
  REQUIRE(reader.ok());
  auto recs = reader->ReadRecords(0);
  REQUIRE(recs.ok());
  CHECK(std::is_sorted(recs->begin(), recs->end(), [](const auto& a, const auto& b) {
    return a.timestamp_ns < b.timestamp_ns;
  }));
  auto o = EngineOptions();
  o.deduplicate = false;
  auto kept = EncodePartitionObjects(*ts.store, o, id);
  REQUIRE(kept.ok());
  CHECK(kept->duplicates_dropped == 0);
  CHECK(kept->records == 17);
  // The engine counts what it dropped once the partition is synced.
  Upstream up;
  FakeClock clock;
  auto engine = MustOpen(ts, up, EngineOptions(), clock.Context());
  REQUIRE(Await([&] { return ts.Count(store::PartitionState::kSynced) == 1; }));
  engine->Stop();
  CHECK(engine->health().duplicates_dropped == 4);
  CHECK(engine->health().timestamp_conflicts == 2);
}

}  // namespace
}  // namespace sluice::sync
