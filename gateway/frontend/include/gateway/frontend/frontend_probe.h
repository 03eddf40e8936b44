// The MQTT front-end's metrics (sluice_mqtt_connections*, connects,
// failures, lost connections, publish failures), from
// MqttFrontend::counters() read once per scrape; a new front-end counter is
// one entry in frontend_probe.cc. Without brokers the families are there,
// at zero.
#pragma once

#include "base/metrics.h"
#include "gateway/frontend/mqtt_frontend.h"

namespace sluice::gateway {

class MqttFrontendProbe {
 public:
  // Registers the front-end's families in `registry` (null: nothing).
  // `frontend` (null: no brokers configured) must outlive the probe.
  MqttFrontendProbe(const MqttFrontend* frontend, MetricRegistry* registry);

 private:
  MetricSet<MqttFrontendCounters> metrics_;
};

}  // namespace sluice::gateway
