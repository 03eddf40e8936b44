// recovery_bench: how soon `sluice run` acknowledges again after kill -9,
// on a store holding a week of data, restarting from the index checkpoint
// against scanning every segment (store.index_checkpoint = 0, the path of a
// store made before checkpoints) in the same run.
//
//   recovery_bench [--dir DIR] [--series N] [--windows W] [--small-windows S]
//                  [--fill-records F] [--repeat R] [--warm-only] [--keep]
//
// Preparing a store (a child process, through the store's API with the
// default options of `sluice run`): N float64 series (default 1,000) at
// 1 Hz for W hourly windows (default 168, a week: 604.8 M points), ending
// now; then F more records (default 100 M) appended at full speed, on into
// the next hours, to fill the write buffer as far as the store lets it;
// then the child kills itself with SIGKILL while appends are in flight. A
// second store of S windows (default 17, a tenth) is prepared the same way.
//
// Each measurement copies a prepared store aside, starts `sluice run` on
// it (its endpoint on loopback, a JSON rule for the series), and times from
// the start of the process to the PUBACK of a QoS 1 publish (a Paho client
// connecting every millisecond until the endpoint answers), then to
// sluice_store_index_ready = 1 on /metrics; then kills it with SIGKILL. R
// runs (default 3) of each path, alternating; medians reported. Each is
// done twice: with the page cache as the copy left it (warm, as after kill
// -9), and cold, the kernel's caches dropped first (as after a power cut;
// needs root, skipped otherwise or with --warm-only).
//
// Verdicts: first PUBACK <= 1 s and the whole index <= 5 s on the week's
// store, from the checkpoint; and the first PUBACK on the week's store at
// most 1.5x that on the tenth: a restart that turned proportional to the
// store again fails here loudly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mqtt/client.h>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "mosquitto.h"
#include "store/store.h"

namespace fs = std::filesystem;
using sluice::bench::Child;
using sluice::bench::Die;
using sluice::bench::HttpGet;
using sluice::bench::Metric;
using sluice::MonotonicNs;
using sluice::WallNs;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kHour = 3600 * kSecond;

struct Args {
  fs::path dir = fs::temp_directory_path() / "sluice-recovery-bench";
  std::uint32_t series = 1000;
  int windows = 168;
  int small_windows = 17;
  std::uint64_t fill_records = 100'000'000;
  bool warm_only = false;
  int repeat = 3;
  bool keep = false;
};

