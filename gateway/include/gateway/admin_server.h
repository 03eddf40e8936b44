// The admin HTTP endpoint: Prometheus metrics, health, status. Loopback by
// default; read-only. Boost.Beast stays inside admin_server.cc.
//
//   GET /metrics    text/plain; version=0.0.4 (Prometheus exposition format)
//   GET /healthz    200 "ok" when healthy, 503 and the reason otherwise
//   GET /v1/status  application/json
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"

namespace sluice::gateway {

struct AdminOptions {
  // Address to listen on. Default: 127.0.0.1 (the box itself).
  std::string address = "127.0.0.1";
  // TCP port; 0 picks a free one (tests). Default: 9464.
  std::uint16_t port = 9464;
  Status Validate() const;
};

struct AdminHandlers {
  std::function<std::string()> metrics;  // Prometheus text
  std::function<std::string()> status;   // JSON
  // Empty string: healthy; otherwise the reason it is not.
  std::function<std::string()> unhealthy_reason;
};

class AdminServer {
 public:
  virtual ~AdminServer() = default;
  // Binds and starts serving on its own thread.
  static Result<std::unique_ptr<AdminServer>> Start(const AdminOptions& options,
                                                    AdminHandlers handlers);
  virtual std::uint16_t port() const = 0;
  // Stops accepting, closes connections, joins the thread. Idempotent.
  virtual void Stop() = 0;
};

// Prometheus text helpers: one sample line, with HELP and TYPE emitted once
// per metric name by the caller through MetricFamily.
class MetricsText {
 public:
  // Starts a family: "# HELP name help" and "# TYPE name type".
  MetricsText& Family(const std::string& name, const std::string& type, const std::string& help);
  // "name{labels} value". `labels` is already formatted: key="value",...
  MetricsText& Sample(const std::string& name, double value, const std::string& labels = "");
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// Escapes a label value for the Prometheus text format.
std::string EscapeLabel(const std::string& value);

}  // namespace sluice::gateway
