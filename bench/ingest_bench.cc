// ingest_bench: MQTT ingest through Mosquitto, Sluice storing durably
// against a plain Paho C++ subscriber that only counts (the baseline), with
// the same publishers in the same run. Prints messages/s for both, the ratio
// sluice/baseline, CPU microseconds per message of each subscriber process
// (utime + stime from /proc/<pid>/stat) and its peak RSS (VmHWM).
//
//   ingest_bench [--count N] [--repeat R] [--devices D] [--connections C]
//                [--batch B] [--qos 0,1] [--formats json,sparkplug] [--verbose]
//
// One private Mosquitto (tests/support) with max_queued_messages raised.
// Per cell (QoS x payload format), R times (default 3) alternating, the
// median reported: (a) bench/paho_count_sub subscribes, the publishers send
// N messages, the run ends when the subscriber has them all (or received
// nothing for 5 s: QoS 0 messages the broker dropped); (b) `sluice run` with
// a generated config (store in a temp folder, one broker connection, one
// rule for the format) subscribes instead, and the run ends when /metrics
// shows every message in and every data record durably stored (or nothing
// changed for 5 s). Both subscribers ask for Receive Maximum 64 (Sluice's
// default). Message rates count from the first publish to the last message
// taken (stored, for Sluice). Publishers: tools/mqtt_load, MQTT 5, C connections, B PUBLISH per
// write, in this process. Payloads: JSON of exactly 100 bytes with 4
// fields (4 series per device), or Sparkplug B NDATA of 4 metrics after an
// NBIRTH per device (the `sluice simulate --engine wire` fleet).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "mosquitto.h"
#include "mqtt_load/mqtt_load.h"
#include "sensor_sim/fleet.h"
#include "sensor_sim/wire_engine.h"
#include "temp_dir.h"

extern char** environ;

namespace {

using namespace sluice;
namespace fs = std::filesystem;
constexpr std::uint32_t kMetrics = 4;
constexpr std::int64_t kIdleNs = 5'000'000'000;     // nothing arrives for this long: done
constexpr std::int64_t kReadyNs = 30'000'000'000;   // a subscriber must be up by then

struct Args {
  std::uint64_t count = 200'000;  // data messages per cell and subscriber
  std::uint32_t devices = 100;
  std::uint32_t connections = 4;
  std::uint32_t batch = 64;
  std::vector<int> qos = {0, 1};
  std::vector<std::string> formats = {"json", "sparkplug"};
  int repeat = 3;  // runs of each subscriber per cell, alternating; the median is reported
  bool verbose = false;
};

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Ends the run: unwinds, so that children, the broker and the temp folder go too.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void Die(const std::string& why) { throw Failure(why); }

// A child process; stdout to a pipe (read_fd) or to a log file.
struct Child {
  pid_t pid = -1;
  int read_fd = -1;
  std::string buffered;

  Child() = default;
  Child(Child&& o) noexcept : pid(o.pid), read_fd(o.read_fd), buffered(std::move(o.buffered)) {
    o.pid = -1;
    o.read_fd = -1;
  }
  Child& operator=(Child&&) = delete;
  ~Child() { Stop(); }

