// The admin endpoint's metrics (sluice_admin_*), from AdminServer::counters.
// The server makes one when AdminHandlers::registry is set; a new counter
// of the endpoint is one line in admin_probe.cc.
#pragma once

#include "base/metrics.h"
#include "gateway/admin/admin_server.h"

namespace sluice::gateway {

class AdminProbe {
 public:
  // `server` must outlive the probe; `registry` null: nothing registered.
  AdminProbe(const AdminServer& server, MetricRegistry* registry);

 private:
  MetricSet<AdminCounters> metrics_;
};

}  // namespace sluice::gateway
