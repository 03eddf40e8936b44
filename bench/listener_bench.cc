// listener_bench: Sluice's native MQTT endpoint against the broker path,
// the same publishers in the same run. (a) publishers -> Mosquitto ->
// `sluice run` subscribed to it (the broker path); (b) publishers ->
// `sluice run` with its endpoint on (acknowledging QoS 1 only once
// durable). Prints messages/s stored end to end, publish-to-acknowledgement
// latency p50/p99 as the publishers saw it (QoS 1; from Mosquitto on the
// broker path, from Sluice's durable PUBACK on the endpoint), server CPU
// microseconds per message (Mosquitto + Sluice, or Sluice alone), the
// publishers' own CPU, the ratio endpoint/broker and whether the issue's
// targets hold (endpoint >= 5x the broker path at QoS 1, p99 < 5 ms).
//
//   listener_bench [--count N] [--repeat R] [--qos 0,1] [--publishers 1,100]
//                  [--format json|raw] [--inflight I]
//                  [--endpoint-pipeline 'key = value; ...'] [--store 'key = value; ...']
//                  [--window W] [--batch B] [--devices D] [--verbose]
//
// Cells: QoS x publisher connections; per cell R runs (default 3) of each
// path, alternating, the median (by msg/s) reported. Every run starts a
// fresh `sluice run` (new store, same store settings on both paths),
// warms it up unmeasured (two messages per device, so that every series is
// registered: a durable registry write each, once in a store's life), then
// publishes N messages and ends when /metrics shows them all in and every
// record durably stored (or nothing stored for 5 s). Publishers: tools/mqtt_load in this
// process, MQTT 5, B PUBLISH per write (default 64), window W (default
// 1000) lowered to the server's Receive Maximum: 100 from Mosquitto
// (max_inflight_messages, as in ingest_bench); for the endpoint
// `receive_maximum` = I / publishers (default I = 512; see bench/README.md
// for why, and for the [pipeline] the endpoint runs use).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "mosquitto.h"
#include "mqtt_load/mqtt_load.h"
#include "sensor_sim/fleet.h"
#include "temp_dir.h"

namespace {

using namespace sluice;
using namespace sluice::bench;
namespace fs = std::filesystem;

constexpr std::int64_t kIdleNs = 5'000'000'000;  // nothing stored for this long: done
constexpr std::size_t kPayloadBytes = 100;

struct Args {
  std::uint64_t count = 500'000;  // messages per cell and run
  std::vector<int> qos = {0, 1};
  std::vector<std::uint32_t> publishers = {1, 100};  // publisher connections
  std::string format = "json";  // json (4 fields, 4 records per message) | raw (one bytes record)
  std::uint32_t devices = 100;
  std::uint32_t batch = 64;
  std::uint32_t window = 1000;
  std::uint32_t inflight = 512;  // endpoint: unacknowledged QoS 1 messages, all publishers together
  // [pipeline] keys for the endpoint runs, ';'-separated TOML lines (empty:
  // the defaults, which the broker path uses). The linger is added to the
  // publish-to-PUBACK latency of every batch that does not fill; see
  // bench/README.md.
  std::string endpoint_pipeline = "batch_linger = \"500us\"";
  // More [store] keys for both paths, ';'-separated TOML lines: for
  // instance open_blocks_bytes = "2MiB", to see the process's memory with
  // almost no open blocks.
  std::string store;
  int repeat = 3;
  bool verbose = false;
};

enum class Path { kBroker, kEndpoint };
const char* PathName(Path p) { return p == Path::kBroker ? "broker" : "endpoint"; }

struct Cell {
  int qos = 1;
  std::uint32_t publishers = 1;
  std::string name() const {
    return "QoS " + std::to_string(qos) + ", " + std::to_string(publishers) +
           (publishers == 1 ? " publisher" : " publishers");
  }
};

struct Run {
  std::uint64_t messages = 0;  // in at Sluice
  double seconds = 0;          // first PUBLISH to the last record stored
  double sluice_cpu_s = 0;
  double broker_cpu_s = 0;     // Mosquitto, broker path only
  double sluice_rss_mib = 0;     // VmHWM
  double rss_less_open_mib = 0;  // sampled: the most of VmRSS less the open blocks' DRAM
  double open_blocks_mib = 0;    // the open blocks' DRAM at that sample
  double cpu_pressure = -1;    // share of the run in which some task on the machine waited for a CPU
  std::uint32_t receive_maximum = 0;  // endpoint
  double reads = 0, writes = 0, acks = 0, paused = 0;  // endpoint socket counters
  mqtt_load::LoadReport pub;
  std::string note;

