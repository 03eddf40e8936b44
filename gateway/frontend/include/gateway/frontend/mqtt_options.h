// Options of the MQTT front-end: the brokers Sluice subscribes to. Filled by
// the config loader from `[[mqtt.broker]]` (docs/config.md); Validate() is
// run there, so a running front-end never meets a bad broker entry.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace sluice::gateway {

enum class MqttVersion : std::uint8_t { kV311, kV5 };

struct MqttBrokerOptions {
  // "tcp://host:port" or "ssl://host:port". Required.
  std::string uri;
  // Client ids are "<prefix>-<connection index>", stable across restarts so
  // that the broker finds the persistent session again. Empty: "sluice-" +
  // gateway.id (filled by the loader).
  std::string client_id_prefix;
  MqttVersion version = MqttVersion::kV5;  // Default: 5.
  std::string username;       // empty: no user name
  std::string password_file;  // read at start; its contents are never logged
  std::string tls_ca_file;    // ssl:// only; empty: the system's CA store
  std::string tls_cert_file;  // client certificate (PEM); needs tls_key_file
  std::string tls_key_file;   // its private key (PEM)
  // Parallel connections. With more than one, non-Sparkplug filters are
  // subscribed as `$share/<share_group>/<filter>` so the broker spreads the
  // messages; Sparkplug filters go to connection 0 only (see gateway/README.md).
  // Default: 1. 1 to 64.
  std::uint32_t connections = 1;
  std::string share_group = "sluice";  // Default: "sluice".
  // Subscription QoS for every rule filter. Default: 1. 0 to 2.
  std::uint32_t qos = 1;
  // Persistent session: clean start off, and (MQTT 5) this session expiry,
  // so the broker queues QoS 1/2 messages while Sluice is away. 0 with
  // clean_start=true gives a throwaway session. Default: 1 day.
  std::chrono::seconds session_expiry{86400};
  bool clean_start = false;  // Default: false (keep the session).
  std::chrono::seconds keep_alive{30};  // Default: 30 s. 5 s to 1 h.
  // MQTT 5 receive maximum sent in CONNECT: QoS 1/2 messages the broker may
  // have in flight to one connection. Default: 64. 1 to 65535.
  std::uint32_t receive_maximum = 64;
  // Reconnect backoff: doubles from min to max, each wait drawn uniformly
  // from [wait/2, wait] (jitter). Defaults: 100 ms, 30 s.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{30000};
  std::chrono::milliseconds connect_timeout{10000};  // Default: 10 s.

  // InvalidArgument naming the field ("uri: ...") on the first violation.
  Status Validate() const;
};

struct MqttOptions {
  std::vector<MqttBrokerOptions> brokers;  // none: the gateway runs without MQTT input
};

}  // namespace sluice::gateway
