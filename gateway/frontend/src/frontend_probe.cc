#include "gateway/frontend/frontend_probe.h"

namespace sluice::gateway {

MqttFrontendProbe::MqttFrontendProbe(const MqttFrontend* frontend, MetricRegistry* registry)
    : metrics_(registry, [frontend] {
        return frontend != nullptr ? frontend->counters() : MqttFrontendCounters{};
      }) {
  using S = const MqttFrontendCounters&;
  metrics_
      .Gauge("sluice_mqtt_connections", "Broker connections up.", [](S s) { return s.connected; })
      .Gauge("sluice_mqtt_connections_configured", "Broker connections configured.",
             [](S s) { return s.total; })
      .Counter("sluice_mqtt_connects_total", "Successful broker CONNECTs.",
               [](S s) { return s.connects; })
      .Counter("sluice_mqtt_connect_failures_total", "Broker CONNECTs that failed.",
               [](S s) { return s.connect_failures; })
      .Counter("sluice_mqtt_connections_lost_total", "Broker connections lost.",
               [](S s) { return s.connections_lost; })
      .Counter("sluice_mqtt_publish_failures_total", "Rebirth requests that could not be sent.",
               [](S s) { return s.publish_failures; });
  metrics_.Register();
}

}  // namespace sluice::gateway