  double rate() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }
  double PerMsgUs(double cpu_s) const {
    return messages > 0 ? cpu_s * 1e6 / static_cast<double>(messages) : 0;
  }
};

// Raw payloads of exactly 100 bytes, stored as one opaque `bytes` record:
// "<ms>,<device>,<sequence>," padded with '.', on bench/dev-<d>/telemetry.
mqtt_load::MessageGenerator RawGenerator(std::uint32_t devices, std::uint32_t n) {
  return [devices, n](std::uint32_t c, std::uint64_t seq, mqtt_load::LoadMessage& m) {
    const std::uint32_t k = (devices - c + n - 1) / n;
    const auto device = static_cast<std::uint32_t>(c + (seq % k) * n);
    char buf[kPayloadBytes + 1];
    int len = std::snprintf(buf, sizeof buf, "%lld,%u,%llu,",
                            static_cast<long long>(WallMs()), device,
                            static_cast<unsigned long long>(seq));
    std::fill(buf + len, buf + kPayloadBytes, '.');
    m.payload.assign(buf, kPayloadBytes);
    m.topic = "bench/dev-" + std::to_string(device) + "/telemetry";
  };
}

class Bench {
 public:
  Bench(Args args, fs::path dir) : a_(std::move(args)), dir_(std::move(dir)) {}

  void Start() {
    testing::MosquittoOptions mo;
    // As ingest_bench: queues deep enough that a lagging subscriber loses
    // nothing; Receive Maximum 100 for each publisher connection.
    mo.extra_config = "max_queued_messages 10000000\nmax_queued_bytes 0\nmax_inflight_messages 100\n";
    auto b = testing::MosquittoBroker::Start(dir_ / "broker", mo);
    if (!b.ok()) Die(b.status().ToString());
    broker_ = std::move(*b);
    broker_pid_ = FindChild("mosquitto");
    if (broker_pid_ <= 0) Die("cannot find the mosquitto process among this process's children");
  }

  std::uint32_t ReceiveMaximum(const Cell& c) const {
    return std::clamp<std::uint32_t>(a_.inflight / c.publishers, 1, 65535);
  }

