#include "gateway/endpoint/endpoint_probe.h"

namespace sluice::gateway {

EndpointProbe::EndpointProbe(const MqttEndpoint* endpoint, MetricRegistry* registry)
    : metrics_(registry, [endpoint] {
        return endpoint != nullptr ? endpoint->counters() : EndpointCounters{};
      }) {
  using S = const EndpointCounters&;
  metrics_
      .Gauge("sluice_endpoint_connections", "Native endpoint client connections open.",
             [](S s) { return s.connections_active; })
      .Counter("sluice_endpoint_connections_accepted_total",
               "Native endpoint connections accepted.", [](S s) { return s.connections_accepted; })
      .Counter("sluice_endpoint_connections_refused_total",
               "Connections refused: max_connections or max_sessions reached.",
               [](S s) { return s.connections_refused; })
      .Counter("sluice_endpoint_auth_failures_total", "CONNECTs with bad or missing credentials.",
               [](S s) { return s.auth_failures; })
      .Counter("sluice_endpoint_tls_failures_total", "TLS handshakes that failed.",
               [](S s) { return s.tls_failures; })
      .Counter("sluice_endpoint_protocol_errors_total",
               "Connections closed for a malformed packet or a protocol error.",
               [](S s) { return s.protocol_errors; })
      .Counter("sluice_endpoint_keepalive_timeouts_total", "Connections closed past keep alive.",
               [](S s) { return s.keepalive_timeouts; })
      .Gauge("sluice_endpoint_sessions", "Sessions kept, connected or waiting to expire.",
             [](S s) { return s.sessions_active; })
      .Counter("sluice_endpoint_sessions_resumed_total", "CONNECTs that found their session.",
               [](S s) { return s.sessions_resumed; })
      .Counter("sluice_endpoint_sessions_expired_total", "Sessions ended by their expiry.",
               [](S s) { return s.sessions_expired; })
      .Counter("sluice_endpoint_duplicates_total",
               "Redelivered QoS 1/2 messages recognised and not stored again.",
               [](S s) { return s.duplicates; })
      .Counter("sluice_endpoint_acks_total", "PUBACK and PUBREC sent, each after durability.",
               [](S s) { return s.acks_sent; })
      .Counter("sluice_endpoint_acks_negative_total", "Acknowledgements with a failure reason.",
               [](S s) { return s.acks_negative; })
      .Counter("sluice_endpoint_not_stored_total",
               "Acknowledged messages not stored: malformed, no rule, or shed.",
               [](S s) { return s.not_stored; })
      .Counter("sluice_endpoint_subscribes_refused_total", "SUBSCRIBE/UNSUBSCRIBE refused.",
               [](S s) { return s.subscribes_refused; })
      .Counter("sluice_endpoint_socket_reads_total", "Socket reads completed.",
               [](S s) { return s.reads; })
      .Counter("sluice_endpoint_socket_writes_total", "Socket writes completed.",
               [](S s) { return s.writes; })
      .Counter("sluice_endpoint_bytes_in_total", "Bytes received.", [](S s) { return s.bytes_in; })
      .Counter("sluice_endpoint_bytes_out_total", "Bytes sent.", [](S s) { return s.bytes_out; })
      .Counter("sluice_endpoint_paused_reads_total",
               "Times a connection stopped reading: pipeline busy or in-flight limit.",
               [](S s) { return s.paused_reads; })

      .Family("sluice_endpoint_publishes_total", MetricType::kCounter,
              "PUBLISH packets taken by the native endpoint, by QoS.", {"qos"},
              [](S s, MetricSamples& out) {
                for (int q = 0; q < 3; ++q) {
                  out.Add(static_cast<double>(s.publishes[q]), {std::to_string(q)});
                }
              });
  metrics_.Register();
}

}  // namespace sluice::gateway
