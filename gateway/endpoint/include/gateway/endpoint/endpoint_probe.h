// The native endpoint's metrics (sluice_endpoint_*): connections,
// sessions, refusals, publishes by QoS, acknowledgements, socket traffic,
// from MqttEndpoint::counters() read once per scrape; a new endpoint
// counter is one entry in endpoint_probe.cc. With the endpoint off the
// families are there, at zero.
#pragma once

#include "base/metrics.h"
#include "gateway/endpoint/mqtt_endpoint.h"

namespace sluice::gateway {

class EndpointProbe {
 public:
  // Registers the endpoint's families in `registry` (null: nothing).
  // `endpoint` (null: off) must outlive the probe.
  EndpointProbe(const MqttEndpoint* endpoint, MetricRegistry* registry);

 private:
  MetricSet<EndpointCounters> metrics_;
};

}  // namespace sluice::gateway