std::uint64_t DirBytes(const fs::path& dir) {
  std::uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

std::uint64_t DiskBytes(const fs::path& dir) {
  std::uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    if (e.is_regular_file() && ::stat(e.path().c_str(), &st) == 0) {
      n += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
  }
  return n;
}

// The child: writes the store, then kills itself. Never returns.
[[noreturn]] void PrepareChild(const Args& a, const fs::path& dir, int windows) {
  namespace st = sluice::store;
  st::Options o;  // the defaults `sluice run` uses
  o.dir = dir.string();
  std::atomic<std::int64_t> clock{0};
  st::StoreContext ctx;
  ctx.now_ns = [&] { return clock.load(std::memory_order_relaxed); };
  auto store = st::Store::Open(o, ctx);
  if (!store.ok()) Die("prepare: open: " + store.status().ToString());
  std::vector<std::string> names;
  for (std::uint32_t i = 0; i < a.series; ++i) names.push_back("bench/dev-" + std::to_string(i) + "/m0");
  std::vector<st::SeriesSpec> specs;
  for (const auto& n : names) specs.push_back({n, st::ValueType::kFloat64, ""});
  std::vector<st::SeriesId> ids;
  for (auto& r : (*store)->RegisterSeriesBatch(specs)) {
    if (!r.ok()) Die("prepare: register: " + r.status().ToString());
    ids.push_back(*r);
  }
  std::mutex mu;
  std::condition_variable cv;
  int inflight = 0;
  auto submit = [&](sluice::store::Batch b) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return inflight < 32; });
      ++inflight;
    }
    const std::int64_t t = b.back().timestamp_ns;
    for (std::int64_t seen = clock.load(); seen < t && !clock.compare_exchange_weak(seen, t);) {
    }
    (*store)->Append(std::move(b), [&](const sluice::Status& s) {
      if (!s.ok()) Die("prepare: append: " + s.ToString());
      std::lock_guard lock(mu);
      --inflight;
      cv.notify_all();
    });
  };
  // Random walks with 2 decimals, one point per series per second.
  std::vector<double> value(a.series, 20.0);
  std::uint64_t rng = 0x9e3779b97f4a7c15ull;
  auto step = [&](std::uint32_t i) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    value[i] = std::round((value[i] + static_cast<double>(rng % 21) / 100.0 - 0.10) * 100) / 100;
    return value[i];
  };
  const std::int64_t end = WallNs() / kSecond * kSecond;
  std::int64_t ts = end - windows * kHour;
  sluice::store::Batch batch;
  auto second = [&] {
    for (std::uint32_t i = 0; i < a.series; ++i) batch.push_back({ids[i], ts, step(i)});
    ts += kSecond;
    if (batch.size() >= 10'000) submit(std::exchange(batch, {}));
  };
  while (ts < end) second();
  // The write buffer: fill_records more at full speed, then the kill with
  // appends in flight.
  for (std::uint64_t n = 0; n < a.fill_records; n += a.series) second();
  std::fflush(stdout);
  ::kill(::getpid(), SIGKILL);
  std::abort();
}

struct Prepared {
  fs::path dir;
  int windows = 0;
  std::uint64_t points = 0;
  std::uint64_t disk_bytes = 0;
  std::uint64_t wal_bytes = 0;
  double seconds = 0;
};

Prepared Prepare(const Args& a, const fs::path& dir, int windows) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::int64_t t0 = MonotonicNs();
  std::fflush(stdout);  // or the child prints it again
  const pid_t pid = ::fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) PrepareChild(a, dir, windows);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) Die("prepare: the child did not end by SIGKILL");
  Prepared p;
  p.dir = dir;
  p.windows = windows;
  p.seconds = static_cast<double>(MonotonicNs() - t0) / 1e9;
  p.disk_bytes = DiskBytes(dir);
  p.wal_bytes = DirBytes(dir / "wal");
  return p;
}

struct Run {
  double first_ack_s = 0;
  double index_s = 0;
  double open_s = 0;        // sluice_store_recovery_seconds
  double recovered = 0;     // records replayed from the write buffer
  std::string path;
};

std::string Toml(const fs::path& store, bool checkpoint, int admin, int endpoint) {
  std::ostringstream t;
  t << "[gateway]\nid = \"recovery-bench\"\n[log]\nlevel = \"warn\"\n"
    << "[store]\ndir = \"" << store.string() << "\"\n";
  if (!checkpoint) t << "index_checkpoint = 0\n";
  t << "[[ingest.rule]]\ntopic = \"bench/{device}/telemetry\"\nformat = \"json\"\n"
    << "fields = [\"m0\"]\nseries = \"bench/{device}/{field}\"\ntimestamp = \"field:ts\"\n"
    << "[endpoint]\nenabled = true\naddress = \"127.0.0.1\"\nport = " << endpoint << "\n"
    << "[admin]\nport = " << admin << "\n";
  return t.str();
}

// Drops the kernel's page, dentry and inode caches (root only).
bool DropCaches() {
  ::sync();
  std::ofstream f("/proc/sys/vm/drop_caches");
  f << "3\n";
  f.flush();
  return static_cast<bool>(f);
}

