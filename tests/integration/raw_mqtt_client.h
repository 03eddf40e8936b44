// A blocking MQTT client for the endpoint's tests, built on the project's
// packet codec: it sends exactly the bytes a test wants (including broken
// ones) and reads back whole packets with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "gateway/codec/mqtt_codec.h"

namespace sluice::testing {

struct RawPacket {
  gateway::mqtt::FrameHeader header;
  std::string body;
  std::span<const std::uint8_t> bytes() const {
    return {reinterpret_cast<const std::uint8_t*>(body.data()), body.size()};
  }
};

class RawMqttClient {
 public:
  RawMqttClient() = default;
  ~RawMqttClient();
  RawMqttClient(RawMqttClient&& other) noexcept;
  RawMqttClient& operator=(RawMqttClient&& other) noexcept;

  // TCP connect to 127.0.0.1:port.
  static Result<RawMqttClient> Open(int port);

  Status Send(const std::string& bytes);
  // The next whole packet; DeadlineExceeded-like Unavailable on timeout,
  // Aborted when the server closed the connection.
  Result<RawPacket> Read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the server closes the connection within `timeout` (packets
  // before the close are skipped).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void Close();

  // CONNECT, then the CONNACK.
  Result<gateway::mqtt::ConnackPacket> Handshake(const gateway::mqtt::ConnectPacket& connect);
  // PUBLISH built from the arguments (packet id 0 for QoS 0).
  Status Publish(gateway::mqtt::ProtocolVersion v, const std::string& topic,
                 const std::string& payload, std::uint8_t qos, std::uint16_t packet_id,
                 bool dup = false, std::uint16_t topic_alias = 0);

 private:
  int fd_ = -1;
  std::string in_;
};

// A CONNECT with the given client id; MQTT 5 unless told.
// `client_id` is viewed, not copied: pass a literal or a string that outlives the packet.
gateway::mqtt::ConnectPacket MakeConnect(std::string_view client_id,
                                         gateway::mqtt::ProtocolVersion v =
                                             gateway::mqtt::ProtocolVersion::kV5,
                                         bool clean_start = true, std::uint32_t expiry_s = 0);

}  // namespace sluice::testing
