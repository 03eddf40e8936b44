// The sync engine's parts on their own: backoff bounds, token bucket
// accounting, lane ordering and parking in the partition queue, options.
#include <doctest/doctest.h>

#include <random>

#include "engine_backoff.h"
#include "engine_queue.h"
#include "engine_token_bucket.h"
#include "sync/engine.h"

namespace sluice::sync {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSec = 1'000 * kMs;

store::PartitionInfo Sealed(std::int64_t window, std::uint32_t shard = 0) {
  store::PartitionInfo p;
  p.id = {window * 60 * kSec, shard, false};
  p.state = store::PartitionState::kSealed;
  p.block_bytes = 1000;
  return p;
}

TEST_CASE("backoff ceilings double from the base up to the cap and never overflow") {
  CHECK(BackoffCeilingNs(1, 100, 1000) == 100);
  CHECK(BackoffCeilingNs(2, 100, 1000) == 200);
  CHECK(BackoffCeilingNs(4, 100, 1000) == 800);
  CHECK(BackoffCeilingNs(5, 100, 1000) == 1000);
  CHECK(BackoffCeilingNs(4'000'000'000u, 500 * kMs, 300 * kSec) == 300 * kSec);
  CHECK(BackoffCeilingNs(0, 100, 1000) == 0);
}

TEST_CASE("full-jitter delays stay within [0, ceiling] and spread over the range") {
  std::mt19937_64 rng(42);
  for (std::uint32_t n = 1; n <= 12; ++n) {
    const std::int64_t ceiling = BackoffCeilingNs(n, 500 * kMs, 60 * kSec);
    std::int64_t lo = ceiling, hi = 0;
    double sum = 0;
    for (int i = 0; i < 2000; ++i) {
      const std::int64_t d = FullJitterDelayNs(n, 500 * kMs, 60 * kSec, rng());
      REQUIRE(d >= 0);
      REQUIRE(d <= ceiling);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      sum += static_cast<double>(d);
    }
    CHECK(lo < ceiling / 10);  // full jitter: close to zero happens
    CHECK(hi > ceiling - ceiling / 10);
    CHECK(sum / 2000 == doctest::Approx(static_cast<double>(ceiling) / 2).epsilon(0.1));
  }
}

TEST_CASE("the token bucket lets a burst through, then paces reservations to the rate") {
  const std::int64_t t0 = 1000 * kSec;
  TokenBucket bucket(1'000'000, 100'000, t0);  // 1 MB/s, 100 kB burst
  CHECK(bucket.Reserve(60'000, t0) == t0);
  CHECK(bucket.Reserve(40'000, t0) == t0);  // the burst is used up exactly
  // 1 MB more: the caller waits for the debt, 1 s at 1 MB/s.
  CHECK(bucket.Reserve(1'000'000, t0) == t0 + 1 * kSec);
  // The next caller queues behind that debt.
  CHECK(bucket.Reserve(500'000, t0) == t0 + 1500 * kMs);
  CHECK(bucket.Available(t0 + 1500 * kMs) == doctest::Approx(0.0).epsilon(1e-6));
  // A long quiet spell refills only up to the burst.
  CHECK(bucket.Available(t0 + 100 * kSec) == doctest::Approx(100'000.0));
  // An object larger than the burst still goes out, after (size - burst) / rate.
  CHECK(bucket.Reserve(300'000, t0 + 100 * kSec) == t0 + 100 * kSec + 200 * kMs);
}

TEST_CASE("a token bucket without a rate never makes anyone wait") {
  TokenBucket bucket(0, 0, 0);
  CHECK(bucket.Reserve(std::uint64_t{1} << 40, 5) == 5);
}

TEST_CASE("the live lane claims the newest partition and the backfill lane the oldest") {
  PartitionQueue q;
  q.Refresh([] { return std::vector{Sealed(1), Sealed(2), Sealed(3), Sealed(4)}; });
  auto live = q.Claim(Lane::kLive, 0);
  auto back = q.Claim(Lane::kBackfill, 0);
  REQUIRE(live);
  REQUIRE(back);
  CHECK(live->id == Sealed(4).id);
  CHECK(back->id == Sealed(1).id);
  // Claimed partitions are nobody else's: the next claims take the next ones.
  CHECK(q.Claim(Lane::kLive, 0)->id == Sealed(3).id);
  CHECK(q.Claim(Lane::kLive, 0)->id == Sealed(2).id);
  CHECK_FALSE(q.Claim(Lane::kBackfill, 0));
  // A fresh partition sealed meanwhile goes to the live lane next.
  q.Finish(Sealed(4).id, true);
  q.Refresh([] { return std::vector{Sealed(1), Sealed(2), Sealed(3), Sealed(9)}; });
  CHECK(q.Claim(Lane::kLive, 0)->id == Sealed(9).id);
  CHECK(q.stats(0).partitions == 4);
}

TEST_CASE("a partition synced between listing and applying does not come back") {
  PartitionQueue q;
  q.Refresh([] { return std::vector{Sealed(1)}; });
  REQUIRE(q.Claim(Lane::kLive, 0));
  // The listing still shows it (taken before MarkSynced); it stays in flight.
  q.Refresh([] { return std::vector{Sealed(1)}; });
  CHECK_FALSE(q.Claim(Lane::kBackfill, 0));
  q.Finish(Sealed(1).id, true);
  q.Refresh([] { return std::vector<store::PartitionInfo>{}; });
  CHECK(q.stats(0).partitions == 0);
}

TEST_CASE("backing-off and parked partitions are skipped until due, a hold stops every lane") {
  PartitionQueue q;
  q.Refresh([] { return std::vector{Sealed(1), Sealed(2)}; });
  auto a = q.Claim(Lane::kLive, 0);
  auto b = q.Claim(Lane::kLive, 0);
  CHECK(q.AddFailure(a->id) == 1);
  q.Finish(a->id, false, 100);              // retry at t=100
  q.Finish(b->id, false, 5000, true);       // parked until t=5000
  CHECK_FALSE(q.Claim(Lane::kLive, 50));
  CHECK(q.NextBackoffDue(50) == 100);       // the parked one is not waited for
  CHECK(q.stats(50).parked == 1);
  CHECK(q.Claim(Lane::kLive, 100)->id == a->id);
  CHECK(q.Failures(a->id) == 1);
  q.Finish(a->id, true);
  q.HoldAllUntil(7000);
  CHECK_FALSE(q.Claim(Lane::kBackfill, 6000));  // due, but held
  CHECK(q.Claim(Lane::kBackfill, 7000)->id == b->id);
}

TEST_CASE("a queue snapshot tells each partition's attempts, last error and whether it is parked") {
  PartitionQueue q;
  q.Refresh([] { return std::vector{Sealed(1), Sealed(2), Sealed(3)}; });
  auto a = q.Claim(Lane::kBackfill, 0);  // 1
  auto b = q.Claim(Lane::kBackfill, 0);  // 2
  q.AddFailure(a->id, "Unavailable: sink down");
  q.Finish(a->id, false, 100);
  q.AddFailure(b->id, "PermissionDenied: bad key");
  q.Finish(b->id, false, 5000, true);
  auto snap = q.Snapshot(50);
  REQUIRE(snap.size() == 3);
  CHECK(snap[a->id].attempts == 1);
  CHECK_FALSE(snap[a->id].parked);
  CHECK(snap[a->id].last_error == "Unavailable: sink down");
  CHECK(snap[b->id].parked);
  CHECK(snap[b->id].last_error == "PermissionDenied: bad key");
  CHECK(snap[Sealed(3).id].attempts == 0);
  CHECK(snap[Sealed(3).id].last_error.empty());
  auto c = q.Claim(Lane::kBackfill, 50);
  CHECK(q.Snapshot(50)[c->id].in_flight);
  CHECK_FALSE(q.Snapshot(6000)[b->id].parked);  // cooled down: waiting again
  q.Finish(c->id, true);
  CHECK(q.Snapshot(6000).count(c->id) == 0);
}

TEST_CASE("options refuse bad identities, lanes, backoff and bandwidth settings by name") {
  SyncEngineOptions o;
  o.gateway_id = "gw-1";
  o.site = "plant-a";
  CHECK(o.Validate().ok());
  const auto refused = [](SyncEngineOptions bad, const char* field) {
    const Status s = bad.Validate();
    INFO(s.ToString());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message().find(field) != std::string::npos);
  };
  auto b = o;
  b.gateway_id = "gw/1";
  refused(b, "gateway");
  b = o;
  b.key_prefix = "/raw";
  refused(b, "key_prefix");
  b = o;
  b.backfill_workers = 0;
  refused(b, "backfill_workers");
  b = o;
  b.retry_cap = std::chrono::milliseconds(10);
  refused(b, "retry_cap");
  b = o;
  b.bandwidth_burst = 4096;
  refused(b, "bandwidth_burst");
  b = o;
  b.attempt_timeout = std::chrono::milliseconds(0);
  refused(b, "attempt_timeout");
  b = o;
  b.writer.zstd_level = 99;
  refused(b, "writer");
}

TEST_CASE("object keys are Hive-style, stable, and tell a late partition from a regular one") {
  SyncEngineOptions o;
  o.gateway_id = "gw-1";
  o.site = "plant-a";
  o.key_prefix = "raw";
  const std::int64_t w = 1'764'100'800 * kSec;
  auto regular = SyncObjectKey(o, {w, 3, false});
  auto late = SyncObjectKey(o, {w, 3, true});
  REQUIRE(regular.ok());
  REQUIRE(late.ok());
  CHECK(*regular == "raw/site=plant-a/gateway=gw-1/date=2025-11-25/hour=20/20251125T200000Z-0003-0000000000.slp");
  CHECK(*late != *regular);
  CHECK(*SyncObjectKey(o, {w, 3, false}) == *regular);
}

}  // namespace
}  // namespace sluice::sync
