// A batched MQTT load generator: N publisher connections over plain TCP,
// driven by a few epoll threads, speaking MQTT 3.1.1 or 5 through the
// packet codec (gateway/mqtt_codec.h). No Paho: one write() carries a whole
// batch of PUBLISH packets, so the generator costs a few microseconds of CPU
// per message and the broker or the subscriber under test is the bottleneck.
//
// Each connection sends CONNECT, waits for CONNACK (and keeps to the
// server's Receive Maximum, Maximum QoS and Maximum Packet Size in MQTT 5),
// then, once every connection is up, pipelines PUBLISH packets: at most
// `batch` per write, at most `window` QoS 1/2 messages unacknowledged,
// QoS 2 through PUBREC -> PUBREL -> PUBCOMP. When its share of `count` is
// sent (or `duration_s` passed, or `stop` was set) it waits for the last
// acknowledgements, sends DISCONNECT and waits for the server to close.
//
// Publish-to-acknowledgement latency is measured per message (send time:
// when its batch was handed to write(); ack time: when the read holding the
// PUBACK or PUBCOMP returned) into a log-linear histogram (< 1% error).
//
// Failure is never a hang: a TCP connect or CONNACK slower than
// `connect_timeout`, or a connection that awaits something and sees no
// byte move for `io_timeout`, ends the run with an error naming host:port,
// the connection, its client id and what happened.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "gateway/codec/mqtt_codec.h"

namespace sluice::mqtt_load {

// One message to publish; the generator overwrites both fields (assigning
// reuses their capacity).
struct LoadMessage {
  std::string topic;
  std::string payload;
};

// Fills `out` with message `sequence` (0, 1, 2, ... per connection) of
// connection `connection` (0 to connections - 1). Called on the I/O thread
// that owns the connection, so with threads > 1 concurrently for different
// connections; messages of one connection are generated, sent and delivered
// in sequence order.
using MessageGenerator =
    std::function<void(std::uint32_t connection, std::uint64_t sequence, LoadMessage& out)>;

// Totals so far, for progress lines.
struct LoadProgress {
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;
  double seconds = 0;  // since publishing started
};

struct LoadOptions {
  std::string host = "127.0.0.1";  // name or address; resolved once
  std::uint16_t port = 1883;
  gateway::mqtt::ProtocolVersion version = gateway::mqtt::ProtocolVersion::kV5;
  std::uint32_t connections = 1;  // publisher connections, 1 to 1000
  std::uint32_t threads = 1;      // epoll threads, 1 to 16 (at most connections); the caller's
                                  // thread is one of them
  std::string client_id_prefix = "sluice-load";  // client id "<prefix>-<index>"; at most 60 bytes
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool clean_start = true;            // 3.1.1: clean session
  std::uint32_t session_expiry_s = 0;  // MQTT 5 only; 0: the session ends with the connection
  std::uint16_t keep_alive_s = 60;    // PINGREQ after keep_alive_s / 2 without a send; 0: off
  int qos = 1;                        // 0, 1 or 2
  bool retain = false;
  std::uint32_t batch = 64;    // PUBLISH packets per write(), 1 to 65535. Default 64
  // Unacknowledged QoS 1/2 messages per connection, 1 to 65535, lowered to
  // the server's Receive Maximum (MQTT 5). Default 1000. MQTT 3.1.1 has no
  // Receive Maximum: keep QoS 2 within the broker's own limit (Mosquitto's
  // max_inflight_messages, default 20), past which Mosquitto answers with a
  // plain PUBREC and drops the message.
  std::uint32_t window = 1000;
  double rate = 0;              // messages per second, whole run; 0: as fast as possible
  std::uint64_t count = 0;      // messages, whole run, spread evenly over the connections;
                                // 0: no limit
  double duration_s = 0;        // stop sending after this long; 0: no limit
  std::chrono::milliseconds connect_timeout{10000};  // TCP connect + CONNACK. Default 10 s
  std::chrono::milliseconds io_timeout{30000};  // longest a connection may await an ack, a
                                                // write or the server's close with no byte
                                                // moving. Default 30 s
  std::chrono::milliseconds progress_interval{1000};
  // Called every progress_interval from one I/O thread while publishing. Optional.
  std::function<void(const LoadProgress&)> on_progress;

  Status Validate() const;
};

struct LatencySummary {
  std::uint64_t samples = 0;  // messages acknowledged with a latency (QoS 1/2)
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;  // exact
};

struct LoadReport {
  std::uint64_t sent = 0;   // PUBLISH packets handed to write()
  std::uint64_t acked = 0;  // QoS 0: written to the socket; QoS 1: PUBACK; QoS 2: PUBCOMP
                            // (success reason codes only)
  std::uint64_t errors = 0;  // acknowledgements with a failure reason code (MQTT 5), e.g.
                             // "not authorized", "quota exceeded"
  std::uint64_t bytes_sent = 0;  // every byte written, all packets
  std::uint64_t writes = 0;      // write() calls that moved bytes
  std::uint32_t connections = 0;
  std::uint32_t window = 0;      // effective per-connection window (smallest), QoS 1/2
  double connect_seconds = 0;    // from the start until the last CONNACK
  double seconds = 0;            // from the first PUBLISH until the last acknowledgement
  double cpu_seconds = 0;        // this process's user + system CPU during the run
  LatencySummary latency;

  double sent_per_second() const { return seconds > 0 ? sent / seconds : 0; }
  double acked_per_second() const { return seconds > 0 ? acked / seconds : 0; }
  double cpu_us_per_message() const { return sent > 0 ? cpu_seconds * 1e6 / sent : 0; }
};

// Runs until every connection has sent its share of `count`, or
// `duration_s`, or `stop`; then collects the outstanding acknowledgements
// and disconnects cleanly. Invalid options: InvalidArgument. Any connection
// failing (refused, timed out, closed or DISCONNECTed by the server, a
// malformed packet from it) ends the whole run: Unavailable, with
// "<host>:<port> connection <i> (<client id>): <what>" and the totals so far.
Result<LoadReport> RunLoad(const LoadOptions& options, const MessageGenerator& generator,
                           const std::atomic<bool>* stop = nullptr);

// One line: "20000 sent, 20000 acked, 0 errors in 1.02 s: 19608 msg/s, ..."
std::string FormatReport(const LoadReport& report);

}  // namespace sluice::mqtt_load
