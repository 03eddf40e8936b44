// The MQTT front-end: Eclipse Paho C++ clients subscribed to the rule
// filters on every configured broker, feeding the pipeline.
//
// Per broker, `connections` clients with stable ids "<prefix>-<i>" and a
// persistent session (clean start off, session expiry), so the broker keeps
// QoS 1/2 messages while Sluice is away. With several connections the
// non-Sparkplug filters are shared ($share/<group>/<filter>); Sparkplug B
// filters are subscribed plainly on connection 0 only, because a shared
// subscription would spread one edge node's births and data over several
// clients and lose their order. Reconnects back off exponentially with
// jitter. Every Paho exception is caught here and turned into a Status or a
// counted, logged event.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "gateway/ingest/ingest_types.h"
#include "gateway/frontend/mqtt_options.h"
#include "gateway/pipeline/pipeline.h"
#include "gateway/ingest/topic_rules.h"

namespace sluice::gateway {

struct MqttSubscription {
  std::string filter;  // as sent, "$share/sluice/plant/+/#" or "spBv1.0/#"
  int qos = 1;
};

// The subscriptions of each of `broker.connections` connections.
std::vector<std::vector<MqttSubscription>> PlanSubscriptions(const MqttBrokerOptions& broker,
                                                             const RuleSet& rules);

struct MqttFrontendCounters {
  std::uint64_t connects = 0;          // successful CONNECTs, all connections
  std::uint64_t connect_failures = 0;
  std::uint64_t connections_lost = 0;
  std::uint64_t messages = 0;          // received from Paho
  std::uint64_t publish_failures = 0;  // rebirth requests not sent
  std::uint32_t connected = 0;         // connections up now
  std::uint32_t total = 0;             // connections configured
};

// One configured client connection as it is now (admin /v1/sources).
struct MqttConnectionInfo {
  std::uint32_t index = 0;   // across all brokers, as MessageSource::id
  std::uint32_t broker = 0;  // position of its [[mqtt.broker]], from 0
  std::string uri;
  std::string client_id;
  bool connected = false;
  std::uint64_t messages = 0;  // received on this connection
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t connections_lost = 0;
  // The last failed connect or lost connection, and when (wall clock, ns
  // since the epoch); empty and 0 while there was none. Kept after a
  // reconnect: it says why the connection last went down.
  std::string last_error;
  std::int64_t last_error_ns = 0;
  std::vector<std::string> subscriptions;  // filters as sent
};

class MqttFrontend {
 public:
  virtual ~MqttFrontend() = default;

  // Reads password files, builds the clients and starts connecting in the
  // background (a broker that is down is retried, not an error). `pipeline`
  // must outlive the front-end. Error: a password file that cannot be read,
  // or a client Paho refuses to create (bad uri).
  static Result<std::unique_ptr<MqttFrontend>> Start(const MqttOptions& options,
                                                     const RuleSet& rules, Pipeline* pipeline);

  // Stops reconnecting and disconnects every client, waiting at most
  // `timeout_ms` for each. Messages still arriving meanwhile go to the
  // pipeline as usual. Idempotent.
  virtual void Stop(int timeout_ms) = 0;

  // Publishes on connection `source` (a Pipeline::PublishFn). Never blocks
  // for long: failures are counted and logged.
  virtual void Publish(std::uint32_t source, const OutboundMessage& message) = 0;

  virtual MqttFrontendCounters counters() const = 0;
  // Every configured connection, in source order. Thread-safe; never
  // waits for Paho.
  virtual std::vector<MqttConnectionInfo> connections() const = 0;
};

}  // namespace sluice::gateway
