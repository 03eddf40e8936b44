#include "sensor_sim/wire_engine.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "base/clock.h"

namespace sluice::sensor_sim {
namespace {

// "tcp://host:port" (or mqtt://): the wire engine speaks plain TCP only.
Status ParseTcpUri(const std::string& uri, std::string& host, std::uint16_t& port) {
  std::string rest;
  for (const char* scheme : {"tcp://", "mqtt://"}) {
    if (uri.rfind(scheme, 0) == 0) rest = uri.substr(std::string(scheme).size());
  }
  const auto colon = rest.rfind(':');
  if (rest.empty() || colon == std::string::npos || colon == 0) {
    return InvalidArgument("uri '" + uri + "': the wire engine needs tcp://host:port (no TLS)");
  }
  char* end = nullptr;
  const long p = std::strtol(rest.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || p < 1 || p > 65535) {
    return InvalidArgument("uri '" + uri + "': port must be 1 to 65535");
  }
  host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  port = static_cast<std::uint16_t>(p);
  return Status::Ok();
}

}  // namespace

mqtt_load::MessageGenerator FleetGenerator(const SimOptions& o, Fleet& fleet,
                                           std::uint32_t connections) {
  const bool sparkplug = o.format == "sparkplug";
  const std::uint32_t devices = o.devices;
  const std::uint32_t n = connections;
  return [&fleet, sparkplug, devices, n](std::uint32_t c, std::uint64_t seq,
                                         mqtt_load::LoadMessage& out) {
    const std::uint32_t k = (devices - c + n - 1) / n;  // devices on connection c (>= 1)
    const std::int64_t ms = WallMs();
    std::pair<std::string, std::string> m;
    if (sparkplug && seq < k) {
      m = fleet.Birth(static_cast<std::uint32_t>(c + seq * n), ms);
    } else {
      const std::uint64_t j = sparkplug ? seq - k : seq;
      const auto device = static_cast<std::uint32_t>(c + (j % k) * n);
      const std::uint64_t tick = j / k + 1;
      m = sparkplug ? fleet.Data(device, tick, ms) : fleet.Json(device, tick, ms);
    }
    out.topic = std::move(m.first);
    out.payload = std::move(m.second);
  };
}

Result<SimReport> RunWireSimulation(const SimOptions& o, Fleet& fleet,
                                    const std::atomic<bool>* stop) {
  mqtt_load::LoadOptions lo;
  SLUICE_RETURN_IF_ERROR(ParseTcpUri(o.uri, lo.host, lo.port));
  lo.version = o.mqtt_version == "3.1.1" ? gateway::mqtt::ProtocolVersion::kV311
                                         : gateway::mqtt::ProtocolVersion::kV5;
  lo.connections = std::min(o.connections, o.devices);
  lo.client_id_prefix = o.client_id;
  lo.qos = o.qos;
  lo.batch = o.batch;
  lo.window = o.window;
  lo.rate = o.rate;
  const std::uint64_t births = o.format == "sparkplug" ? o.devices : 0;
  lo.count = o.count > 0 ? o.count + births : 0;
  lo.duration_s = o.duration_s;
  if (!o.quiet) {
    lo.on_progress = [last = std::uint64_t{0}](const mqtt_load::LoadProgress& p) mutable {
      std::printf("sim: %llu published (%llu/s), %llu acked\n",
                  static_cast<unsigned long long>(p.sent),
                  static_cast<unsigned long long>(p.sent - last),
                  static_cast<unsigned long long>(p.acked));
      std::fflush(stdout);
      last = p.sent;
    };
  }
  SLUICE_ASSIGN_OR_RETURN(auto r,
                          mqtt_load::RunLoad(lo, FleetGenerator(o, fleet, lo.connections), stop));
  SimReport report;
  report.published = r.sent;
  report.acked = r.acked;
  report.seconds = r.seconds;
  report.cpu_seconds = r.cpu_seconds;
  report.errors = r.errors;
  report.ack_p50_us = r.latency.p50_us;
  report.ack_p99_us = r.latency.p99_us;
  report.ack_max_us = r.latency.max_us;
  return report;
}

}  // namespace sluice::sensor_sim
