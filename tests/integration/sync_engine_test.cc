// The sync engine against a real Ceph RGW (scripts/rgw): killed with SIGKILL
// in the middle of multipart uploads, then restarted until it finishes. The
// bucket is then listed with an independent client (boto3): every partition
// is there exactly once under its deterministic key, each object decodes to
// exactly the store's records, and every partition is SYNCED.
//
// Needs SLUICE_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION}; without them
// the test prints a loud SKIPPED and exits 77, or fails when
// SLUICE_TEST_REQUIRE_SERVICES=1.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "sync/engine.h"
#include "s3_env.h"
#include "sync_it_util.h"
#include "temp_dir.h"

namespace sluice::sync {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'764'100'800 * kSec;  // a window boundary
constexpr int kWindows = 4;
constexpr int kBlobsPerWindow = 150;     // 150 x 48 KiB: about 7 MiB per object
constexpr std::size_t kBlobBytes = 48 << 10;

using ::sluice::testing::S3Env;
S3Env RequireS3Env() { return ::sluice::testing::RequireS3Env("sync_engine_test"); }

// Watches a bucket every 10 ms until a multipart upload that was not there
// at the start is in progress while at least argv[2] objects are complete;
// prints "mid-upload" then (or "timeout" after 120 s).
constexpr const char* kWatcher = R"(import os, sys, time, boto3
from botocore.config import Config
e = {v: os.environ["SLUICE_TEST_S3_" + v] for v in ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "REGION")}
s3 = boto3.client("s3", endpoint_url=e["ENDPOINT"], aws_access_key_id=e["ACCESS_KEY"],
                  aws_secret_access_key=e["SECRET_KEY"], region_name=e["REGION"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
b, want = sys.argv[1], int(sys.argv[2])
ups = lambda: {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])}
old = ups()
print("ready", flush=True)
end = time.time() + 120
while time.time() < end:
    data = [o for o in s3.list_objects_v2(Bucket=b).get("Contents", [])
            if "_watermarks/" not in o["Key"]]
    if ups() - old and len(data) >= want:
        print("mid-upload", flush=True)
        sys.exit(0)
    time.sleep(0.01)
print("timeout", flush=True)
)";

store::Options StoreOptions(const testing::TempDir& dir) {
  store::Options o;
  o.dir = (dir.path() / "store").string();
  o.partition_window = std::chrono::seconds(60);
  o.partition_shards = 1;
  o.late_grace = std::chrono::seconds(0);
  o.wal_file_size = 16 << 20;
  o.segment_size = 64 << 20;
  return o;
}

SyncEngineOptions EngineOptions() {
  SyncEngineOptions o;
  o.gateway_id = "gw-kill";
  o.site = "plant-a";
  o.partition_window = std::chrono::seconds(60);
  o.poll_interval = std::chrono::milliseconds(50);
  o.retry_base = std::chrono::milliseconds(50);
  o.retry_cap = std::chrono::milliseconds(1000);
  return o;
}

SyncEngine::SinkFactory S3Sinks(const S3Env& env, const std::string& bucket) {
  S3SinkOptions o;
  o.endpoint = env.endpoint;
  o.region = env.region;
  o.bucket = bucket;
  o.key_prefix = "sluice";
  o.connect_timeout = std::chrono::milliseconds(5000);
  o.low_speed_time = std::chrono::seconds(30);
  o.multipart_threshold_bytes = 5 << 20;  // every object here is multipart
  o.multipart_part_bytes = 5 << 20;
  return [o] { return OpenS3Sink(o); };
}

// The store's records, one line each (bytes values by hash), per partition.
std::string Show(const store::Record& r) {
  std::ostringstream s;
  s << r.series.value << "@" << r.timestamp_ns << "=";
  if (const auto* b = std::get_if<std::string>(&r.value)) {
    s << "bytes:" << b->size() << ":" << std::hash<std::string>{}(*b);
  } else if (const auto* d = std::get_if<double>(&r.value)) {
    s << *d;
  }
  return s.str();
}

[[noreturn]] void ChildFail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "child: %s: %s\n", what.c_str(), s.ToString().c_str());
  ::_exit(2);
}

