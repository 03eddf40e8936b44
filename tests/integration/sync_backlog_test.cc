// An upstream outage and its end, against a real Ceph RGW (scripts/rgw):
// the gateway runs in-process (gateway::App, sensors publishing QoS 1 to its
// native endpoint) with its S3 sink pointed at a TCP forwarder that the test
// cuts, so the shared RGW itself keeps running for the other tests. The
// store's clock is the test's: partitions seal when the test moves it.
//
// While cut: failures count up, the backlog grows, the oldest unsynced
// partition ages. Restored: the backlog drains, the partition sealed after
// the restore (fresh data) is synced before the backlog is done (the live
// lane is not stuck behind the catch-up), every partition ends SYNCED, and
// the bucket, listed with boto3, holds exactly one object per partition,
// byte-identical to the partition's deterministic encoding.
//
// Needs SLUICE_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION}; without them
// the test prints a loud SKIPPED and exits 77, or fails when
// SLUICE_TEST_REQUIRE_SERVICES=1.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <random>
#include <set>

#include "base/clock.h"
#include "gateway/app/app.h"
#include "mqtt_test_util.h"
#include "sync/engine.h"
#include "sync/sink.h"
#include "sync_it_util.h"
#include "tcp_forwarder.h"
#include "temp_dir.h"