  Run Once(Path path, const Cell& cell, int index) {
    const fs::path d = dir_ / ("sluice-" + std::to_string(index));
    fs::create_directories(d);
    auto admin = testing::PickFreePort();
    auto port = testing::PickFreePort();
    if (!admin.ok() || !port.ok()) Die("no free port");
    const bool broker = path == Path::kBroker;
    Child s = StartSluice(
        SLUICE_BIN, d, SluiceToml(path, cell, d, *admin, *port), *admin,
        [broker](const std::string& m) {
          // The admin server starts after the endpoint is listening.
          return broker ? Metric(m, "sluice_mqtt_connections") >= 1 : !m.empty();
        },
        broker ? "sluice did not connect to the broker" : "sluice did not start");
    MemorySampler memory(s.pid, *admin);
    Run r;
    r.receive_maximum = broker ? 0 : ReceiveMaximum(cell);
    mqtt_load::LoadOptions o;
    o.port = static_cast<std::uint16_t>(broker ? broker_->port() : *port);
    o.connections = cell.publishers;
    o.batch = a_.batch;
    o.window = a_.window;
    o.qos = cell.qos;
    o.client_id_prefix = "bench-pub";
    const auto gen = a_.format == "json" ? JsonGenerator(a_.devices, o.connections)
                                         : RawGenerator(a_.devices, o.connections);
    const double per_msg = a_.format == "json" ? kJsonFields : 1;
    // Warm-up, not measured: every device's series registered (one durable
    // registry write each, a one-time cost per series), connections made once.
    o.count = 2 * std::max(a_.devices, cell.publishers);
    auto warm = mqtt_load::RunLoad(o, gen);
    if (!warm.ok()) Die(std::string(PathName(path)) + " warm-up: " + warm.status().ToString());
    const auto warm_msgs = static_cast<double>(o.count);
    const Stored warmed = WaitStored(*admin, warm_msgs, warm_msgs * per_msg, kIdleNs);
    if (!warmed.complete) {
      Die(std::string(PathName(path)) + " warm-up: not all stored");
    }

    const double sluice0 = CpuSeconds(s.pid), broker0 = CpuSeconds(broker_pid_);
    const double psi0 = CpuPressureUs();
    o.count = a_.count;
    const std::int64_t start = MonotonicNs();
    auto pub = mqtt_load::RunLoad(o, gen);
    if (!pub.ok()) Die(std::string(PathName(path)) + " publishers: " + pub.status().ToString());
    r.pub = *pub;
    const auto first_publish = start + static_cast<std::int64_t>(r.pub.connect_seconds * 1e9);
    const Stored w = WaitStored(*admin, warm_msgs + static_cast<double>(a_.count),
                                (warm_msgs + static_cast<double>(a_.count)) * per_msg, kIdleNs);
    r.sluice_cpu_s = CpuSeconds(s.pid) - sluice0;
    const double psi1 = CpuPressureUs();
    const auto psi_ns = static_cast<double>(MonotonicNs() - start);
    if (psi0 >= 0 && psi1 >= psi0) r.cpu_pressure = (psi1 - psi0) * 1e3 / psi_ns;
    if (broker) r.broker_cpu_s = CpuSeconds(broker_pid_) - broker0;
    r.sluice_rss_mib = PeakRssMiB(s.pid);
    memory.Stop();
    r.rss_less_open_mib = memory.peak_rss_less_open_blocks_mib();
    r.open_blocks_mib = memory.open_blocks_at_peak_mib();
    r.messages = static_cast<std::uint64_t>(std::max(0.0, w.messages - warm_msgs));
    r.seconds = static_cast<double>(w.done_ns - first_publish) / 1e9;
    if (!w.complete) {
      r.note = "incomplete: " + std::to_string(static_cast<long long>(w.records - warm_msgs * per_msg)) +
               " records";
    }
    const double bad = Metric(w.metrics, "sluice_mqtt_messages_malformed_total") +
                       Metric(w.metrics, "sluice_mqtt_messages_unmatched_total") +
                       Metric(w.metrics, "sluice_records_dropped_total");
    if (bad > 0) r.note += " malformed+unmatched+dropped " + std::to_string(static_cast<long long>(bad));
    if (r.pub.errors > 0) r.note += " negative acks " + std::to_string(r.pub.errors);
    if (!broker) {
      auto delta = [&](const char* name) { return Metric(w.metrics, name) - Metric(warmed.metrics, name); };
      r.reads = delta("sluice_endpoint_socket_reads_total");
      r.writes = delta("sluice_endpoint_socket_writes_total");
      r.acks = delta("sluice_endpoint_acks_total");
      r.paused = delta("sluice_endpoint_paused_reads_total");
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

  static std::string Ms(const Run& r, double us) {
    return r.pub.latency.samples > 0 ? Fixed(us / 1000, 2) : "-";
  }

  void Row(Path path, const Run& r, double spread) {
    const bool broker = path == Path::kBroker;
    const double total = r.PerMsgUs(r.sluice_cpu_s + r.broker_cpu_s);
    std::printf("  %-9s %9llu %8.0f %5.0f%% %8s %8s  %6s %6.1f %6.1f  %9.0f %7.2f %5s  %s\n",
                PathName(path), static_cast<unsigned long long>(r.messages), r.rate(),
                spread * 100, Ms(r, r.pub.latency.p50_us).c_str(), Ms(r, r.pub.latency.p99_us).c_str(),
                broker ? Fixed(r.PerMsgUs(r.broker_cpu_s), 1).c_str() : "-",
                r.PerMsgUs(r.sluice_cpu_s), total, r.pub.sent_per_second(),
                r.pub.cpu_us_per_message(),
                r.cpu_pressure >= 0 ? (Fixed(r.cpu_pressure * 100, 0) + "%").c_str() : "-",
                r.note.c_str());
  }

  void EndpointLine(const Run& r) {
    const double m = r.messages > 0 ? static_cast<double>(r.messages) : 1;
    std::printf("  endpoint: receive_maximum %u; per message %.3f socket reads, %.3f writes; "
                "%.1f PUBACKs per write; %.0f paused reads\n",
                r.receive_maximum, r.reads / m, r.writes / m,
                r.writes > 0 ? r.acks / r.writes : 0.0, r.paused);
  }

  void Verbose(Path path, int run, const Run& r) {
    if (!a_.verbose) return;
    std::printf("    run %d %s: %llu messages, %.0f msg/s, CPU-us/msg mosquitto %.1f sluice %.1f, "
                "sluice peak RSS %.1f MiB, less open blocks %.1f MiB (open blocks %.1f MiB) %s\n",
                run, PathName(path), static_cast<unsigned long long>(r.messages), r.rate(),
                r.PerMsgUs(r.broker_cpu_s), r.PerMsgUs(r.sluice_cpu_s), r.sluice_rss_mib,
                r.rss_less_open_mib, r.open_blocks_mib,
                r.note.c_str());
    std::printf("      publishers: %s\n", mqtt_load::FormatReport(r.pub).c_str());
    if (path == Path::kEndpoint) {
      std::printf("    ");
      EndpointLine(r);
    }
  }

  int Main() {
    Start();
    std::printf("listener_bench: %llu messages per cell and run, %s, %u devices; publishers: "
                "tools/mqtt_load, MQTT 5, %u PUBLISH per write, window %u (lowered to the "
                "server's Receive Maximum)\n",
                static_cast<unsigned long long>(a_.count),
                a_.format == "json" ? "100-byte JSON of 4 fields (4 records per message)"
                                    : "100-byte raw payloads (one bytes record per message)",
                a_.devices, a_.batch, a_.window);
    std::printf("broker path: publishers -> Mosquitto (max_inflight_messages 100) on 127.0.0.1:%d "
                "-> sluice run (one subscriber connection, default [pipeline])\n", broker_->port());
    std::printf("endpoint:    publishers -> sluice run [endpoint], PUBACK after durability, "
                "receive_maximum = %u / publishers, %s\n", a_.inflight,
                a_.endpoint_pipeline.empty() ? "default [pipeline]"
                                             : ("[pipeline] " + a_.endpoint_pipeline).c_str());
    std::printf("same [store] for both: %s; %ld CPUs\n\n", StoreSettings().c_str(),
                sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("median of %d runs per path and cell, alternating; msg/s: first PUBLISH to the last "
                "record stored; p50/p99: publish to PUBACK (QoS 1); mosq, sluice, total: server CPU-us "
                "per message; pub: the publishers; psi: share of the run in which some task on the "
                "machine waited for a CPU (/proc/pressure/cpu)\n\n",
                a_.repeat);
    std::printf("  %-9s %9s %8s %6s %8s %8s  %6s %6s %6s  %9s %7s %5s\n", "path", "messages", "msg/s",
                "spread", "p50 ms", "p99 ms", "mosq", "sluice", "total", "pub msg/s", "pub us", "psi");
    int index = 0;
    struct CellResult {
      Cell cell;
      Run broker, endpoint;
      double worst_rss_less_open_mib = 0;  // of every run of the cell, both paths
    };
    std::vector<CellResult> results;
    for (int q : a_.qos) {
      for (std::uint32_t p : a_.publishers) {
        const Cell c{q, p};
        std::printf("%s\n", c.name().c_str());
        std::fflush(stdout);
        std::vector<Run> brokers, endpoints;
        for (int r = 0; r < a_.repeat; ++r) {
          brokers.push_back(Once(Path::kBroker, c, index++));
          Verbose(Path::kBroker, r + 1, brokers.back());
          endpoints.push_back(Once(Path::kEndpoint, c, index++));
          Verbose(Path::kEndpoint, r + 1, endpoints.back());
        }
        const auto [b, b_spread] = Median(brokers);
        const auto [e, e_spread] = Median(endpoints);
        Row(Path::kBroker, b, b_spread);
        Row(Path::kEndpoint, e, e_spread);
        EndpointLine(e);
        std::printf("  endpoint/broker %s\n", Fixed(Ratio(e, b), 2).c_str());
        std::fflush(stdout);
        double worst = 0;
        for (const auto* runs : {&brokers, &endpoints}) {
          for (const Run& run : *runs) worst = std::max(worst, run.rss_less_open_mib);
        }
        results.push_back({c, b, e, worst});
      }
    }
    std::printf("\nendpoint/broker msg/s:");
    for (const auto& r : results) {
      std::printf("  %s %s", r.cell.name().c_str(), Fixed(Ratio(r.endpoint, r.broker), 2).c_str());
    }
    std::printf("\ntargets (QoS 1, acknowledged after durability):");
    for (const auto& r : results) {
      if (r.cell.qos != 1) continue;
      const double ratio = Ratio(r.endpoint, r.broker);
      const double p99_ms = r.endpoint.pub.latency.p99_us / 1000;
      std::printf("\n  %s: endpoint/broker %s (>= 5: %s), endpoint p99 %s ms (< 5 ms: %s)",
                  r.cell.name().c_str(), Fixed(ratio, 2).c_str(), ratio >= 5 ? "met" : "NOT met",
                  Fixed(p99_ms, 2).c_str(), p99_ms < 5 ? "met" : "NOT met");
    }
    // Issue 15's footprint: at 100,000 series (4 a device), the whole
    // process at most 64 MiB besides its open blocks, in every run of
    // either path.
    if (4ull * a_.devices >= 100'000) {
      double worst = 0;
      for (const auto& r : results) worst = std::max(worst, r.worst_rss_less_open_mib);
      std::printf("\n  sluice run RSS less open blocks at %u series, worst run: %s MiB "
                  "(<= 64 MiB: %s)",
                  4 * a_.devices, Fixed(worst, 1).c_str(), worst <= 64 ? "met" : "NOT met");
    }
    std::printf("\n");
    return 0;
  }

 private:
  static double Ratio(const Run& e, const Run& b) { return b.rate() > 0 ? e.rate() / b.rate() : 0; }

  std::string StoreSettings() const {
    return "wal_file_size 16MiB, segment_size 64MiB" + (a_.store.empty() ? "" : "; " + a_.store);
  }

  std::string SluiceToml(Path path, const Cell& c, const fs::path& d, int admin_port,
                         int endpoint_port) const {
    std::ostringstream t;
    t << "[gateway]\nid = \"bench\"\n[log]\nlevel = \"warn\"\n"
      << "[store]\ndir = \"" << (d / "store").string() << "\"\n"
      << "wal_file_size = \"16MiB\"\nsegment_size = \"64MiB\"\n";
    for (const auto& kv : Split(a_.store, ';')) t << kv << "\n";
    if (a_.format == "json") {
      t << "[[ingest.rule]]\ntopic = \"bench/{device}/telemetry\"\nformat = \"json\"\n"
        << "fields = [\"m0\", \"m1\", \"m2\", \"m3\"]\nseries = \"bench/{device}/{field}\"\n"
        << "timestamp = \"field:ts\"\n";
    } else {
      t << "[[ingest.rule]]\ntopic = \"bench/{device}/telemetry\"\nformat = \"raw\"\n"
        << "type = \"bytes\"\nseries = \"bench/{device}/raw\"\n";
    }
    if (path == Path::kBroker) {
      t << "[[mqtt.broker]]\nuri = \"" << broker_->uri() << "\"\nqos = " << c.qos
        << "\nclient_id_prefix = \"bench-sluice\"\nclean_start = true\n";
    } else {
      if (!a_.endpoint_pipeline.empty()) {
        t << "[pipeline]\n";
        for (const auto& kv : Split(a_.endpoint_pipeline, ';')) t << kv << "\n";
      }
      t << "[endpoint]\nenabled = true\naddress = \"127.0.0.1\"\nport = " << endpoint_port
        << "\nreceive_maximum = " << ReceiveMaximum(c) << "\n";
    }
    t << "[admin]\nport = " << admin_port << "\n";
    return t.str();
  }

  Args a_;
  fs::path dir_;
  std::unique_ptr<testing::MosquittoBroker> broker_;
  pid_t broker_pid_ = -1;
};

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(k + " needs a value");
      return argv[++i];
    };
    auto u32 = [&]() { return static_cast<std::uint32_t>(std::strtoul(next().c_str(), nullptr, 10)); };
    if (k == "--count") a.count = std::strtoull(next().c_str(), nullptr, 10);
    else if (k == "--repeat") a.repeat = std::atoi(next().c_str());
    else if (k == "--qos") {
      a.qos.clear();
      for (const auto& q : Split(next())) a.qos.push_back(std::atoi(q.c_str()));
    } else if (k == "--publishers") {
      a.publishers.clear();
      for (const auto& p : Split(next())) a.publishers.push_back(static_cast<std::uint32_t>(std::atoi(p.c_str())));
    } else if (k == "--format") a.format = next();
    else if (k == "--inflight") a.inflight = u32();
    else if (k == "--endpoint-pipeline") a.endpoint_pipeline = next();
    else if (k == "--store") a.store = next();
    else if (k == "--window") a.window = u32();
    else if (k == "--batch") a.batch = u32();
    else if (k == "--devices") a.devices = u32();
    else if (k == "--verbose") a.verbose = true;
    else Die("unknown argument " + k + "; see the comment atop bench/listener_bench.cc");
  }
  if (a.count == 0 || a.devices == 0 || a.repeat < 1 || a.inflight == 0 || a.qos.empty() ||
      a.publishers.empty()) {
    Die("count, devices, repeat and inflight must be > 0; --qos and --publishers non-empty");
  }
  for (int q : a.qos) {
    if (q != 0 && q != 1) Die("--qos: 0 or 1");
  }
  for (auto p : a.publishers) {
    if (p < 1 || p > 1000) Die("--publishers: 1 to 1000 each");
  }
  if (a.format != "json" && a.format != "raw") Die("--format: json or raw");
  signal(SIGPIPE, SIG_IGN);
  sluice::testing::TempDir dir("sluice-listener-bench");
  Bench bench(a, dir.path());
  return bench.Main();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "listener_bench: %s\n", e.what());
    return 1;
  }
}