  // The next line of its stdout, waiting at most until `deadline_ns`; empty on timeout or EOF.
  std::string ReadLine(std::int64_t deadline_ns) {
    for (;;) {
      const auto nl = buffered.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffered.substr(0, nl);
        buffered.erase(0, nl + 1);
        return line;
      }
      const std::int64_t left_ms = (deadline_ns - NowNs()) / 1'000'000;
      pollfd p{read_fd, POLLIN, 0};
      if (left_ms <= 0 || poll(&p, 1, static_cast<int>(left_ms)) != 1) return "";
      char buf[512];
      const ssize_t n = read(read_fd, buf, sizeof buf);
      if (n <= 0) return "";
      buffered.append(buf, static_cast<std::size_t>(n));
    }
  }
  // SIGTERM, awaited through a pidfd; SIGKILL after 30 s.
  void Stop() {
    if (read_fd >= 0) close(read_fd);
    read_fd = -1;
    if (pid <= 0) return;
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    kill(pid, SIGTERM);
    pollfd p{pidfd, POLLIN, 0};
    if (pidfd < 0 || poll(&p, 1, 30'000) != 1) kill(pid, SIGKILL);
    if (pidfd >= 0) close(pidfd);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

Child Spawn(const std::vector<std::string>& args, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  Child c;
  int fds[2] = {-1, -1};
  if (log.empty()) {
    if (pipe2(fds, O_CLOEXEC) != 0) Die("pipe");
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int rc = posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    c.pid = -1;
    Die("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  if (fds[1] >= 0) close(fds[1]);
  c.read_fd = fds[0];
  return c;
}

// utime + stime of `pid` in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(s.substr(s.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 3.. (state is 3)
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// VmHWM of `pid` in MiB.
double PeakRssMiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

// GET http://127.0.0.1:port/path; the body, or empty.
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[16384];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  const auto body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

// The value of an unlabelled Prometheus sample; -1 when absent.
double Metric(const std::string& text, const std::string& name) {
  const std::string key = "\n" + name + " ";
  const auto at = ("\n" + text).find(key);
  return at == std::string::npos ? -1 : std::strtod(text.c_str() + at + key.size() - 1, nullptr);
}

struct Cell {
  int qos = 1;
  std::string format;  // json | sparkplug
  std::string name() const { return "QoS " + std::to_string(qos) + " " + format; }
  std::string filter() const { return format == "json" ? "bench/+/telemetry" : "spBv1.0/#"; }
};

struct Run {
  std::uint64_t delivered = 0;  // messages the subscriber took in
  double seconds = 0;           // first publish to last message taken (stored, for Sluice)
  double cpu_us_per_msg = 0;
  double peak_rss_mib = 0;
  mqtt_load::LoadReport pub;
  std::string note;
  double rate() const { return seconds > 0 ? delivered / seconds : 0; }
};

// JSON of exactly 100 bytes: {"ts":<13 digits>,"m0":<14 chars>,...,"m3":<14 chars>}.
// Device d is published on connection d mod connections, like the simulator.
mqtt_load::MessageGenerator JsonGenerator(std::uint32_t devices, std::uint32_t n) {
  return [devices, n](std::uint32_t c, std::uint64_t seq, mqtt_load::LoadMessage& m) {
    const std::uint32_t k = (devices - c + n - 1) / n;
    const auto device = static_cast<std::uint32_t>(c + (seq % k) * n);
    const double tick = static_cast<double>(seq / k);
    char buf[128];
    int len = std::snprintf(buf, sizeof buf, "{\"ts\":%lld", static_cast<long long>(sensor_sim::NowMs()));
    for (std::uint32_t f = 0; f < kMetrics; ++f) {
      const double v = 20.0 + device % 50 + f * 0.5 + std::sin(tick / 10.0 + f);  // in [19, 72)
      len += std::snprintf(buf + len, sizeof buf - static_cast<std::size_t>(len), ",\"m%u\":%.11f", f, v);
    }
    buf[len++] = '}';
    m.payload.assign(buf, static_cast<std::size_t>(len));
    m.topic = "bench/dev-" + std::to_string(device) + "/telemetry";
  };
}

class Bench {
 public:
  Bench(Args args, fs::path dir) : a_(std::move(args)), dir_(std::move(dir)) {
    sim_.devices = a_.devices;
    sim_.metrics = kMetrics;
    sim_.group = "bench";
  }

  void Start() {
    testing::MosquittoOptions mo;
    // Queues deep enough that no subscriber loses messages while it lags;
    // a publisher window of 100 (MQTT 5 Receive Maximum) per connection.
    mo.extra_config = "max_queued_messages 10000000\nmax_queued_bytes 0\nmax_inflight_messages 100\n";
    auto b = testing::MosquittoBroker::Start(dir_ / "broker", mo);
    if (!b.ok()) Die(b.status().ToString());
    broker_ = std::move(*b);
  }

  // Publishes the cell's messages; returns when all are acknowledged.
  mqtt_load::LoadReport Publish(const Cell& cell, std::int64_t* start_ns) {
    mqtt_load::LoadOptions o;
    o.port = static_cast<std::uint16_t>(broker_->port());
    o.connections = std::min(a_.connections, a_.devices);
    o.batch = a_.batch;
    o.qos = cell.qos;
    o.client_id_prefix = "bench-pub";
    const bool spb = cell.format == "sparkplug";
    o.count = a_.count + (spb ? a_.devices : 0);
    sim_.format = spb ? "sparkplug" : "json";
    sensor_sim::Fleet fleet(sim_, {});
    auto gen = spb ? sensor_sim::FleetGenerator(sim_, fleet, o.connections)
                   : JsonGenerator(a_.devices, o.connections);
    *start_ns = NowNs();
    auto r = mqtt_load::RunLoad(o, gen);
    if (!r.ok()) Die("publishers: " + r.status().ToString());
    return *r;
  }

  std::uint64_t Messages(const Cell& c) const { return a_.count + (c.format == "sparkplug" ? a_.devices : 0); }

  Run Baseline(const Cell& cell) {
    Child sub = Spawn({PAHO_COUNT_SUB, "--uri", broker_->uri(), "--topic", cell.filter(), "--qos",
                       std::to_string(cell.qos), "--count", std::to_string(Messages(cell)),
                       "--client-id", "bench-baseline"},
                      "");
    if (sub.ReadLine(NowNs() + kReadyNs) != "ready") Die("paho_count_sub did not subscribe");
    Run r;
    const double cpu0 = CpuSeconds(sub.pid);
    std::int64_t start = 0;
    r.pub = Publish(cell, &start);
    const std::string done = sub.ReadLine(NowNs() + 600'000'000'000);
    unsigned long long got = 0;
    long long first = 0, last = 0;
    if (std::sscanf(done.c_str(), "done %llu %lld %lld", &got, &first, &last) != 3) {
      Die("paho_count_sub: unexpected output '" + done + "'");
    }
    r.delivered = got;
    r.seconds = static_cast<double>(last - start) / 1e9;
    r.cpu_us_per_msg = got > 0 ? (CpuSeconds(sub.pid) - cpu0) * 1e6 / static_cast<double>(got) : 0;
    r.peak_rss_mib = PeakRssMiB(sub.pid);
    sub.Stop();
    return r;
  }

  Run Sluice(const Cell& cell, int index) {
    const fs::path d = dir_ / ("sluice-" + std::to_string(index));
    fs::create_directories(d);
    auto port = testing::PickFreePort();
    if (!port.ok()) Die(port.status().ToString());
    std::ofstream(d / "sluice.toml") << SluiceToml(cell, d, *port);
    Child s = Spawn({SLUICE_BIN, "run", "--config", (d / "sluice.toml").string()},
                    (d / "sluice.log").string());
    const std::int64_t ready_by = NowNs() + kReadyNs;
    while (Metric(HttpGet(*port, "/metrics"), "sluice_mqtt_connections") < 1) {
      if (NowNs() > ready_by || waitpid(s.pid, nullptr, WNOHANG) == s.pid) {
        std::ifstream log(d / "sluice.log");
        Die("sluice did not connect to the broker; its log:\n" +
            std::string((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>()));
      }
      usleep(20'000);  // another process's state: nothing to await
    }
    Run r;
    const double cpu0 = CpuSeconds(s.pid);
    std::int64_t start = 0;
    r.pub = Publish(cell, &start);
    // Done when every message is in and every data record durably stored.
    const double want_msgs = static_cast<double>(Messages(cell));
    const double want_records = static_cast<double>(a_.count * kMetrics);
    double msgs = 0, stored = -1;
    std::int64_t changed = NowNs(), done = 0;
    std::string m;
    for (;;) {
      m = HttpGet(*port, "/metrics");
      const std::int64_t now = NowNs();
      const double st = Metric(m, "sluice_records_stored_total");
      msgs = Metric(m, "sluice_mqtt_messages_total");
      if (st != stored) changed = now;
      stored = st;
      if (msgs >= want_msgs && stored >= want_records) {
        done = now;
        break;
      }
      if (now - changed > kIdleNs) {
        done = changed;
        r.note = "incomplete: " + std::to_string(static_cast<long long>(stored)) + " records";
        break;
      }
      usleep(10'000);  // polling another process's counters
    }
    r.delivered = static_cast<std::uint64_t>(msgs);
    r.seconds = static_cast<double>(done - start) / 1e9;
    r.cpu_us_per_msg = msgs > 0 ? (CpuSeconds(s.pid) - cpu0) * 1e6 / msgs : 0;
    r.peak_rss_mib = PeakRssMiB(s.pid);
    const double bad = Metric(m, "sluice_mqtt_messages_malformed_total") +
                       Metric(m, "sluice_mqtt_messages_unmatched_total") +
                       Metric(m, "sluice_records_dropped_total");
    if (bad > 0) r.note += " malformed+unmatched+dropped " + std::to_string(static_cast<long long>(bad));
    if (a_.verbose) {
      std::printf("    sluice: %.0f messages in, %.0f records stored, %.0f series\n", msgs, stored,
                  Metric(m, "sluice_store_series"));
    }
    s.Stop();
    fs::remove_all(d / "store");
    return r;
  }

  // The run with the median rate, and the spread (max - min) / median.
  static std::pair<Run, double> Median(std::vector<Run> runs) {
    std::sort(runs.begin(), runs.end(), [](const Run& x, const Run& y) { return x.rate() < y.rate(); });
    const Run& mid = runs[runs.size() / 2];
    const double spread = mid.rate() > 0 ? (runs.back().rate() - runs.front().rate()) / mid.rate() : 0;
    return {mid, spread};
  }

  void Row(const char* who, const Run& r, double spread, const Run* base) {
    std::printf("  %-16s %9llu %9.0f %6.0f%% %6s %10.1f %9.1f   %9.0f %8.1f  %s\n", who,
                static_cast<unsigned long long>(r.delivered), r.rate(), spread * 100,
                base && base->rate() > 0 ? Ratio(r.rate() / base->rate()).c_str() : "",
                r.cpu_us_per_msg, r.peak_rss_mib, r.pub.sent_per_second(),
                r.pub.cpu_us_per_message(), r.note.c_str());
  }

  int Main() {
    Start();
    std::printf("ingest_bench: %llu data messages per cell, %u devices, publishers: tools/mqtt_load, "
                "MQTT 5, %u connections, %u PUBLISH per write\n",
                static_cast<unsigned long long>(a_.count), a_.devices,
                std::min(a_.connections, a_.devices), a_.batch);
    std::printf("broker: Mosquitto (max_queued_messages 10000000, max_inflight_messages 100) on "
                "127.0.0.1:%d; %ld CPUs\n\n", broker_->port(), sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("median of %d runs per subscriber and cell, alternating; spread = (max - min) / median "
                "of the runs' msg/s\n\n", a_.repeat);
    std::printf("  %-16s %9s %9s %7s %6s %10s %9s   %9s %8s\n", "subscriber", "messages", "msg/s",
                "spread", "ratio", "CPU us/msg", "peak MiB", "pub msg/s", "pub us/m");
    int index = 0;
    std::vector<std::pair<std::string, double>> ratios;
    for (int q : a_.qos) {
      for (const auto& f : a_.formats) {
        Cell c{q, f};
        std::printf("%s (%s)\n", c.name().c_str(),
                    f == "json" ? "100-byte JSON, 4 fields" : "Sparkplug B NDATA, 4 metrics");
        std::fflush(stdout);
        std::vector<Run> bases, sluices;
        for (int r = 0; r < a_.repeat; ++r) {
          bases.push_back(Baseline(c));
          sluices.push_back(Sluice(c, index++));
          if (a_.verbose) {
            for (const auto* run : {&bases.back(), &sluices.back()}) {
              std::printf("    run %d %s: %llu messages, %.0f msg/s, %.1f CPU-us/msg %s\n", r + 1,
                          run == &bases.back() ? "paho" : "sluice",
                          static_cast<unsigned long long>(run->delivered), run->rate(),
                          run->cpu_us_per_msg, run->note.c_str());
              std::printf("      publishers: %s\n", mqtt_load::FormatReport(run->pub).c_str());
            }
          }
        }
        const auto [base, base_spread] = Median(bases);
        const auto [sl, sl_spread] = Median(sluices);
        Row("paho (baseline)", base, base_spread, nullptr);
        Row("sluice (durable)", sl, sl_spread, &base);
        std::fflush(stdout);
        ratios.emplace_back(c.name(), base.rate() > 0 ? sl.rate() / base.rate() : 0);
      }
    }
    std::printf("\nsluice/baseline:");
    for (const auto& [name, ratio] : ratios) std::printf("  %s %s", name.c_str(), Ratio(ratio).c_str());
    std::printf("  (target >= 0.90)\n");
    return 0;
  }

 private:
  static std::string Ratio(double x) {
    char b[16];
    std::snprintf(b, sizeof b, "%.2f", x);
    return b;
  }

  std::string SluiceToml(const Cell& c, const fs::path& d, int admin_port) const {
    std::ostringstream t;
    t << "[gateway]\nid = \"bench\"\n[log]\nlevel = \"warn\"\n"
      << "[store]\ndir = \"" << (d / "store").string() << "\"\n"
      << "wal_file_size = \"16MiB\"\nsegment_size = \"64MiB\"\n";
    if (c.format == "json") {
      t << "[[ingest.rule]]\ntopic = \"bench/{device}/telemetry\"\nformat = \"json\"\n"
        << "fields = [\"m0\", \"m1\", \"m2\", \"m3\"]\nseries = \"bench/{device}/{field}\"\n"
        << "timestamp = \"field:ts\"\n";
    } else {
      t << "[[ingest.rule]]\ntopic = \"spBv1.0/#\"\nformat = \"sparkplug_b\"\n";
    }
    t << "[[mqtt.broker]]\nuri = \"" << broker_->uri() << "\"\nqos = " << c.qos
      << "\nclient_id_prefix = \"bench-sluice\"\nclean_start = true\n"
      << "[admin]\nport = " << admin_port << "\n";
    return t.str();
  }

  Args a_;
  fs::path dir_;
  sensor_sim::SimOptions sim_;
  std::unique_ptr<testing::MosquittoBroker> broker_;
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) out.push_back(x);
  return out;
}

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(k + " needs a value");
      return argv[++i];
    };
    if (k == "--count") a.count = std::strtoull(next().c_str(), nullptr, 10);
    else if (k == "--devices") a.devices = static_cast<std::uint32_t>(std::atoi(next().c_str()));
    else if (k == "--connections") a.connections = static_cast<std::uint32_t>(std::atoi(next().c_str()));
    else if (k == "--batch") a.batch = static_cast<std::uint32_t>(std::atoi(next().c_str()));
    else if (k == "--qos") {
      a.qos.clear();
      for (const auto& q : Split(next())) a.qos.push_back(std::atoi(q.c_str()));
    } else if (k == "--formats") a.formats = Split(next());
    else if (k == "--repeat") a.repeat = std::atoi(next().c_str());
    else if (k == "--verbose") a.verbose = true;
    else Die("unknown argument " + k + "; see the comment atop bench/ingest_bench.cc");
  }
  if (a.count == 0 || a.devices == 0 || a.connections == 0 || a.repeat < 1) {
    Die("count, devices, connections and repeat must be > 0");
  }
  for (const auto& f : a.formats) {
    if (f != "json" && f != "sparkplug") Die("format '" + f + "': json or sparkplug");
  }
  signal(SIGPIPE, SIG_IGN);
  sluice::testing::TempDir dir("sluice-ingest-bench");
  Bench bench(a, dir.path());
  return bench.Main();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ingest_bench: %s\n", e.what());
    return 1;
  }
}
