#include "sensor_sim.h"

#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <mqtt/async_client.h>

#include "sparkplug_b.pb.h"

namespace sluice::sensor_sim {
namespace {

using Clock = std::chrono::steady_clock;

// Numeric columns of a CSV file (',' or ';' separated, one header row).
struct Dataset {
  std::vector<std::vector<double>> columns;
  std::size_t rows() const { return columns.empty() ? 0 : columns[0].size(); }
};

Result<Dataset> LoadDataset(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("dataset " + path + ": cannot open");
  std::string header;
  std::getline(in, header);
  const char sep = header.find(';') != std::string::npos ? ';' : ',';
  std::vector<std::vector<double>> cols;
  std::vector<bool> numeric;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, sep)) cells.push_back(cell);
    if (cols.empty()) {
      cols.resize(cells.size());
      numeric.assign(cells.size(), true);
    }
    for (std::size_t c = 0; c < cells.size() && c < cols.size(); ++c) {
      char* end = nullptr;
      const double v = std::strtod(cells[c].c_str(), &end);
      if (end == cells[c].c_str() || *end != '\0') numeric[c] = false;
      cols[c].push_back(v);
    }
  }
  Dataset d;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    if (numeric[c] && !cols[c].empty()) d.columns.push_back(std::move(cols[c]));
  }
  if (d.columns.empty()) return InvalidArgument("dataset " + path + ": no numeric column");
  return d;
}

class Fleet {
 public:
  Fleet(const SimOptions& o, Dataset data) : o_(o), data_(std::move(data)), seq_(o.devices, 0) {}

  double Value(std::uint32_t device, std::uint32_t metric, std::uint64_t tick) const {
    if (data_.rows() > 0) {
      const auto& col = data_.columns[metric % data_.columns.size()];
      return col[(tick + device * 7919ull) % col.size()];
    }
    return 20.0 + device + metric * 0.5 + std::sin(static_cast<double>(tick) / 10.0 + metric);
  }

  std::string Device(std::uint32_t d) const { return "dev-" + std::to_string(d); }

  // The JSON message of `device` at `tick`.
  std::pair<std::string, std::string> Json(std::uint32_t device, std::uint64_t tick,
                                           std::int64_t ms) const {
    std::string p = "{\"ts\":" + std::to_string(ms);
    char buf[64];
    for (std::uint32_t m = 0; m < o_.metrics; ++m) {
      std::snprintf(buf, sizeof buf, ",\"m%u\":%.17g", m, Value(device, m, tick));
      p += buf;
    }
    p += "}";
    return {o_.topic_prefix + "/" + Device(device) + "/telemetry", p};
  }

  std::pair<std::string, std::string> Birth(std::uint32_t device, std::int64_t ms) {
    sparkplug::Payload p;
    p.set_timestamp(static_cast<std::uint64_t>(ms));
    p.set_seq(0);
    seq_[device] = 1;
    auto* bd = p.add_metrics();
    bd->set_name("bdSeq");
    bd->set_datatype(sparkplug::Int64);
    bd->set_long_value(0);
    for (std::uint32_t m = 0; m < o_.metrics; ++m) {
      auto* x = p.add_metrics();
      x->set_name("m" + std::to_string(m));
      x->set_alias(m + 1);
      x->set_datatype(sparkplug::Double);
      x->set_double_value(Value(device, m, 0));
    }
    return {"spBv1.0/" + o_.group + "/NBIRTH/" + Device(device), p.SerializeAsString()};
  }

  std::pair<std::string, std::string> Data(std::uint32_t device, std::uint64_t tick,
                                           std::int64_t ms) {
    sparkplug::Payload p;
    p.set_timestamp(static_cast<std::uint64_t>(ms));
    p.set_seq(seq_[device]);
    seq_[device] = (seq_[device] + 1) % 256;
    for (std::uint32_t m = 0; m < o_.metrics; ++m) {
      auto* x = p.add_metrics();
      x->set_alias(m + 1);
      x->set_timestamp(static_cast<std::uint64_t>(ms));
      x->set_double_value(Value(device, m, tick));
    }
    return {"spBv1.0/" + o_.group + "/NDATA/" + Device(device), p.SerializeAsString()};
  }

 private:
  const SimOptions& o_;
  Dataset data_;
  std::vector<std::uint32_t> seq_;
};

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void AddSimOptions(CLI::App& app, SimOptions& o) {
  app.add_option("--uri", o.uri, "Broker, tcp://host:port")->capture_default_str();
  app.add_option("--client-id", o.client_id, "MQTT client id")->capture_default_str();
  app.add_option("--mqtt-version", o.mqtt_version, "5 or 3.1.1")->capture_default_str();
  app.add_option("--format", o.format, "json or sparkplug")->capture_default_str();
  app.add_option("--devices", o.devices, "Simulated devices")->capture_default_str();
  app.add_option("--metrics", o.metrics, "Metrics per device")->capture_default_str();
  app.add_option("--rate", o.rate, "Messages per second, whole fleet; 0: unthrottled")
      ->capture_default_str();
  app.add_option("--count", o.count, "Stop after this many messages; 0: no limit")
      ->capture_default_str();
  app.add_option("--duration", o.duration_s, "Stop after this many seconds; 0: no limit")
      ->capture_default_str();
  app.add_option("--qos", o.qos, "0, 1 or 2")->capture_default_str();
  app.add_option("--topic-prefix", o.topic_prefix, "JSON topic prefix")->capture_default_str();
  app.add_option("--group", o.group, "Sparkplug group id")->capture_default_str();
  app.add_option("--dataset", o.dataset, "CSV file whose numeric columns are replayed");
  app.add_option("--window", o.window, "QoS 1/2 messages awaiting ack at most")
      ->capture_default_str();
  app.add_flag("--quiet", o.quiet, "Print only the summary");
}

