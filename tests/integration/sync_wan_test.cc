// The sync engine over a bad WAN, against a real Ceph RGW (scripts/rgw):
// the uploading side runs in a network namespace of its own, joined to a
// second one by a veth pair limited to 1 Mbit/s (tc tbf), with 1% random loss
// each way (iptables statistic) and 100 ms added one-way on the upload
// direction (NFQUEUE + tools/wan_delay; this kernel has no netem). A TCP
// forwarder listening in the second namespace carries the bytes on to RGW on
// the host's loopback. See tools/wan_delay/wan_link.h.
//
// A few MB of sealed partitions must arrive complete and byte-exact (listed
// with boto3, fetched around the link, compared with their deterministic
// encoding), with goodput (object bytes / time from the first upload's start
// to the last one's end) at least 70% of the link rate. Every namespace,
// veth, qdisc and rule the test makes is removed, also when it fails.
//
// Needs SLUICE_TEST_S3_* (else SKIPPED, exit 77), and root with ip, tc,
// iptables-legacy and wan_delay (else SKIPPED, exit 77, loudly); both are
// failures under SLUICE_TEST_REQUIRE_SERVICES=1.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <chrono>
#include <mutex>
#include <random>

#include "base/clock.h"
#include "store/store.h"
#include "sync/engine.h"
#include "sync_it_util.h"
#include "tcp_forwarder.h"
#include "temp_dir.h"
#include "wan_link.h"

