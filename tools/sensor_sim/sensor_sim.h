// A simulated sensor fleet for demos, tests and benchmarks: N devices x M
// metrics published over MQTT at a given rate, as JSON or Sparkplug B (with
// births), optionally replaying real CSV data. `sluice simulate`.
//
// Two ways to use a CSV file: --dataset alone takes its numeric columns as a
// pool of values for the fleet's ticks (the fleet keeps its own rate and
// clock); --dataset with --speedup replays the file as one sensor at the
// file's own pace, time-compressed, with timestamps moved to now (replay.h:
// the schedule, topics and payloads).
//
// Two engines publish the same messages: `paho` (Paho C++, one connection,
// one publish call per message) and `wire` (tools/mqtt_load: the packet
// codec over plain TCP, `connections` connections, `batch` PUBLISH packets
// per write; about 20x less CPU per message). With several wire connections
// device i is published on connection i mod connections, so each device's
// messages (and its Sparkplug NBIRTH before its NDATA) stay in order.
//
// JSON:      topic <prefix>/<device>/telemetry, payload
//            {"ts":<ms>,"m0":<v>,...,"m<M-1>":<v>}; device ids "dev-<i>".
// Sparkplug: edge node "dev-<i>" in group <group>: NBIRTH defining m0..m<M-1>
//            (Double, aliases 1..M, plus bdSeq), then NDATA by alias with seq.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace CLI {
class App;
}

namespace sluice::sensor_sim {

struct SimOptions {
  std::string engine = "paho";      // "paho" or "wire"
  std::string uri = "tcp://127.0.0.1:1883";
  std::string client_id = "sluice-sim";
  std::string mqtt_version = "5";  // "5" or "3.1.1"
  std::string format = "json";     // "json" or "sparkplug"
  std::uint32_t devices = 10;
  std::uint32_t metrics = 4;
  double rate = 100;               // messages per second, whole fleet; 0: as fast as possible
  std::uint64_t count = 0;         // stop after this many messages; 0: no limit
  double duration_s = 0;           // stop after this long; 0: no limit
  int qos = 1;
  std::string topic_prefix = "sim";
  std::string group = "sim";       // Sparkplug group id
  std::string dataset;             // CSV file of numeric columns to replay; empty: synthetic
  double phase = 0;                // synthetic: radians added to every sine wave, so that
                                   // fleets publishing side by side send different values
  double speedup = 0;              // > 0: replay `dataset` at its own timestamps, this many
                                   // times faster (paho engine, one sensor); 0: off
  std::string sensor;              // replay: the sensor's topic level; empty: the file's stem
  std::uint64_t skip_rows = 0;     // replay: start after this many data rows
  std::vector<std::string> columns;  // replay: only these columns; empty: every numeric one
  std::uint32_t window = 1000;     // QoS 1/2 messages awaiting their ack at most (wire: per
                                   // connection)
  std::uint32_t connections = 1;   // wire: publisher connections, at most devices (client ids
                                   // "<client_id>-<n>")
  std::uint32_t batch = 64;        // wire: PUBLISH packets per write()
  bool quiet = false;
};

struct SimReport {
  std::uint64_t published = 0;
  std::uint64_t acked = 0;  // QoS 0: equals published once handed to the socket
  double seconds = 0;
  double cpu_seconds = 0;       // this process's user + system CPU while publishing
  // wire engine only:
  std::uint64_t errors = 0;     // acknowledgements with a failure reason code
  double ack_p50_us = 0, ack_p99_us = 0, ack_max_us = 0;  // publish-to-ack latency, QoS 1/2
  // replay only:
  std::string sensor;                  // topic level used
  std::uint64_t file_rows = 0;         // rows kept from the file (after skip_rows)
  std::uint64_t skipped_rows = 0;      // rows whose time was not after the previous row's
  std::uint32_t channels = 0;          // series per row
  std::int64_t spacing_ms = 0;         // the file's median spacing
  double rows_per_second = 0;          // compressed, averaged over one pass
  std::uint64_t rows_sent = 0;
  std::int64_t first_ts_ms = 0, last_ts_ms = 0;  // timestamps of the rows sent
};

void AddSimOptions(CLI::App& app, SimOptions& options);

// Runs until count, duration or `stop`, with options.engine. `count` counts
// data messages; Sparkplug births come on top. Paho exceptions and wire
// connection failures become a Status.
Result<SimReport> RunSimulation(const SimOptions& options, const std::atomic<bool>* stop = nullptr);

// The `sluice simulate` command: runs, prints the rates, returns an exit code.
int RunSimulationMain(const SimOptions& options);

}  // namespace sluice::sensor_sim
