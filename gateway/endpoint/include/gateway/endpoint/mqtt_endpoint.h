// The native MQTT ingest endpoint: an MQTT 3.1.1 and 5.0 server, for
// ingest only, on Boost.Asio. Sensors publish straight to Sluice; QoS 1 and
// 2 messages are acknowledged (PUBACK, PUBREC) only once every record they
// produced is durable in the store, so an acknowledged message survives a
// crash. When Sluice falls behind, publishers feel it as withheld
// acknowledgements and, past Receive Maximum, as a connection that is not
// read, never as lost data.
//
// One network thread owns every socket, session and timer; decoding and
// storing happen in the pipeline's shard threads, which hand outcomes back
// through OnAcks(). SUBSCRIBE is refused: this is not a general broker
// (gateway/README.md shows how to run it beside one).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "gateway/endpoint/endpoint_options.h"
#include "gateway/pipeline/pipeline.h"

namespace sluice::gateway {

struct EndpointCounters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t connections_refused = 0;  // over max_connections or max_sessions
  std::uint64_t auth_failures = 0;        // bad user name or password, or none given
  std::uint64_t tls_failures = 0;         // handshakes that failed
  std::uint64_t protocol_errors = 0;      // connections closed for a malformed packet or protocol error
  std::uint64_t keepalive_timeouts = 0;
  std::uint64_t sessions_active = 0;
  std::uint64_t sessions_resumed = 0;     // CONNECT found its earlier session
  std::uint64_t sessions_taken_over = 0;
  std::uint64_t sessions_expired = 0;
  std::uint64_t publishes[3] = {0, 0, 0};  // by QoS
  std::uint64_t duplicates = 0;       // redelivered QoS 1/2 messages not stored again
  std::uint64_t acks_sent = 0;        // PUBACK and PUBREC
  std::uint64_t acks_negative = 0;    // ... of them with a reason code >= 0x80 (MQTT 5)
  std::uint64_t not_stored = 0;       // acknowledged but not stored: malformed, no rule, shed
  std::uint64_t subscribes_refused = 0;
  std::uint64_t reads = 0;            // socket reads completed
  std::uint64_t writes = 0;           // socket writes completed
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t paused_reads = 0;     // times a connection stopped reading (pipeline busy or in-flight limit)
  // The last refused or closed connection, as logged ("endpoint: CONNECT
  // from ... refused: ..."), and when (wall clock, ns); empty and 0: none.
  std::string last_error;
  std::int64_t last_error_ns = 0;
};

// One open client connection (admin /v1/sources).
struct EndpointConnectionInfo {
  std::string client_id;          // empty until its CONNECT was accepted
  std::string peer;               // "127.0.0.1:50512"
  std::string protocol;           // "3.1.1" or "5"; empty until CONNECT
  std::int64_t connected_ns = 0;  // wall clock of the accepted CONNECT; 0: not yet
  std::uint64_t publishes = 0;    // PUBLISH packets taken on this connection
  bool tls = false;
};

struct EndpointConnectionList {
  std::vector<EndpointConnectionInfo> connections;  // at most the limit asked for
  std::uint64_t total = 0;                          // open connections, all of them
  // False when the network thread did not answer in time (stopping, or
  // stalled): the list is empty then, and `total` is the counter's value.
  bool complete = true;
};

class MqttEndpoint {
 public:
  virtual ~MqttEndpoint() = default;

  // Binds and starts the network thread. `pipeline` must outlive the
  // endpoint. The caller routes the pipeline's acknowledgements here:
  // pipeline->SetAcker(... endpoint->OnAcks(acks) ...) for sources of kind
  // MessageSource::Kind::kEndpoint. Errors name the address and what failed (bind,
  // certificate files, password file).
  static Result<std::unique_ptr<MqttEndpoint>> Start(const EndpointOptions& options,
                                                     Pipeline* pipeline);

  virtual std::uint16_t port() const = 0;
  // Outcomes from the pipeline; thread-safe, never blocks.
  virtual void OnAcks(std::span<const MessageAck> acks) = 0;
  // Stops accepting and reading. Acknowledgements still go out, so call it
  // before Pipeline::Drain() and Stop() after it.
  virtual void StopIntake() = 0;
  // Sends DISCONNECT "server shutting down" (MQTT 5), closes every
  // connection, joins the network thread. Idempotent.
  virtual void Stop() = 0;
  virtual EndpointCounters counters() const = 0;
  // The open connections, at most `limit` of them. Thread-safe; waits at
  // most about half a second for the network thread.
  virtual EndpointConnectionList Connections(std::size_t limit) const = 0;
};

}  // namespace sluice::gateway
