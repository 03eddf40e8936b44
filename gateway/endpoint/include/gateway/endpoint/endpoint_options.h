// Options of the native MQTT ingest endpoint: sensors publish straight to
// Sluice, which acknowledges QoS 1 and 2 only once the records are durable.
// Filled by the config loader from `[endpoint]` (docs/config.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace sluice::gateway {

struct EndpointOptions {
  bool enabled = false;  // Default: off.
  // Address to listen on. Default: "127.0.0.1" (loopback only); "0.0.0.0"
  // or "::" to accept sensors from the network.
  std::string address = "127.0.0.1";
  // TCP port. Default: 1883 (8883 is customary with TLS). 0: any free port
  // (tests read it back).
  std::uint32_t port = 1883;
  // TLS: both set turns TLS on for the listener. PEM files.
  std::string tls_cert_file;
  std::string tls_key_file;
  // CA bundle that client certificates must chain to. Required when
  // require_client_cert is on.
  std::string tls_ca_file;
  bool require_client_cert = false;  // Default: off.
  // User names and salted password hashes, one "user:hash" per line, as
  // written by `mosquitto_passwd` ($7$: PBKDF2-SHA512; $6$: salted SHA-512).
  // Set: every CONNECT must carry a user name and password found there.
  // Empty: anonymous clients are accepted. Read at start.
  std::string password_file;
  // Accept clients without credentials on an address other than loopback.
  // Off, as in Mosquitto 2: a non-loopback address needs password_file, or
  // client certificates (tls_ca_file with require_client_cert), or this set
  // on purpose (anyone who reaches the port can then write data). Loopback
  // addresses are open either way. Default: false.
  bool allow_anonymous = false;
  // Open connections at most; one more is refused (MQTT 5: CONNACK "server
  // busy"). Default: 1024. 1 to 100000.
  std::uint32_t max_connections = 1024;
  // Sessions kept (connected or waiting to expire); a new client id past the
  // limit is refused with "server busy". Default: 4096. 1 to 1000000.
  std::uint32_t max_sessions = 4096;
  // QoS 1 and 2 messages a connection may have unacknowledged, advertised
  // as MQTT 5 Receive Maximum (3.1.1 clients: reading pauses at the limit).
  // With acknowledgement after durability, one publisher's rate is about
  // receive_maximum / commit latency. Default: 1024. 1 to 65535.
  std::uint32_t receive_maximum = 1024;
  // Largest packet accepted, bytes (advertised as Maximum Packet Size); a
  // larger one closes that connection with "packet too large". It also
  // bounds a connection's receive buffer. Default: 1048576 (1 MiB).
  // 1024 to 268435460.
  std::uint32_t max_packet_size = 1u << 20;
  // Topic aliases a client may define (MQTT 5). Default: 64. 0 to 65535.
  std::uint32_t topic_alias_maximum = 64;
  // Longest session expiry granted: MQTT 5 clients ask for theirs (capped
  // here); 3.1.1 clients with clean session 0 get this. Default: 1 h.
  // 0 to 4294967295 s (the protocol's field).
  std::chrono::seconds max_session_expiry{3600};
  // A connection that sends no CONNECT within this long is closed.
  // Default: 10 s. 100 ms to 10 min.
  std::chrono::milliseconds connect_timeout{10000};

  bool tls() const { return !tls_cert_file.empty() || !tls_key_file.empty(); }
  // True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104; false for anything
  // else, "0.0.0.0" and "::" included (every interface).
  bool loopback() const;
  // Clients must prove who they are: a password file, or required client
  // certificates.
  bool authenticates() const {
    return !password_file.empty() || (tls() && require_client_cert && !tls_ca_file.empty());
  }
  // InvalidArgument naming the field ("receive_maximum: ..."). With
  // `enabled`, also the exposure rule of allow_anonymous (CheckExposure).
  Status Validate() const;
  // InvalidArgument ("address: ...", saying what is missing and which keys
  // fix it) for a non-loopback address without authentication or
  // allow_anonymous. MqttEndpoint::Start checks it whatever `enabled` says.
  Status CheckExposure() const;
};

}  // namespace sluice::gateway