namespace sluice::testing {
namespace {

using namespace sync_it;

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kWindow = 60 * kSec;
constexpr int kBacklogWindows = 8;        // sealed while upstream is cut
constexpr int kMachines = 3;              // series, one shard: one partition per window
constexpr int kPointsPerSeries = 5'000;   // random doubles: about 120 KB per object
constexpr int kSamplesPerMessage = 500;

std::string Toml(const std::string& dir, const S3Env& env, const std::string& bucket,
                 std::uint16_t proxy_port, const std::string& credentials) {
  return "[gateway]\nid = \"gw-backlog\"\nsite = \"plant-a\"\n"
         "[log]\nlevel = \"warn\"\n"
         "[store]\ndir = \"" + dir + "/store\"\nwal_file_size = \"4MiB\"\n"
         "partition_window = \"60s\"\npartition_shards = 1\nlate_grace = \"0s\"\n"
         "[admin]\nenabled = false\n"
         "[endpoint]\nenabled = true\nport = 0\n"
         "[[ingest.rule]]\ntopic = \"backlog/{machine}\"\nformat = \"json\"\nsamples = \"s\"\n"
         "fields = [\"v\"]\nseries = \"backlog/{machine}\"\ntimestamp = \"field:t\"\n"
         "timestamp_unit = \"ms\"\n"
         "[sync]\nsink = \"s3\"\nkey_prefix = \"raw\"\npoll_interval = \"20ms\"\n"
         "live_workers = 1\nbackfill_workers = 1\n"
         // ~450 ms per object: longer than a seal takes (the store's
         // maintenance runs every 200 ms), so the drain shows its order.
         "bandwidth = \"256KiB\"\nbandwidth_burst = \"128KiB\"\n"
         "retry_base = \"50ms\"\nretry_cap = \"500ms\"\n"
         "[sync.s3]\nendpoint = \"http://127.0.0.1:" + std::to_string(proxy_port) + "\"\n"
         "region = \"" + env.region + "\"\nbucket = \"" + bucket + "\"\n"
         "credentials_file = \"" + credentials + "\"\n";
}

// Publishes window `k`: kPointsPerSeries random doubles per machine, in
// messages of kSamplesPerMessage samples; returns the points published.
std::uint64_t PublishWindow(Publisher& pub, std::int64_t window_ns, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> value(-1000.0, 1000.0);
  const std::int64_t step_ms = 60'000 / kPointsPerSeries;
  std::uint64_t points = 0;
  for (int m = 0; m < kMachines; ++m) {
    for (int i = 0; i < kPointsPerSeries; i += kSamplesPerMessage) {
      std::string payload = "{\"s\":[";
      for (int j = i; j < std::min(i + kSamplesPerMessage, kPointsPerSeries); ++j) {
        char num[32];
        const double v = value(rng);
        const auto end = std::to_chars(num, num + sizeof num, v).ptr;
        payload += (j == i ? "" : ",");
        payload += "{\"t\":" + std::to_string(window_ns / 1'000'000 + j * step_ms) +
                   ",\"v\":" + std::string(num, end) + "}";
        ++points;
      }
      payload += "]}";
      pub.Publish("backlog/m" + std::to_string(m), payload);
    }
  }
  return points;
}

TEST_CASE("upstream cut for a while, then back: the backlog drains, fresh data first, "
          "every partition upstream exactly once and SYNCED") {
  const S3Env env = RequireS3Env("sync_backlog_test");
  TempDir dir("sluice-sync-backlog");
  Bucket bucket("sluice-backlog", dir.path());

  // The forwarder between the sink and RGW, the test's switch.
  const auto colon = env.endpoint.rfind(':');
  REQUIRE(colon != std::string::npos);
  wan::TcpForwarderOptions fo;
  fo.target_port = static_cast<std::uint16_t>(std::stoi(env.endpoint.substr(colon + 1)));
  auto fwd = wan::TcpForwarder::Start(fo);
  REQUIRE_MESSAGE(fwd.ok(), fwd.status().ToString());
  auto& proxy = **fwd;

  // Windows 3 hours in the past, so that ages against the wall clock are real.
  const std::int64_t w0 = (WallNs() - 3 * 3600 * kSec) / kWindow * kWindow;
  const auto window = [&](int k) { return w0 + k * kWindow; };
  std::atomic<std::int64_t> clock{window(0) + kSec};
  gateway::AppHooks hooks;
  hooks.store_context.now_ns = [&clock] { return clock.load(); };
  const gateway::Config config = ParseOrDie(
      Toml(dir.path().string(), env, bucket.name(), proxy.port(), WriteCredentials(dir.path(), env)));
  auto started = gateway::App::Start(config, hooks);
  REQUIRE_MESSAGE(started.ok(), started.status().ToString());
  gateway::App& app = **started;
  store::Store& st = app.store();
  Publisher pub(app.endpoint_port(), "backlog-sensors");
  std::mt19937_64 rng(20251126);
  std::uint64_t published = 0;

  const auto state_of = [&](int k) -> std::optional<store::PartitionState> {
    for (const auto& p : st.ListPartitions()) {
      if (p.id.window_start_ns == window(k) && !p.id.late) return p.state;
    }
    return std::nullopt;
  };
  const auto health = [&] { return app.stats().sync; };

  // Normal operation: window 0 goes up through the forwarder.
  published += PublishWindow(pub, window(0), rng);
  clock = window(1) + kSec;  // the store's maintenance seals window 0
  REQUIRE_MESSAGE(Await([&] { return state_of(0) == store::PartitionState::kSynced; }),
                  "window 0 not synced: " << health().last_error);
  CHECK(health().consecutive_failures == 0);

  // The outage: windows 1..8 seal while the forwarder resets everything.
  proxy.Cut();
  std::vector<sync::SyncHealth> during;
  for (int k = 1; k <= kBacklogWindows; ++k) {
    published += PublishWindow(pub, window(k), rng);
    clock = window(k + 1) + kSec;
    // Sealed, listed by the engine, and its blocks counted (a partition is
    // SEALED a moment before its last block is on disk).
    const std::uint64_t before = during.empty() ? 0 : during.back().backlog_bytes;
    REQUIRE_MESSAGE(Await([&] {
                      const auto h = health();
                      return h.backlog_partitions == static_cast<std::uint64_t>(k) &&
                             h.backlog_bytes > before;
                    }),
                    "backlog " << health().backlog_partitions << " after sealing window " << k);
    during.push_back(health());
  }
  REQUIRE(Await([&] { return health().consecutive_failures >= 3; }));
  const sync::SyncHealth cut = health();
  MESSAGE("during the outage: backlog " << cut.backlog_partitions << " partitions, "
          << cut.backlog_bytes << " bytes; " << cut.consecutive_failures
          << " consecutive failures; oldest unsynced " << cut.oldest_unsynced_age_ns / kSec
          << " s old; last error: " << cut.last_error);
  CHECK(cut.backlog_partitions == kBacklogWindows);
  CHECK(cut.oldest_unsynced_window_ns == window(1));
  CHECK(cut.oldest_unsynced_age_ns >= WallNs() - window(1) - 60 * kSec);
  CHECK_FALSE(cut.last_error.empty());
  CHECK(cut.live.uploaded_objects + cut.backfill.uploaded_objects == 1);
  CHECK(cut.live.retries + cut.backfill.retries >= 3);
  for (std::size_t i = 1; i < during.size(); ++i) {
    CHECK(during[i].backlog_bytes > during[i - 1].backlog_bytes);
    CHECK(during[i].oldest_unsynced_window_ns == window(1));
    CHECK(during[i].oldest_unsynced_age_ns > during[i - 1].oldest_unsynced_age_ns);
  }
  for (int k = 1; k <= kBacklogWindows; ++k) CHECK(state_of(k) == store::PartitionState::kSealed);
  CHECK(proxy.counters().refused + proxy.counters().reset > 0);

  // Fresh data keeps arriving (window 9, still open); upstream comes back,
  // and window 9 seals right after.
  const int fresh = kBacklogWindows + 1;
  published += PublishWindow(pub, window(fresh), rng);
  const sync::SyncHealth at_restore = health();
  proxy.Restore();
  clock = window(fresh + 1) + kSec;

  // Watch the partitions turn SYNCED, in order.
  std::vector<int> order;
  std::set<int> seen;
  const bool drained = Await(
      [&] {
        for (int k = 1; k <= fresh; ++k) {
          if (!seen.count(k) && state_of(k) == store::PartitionState::kSynced) {
            seen.insert(k);
            order.push_back(k);
          }
        }
        return seen.size() == static_cast<std::size_t>(fresh) && health().backlog_partitions == 0;
      },
      60s);
  REQUIRE_MESSAGE(drained, "not drained: backlog " << health().backlog_partitions
                                                   << ", last error " << health().last_error);
  std::string shown;
  for (int k : order) shown += " " + std::to_string(k);
  MESSAGE("windows synced in this order after the restore:" << shown << " (fresh: " << fresh
          << "); failed attempts after the restore (in flight when it came): "
          << health().live.retries + health().backfill.retries - at_restore.live.retries -
                 at_restore.backfill.retries);
  const auto fresh_at = std::find(order.begin(), order.end(), fresh) - order.begin();
  // Synced while at least 3 of the 8 older partitions were still waiting.
  CHECK_MESSAGE(fresh_at <= fresh - 4, "the fresh window was synced only at position " << fresh_at);

  const sync::SyncHealth after = health();
  CHECK(after.consecutive_failures == 0);
  CHECK(after.last_error.empty());
  CHECK(after.oldest_unsynced_age_ns == 0);
  CHECK(after.live.permanent_failures + after.backfill.permanent_failures == 0);
  CHECK(after.live.uploaded_objects > 0);
  CHECK(after.backfill.uploaded_objects > 0);
  CHECK(st.ListPartitions(store::PartitionState::kSealed).empty());
  CHECK(st.ListPartitions(store::PartitionState::kOpen).empty());

  // Upstream, listed by boto3: one object per partition, each equal to the
  // partition's deterministic encoding, and nothing else.
  const auto partitions = st.ListPartitions();
  CHECK(partitions.size() == static_cast<std::size_t>(fresh + 1));
  const auto listing = bucket.List();
  CHECK(listing.pending_uploads == 0);
  CHECK(listing.lines == partitions.size());
  sync::S3SinkOptions direct = config.sync.s3;
  direct.endpoint = env.endpoint;  // around the forwarder
  auto sink = sync::OpenS3Sink(direct);
  REQUIRE(sink.ok());
  std::uint64_t upstream_points = 0;
  for (const auto& p : partitions) {
    CHECK(p.state == store::PartitionState::kSynced);
    CHECK_FALSE(p.id.late);
    auto key = sync::SyncObjectKey(config.sync.engine, p.id);
    REQUIRE(key.ok());
    CHECK_MESSAGE(listing.sizes.count(*key) == 1, "missing upstream: " << *key);
    auto expected = sync::EncodePartition(st, config.sync.engine, p.id);
    REQUIRE(expected.ok());
    auto got = (*sink)->Get(*key);
    REQUIRE_MESSAGE(got.ok(), got.status().ToString());
    CHECK(std::string(reinterpret_cast<const char*>(got->data()), got->size()) == *expected);
    auto reader = sync::PartitionReader::Open(std::move(*expected));
    REQUIRE(reader.ok());
    upstream_points += reader->metadata().record_count;
  }
  CHECK(upstream_points == published);
  CHECK(published == std::uint64_t{fresh + 1} * kMachines * kPointsPerSeries);
  CHECK(app.Stop().ok());
}

}  // namespace
}  // namespace sluice::testing
