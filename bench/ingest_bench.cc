// ingest_bench: MQTT ingest through Mosquitto, Sluice storing durably
// against a plain Paho C++ subscriber that only counts (the baseline), with
// the same publishers in the same run. Prints messages/s for both, the ratio
// sluice/baseline, CPU microseconds per message of each subscriber process
// (utime + stime from /proc/<pid>/stat) and its peak RSS (VmHWM).
//
//   ingest_bench [--count N] [--repeat R] [--devices D] [--connections C]
//                [--batch B] [--qos 0,1] [--formats json,sparkplug] [--rate M]
//                [--verbose]
//
// --rate M offers M messages/s in all (default 0: as fast as the publishers
// can), to compare the subscribers below saturation: at the rates a broker
// reaches with one-message-per-call publishers, does each keep up, and at
// what CPU cost per message.
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
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "mosquitto.h"
#include "mqtt_load/mqtt_load.h"
#include "sensor_sim/fleet.h"
#include "sensor_sim/wire_engine.h"
#include "temp_dir.h"

namespace {

using namespace sluice;
namespace fs = std::filesystem;
using namespace sluice::bench;
constexpr std::uint32_t kMetrics = kJsonFields;
constexpr std::int64_t kIdleNs = 5'000'000'000;     // nothing arrives for this long: done

struct Args {
  std::uint64_t count = 200'000;  // data messages per cell and subscriber
  std::uint32_t devices = 100;
  std::uint32_t connections = 4;
  std::uint32_t batch = 64;
  double rate = 0;  // messages/s offered in all; 0: as fast as possible
  std::vector<int> qos = {0, 1};
  std::vector<std::string> formats = {"json", "sparkplug"};
  int repeat = 3;  // runs of each subscriber per cell, alternating; the median is reported
  bool verbose = false;
};

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
    o.rate = a_.rate;
    o.qos = cell.qos;
    o.client_id_prefix = "bench-pub";
    const bool spb = cell.format == "sparkplug";
    o.count = a_.count + (spb ? a_.devices : 0);
    sim_.format = spb ? "sparkplug" : "json";
    sensor_sim::Fleet fleet(sim_, {});
    auto gen = spb ? sensor_sim::FleetGenerator(sim_, fleet, o.connections)
                   : JsonGenerator(a_.devices, o.connections);
    *start_ns = MonotonicNs();
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
    if (sub.ReadLine(MonotonicNs() + kReadyNs) != "ready") Die("paho_count_sub did not subscribe");
    Run r;
    const double cpu0 = CpuSeconds(sub.pid);
    std::int64_t start = 0;
    r.pub = Publish(cell, &start);
    const std::string done = sub.ReadLine(MonotonicNs() + 600'000'000'000);
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
    Child s = StartSluice(
        SLUICE_BIN, d, SluiceToml(cell, d, *port), *port,
        [](const std::string& m) { return Metric(m, "sluice_mqtt_connections") >= 1; },
        "sluice did not connect to the broker");
    Run r;
    const double cpu0 = CpuSeconds(s.pid);
    std::int64_t start = 0;
    r.pub = Publish(cell, &start);
    // Done when every message is in and every data record durably stored.
    const Stored w = WaitStored(*port, static_cast<double>(Messages(cell)),
                                static_cast<double>(a_.count * kMetrics), kIdleNs);
    const double msgs = w.messages, stored = w.records;
    const std::string& m = w.metrics;
    if (!w.complete) r.note = "incomplete: " + std::to_string(static_cast<long long>(stored)) + " records";
    const std::int64_t done = w.done_ns;
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
                "MQTT 5, %u connections, %u PUBLISH per write, %s\n",
                static_cast<unsigned long long>(a_.count), a_.devices,
                std::min(a_.connections, a_.devices), a_.batch,
                a_.rate > 0 ? ("offering " + Fixed(a_.rate, 0) + " msg/s").c_str()
                            : "as fast as they can");
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
  static std::string Ratio(double x) { return Fixed(x, 2); }

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
    else if (k == "--rate") a.rate = std::strtod(next().c_str(), nullptr);
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