// In the child: fills the store on the first round, then syncs at a limited
// rate until killed. Never returns.
[[noreturn]] void ChildRound(int round, const testing::TempDir& dir, const S3Env& env,
                             const std::string& bucket) {
  ::setenv("AWS_ACCESS_KEY_ID", env.access_key.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", env.secret_key.c_str(), 1);
  std::atomic<std::int64_t> now{kT0 + (kWindows + 5) * 60 * kSec};
  store::StoreContext ctx;
  ctx.now_ns = [&] { return now.load(); };
  auto opened = store::Store::Open(StoreOptions(dir), ctx);
  if (!opened.ok()) ChildFail("open store", opened.status());
  auto& st = **opened;
  if (round == 0) {
    auto blob = st.RegisterSeries("plant/l1/camera", store::ValueType::kBytes, "");
    auto temp = st.RegisterSeries("plant/l1/temp", store::ValueType::kFloat64, "degC");
    if (!blob.ok() || !temp.ok()) ChildFail("register", blob.ok() ? temp.status() : blob.status());
    std::mt19937_64 rng(2024);  // incompressible values: objects stay large
    for (int k = 0; k < kWindows; ++k) {
      const std::int64_t w = kT0 + k * 60 * kSec;
      now = w + kSec;
      for (int i = 0; i < kBlobsPerWindow; i += 10) {
        store::Batch b;
        for (int j = i; j < i + 10; ++j) {
          std::string v(kBlobBytes, '\0');
          for (auto& c : v) c = static_cast<char>(rng());
          b.push_back({*blob, w + std::int64_t{j} * 100'000'000, std::move(v)});
          b.push_back({*temp, w + std::int64_t{j} * 100'000'000, 20.0 + j * 0.25});
        }
        if (auto s = st.Append(std::move(b)).Wait(); !s.ok()) ChildFail("append", s);
      }
      if (auto s = st.Seal({w, 0, false}); !s.ok()) ChildFail("seal", s);
    }
  }
  auto o = EngineOptions();
  o.bandwidth = 12 << 20;  // about 0.6 s per object
  o.bandwidth_burst = 1 << 20;
  auto engine = SyncEngine::Open(&st, S3Sinks(env, bucket), o);
  if (!engine.ok()) ChildFail("open engine", engine.status());
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));  // until SIGKILL
}

std::vector<std::string> ReadPartitionLines(const store::Store& st, const store::PartitionId& id) {
  std::vector<std::string> lines;
  REQUIRE(st.ReadPartition(id, [&](const store::Record& r) {
               lines.push_back(Show(r));
               return true;
             }).ok());
  return lines;
}

TEST_CASE("kill -9 in the middle of uploads, restart: every partition upstream exactly once, "
          "equal to the store, and synced") {
  const S3Env env = RequireS3Env();
  testing::TempDir dir("sluice-engine-kill");
  const testing::sync_it::Bucket bucket("sluice-engine", dir.path());
  const std::string watcher = (dir.path() / "watch.py").string();
  std::ofstream(watcher) << kWatcher;

  // Kill while a multipart upload is in progress: in round 0 the first one,
  // in round 1 one that starts after an object is complete (whose partition
  // may or may not have been marked synced before the kill).
  for (int round = 0; round < 2; ++round) {
    FILE* watch = ::popen(("/usr/bin/python3 " + watcher + " " + bucket.name() + " " +
                           std::to_string(round)).c_str(), "r");
    REQUIRE(watch != nullptr);
    char line[64] = {};
    REQUIRE(std::fgets(line, sizeof line, watch) != nullptr);  // "ready"
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ChildRound(round, dir, env, bucket.name());
    }
    const bool seen = std::fgets(line, sizeof line, watch) != nullptr &&
                      std::string(line) == "mid-upload\n";
    REQUIRE(::kill(pid, SIGKILL) == 0);
    ::pclose(watch);
    CHECK_MESSAGE(seen, "round " << round << ": no multipart upload in progress was seen");
    int wstatus = 0;
    REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
    CHECK(WIFSIGNALED(wstatus));
    std::ostringstream listing;
    for (const auto& [key, size] : bucket.List().sizes) listing << key << " " << size << "\n";
    MESSAGE("after kill " << round + 1 << ":\n" << listing.str());
  }

  // The parent finishes with a fresh engine, at full speed.
  auto opened = store::Store::Open(StoreOptions(dir));
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  auto& st = **opened;
  REQUIRE(st.ListPartitions().size() == kWindows);
  CHECK(st.ListPartitions(store::PartitionState::kSynced).size() < kWindows);  // killed early
  ::setenv("AWS_ACCESS_KEY_ID", env.access_key.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", env.secret_key.c_str(), 1);
  auto engine = SyncEngine::Open(&st, S3Sinks(env, bucket.name()), EngineOptions());
  REQUIRE_MESSAGE(engine.ok(), engine.status().ToString());
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while ((*engine)->health().backlog_partitions != 0 ||
         !st.ListPartitions(store::PartitionState::kSealed).empty()) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until,
                    "not drained: " << (*engine)->health().last_error);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (*engine)->Stop();
  const SyncHealth h = (*engine)->health();
  MESSAGE("restart: uploaded " << h.live.uploaded_objects + h.backfill.uploaded_objects
                               << ", already identical "
                               << h.live.already_identical + h.backfill.already_identical
                               << ", retries " << h.live.retries + h.backfill.retries);
  CHECK(h.live.permanent_failures + h.backfill.permanent_failures == 0);

  // Independent listing: exactly the deterministic keys, once each.
  const auto listing = bucket.List();
  std::set<std::string> listed;
  for (const auto& [key, size] : listing.sizes) listed.insert(key);
  const auto synced = st.ListPartitions(store::PartitionState::kSynced);
  REQUIRE(synced.size() == kWindows);
  std::set<std::string> expected;
  auto sink = S3Sinks(env, bucket.name())();
  REQUIRE(sink.ok());
  for (const auto& p : synced) {
    const auto key = SyncObjectKey(EngineOptions(), p.id);
    REQUIRE(key.ok());
    expected.insert("sluice/" + *key);
    auto head = (*sink)->Head(*key);
    REQUIRE_MESSAGE(head.ok(), head.status().ToString());
    CHECK(head->size > (5u << 20));  // went up as multipart
    CHECK_FALSE(head->sha256.empty());
    auto got = (*sink)->Get(*key);
    REQUIRE(got.ok());
    auto reader = PartitionReader::Open(
        std::string(reinterpret_cast<const char*>(got->data()), got->size()));
    REQUIRE_MESSAGE(reader.ok(), reader.status().ToString());
    CHECK(reader->metadata().identity.gateway_id == "gw-kill");
    CHECK(reader->metadata().identity.window_start_ns == p.id.window_start_ns);
    std::vector<std::string> upstream;
    for (std::size_t i = 0; i < reader->series_count(); ++i) {
      auto recs = reader->ReadRecords(i);
      REQUIRE(recs.ok());
      for (const auto& r : *recs) upstream.push_back(Show(r));
    }
    const auto local = ReadPartitionLines(st, p.id);
    CHECK(local.size() == 2 * kBlobsPerWindow);
    CHECK(upstream == local);
  }
  CHECK(listing.lines == kWindows);
  // Each kill may leave a multipart upload behind per worker (two: live
  // and backfill): a bucket lifecycle rule (AbortIncompleteMultipartUpload,
  // docs/sinks.md) removes those.
  CHECK(listing.pending_uploads >= 0);
  CHECK(listing.pending_uploads <= 2 * 2);
  CHECK(listed == expected);
  REQUIRE(st.Close().ok());
}

