// What a connection needs of the endpoint that owns it: options, the
// pipeline, authentication, the session registry and the counters. The
// endpoint implements it; everything here runs on the network thread except
// the counters (relaxed atomics, read by the metrics endpoint).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "gateway/endpoint/endpoint_options.h"
#include "gateway/codec/mqtt_codec.h"
#include "gateway/pipeline/pipeline.h"

namespace sluice::gateway::endpoint {

class Connection;
class Session;

struct EndpointStats {
  std::atomic<std::uint64_t> connections_accepted{0}, connections_active{0},
      connections_refused{0}, auth_failures{0}, tls_failures{0}, protocol_errors{0},
      keepalive_timeouts{0}, sessions_active{0}, sessions_resumed{0}, sessions_taken_over{0},
      sessions_expired{0}, duplicates{0}, acks_sent{0}, acks_negative{0}, not_stored{0},
      subscribes_refused{0}, reads{0}, writes{0}, bytes_in{0}, bytes_out{0}, paused_reads{0};
  std::atomic<std::uint64_t> publishes[3] = {0, 0, 0};
  void Add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

class EndpointCore {
 public:
  virtual ~EndpointCore() = default;
  virtual const EndpointOptions& options() const = 0;
  virtual Pipeline& pipeline() = 0;
  virtual EndpointStats& stats() = 0;
  virtual bool intake_stopped() const = 0;
  // True when no password file is set, or the credentials match it.
  virtual bool Authenticate(const mqtt::ConnectPacket& connect) const = 0;

  struct Attached {
    Session* session = nullptr;  // null: refused with `refusal`
    bool present = false;        // CONNACK session present
    mqtt::ReasonCode refusal = mqtt::ReasonCode::kSuccess;
  };
  // Finds or creates the session of `client_id` for `connection`: takes it
  // over from another connection, discards it on clean start.
  virtual Attached AttachSession(Connection* connection, const std::string& client_id,
                                 bool clean_start, std::uint32_t expiry_s) = 0;
  // The connection is gone: the session waits for its expiry, or ends now.
  virtual void DetachSession(Connection* connection, Session* session) = 0;
  // Removes a finished connection from the endpoint.
  virtual void Forget(Connection* connection) = 0;
  // A unique client id for a CONNECT without one.
  virtual std::string AssignClientId() = 0;
  // Logs at most a few lines per second across all connections.
  virtual void LogLimited(const std::string& line) = 0;
};

}  // namespace sluice::gateway::endpoint
