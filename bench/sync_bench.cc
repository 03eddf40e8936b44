// sync_bench: sealed partitions shipped to Ceph RGW by the sync engine,
// against a plain uploader (boto3 put_object from a thread pool, the same
// object bytes, the same concurrency) in the same run. Prints objects/s and
// MB/s for small and large objects, goodput under the engine's own rate
// limit, and goodput over an impaired WAN link (1 Mbit/s, 100 ms, 1% loss
// between network namespaces; needs root, see tools/wan_delay/wan_link.h),
// each with its ratio to the baseline.
//
//   sync_bench [--small N] [--small-kib K] [--large N] [--large-mib M]
//              [--workers W] [--rate-mib R] [--wan-kib K] [--repeat R] [--no-wan]
//
// RGW from SLUICE_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION}
// (scripts/rgw env DIR). Objects hold random bytes (plus a small float
// series), so their size is what crosses the wire. Sluice's time runs from
// SyncEngine::Open until every partition is SYNCED (scan, encode, upload,
// mark); the baseline's from its first put to its last, the objects already
// in memory.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "base/clock.h"
#include "store/store.h"
#include "sync/engine.h"
#include "tcp_forwarder.h"
#include "temp_dir.h"
#include "wan_link.h"

namespace {

namespace fs = std::filesystem;
using namespace sluice;

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'764'100'800 * kSec;
constexpr std::size_t kBlobBytes = 16 << 10;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void Die(const std::string& why) { throw Failure(why); }

struct Args {
  int small = 200;
  int small_kib = 64;
  int large = 16;
  int large_mib = 4;
  int workers = 4;  // half live, half backfill; the baseline's thread pool
  int rate_mib = 4;
  int wan_kib = 2048;
  int repeat = 3;
  bool wan = true;
};

struct S3 {
  std::string endpoint, access_key, secret_key, region;
  std::uint16_t port = 0;
};

S3 S3FromEnv() {
  S3 s;
  const auto get = [](const char* n) {
    const char* v = std::getenv(n);
    if (v == nullptr || *v == '\0') {
      Die(std::string(n) + " not set; start RGW: scripts/rgw start DIR && eval \"$(scripts/rgw env DIR)\"");
    }
    return std::string(v);
  };
  s.endpoint = get("SLUICE_TEST_S3_ENDPOINT");
  s.access_key = get("SLUICE_TEST_S3_ACCESS_KEY");
  s.secret_key = get("SLUICE_TEST_S3_SECRET_KEY");
  s.region = get("SLUICE_TEST_S3_REGION");
  const auto colon = s.endpoint.rfind(':');
  if (colon == std::string::npos || s.endpoint.rfind("http://127.0.0.1:", 0) != 0) {
    Die("SLUICE_TEST_S3_ENDPOINT must be http://127.0.0.1:PORT, got " + s.endpoint);
  }
  s.port = static_cast<std::uint16_t>(std::stoi(s.endpoint.substr(colon + 1)));
  return s;
}

std::string Shell(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) Die("popen " + cmd);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (::pclose(p) != 0) Die("failed: " + cmd + "\n" + out);
  return out;
}

const std::string kCheck = "/usr/bin/python3 " SLUICE_SOURCE_DIR "/tests/integration/s3_sink_check.py ";

// The plain uploader: every file under a folder, read into memory first,
// then put_object from a pool of threads; prints "<seconds> <objects> <bytes>".
constexpr const char* kUploader = R"(import os, sys, time, boto3, concurrent.futures
from botocore.config import Config
endpoint, region, bucket, workers, folder = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region,
                  aws_access_key_id=os.environ["SLUICE_TEST_S3_ACCESS_KEY"],
                  aws_secret_access_key=os.environ["SLUICE_TEST_S3_SECRET_KEY"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                max_pool_connections=workers, connect_timeout=10, read_timeout=300,
                                retries={"max_attempts": 10, "mode": "standard"}))
