// What /v1/sources shows: every broker connection, the native endpoint and
// its open connections, and every ingest rule with its counters. Each part
// comes from the module that counts it (front-end, endpoint, the pipeline's
// decoders); this file only renders.
#include <sstream>

#include "gateway/admin/admin_util.h"
#include "gateway/app/app.h"

namespace sluice::gateway {
namespace {

using admin::JsonString;

// The endpoint's connection list is capped: the page is for people, and
// max_connections may be large.
constexpr std::size_t kMaxEndpointConnections = 1000;

const char* Bool(bool b) { return b ? "true" : "false"; }

// How endpoint clients prove who they are. Client certificates, when
// required, are named first: they are checked before any password.
std::string_view EndpointAuth(const EndpointOptions& e) {
  if (e.tls() && e.require_client_cert && !e.tls_ca_file.empty()) return "client-cert";
  if (!e.password_file.empty()) return "password";
  return "anonymous";
}

}  // namespace

std::string App::SourcesJson() const {
  std::ostringstream o;
  o << "{\"brokers\":[";
  const std::vector<MqttConnectionInfo> brokers =
      mqtt_ ? mqtt_->connections() : std::vector<MqttConnectionInfo>{};
  for (std::size_t i = 0; i < brokers.size(); ++i) {
    const auto& b = brokers[i];
    o << (i ? "," : "") << "{\"index\":" << b.index << ",\"broker\":" << b.broker
      << ",\"uri\":" << JsonString(b.uri) << ",\"client_id\":" << JsonString(b.client_id)
      << ",\"connected\":" << Bool(b.connected) << ",\"messages\":" << b.messages
      << ",\"connects\":" << b.connects << ",\"connect_failures\":" << b.connect_failures
      << ",\"connections_lost\":" << b.connections_lost
      << ",\"last_error\":" << JsonString(b.last_error) << ",\"last_error_ns\":" << b.last_error_ns
      << ",\"subscriptions\":[";
    for (std::size_t f = 0; f < b.subscriptions.size(); ++f) {
      o << (f ? "," : "") << JsonString(b.subscriptions[f]);
    }
    o << "]}";
  }
  const EndpointOptions& e = config_.endpoint;
  o << "],\"endpoint\":{\"enabled\":" << Bool(e.enabled) << ",\"address\":" << JsonString(e.address)
    << ",\"port\":" << (endpoint_ ? endpoint_->port() : e.port) << ",\"tls\":" << Bool(e.tls())
    << ",\"auth\":" << JsonString(EndpointAuth(e))
    << ",\"password_required\":" << Bool(!e.password_file.empty())
    << ",\"client_cert_required\":" << Bool(e.tls() && e.require_client_cert)
    << ",\"connections\":[";
  EndpointConnectionList list;
  if (endpoint_) list = endpoint_->Connections(kMaxEndpointConnections);
  for (std::size_t i = 0; i < list.connections.size(); ++i) {
    const auto& c = list.connections[i];
    o << (i ? "," : "") << "{\"client_id\":" << JsonString(c.client_id)
      << ",\"peer\":" << JsonString(c.peer) << ",\"protocol\":" << JsonString(c.protocol)
      << ",\"connected_ns\":" << c.connected_ns << ",\"publishes\":" << c.publishes
      << ",\"tls\":" << Bool(c.tls) << "}";
  }
  o << "],\"connections_total\":" << list.total
    << ",\"connections_complete\":" << Bool(list.complete) << "}";

  const PipelineCounters p = pipeline_ ? pipeline_->counters() : PipelineCounters{};
  o << ",\"rules\":[";
  const auto rules = rules_.rules();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const RuleCounts c = i < p.rules.size() ? p.rules[i] : RuleCounts{};
    o << (i ? "," : "") << "{\"index\":" << i
      << ",\"topic\":" << JsonString(rules[i].pattern.filter())
      << ",\"format\":" << JsonString(PayloadFormatName(rules[i].options.format))
      << ",\"priority\":" << JsonString(PriorityClassName(rules[i].options.priority))
      << ",\"matched\":" << c.matched << ",\"malformed\":" << c.malformed
      << ",\"samples\":" << c.samples << "}";
  }
  o << "],\"unmatched\":" << p.messages_unmatched << "}";
  return o.str();
}

}  // namespace sluice::gateway
