#include "gateway/admin/admin_probe.h"

namespace sluice::gateway {

AdminProbe::AdminProbe(const AdminServer& server, MetricRegistry* registry)
    : metrics_(registry, [&server] { return server.counters(); }) {
  using C = const AdminCounters&;
  metrics_
      .Counter("sluice_admin_requests_total", "Admin HTTP requests answered.",
               [](C c) { return c.requests; })
      .Counter("sluice_admin_client_errors_total",
               "Admin requests answered 4xx: bad path, bad input, unauthorized.",
               [](C c) { return c.client_errors; })
      .Counter("sluice_admin_auth_failures_total",
               "Admin requests refused 401 (token missing or wrong).",
               [](C c) { return c.auth_failures; })
      .Counter("sluice_admin_bad_requests_total", "Unparsable or oversized HTTP requests.",
               [](C c) { return c.bad_requests; });
  metrics_.Register();
}

}  // namespace sluice::gateway
