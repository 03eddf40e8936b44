#include "mqtt_load/mqtt_load.h"

#include <netdb.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "latency_histogram.h"
#include "load_worker.h"

namespace sluice::mqtt_load {
namespace {

using detail::Shared;
using detail::Worker;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

Status Resolve(const LoadOptions& o, Shared& s) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(o.host.c_str(), std::to_string(o.port).c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Unavailable(s.where + ": cannot resolve host: " + gai_strerror(rc));
  }
  std::memcpy(&s.addr, res->ai_addr, res->ai_addrlen);
  s.addr_len = res->ai_addrlen;
  freeaddrinfo(res);
  return Status::Ok();
}

}  // namespace

Status LoadOptions::Validate() const {
  if (host.empty() || port == 0) return InvalidArgument("mqtt load: host and port are required");
  if (connections < 1 || connections > 1000) {
    return InvalidArgument("mqtt load: connections must be 1 to 1000, got " +
                           std::to_string(connections));
  }
  if (threads < 1 || threads > 16) {
    return InvalidArgument("mqtt load: threads must be 1 to 16, got " + std::to_string(threads));
  }
  if (qos < 0 || qos > 2) return InvalidArgument("mqtt load: qos must be 0, 1 or 2");
  if (batch < 1 || batch > 65535) return InvalidArgument("mqtt load: batch must be 1 to 65535");
  if (window < 1 || window > 65535) return InvalidArgument("mqtt load: window must be 1 to 65535");
  if (!(rate >= 0) || !std::isfinite(rate)) return InvalidArgument("mqtt load: rate must be >= 0");
  if (!(duration_s >= 0) || !std::isfinite(duration_s)) {
    return InvalidArgument("mqtt load: duration must be >= 0");
  }
  if (client_id_prefix.size() > 60) {
    return InvalidArgument("mqtt load: client id prefix longer than 60 bytes");
  }
  if (password && !username && version == gateway::mqtt::ProtocolVersion::kV311) {
    return InvalidArgument("mqtt load: MQTT 3.1.1 needs a user name with a password");
  }
  if (connect_timeout.count() <= 0 || io_timeout.count() <= 0 || progress_interval.count() <= 0) {
    return InvalidArgument("mqtt load: timeouts and the progress interval must be > 0");
  }
  return Status::Ok();
}

Result<LoadReport> RunLoad(const LoadOptions& o, const MessageGenerator& generator,
                           const std::atomic<bool>* stop) {
  SLUICE_RETURN_IF_ERROR(o.Validate());
  if (!generator) return InvalidArgument("mqtt load: no message generator");
  Shared s(o, generator, stop);
  s.where = o.host + ":" + std::to_string(o.port);
  SLUICE_RETURN_IF_ERROR(Resolve(o, s));
  const std::uint32_t threads = std::min(o.threads, o.connections);
  for (std::uint32_t t = 0; t < threads; ++t) {
    const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
      for (int w : s.wake_fds) close(w);
      return ErrnoStatus("eventfd", errno);
    }
    s.wake_fds.push_back(fd);
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::uint32_t t = 0; t < threads; ++t)
    workers.push_back(std::make_unique<Worker>(s, t, threads));

  const double cpu0 = CpuSeconds();
  const std::int64_t t0 = MonotonicNs();
  std::vector<std::thread> pool;
  for (std::uint32_t t = 1; t < threads; ++t) pool.emplace_back([&, t] { workers[t]->Run(); });
  workers[0]->Run();
  for (auto& th : pool) th.join();
  const double cpu1 = CpuSeconds();
  for (int fd : s.wake_fds) close(fd);

  LoadReport r;
  r.connections = o.connections;
  r.sent = s.sent.load();
  r.acked = s.acked.load();
  r.cpu_seconds = cpu1 - cpu0;
  LatencyHistogram all;
  std::int64_t connected = 0, drained = 0;
  r.window = std::numeric_limits<std::uint32_t>::max();
  for (auto& w : workers) {
    all.Merge(w->histogram);
    r.errors += w->errors;
    r.bytes_sent += w->bytes;
    r.writes += w->writes;
    connected = std::max(connected, w->connected_ns);
    drained = std::max(drained, w->drained_ns);
    r.window = std::min(r.window, w->min_window);
  }
  if (o.qos == 0 || r.window == std::numeric_limits<std::uint32_t>::max()) r.window = 0;
  if (s.failed.load()) {
    MutexLock lock(s.mu);
    return s.error.WithContext("mqtt load (" + std::to_string(r.sent) + " sent, " +
                               std::to_string(r.acked) + " acknowledged in all)");
  }
  const std::int64_t start = s.start_ns.load();
  r.connect_seconds = static_cast<double>((start != 0 ? start : connected) - t0) / 1e9;
  r.seconds = start != 0 && drained > start ? static_cast<double>(drained - start) / 1e9 : 0;
  r.latency.samples = all.samples();
  r.latency.p50_us = all.Quantile(0.50) / 1e3;
  r.latency.p99_us = all.Quantile(0.99) / 1e3;
  r.latency.max_us = static_cast<double>(all.max()) / 1e3;
  return r;
}

std::string FormatReport(const LoadReport& r) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf,
                        "%llu sent, %llu acked, %llu errors in %.2f s: %.0f msg/s sent, %.0f msg/s "
                        "acked; %u connections (connected in %.2f s), %.1f writes/s, %.2f "
                        "CPU-s (%.2f us/msg)",
                        static_cast<unsigned long long>(r.sent),
                        static_cast<unsigned long long>(r.acked),
                        static_cast<unsigned long long>(r.errors), r.seconds, r.sent_per_second(),
                        r.acked_per_second(), r.connections, r.connect_seconds,
                        r.seconds > 0 ? static_cast<double>(r.writes) / r.seconds : 0.0,
                        r.cpu_seconds, r.cpu_us_per_message());
  std::string out(buf, static_cast<std::size_t>(std::max(0, n)));
  if (r.latency.samples > 0) {
    std::snprintf(buf, sizeof buf,
                  "; ack latency p50 %.0f us, p99 %.0f us, max %.0f us (window %u)",
                  r.latency.p50_us, r.latency.p99_us, r.latency.max_us, r.window);
    out += buf;
  }
  return out;
}

}  // namespace sluice::mqtt_load