Result<SimReport> RunSimulation(const SimOptions& o, const std::atomic<bool>* stop) {
  if (o.format != "json" && o.format != "sparkplug") {
    return InvalidArgument("format: '" + o.format + "'; allowed: json, sparkplug");
  }
  if (o.devices == 0 || o.metrics == 0 || o.qos < 0 || o.qos > 2 || o.window == 0) {
    return InvalidArgument("devices, metrics and window must be > 0, qos 0..2");
  }
  Dataset data;
  if (!o.dataset.empty()) {
    auto d = LoadDataset(o.dataset);
    if (!d.ok()) return d.status();
    data = std::move(*d);
  }
  Fleet fleet(o, std::move(data));
  const int version = o.mqtt_version == "3.1.1" ? MQTTVERSION_3_1_1 : MQTTVERSION_5;
  SimReport report;
  const auto t0 = Clock::now();
  try {
    mqtt::async_client client(o.uri, o.client_id, mqtt::create_options(version));
    auto opts = mqtt::connect_options_builder()
                    .mqtt_version(version)
                    .clean_start(true)
                    .max_inflight(static_cast<int>(std::min<std::uint32_t>(o.window, 65535)))
                    .finalize();
    if (version != MQTTVERSION_5) opts.set_clean_session(true);
    client.connect(opts)->wait();
    std::deque<mqtt::delivery_token_ptr> pending;
    auto send = [&](const std::pair<std::string, std::string>& m) {
      while (o.qos > 0 && pending.size() >= o.window) {
        pending.front()->wait();
        pending.pop_front();
        ++report.acked;
      }
      auto tok = client.publish(m.first, m.second.data(), m.second.size(), o.qos, false);
      ++report.published;
      if (o.qos > 0) pending.push_back(std::move(tok));
    };
    if (o.format == "sparkplug") {
      for (std::uint32_t d = 0; d < o.devices; ++d) send(fleet.Birth(d, NowMs()));
    }
    const auto period = o.rate > 0 ? std::chrono::duration<double>(1.0 / o.rate)
                                   : std::chrono::duration<double>(0);
    auto next = Clock::now();
    std::uint64_t tick = 1;
    std::uint64_t sent = 0;
    auto last_print = Clock::now();
    std::uint64_t last_published = 0;
    for (;;) {
      if (stop && stop->load()) break;
      if (o.count > 0 && sent >= o.count) break;
      if (o.duration_s > 0 &&
          std::chrono::duration<double>(Clock::now() - t0).count() >= o.duration_s) {
        break;
      }
      const std::uint32_t device = static_cast<std::uint32_t>(sent % o.devices);
      const std::int64_t ms = NowMs();
      send(o.format == "json" ? fleet.Json(device, tick, ms) : fleet.Data(device, tick, ms));
      ++sent;
      if (device + 1 == o.devices) ++tick;
      if (o.rate > 0) {
        next += std::chrono::duration_cast<Clock::duration>(period);
        std::this_thread::sleep_until(next);  // pacing, not waiting for an event
      }
      if (!o.quiet && Clock::now() - last_print >= std::chrono::seconds(1)) {
        std::printf("sim: %llu published (%llu/s), %llu acked\n",
                    static_cast<unsigned long long>(report.published),
                    static_cast<unsigned long long>(report.published - last_published),
                    static_cast<unsigned long long>(report.acked));
        std::fflush(stdout);
        last_print = Clock::now();
        last_published = report.published;
      }
    }
    for (auto& t : pending) {
      t->wait();
      ++report.acked;
    }
    if (o.qos == 0) report.acked = report.published;
    client.disconnect()->wait();
  } catch (const mqtt::exception& e) {
    return Unavailable(std::string("mqtt: ") + e.what());
  } catch (const std::exception& e) {
    return Unavailable(e.what());
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return report;
}

int RunSimulationMain(const SimOptions& options) {
  static std::atomic<bool> stop{false};
  signal(SIGINT, [](int) { stop.store(true); });
  signal(SIGTERM, [](int) { stop.store(true); });
  auto r = RunSimulation(options, &stop);
  if (!r.ok()) {
    std::fprintf(stderr, "sluice simulate: %s\n", r.status().ToString().c_str());
    return 1;
  }
  const double s = r->seconds > 0 ? r->seconds : 1;
  std::printf("sim: %llu messages published, %llu acknowledged in %.2f s: %.0f msg/s published, "
              "%.0f msg/s acknowledged (%u devices x %u metrics, %s, QoS %d)\n",
              static_cast<unsigned long long>(r->published),
              static_cast<unsigned long long>(r->acked), r->seconds, r->published / s,
              r->acked / s, options.devices, options.metrics, options.format.c_str(), options.qos);
  return 0;
}

}  // namespace sluice::sensor_sim