namespace sluice::testing {
namespace {

using namespace sync_it;

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'764'100'800 * kSec;  // a window boundary
constexpr int kWindows = 6;
constexpr int kBlobsPerWindow = 100;  // 4 KiB of random bytes each: ~400 KiB objects
constexpr std::size_t kBlobBytes = 4 << 10;
constexpr double kLinkBytesPerS = 1'000'000 / 8.0;  // tc "1mbit"

// Skips (77) or fails (SLUICE_TEST_REQUIRE_SERVICES=1) loudly when this
// machine cannot build the link.
void RequireWan() {
  const Status s = wan::WanLink::Available(WAN_DELAY_BIN, true);
  if (s.ok()) return;
  const char* req = std::getenv("SLUICE_TEST_REQUIRE_SERVICES");
  const bool required = req != nullptr && std::string(req) == "1";
  std::printf("%s\n%s: sync_wan_test: %s\n%s\n", std::string(72, '*').c_str(),
              required ? "FAILED" : "SKIPPED", s.message().c_str(), std::string(72, '*').c_str());
  std::fflush(stdout);
  std::exit(required ? 1 : 77);
}

// A store on a test clock with kWindows sealed partitions of incompressible data.
std::unique_ptr<store::Store> FilledStore(const TempDir& dir, std::atomic<std::int64_t>& now) {
  store::Options o;
  o.dir = (dir.path() / "store").string();
  o.partition_window = std::chrono::seconds(60);
  o.partition_shards = 1;
  o.late_grace = std::chrono::seconds(0);
  o.wal_file_size = 16 << 20;
  o.segment_size = 64 << 20;
  store::StoreContext ctx;
  ctx.now_ns = [&now] { return now.load(); };
  auto opened = store::Store::Open(o, ctx);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  auto& st = **opened;
  auto blob = st.RegisterSeries("plant/l1/camera", store::ValueType::kBytes, "");
  auto temp = st.RegisterSeries("plant/l1/temp", store::ValueType::kFloat64, "degC");
  REQUIRE((blob.ok() && temp.ok()));
  std::mt19937_64 rng(77);
  for (int k = 0; k < kWindows; ++k) {
    const std::int64_t w = kT0 + k * 60 * kSec;
    now = w + kSec;
    store::Batch b;
    for (int j = 0; j < kBlobsPerWindow; ++j) {
      std::string v(kBlobBytes, '\0');
      for (auto& c : v) c = static_cast<char>(rng());
      b.push_back({*blob, w + std::int64_t{j} * 500'000'000, std::move(v)});
      b.push_back({*temp, w + std::int64_t{j} * 500'000'000, 20.0 + j * 0.125});
    }
    REQUIRE(st.Append(std::move(b)).Wait().ok());
    REQUIRE(st.Seal({w, 0, false}).ok());
  }
  return std::move(*opened);
}

sync::SyncEngineOptions EngineOptions() {
  sync::SyncEngineOptions o;
  o.gateway_id = "gw-wan";
  o.site = "remote-site";
  o.partition_window = std::chrono::seconds(60);
  o.poll_interval = std::chrono::milliseconds(50);
  o.retry_base = std::chrono::milliseconds(100);
  o.retry_cap = std::chrono::milliseconds(2000);
  return o;
}

TEST_CASE("sync over 1 Mbit/s with 100 ms delay and 1% loss keeps goodput near the link rate "
          "and leaves a complete byte-exact copy upstream") {
  const S3Env env = RequireS3Env("sync_wan_test");
  RequireWan();
  TempDir dir("sluice-sync-wan");
  Bucket bucket("sluice-wan", dir.path());

  wan::WanLinkOptions lo;
  lo.rate_kbit = 1000;
  lo.loss = 0.01;
  lo.delay_ms = 100;
  lo.wan_delay_bin = WAN_DELAY_BIN;
  lo.max_seconds = 300;
  auto made = wan::WanLink::Create(lo);
  REQUIRE_MESSAGE(made.ok(), made.status().ToString());
  std::unique_ptr<wan::WanLink> link = std::move(*made);
  const std::string client_ns = link->client_ns(), server_ns = link->server_ns();
  MESSAGE("link: " << link->Describe());

  {  // everything that holds a socket in the namespaces ends in this scope
    const auto colon = env.endpoint.rfind(':');
    REQUIRE(colon != std::string::npos);
    wan::TcpForwarderOptions fo;
    fo.listen_netns = link->server_ns();
    fo.listen_address = wan::WanLink::kServerAddress;
    fo.target_port = static_cast<std::uint16_t>(std::stoi(env.endpoint.substr(colon + 1)));
    auto fwd = wan::TcpForwarder::Start(fo);
    REQUIRE_MESSAGE(fwd.ok(), fwd.status().ToString());

    std::atomic<std::int64_t> now{kT0};
    auto st = FilledStore(dir, now);
    REQUIRE(st->ListPartitions(store::PartitionState::kSealed).size() == kWindows);

    sync::S3SinkOptions so;
    so.endpoint = std::string("http://") + wan::WanLink::kServerAddress + ":" +
                  std::to_string((*fwd)->port());
    so.region = env.region;
    so.bucket = bucket.name();
    so.key_prefix = "wan";
    so.credentials_file = WriteCredentials(dir.path(), env);

    std::mutex mu;
    std::int64_t first_start = 0, last_done = 0;
    std::uint64_t bytes_done = 0;
    sync::SyncEngineContext ctx;
    std::map<store::PartitionId, std::uint64_t> sizes;
    ctx.on_upload_start = [&](const store::PartitionId& id, std::string_view, std::uint64_t bytes) {
      std::lock_guard lock(mu);
      if (first_start == 0) first_start = MonotonicNs();
      sizes[id] = bytes;
    };
    ctx.on_upload_done = [&](const store::PartitionId& id, const Status& s) {
      std::lock_guard lock(mu);
      if (!s.ok()) return;
      last_done = MonotonicNs();
      bytes_done += sizes[id];
    };

    std::unique_ptr<sync::SyncEngine> engine;
    {  // The engine's threads start in the client namespace and stay there.
      auto scope = wan::NetnsScope::Enter(link->client_ns());
      REQUIRE_MESSAGE(scope.ok(), scope.status().ToString());
      auto e = sync::SyncEngine::Open(st.get(), [so] { return sync::OpenS3Sink(so); },
                                      EngineOptions(), ctx);
      REQUIRE_MESSAGE(e.ok(), e.status().ToString());
      engine = std::move(*e);
    }
    const bool drained = Await(
        [&] {
          return st->ListPartitions(store::PartitionState::kSealed).empty() &&
                 engine->health().backlog_partitions == 0;
        },
        std::chrono::seconds(80));
    const sync::SyncHealth h = engine->health();
    engine->Stop();
    REQUIRE_MESSAGE(drained, "not drained over the link: backlog " << h.backlog_partitions
                                                                   << ", last error " << h.last_error);
    const double seconds = static_cast<double>(last_done - first_start) / 1e9;
    const double goodput = static_cast<double>(bytes_done) / seconds;
    const auto c = (*fwd)->counters();
    MESSAGE(bytes_done << " object bytes in " << seconds << " s: goodput " << goodput * 8 / 1000
                       << " kbit/s = " << 100 * goodput / kLinkBytesPerS
                       << "% of the link; retries " << h.live.retries + h.backfill.retries
                       << ", connections " << c.connections << ", bytes to RGW "
                       << c.bytes_to_target);
    auto impaired = link->Stats();
    REQUIRE_MESSAGE(impaired.ok(), impaired.status().ToString());
    MESSAGE("the link lost " << impaired->upload_dropped << " packets up and "
                             << impaired->download_dropped << " down, and delayed "
                             << impaired->upload_delayed << " up");
    CHECK(impaired->upload_dropped > 0);  // the impairments were really there
    CHECK(impaired->upload_delayed > 1000);
    CHECK(bytes_done >= std::uint64_t{kWindows} * kBlobsPerWindow * kBlobBytes);
    CHECK(goodput >= 0.7 * kLinkBytesPerS);
    CHECK(goodput <= 1.05 * kLinkBytesPerS);  // the link really was the limit
    CHECK(h.live.permanent_failures + h.backfill.permanent_failures == 0);

    // Upstream, around the link: exactly the partitions' objects, byte-exact.
    const auto synced = st->ListPartitions(store::PartitionState::kSynced);
    CHECK(synced.size() == kWindows);
    const auto listing = bucket.List();
    CHECK(listing.pending_uploads == 0);
    CHECK(listing.lines == synced.size());
    sync::S3SinkOptions direct = so;
    direct.endpoint = env.endpoint;
    auto sink = sync::OpenS3Sink(direct);
    REQUIRE(sink.ok());
    for (const auto& p : synced) {
      auto key = sync::SyncObjectKey(EngineOptions(), p.id);
      REQUIRE(key.ok());
      CHECK_MESSAGE(listing.sizes.count("wan/" + *key) == 1, "missing upstream: wan/" << *key);
      auto expected = sync::EncodePartition(*st, EngineOptions(), p.id);
      REQUIRE(expected.ok());
      auto got = (*sink)->Get(*key);
      REQUIRE_MESSAGE(got.ok(), got.status().ToString());
      CHECK(got->size() == expected->size());
      CHECK(std::string(reinterpret_cast<const char*>(got->data()), got->size()) == *expected);
    }
    REQUIRE(st->Close().ok());
  }

  // Nothing of the link is left.
  CHECK(link->Remove().ok());
  link.reset();
  auto list = wan::RunCommand({"ip", "netns", "list"});
  REQUIRE(list.ok());
  CHECK_MESSAGE(list->find(client_ns) == std::string::npos, "left behind:\n" << *list);
  CHECK_MESSAGE(list->find(server_ns) == std::string::npos, "left behind:\n" << *list);
}

}  // namespace
}  // namespace sluice::testing