TEST_CASE("the watermark goes to S3 beside the data, and sluice_reader reads the fleet's T "
          "back with boto3") {
  const S3Env env = RequireS3Env();
  ::setenv("AWS_ACCESS_KEY_ID", env.access_key.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", env.secret_key.c_str(), 1);
  testing::TempDir dir("sluice-s3-watermark");
  const testing::sync_it::Bucket bucket("sluice-watermark", dir.path());
  std::atomic<std::int64_t> now{kT0 + kSec};
  store::StoreContext ctx;
  ctx.now_ns = [&] { return now.load(); };
  auto opened = store::Store::Open(StoreOptions(dir), ctx);
  REQUIRE(opened.ok());
  auto& st = **opened;
  auto temp = st.RegisterSeries("plant/l1/temp", store::ValueType::kFloat64, "degC");
  REQUIRE(temp.ok());
  REQUIRE(st.Append({{*temp, kT0, 1.0}, {*temp, kT0 + 30 * kSec, 2.0}}).Wait().ok());
  for (const auto& p : st.ListPartitions(store::PartitionState::kOpen)) REQUIRE(st.Seal(p.id).ok());
  now = kT0 + 121 * kSec;
  REQUIRE(st.Append({{*temp, kT0 + 120 * kSec, 3.0}}).Wait().ok());  // stays open: holds T

  auto o = EngineOptions();
  o.watermark_interval = std::chrono::seconds(3600);  // written below, not by the interval
  o.watermark_state_file = (dir.path() / "sync_watermark.json").string();
  auto engine = SyncEngine::Open(&st, S3Sinks(env, bucket.name()), o);
  REQUIRE_MESSAGE(engine.ok(), engine.status().ToString());
  REQUIRE(testing::sync_it::Await(
      [&] { return st.ListPartitions(store::PartitionState::kSynced).size() == 1; }));
  const Status wrote = (*engine)->WriteWatermark();
  REQUIRE_MESSAGE(wrote.ok(), wrote.ToString());
  (*engine)->Stop();

  const auto listing = bucket.List();
  CHECK(listing.lines == 1);
  CHECK(listing.watermarks.count("sluice/_watermarks/site=plant-a/gateway=gw-kill.json") == 1);
  const std::string out = testing::sync_it::Run(
      "/usr/bin/python3 -c 'import os, sys; sys.path.insert(0, \"" SLUICE_SOURCE_DIR
      "/tools/python\"); import sluice_reader as sr; "
      "f = sr.read_watermarks_s3(sys.argv[1], \"sluice\", "
      "endpoint_url=os.environ[\"SLUICE_TEST_S3_ENDPOINT\"], "
      "region_name=os.environ[\"SLUICE_TEST_S3_REGION\"], "
      "aws_access_key_id=os.environ[\"SLUICE_TEST_S3_ACCESS_KEY\"], "
      "aws_secret_access_key=os.environ[\"SLUICE_TEST_S3_SECRET_KEY\"]); "
      "print(len(f.gateways), f.complete_ns, int(f.gateways.records_confirmed[0]))' " +
      bucket.name());
  CHECK(out == "1 " + std::to_string(kT0 + 120 * kSec) + " 2\n");
}

}  // namespace
}  // namespace sluice::sync
