#include "sensor_sim/sensor_sim.h"

#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <utility>
#include <thread>

#include <CLI/CLI.hpp>
#include <mqtt/async_client.h>

#include "base/clock.h"
#include "base/paho_library.h"
#include "sensor_sim/fleet.h"
#include "sensor_sim/replay.h"
#include "sensor_sim/wire_engine.h"

namespace sluice::sensor_sim {
namespace {

using Clock = std::chrono::steady_clock;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

using Message = std::pair<std::string, std::string>;

// One Paho C++ connection with `o`'s settings: runs body(send, report, t0),
// where send publishes one message and keeps at most o.window awaiting their ack, then
// waits for every ack and disconnects. Paho exceptions become a Status.
template <typename Body>
Result<SimReport> WithPaho(const SimOptions& o, Body&& body) {
  HoldPahoLibrary();  // tests run many simulations in one process
  const int version = o.mqtt_version == "3.1.1" ? MQTTVERSION_3_1_1 : MQTTVERSION_5;
  SimReport report;
  const auto t0 = Clock::now();
  const double cpu0 = CpuSeconds();
  try {
    // Paho C counts every queued publish against max_buffered_messages
    // (default 100), connected or not: allow the whole window.
    const int buffered = static_cast<int>(std::min<std::uint32_t>(o.window, 65535)) + 100;
    mqtt::async_client client(o.uri, o.client_id, mqtt::create_options(version, buffered));
    auto opts = mqtt::connect_options_builder()
                    .mqtt_version(version)
                    .clean_start(true)
                    .max_inflight(static_cast<int>(std::min<std::uint32_t>(o.window, 65535)))
                    .finalize();
    if (version != MQTTVERSION_5) opts.set_clean_session(true);
    client.connect(opts)->wait();
    std::deque<mqtt::delivery_token_ptr> pending;
    auto send = [&](const Message& m) {
      while (o.qos > 0 && pending.size() >= o.window) {
        pending.front()->wait();
        pending.pop_front();
        ++report.acked;
      }
      auto tok = client.publish(m.first, m.second.data(), m.second.size(), o.qos, false);
      ++report.published;
      if (o.qos > 0) pending.push_back(std::move(tok));
    };
    body(send, report, t0);
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
  report.cpu_seconds = CpuSeconds() - cpu0;
  return report;
}

bool Expired(const SimOptions& o, Clock::time_point t0) {
  return o.duration_s > 0 &&
         std::chrono::duration<double>(Clock::now() - t0).count() >= o.duration_s;
}

// The Paho C++ engine: one connection, one publish() per message.
Result<SimReport> RunPahoSimulation(const SimOptions& o, Fleet& fleet,
                                    const std::atomic<bool>* stop) {
  return WithPaho(o, [&](auto& send, SimReport& report, Clock::time_point t0) {
    if (o.format == "sparkplug") {
      for (std::uint32_t d = 0; d < o.devices; ++d) send(fleet.Birth(d, WallMs()));
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
      if (Expired(o, t0)) break;
      const std::uint32_t device = static_cast<std::uint32_t>(sent % o.devices);
      const std::int64_t ms = WallMs();
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
  });
}

// One sensor replaying a file at its own pace (replay.h), over Paho.
Result<SimReport> RunPahoReplay(const SimOptions& o, const ReplayData& data,
                                const std::atomic<bool>* stop) {
  const std::string sensor = !o.sensor.empty()
                                 ? TopicLevel(o.sensor)
                                 : TopicLevel(std::filesystem::path(o.dataset).stem().string());
  ReplaySchedule schedule(data.times_ms, data.median_spacing_ms, o.speedup, WallMs());
  auto r = WithPaho(o, [&](auto& send, SimReport& report, Clock::time_point t0) {
    auto last_print = Clock::now();
    for (bool done = false; !done;) {
      if ((stop && stop->load()) || Expired(o, t0)) break;
      for (const ReplayPoint& p : schedule.Due(WallMs())) {
        for (std::size_t c = 0; c < data.channels.size() && !done; ++c) {
          send(ReplayMessage(o.topic_prefix, sensor, data, c, p.row, p.ts_ms));
          done = o.count > 0 && report.published >= o.count;
        }
        if (report.rows_sent++ == 0) report.first_ts_ms = p.ts_ms;
        report.last_ts_ms = p.ts_ms;
        if (done) break;
      }
      // Pacing, not waiting for an event: until the next row is due, waking
      // at least every 100 ms for stop and duration.
      const auto due = std::chrono::system_clock::time_point(
          std::chrono::milliseconds(schedule.Next().ts_ms));
      std::this_thread::sleep_until(
          std::min(due, std::chrono::system_clock::now() + std::chrono::milliseconds(100)));
      if (!o.quiet && Clock::now() - last_print >= std::chrono::seconds(1)) {
        std::printf("sim: %llu rows replayed, %llu published, %llu acked\n",
                    static_cast<unsigned long long>(report.rows_sent),
                    static_cast<unsigned long long>(report.published),
                    static_cast<unsigned long long>(report.acked));
        std::fflush(stdout);
        last_print = Clock::now();
      }
    }
  });
  if (!r.ok()) return r;
  r->sensor = sensor;
  r->file_rows = data.rows();
  r->skipped_rows = data.skipped_rows;
  r->channels = static_cast<std::uint32_t>(data.channels.size());
  r->spacing_ms = data.median_spacing_ms;
  r->rows_per_second = schedule.RowsPerSecond();
  return r;
}

}  // namespace

void AddSimOptions(CLI::App& app, SimOptions& o) {
  app.add_option("--engine", o.engine,
                 "paho (Paho C++, one publish call per message) or wire (plain TCP, many "
                 "PUBLISH per write, several connections: the fast one)")
      ->capture_default_str();
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
  app.add_option("--phase", o.phase,
                 "Synthetic values: radians added to every sine wave (fleets side by side "
                 "with different phases send different values)")
      ->capture_default_str();
  app.add_option("--group", o.group, "Sparkplug group id")->capture_default_str();
  app.add_option("--dataset", o.dataset,
                 "CSV file whose numeric columns are replayed (with --speedup: at the file's own "
                 "timestamps)");
  app.add_option("--speedup", o.speedup,
                 "Replay --dataset as one sensor at its own timestamps, this many times faster, "
                 "timestamps moved to now (paho engine; topics <topic-prefix>/<sensor>/<column>, "
                 "payload {\"ts\":ms,\"value\":v})");
  app.add_option("--sensor", o.sensor, "Replay: sensor name in the topic (default: the file's stem)");
  app.add_option("--skip-rows", o.skip_rows, "Replay: start after this many data rows")
      ->capture_default_str();
  app.add_option("--columns", o.columns, "Replay: only these columns (default: every numeric one)")
      ->delimiter(',');
  app.add_option("--window", o.window, "QoS 1/2 messages awaiting ack at most (wire: per connection)")
      ->capture_default_str();
  app.add_option("--connections", o.connections,
                 "wire: publisher connections (1 to 1000, at most devices); device i uses "
                 "connection i mod connections")
      ->capture_default_str();
  app.add_option("--batch", o.batch, "wire: PUBLISH packets per write()")->capture_default_str();
  app.add_flag("--quiet", o.quiet, "Print only the summary");
}

Result<SimReport> RunSimulation(const SimOptions& o, const std::atomic<bool>* stop) {
  if (o.engine != "paho" && o.engine != "wire") {
    return InvalidArgument("engine: '" + o.engine + "'; allowed: paho, wire");
  }
  if (o.format != "json" && o.format != "sparkplug") {
    return InvalidArgument("format: '" + o.format + "'; allowed: json, sparkplug");
  }
  if (o.devices == 0 || o.metrics == 0 || o.qos < 0 || o.qos > 2 || o.window == 0) {
    return InvalidArgument("devices, metrics and window must be > 0, qos 0..2");
  }
  if (o.speedup < 0) return InvalidArgument("speedup must be >= 0");
  if (o.speedup > 0) {
    if (o.dataset.empty()) return InvalidArgument("--speedup needs --dataset");
    if (o.engine != "paho" || o.format != "json") {
      return InvalidArgument("a replay (--speedup) publishes JSON with the paho engine");
    }
    SLUICE_ASSIGN_OR_RETURN(auto d, LoadReplayData(o.dataset, o.skip_rows, o.columns));
    return RunPahoReplay(o, d, stop);
  }
  Dataset data;
  if (!o.dataset.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto d, LoadDataset(o.dataset));
    data = std::move(d);
  }
  Fleet fleet(o, std::move(data));
  if (o.engine == "wire") return RunWireSimulation(o, fleet, stop);
  return RunPahoSimulation(o, fleet, stop);
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
  if (options.speedup > 0) {
    std::printf("sim: replayed %s as sensor '%s': %llu of %llu rows x %u channels, %llu messages "
                "published, %llu acknowledged in %.2f s; file spacing %.0f s (median), speedup "
                "%g: %.2f rows/s; timestamps %lld .. %lld ms; %llu rows skipped (time not after "
                "the previous row's)\n",
                options.dataset.c_str(), r->sensor.c_str(),
                static_cast<unsigned long long>(r->rows_sent),
                static_cast<unsigned long long>(r->file_rows), r->channels,
                static_cast<unsigned long long>(r->published),
                static_cast<unsigned long long>(r->acked), r->seconds,
                static_cast<double>(r->spacing_ms) / 1000.0, options.speedup, r->rows_per_second,
                static_cast<long long>(r->first_ts_ms), static_cast<long long>(r->last_ts_ms),
                static_cast<unsigned long long>(r->skipped_rows));
    return 0;
  }
  std::printf("sim: %llu messages published, %llu acknowledged in %.2f s: %.0f msg/s published, "
              "%.0f msg/s acknowledged (%u devices x %u metrics, %s, QoS %d)\n",
              static_cast<unsigned long long>(r->published),
              static_cast<unsigned long long>(r->acked), r->seconds, r->published / s,
              r->acked / s, options.devices, options.metrics, options.format.c_str(), options.qos);
  const double us_per_msg = r->published > 0 ? r->cpu_seconds * 1e6 / r->published : 0;
  if (options.engine == "wire") {
    std::printf("sim: wire engine, %u connections, batch %u: %.2f CPU-s (%.1f us/msg), %llu ack "
                "errors, ack latency p50 %.0f us, p99 %.0f us, max %.0f us\n",
                std::min(options.connections, options.devices), options.batch, r->cpu_seconds,
                us_per_msg, static_cast<unsigned long long>(r->errors), r->ack_p50_us,
                r->ack_p99_us, r->ack_max_us);
  } else {
    std::printf("sim: paho engine: %.2f CPU-s (%.1f us/msg)\n", r->cpu_seconds, us_per_msg);
  }
  return 0;
}

}  // namespace sluice::sensor_sim