objs = []
for root, _, files in os.walk(folder):
    for f in sorted(files):
        p = os.path.join(root, f)
        with open(p, "rb") as fh:
            objs.append(("baseline/" + os.path.relpath(p, folder), fh.read()))
s3.head_bucket(Bucket=bucket)  # connect before the clock starts, as the engine's sinks do lazily
t0 = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(workers) as ex:
    list(ex.map(lambda o: s3.put_object(Bucket=bucket, Key=o[0], Body=o[1]), objs))
print("%.6f %d %d" % (time.monotonic() - t0, len(objs), sum(len(b) for _, b in objs)))
)";

class Bucket {
 public:
  explicit Bucket(const std::string& tag) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "sluice-bench-%s-%08x", tag.c_str(), std::random_device{}());
    name_ = buf;
    Shell(kCheck + "mkbucket " + name_);
  }
  ~Bucket() { (void)std::system((kCheck + "rmbucket " + name_ + " >/dev/null 2>&1").c_str()); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// A store with `n` sealed partitions whose objects are about `object_bytes`
// each, and those objects encoded into files (for the baseline).
struct Workload {
  std::string name;
  testing::TempDir dir{"sluice-sync-bench"};
  std::atomic<std::int64_t> now{kT0};
  std::unique_ptr<store::Store> store;
  std::uint64_t object_bytes = 0;  // all objects together
  int objects = 0;
  double encode_s = 0;  // EncodePartition of every object, one thread
};

sync::SyncEngineOptions EngineOptions(int workers) {
  sync::SyncEngineOptions o;
  o.gateway_id = "gw-bench";
  o.site = "bench";
  o.partition_window = std::chrono::seconds(60);
  o.poll_interval = std::chrono::milliseconds(10);
  o.live_workers = static_cast<std::uint32_t>(std::max(1, workers / 2));
  o.backfill_workers = static_cast<std::uint32_t>(std::max(1, workers - workers / 2));
  o.retry_base = std::chrono::milliseconds(100);
  o.retry_cap = std::chrono::milliseconds(2000);
  return o;
}

std::unique_ptr<Workload> MakeWorkload(const std::string& name, int n, std::size_t object_bytes) {
  auto w = std::make_unique<Workload>();
  w->name = name;
  store::Options o;
  o.dir = (w->dir.path() / "store").string();
  o.partition_window = std::chrono::seconds(60);
  o.partition_shards = 1;
  o.late_grace = std::chrono::seconds(0);
  o.wal_file_size = 64 << 20;
  o.segment_size = 256 << 20;
  store::StoreContext ctx;
  ctx.now_ns = [p = w.get()] { return p->now.load(); };
  auto opened = store::Store::Open(o, ctx);
  if (!opened.ok()) Die("store: " + opened.status().ToString());
  w->store = std::move(*opened);
  auto& st = *w->store;
  auto blob = st.RegisterSeries("bench/camera", store::ValueType::kBytes, "");
  auto temp = st.RegisterSeries("bench/temp", store::ValueType::kFloat64, "degC");
  if (!blob.ok() || !temp.ok()) Die("register series");
  std::mt19937_64 rng(1234);
  const std::size_t blobs = std::max<std::size_t>(1, object_bytes / kBlobBytes);
  for (int k = 0; k < n; ++k) {
    const std::int64_t win = kT0 + k * 60 * kSec;
    w->now = win + kSec;
    for (std::size_t i = 0; i < blobs;) {
      store::Batch b;
      for (std::size_t j = 0; j < 32 && i < blobs; ++j, ++i) {
        std::string v(std::min(kBlobBytes, object_bytes), '\0');
        for (std::size_t c = 0; c + 8 <= v.size(); c += 8) {
          const std::uint64_t r = rng();
          std::memcpy(v.data() + c, &r, 8);
        }
        const std::int64_t t = win + static_cast<std::int64_t>(i) * (50 * kSec / static_cast<std::int64_t>(blobs));
        b.push_back({*blob, t, std::move(v)});
        b.push_back({*temp, t, 20.0 + static_cast<double>(i % 97) * 0.125});
      }
      if (auto s = st.Append(std::move(b)).Wait(); !s.ok()) Die("append: " + s.ToString());
    }
    if (auto s = st.Seal({win, 0, false}); !s.ok()) Die("seal: " + s.ToString());
  }
  // The same objects as files, for the plain uploader.
  const auto opts = EngineOptions(1);
  for (const auto& p : st.ListPartitions(store::PartitionState::kSealed)) {
    auto key = sync::SyncObjectKey(opts, p.id);
    const std::int64_t t0 = MonotonicNs();
    auto bytes = sync::EncodePartition(st, opts, p.id);
    w->encode_s += static_cast<double>(MonotonicNs() - t0) / 1e9;
    if (!key.ok() || !bytes.ok()) Die("encode");
    const fs::path f = w->dir.path() / "objects" / *key;
    fs::create_directories(f.parent_path());
    std::ofstream(f, std::ios::binary) << *bytes;
    w->object_bytes += bytes->size();
    ++w->objects;
  }
  return w;
}

struct Run {
  double seconds = 0;
  std::uint64_t bytes = 0;
  int objects = 0;
  std::uint64_t retries = 0;
  double ObjectsPerS() const { return objects / seconds; }
  double MBPerS() const { return static_cast<double>(bytes) / 1e6 / seconds; }
};

// The engine over `endpoint` until every partition of `w` is SYNCED.
// `netns`: the engine's threads run there (the WAN case).
Run RunSluice(Workload& w, const S3& s3, const std::string& endpoint, const std::string& bucket,
              int workers, std::uint64_t rate, std::uint64_t burst, const std::string& netns) {
  sync::S3SinkOptions so;
  so.endpoint = endpoint;
  so.region = s3.region;
  so.bucket = bucket;
  so.key_prefix = "sluice";
  auto o = EngineOptions(workers);
  o.bandwidth = rate;
  o.bandwidth_burst = burst;
  std::mutex mu;
  std::map<store::PartitionId, std::uint64_t> sizes;
  Run r;
  sync::SyncEngineContext ctx;
  ctx.on_upload_start = [&](const store::PartitionId& id, std::string_view, std::uint64_t n) {
    std::lock_guard lock(mu);
    sizes[id] = n;
  };
  ctx.on_upload_done = [&](const store::PartitionId& id, const Status& s) {
    std::lock_guard lock(mu);
    if (!s.ok()) return;
    r.bytes += sizes[id];
    ++r.objects;
  };
  const std::int64_t start = MonotonicNs();
  std::unique_ptr<sync::SyncEngine> engine;
  {
    std::unique_ptr<wan::NetnsScope> scope;
    if (!netns.empty()) {
      auto s = wan::NetnsScope::Enter(netns);
      if (!s.ok()) Die(s.status().ToString());
      scope = std::move(*s);
    }
    auto e = sync::SyncEngine::Open(w.store.get(), [so] { return sync::OpenS3Sink(so); }, o, ctx);
    if (!e.ok()) Die("engine: " + e.status().ToString());
    engine = std::move(*e);
  }
  const std::int64_t deadline = start + 600 * kSec;
  while (!w.store->ListPartitions(store::PartitionState::kSealed).empty() ||
         engine->health().backlog_partitions != 0) {
    if (MonotonicNs() > deadline)
      Die(w.name + ": not drained in 600 s: " + engine->health().last_error);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  r.seconds = static_cast<double>(MonotonicNs() - start) / 1e9;
  const auto h = engine->health();
  r.retries = h.live.retries + h.backfill.retries;
  if (h.live.permanent_failures + h.backfill.permanent_failures > 0) Die(w.name + ": " + h.last_permanent_error);
  engine->Stop();
  return r;
}

// boto3 put_object of the workload's object files; `netns`: run it there.
Run RunBaseline(const Workload& w, const S3& s3, const std::string& endpoint,
                const std::string& bucket, int workers, const std::string& netns) {
  const fs::path script = w.dir.path() / "uploader.py";
  std::ofstream(script) << kUploader;
  std::string cmd = (netns.empty() ? "" : "ip netns exec " + netns + " ") + "/usr/bin/python3 " +
                    script.string() + " " + endpoint + " " + s3.region + " " + bucket + " " +
                    std::to_string(workers) + " " + (w.dir.path() / "objects").string();
  std::istringstream in(Shell(cmd));
  Run r;
  in >> r.seconds >> r.objects >> r.bytes;
  if (!in || r.objects != w.objects) Die("baseline output unexpected: " + cmd);
  return r;
}

void Row(const std::string& cell, const Run& sl, const Run& base, double encode_s) {
  std::printf("%-30s %7d %8.2f | %7.3f %8.1f %8.2f | %7.3f %8.1f %8.2f | %5.2f | %6.3f\n",
              cell.c_str(), sl.objects, static_cast<double>(sl.bytes) / 1e6, sl.seconds,
              sl.ObjectsPerS(), sl.MBPerS(), base.seconds, base.ObjectsPerS(), base.MBPerS(),
              sl.MBPerS() / base.MBPerS(), encode_s);
}

int Main(const Args& a) {
  const S3 s3 = S3FromEnv();
  ::setenv("AWS_ACCESS_KEY_ID", s3.access_key.c_str(), 1);  // the sink's credentials
  ::setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key.c_str(), 1);
  std::printf("sync_bench: RGW %s, %d workers (engine: %d live + %d backfill; baseline: boto3 "
              "put_object, %d threads)\n",
              s3.endpoint.c_str(), a.workers, std::max(1, a.workers / 2),
              std::max(1, a.workers - a.workers / 2), a.workers);
  std::printf("%-30s %7s %8s | %7s %8s %8s | %7s %8s %8s | %5s | %6s\n", "cell", "objects", "MB",
              "sluice s", "obj/s", "MB/s", "base s", "obj/s", "MB/s", "ratio", "enc s");

  // Each size `repeat` times on a fresh store and fresh buckets, Sluice and
  // the baseline in turn; the run with the median ratio is shown.
  for (const auto& [name, n, size] :
       {std::tuple{"small objects (" + std::to_string(a.small_kib) + " KiB)", a.small,
                   std::size_t(a.small_kib) << 10},
        std::tuple{"large objects (" + std::to_string(a.large_mib) + " MiB)", a.large,
                   std::size_t(a.large_mib) << 20}}) {
    if (n <= 0) continue;
    struct Pair {
      Run sl, base;
      double encode_s;
    };
    std::vector<Pair> runs;
    for (int r = 0; r < a.repeat; ++r) {
      auto w = MakeWorkload(name, n, size);
      Bucket b1("s"), b2("b");
      const Run sl = RunSluice(*w, s3, s3.endpoint, b1.name(), a.workers, 0, 0, "");
      const Run base = RunBaseline(*w, s3, s3.endpoint, b2.name(), a.workers, "");
      runs.push_back({sl, base, w->encode_s});
    }
    std::sort(runs.begin(), runs.end(), [](const Pair& x, const Pair& y) {
      return x.sl.MBPerS() / x.base.MBPerS() < y.sl.MBPerS() / y.base.MBPerS();
    });
    std::string spread;
    for (const auto& p : runs) spread += " " + std::to_string(p.sl.MBPerS() / p.base.MBPerS()).substr(0, 4);
    const Pair& mid = runs[runs.size() / 2];
    Row(name, mid.sl, mid.base, mid.encode_s);
    if (runs.size() > 1) std::printf("%-30s ratios of the %zu runs:%s\n", "", runs.size(), spread.c_str());
  }

  if (a.rate_mib > 0) {
    // Four seconds' worth at the limit; the bucket starts with one object's worth.
    const std::size_t object = 512 << 10;
    const int n = std::max(4, static_cast<int>((std::uint64_t(a.rate_mib) << 22) / object));
    auto w = MakeWorkload("rate limit", n, object);
    Bucket b1("r");
    const std::uint64_t rate = std::uint64_t(a.rate_mib) << 20;
    const Run sl = RunSluice(*w, s3, s3.endpoint, b1.name(), a.workers, rate, object, "");
    std::printf("%-30s %7d %8.2f | %7.3f %8.1f %8.2f | limit %.2f MB/s: goodput %.1f%% of it\n",
                ("rate limit " + std::to_string(a.rate_mib) + " MiB/s").c_str(), sl.objects,
                static_cast<double>(sl.bytes) / 1e6, sl.seconds, sl.ObjectsPerS(), sl.MBPerS(),
                static_cast<double>(rate) / 1e6, 100 * sl.MBPerS() / (static_cast<double>(rate) / 1e6));
  }

  if (a.wan && a.wan_kib > 0) {
    const Status ok = wan::WanLink::Available(WAN_DELAY_BIN, true);
    if (!ok.ok()) {
      std::printf("WAN cells skipped: %s\n", ok.message().c_str());
      return 0;
    }
    wan::WanLinkOptions lo;
    lo.wan_delay_bin = WAN_DELAY_BIN;
    lo.max_seconds = 900;
    auto link = wan::WanLink::Create(lo);
    if (!link.ok()) Die(link.status().ToString());
    {
      wan::TcpForwarderOptions fo;
      fo.listen_netns = (*link)->server_ns();
      fo.listen_address = wan::WanLink::kServerAddress;
      fo.target_port = s3.port;
      auto fwd = wan::TcpForwarder::Start(fo);
      if (!fwd.ok()) Die(fwd.status().ToString());
      const std::string via = std::string("http://") + wan::WanLink::kServerAddress + ":" +
                              std::to_string((*fwd)->port());
      const std::size_t object = 400 << 10;
      const int n = std::max(1, static_cast<int>((std::size_t(a.wan_kib) << 10) / object));
      auto w = MakeWorkload("wan", n, object);
      Bucket b1("w"), b2("v");
      const Run sl = RunSluice(*w, s3, via, b1.name(), 2, 0, 0, (*link)->client_ns());
      const Run base = RunBaseline(*w, s3, via, b2.name(), 2, (*link)->client_ns());
      const double link_mb = lo.rate_kbit * 1000 / 8 / 1e6;
      std::printf("WAN: %s\n", (*link)->Describe().c_str());
      Row("WAN (2 streams)", sl, base, w->encode_s);
      std::printf("%-30s goodput: sluice %.1f%%, baseline %.1f%% of the link rate (%.3f MB/s); "
                  "sluice retries %llu\n",
                  "", 100 * sl.MBPerS() / link_mb, 100 * base.MBPerS() / link_mb, link_mb,
                  static_cast<unsigned long long>(sl.retries));
    }
    if (auto s = (*link)->Remove(); !s.ok()) Die("removing the link: " + s.ToString());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto next = [&]() -> int {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sync_bench: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (arg == "--small") a.small = next();
    else if (arg == "--small-kib") a.small_kib = next();
    else if (arg == "--large") a.large = next();
    else if (arg == "--large-mib") a.large_mib = next();
    else if (arg == "--workers") a.workers = std::max(2, next());
    else if (arg == "--rate-mib") a.rate_mib = next();
    else if (arg == "--wan-kib") a.wan_kib = next();
    else if (arg == "--repeat") a.repeat = std::max(1, next());
    else if (arg == "--no-wan") a.wan = false;
    else {
      std::fprintf(stderr,
                   "usage: sync_bench [--small N] [--small-kib K] [--large N] [--large-mib M] "
                   "[--workers W] [--rate-mib R] [--wan-kib K] [--repeat R] [--no-wan]\n");
      return 2;
    }
  }
  try {
    return Main(a);
  } catch (const Failure& f) {
    std::fprintf(stderr, "sync_bench: %s\n", f.what());
    return 1;
  }
}