Run Measure(const Prepared& p, const fs::path& work, bool checkpoint, bool cold) {
  fs::remove_all(work);
  fs::create_directories(work);
  // A copy, so that every run starts from the same killed store.
  fs::copy(p.dir, work / "store", fs::copy_options::recursive);
  // The killed process had synced everything it wrote; the copy's dirty
  // pages would otherwise be written back during the restart (the log's
  // files are synced at Open), which is no part of a real one.
  ::sync();
  if (cold && !DropCaches()) Die("dropping the page cache needs root (or use --warm-only)");
  auto admin = sluice::testing::PickFreePort();
  auto port = sluice::testing::PickFreePort();
  if (!admin.ok() || !port.ok()) Die("no free port");
  std::ofstream(work / "sluice.toml") << Toml(work / "store", checkpoint, *admin, *port);
  Run r;
  const std::int64_t t0 = MonotonicNs();
  Child s = sluice::bench::Spawn(
      {SLUICE_BIN, "run", "--config", (work / "sluice.toml").string()}, (work / "sluice.log").string());
  mqtt::client cli("tcp://127.0.0.1:" + std::to_string(*port), "recovery-bench",
                   mqtt::create_options(MQTTVERSION_5));
  const auto opts = mqtt::connect_options_builder()
                        .mqtt_version(MQTTVERSION_5)
                        .clean_start(true)
                        .connect_timeout(std::chrono::seconds(5))
                        .finalize();
  // A plain TCP connect every millisecond until the endpoint listens (a
  // refused MQTT connect makes the client back off for much longer), then
  // the MQTT session.
  for (;;) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(*port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (up) break;
    if (MonotonicNs() - t0 > 120 * kSecond || ::waitpid(s.pid, nullptr, WNOHANG) == s.pid) {
      Die("sluice run did not take a connection; see " + (work / "sluice.log").string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the port is not open yet
  }
  cli.connect(opts);
  const std::string payload = "{\"ts\":" + std::to_string(WallNs() / 1'000'000) + ",\"m0\":21.5}";
  cli.publish(mqtt::make_message("bench/dev-0/telemetry", payload, 1, false));
  r.first_ack_s = static_cast<double>(MonotonicNs() - t0) / 1e9;
  for (;;) {
    const std::string m = HttpGet(*admin, "/metrics");
    if (Metric(m, "sluice_store_index_ready") == 1) {
      r.index_s = static_cast<double>(MonotonicNs() - t0) / 1e9;
      r.open_s = Metric(m, "sluice_store_recovery_seconds");
      r.recovered = Metric(m, "sluice_store_recovered_records");
      break;
    }
    if (MonotonicNs() - t0 > 600 * kSecond) Die("the index never loaded");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // another process's state
  }
  const std::string status = HttpGet(*admin, "/v1/status");
  const auto at = status.find("\"recovery_path\":\"");
  if (at != std::string::npos) {
    r.path = status.substr(at + 17, status.find('"', at + 17) - at - 17);
  }
  try {
    cli.disconnect();
  } catch (const mqtt::exception&) {
  }
  ::kill(s.pid, SIGKILL);
  s.Stop();
  fs::remove_all(work);
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Summary {
  std::vector<Run> runs;
  double ack() const {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.first_ack_s);
    return Median(v);
  }
  double index() const {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.index_s);
    return Median(v);
  }
};

void Verdict(const std::string& what, double value, double goal, const std::string& unit) {
  std::printf("  %-58s %8.3f %-3s (target <= %g) %s\n", what.c_str(), value, unit.c_str(), goal,
              value <= goal ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(k + " needs a value");
      return argv[++i];
    };
    if (k == "--dir") a.dir = next();
    else if (k == "--series") a.series = static_cast<std::uint32_t>(std::stoul(next()));
    else if (k == "--windows") a.windows = std::stoi(next());
    else if (k == "--small-windows") a.small_windows = std::stoi(next());
    else if (k == "--fill-records") a.fill_records = std::stoull(next());
    else if (k == "--warm-only") a.warm_only = true;
    else if (k == "--repeat") a.repeat = std::stoi(next());
    else if (k == "--keep") a.keep = true;
    else Die("usage: recovery_bench [--dir DIR] [--series N] [--windows W] [--small-windows S] "
             "[--fill-records F] [--repeat R] [--warm-only] [--keep]");
  }
  if (!a.warm_only && ::geteuid() != 0) {
    std::printf("not root: cold runs skipped (they drop the kernel's caches)\n");
    a.warm_only = true;
  }
  std::printf("recovery_bench: %u series at 1 Hz; a store of %d hourly windows and one of %d; "
              "%llu more records at full speed to fill the write buffer, then kill -9; %d runs "
              "per path and cache state, medians\n",
              a.series, a.windows, a.small_windows,
              static_cast<unsigned long long>(a.fill_records), a.repeat);
  std::vector<Prepared> stores;
  for (int w : {a.windows, a.small_windows}) {
    stores.push_back(Prepare(a, a.dir / ("store-" + std::to_string(w)), w));
    const Prepared& p = stores.back();
    std::printf("prepared %3d windows: %.0f M points of history, %.2f GB on disk, write buffer "
                "%.0f MB (wal/), in %.0f s\n",
                w, static_cast<double>(a.series) * 3600.0 * w / 1e6,
                static_cast<double>(p.disk_bytes) / 1e9, static_cast<double>(p.wal_bytes) / 1e6,
                p.seconds);
    std::fflush(stdout);
  }
  std::printf("\n%-42s %12s %12s %12s %14s  %s\n", "restart", "first ack s", "index s",
              "store open s", "replayed", "path");
  Summary sum[2][2][2];  // [store][cold][checkpoint]
  std::vector<bool> caches = {false};
  if (!a.warm_only) caches.push_back(true);
  for (int rep = 0; rep < a.repeat; ++rep) {
    for (bool cold : caches) {
      for (std::size_t s = 0; s < stores.size(); ++s) {
        for (bool checkpoint : {true, false}) {
          const Run r = Measure(stores[s], a.dir / "run", checkpoint, cold);
          sum[s][cold][checkpoint].runs.push_back(r);
          std::printf("%3d windows, %-4s %-24s %12.3f %12.3f %12.3f %14.0f  %s\n",
                      stores[s].windows, cold ? "cold" : "warm",
                      checkpoint ? "from the checkpoint" : "scanning (no checkpoint)",
                      r.first_ack_s, r.index_s, r.open_s, r.recovered, r.path.c_str());
          std::fflush(stdout);
        }
      }
    }
  }
  std::printf("\nmedians:\n");
  for (bool cold : caches) {
    for (std::size_t s = 0; s < stores.size(); ++s) {
      for (bool checkpoint : {true, false}) {
        std::printf("  %3d windows, %-4s %-20s first ack %.3f s, whole index %.3f s\n",
                    stores[s].windows, cold ? "cold" : "warm",
                    checkpoint ? "from the checkpoint" : "scanning", sum[s][cold][checkpoint].ack(),
                    sum[s][cold][checkpoint].index());
      }
    }
    std::printf("  scanning / checkpoint, first ack, %d windows, %s: %.2fx\n", a.windows,
                cold ? "cold" : "warm", sum[0][cold][false].ack() / sum[0][cold][true].ack());
  }
  std::printf("\ntargets (the week's store; cold: after a power cut):\n");
  for (bool cold : caches) {
    const std::string c = cold ? ", cold" : ", warm";
    Verdict("first PUBACK after kill -9, " + std::to_string(a.windows) + " windows" + c,
            sum[0][cold][true].ack(), 1.0, "s");
    Verdict("whole index ready, " + std::to_string(a.windows) + " windows" + c,
            sum[0][cold][true].index(), 5.0, "s");
    Verdict("first PUBACK, " + std::to_string(a.windows) + " / " + std::to_string(a.small_windows) +
                " windows (not proportional)" + c,
            sum[0][cold][true].ack() / sum[1][cold][true].ack(), 1.5, "x");
  }
  if (!a.keep) fs::remove_all(a.dir);
  return 0;
}
