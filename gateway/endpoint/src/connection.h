// One client connection to the endpoint: reads bytes, frames and decodes
// packets with the codec, offers PUBLISHes to the pipeline, and writes the
// acknowledgements its session says are due. Network thread only; owned by
// shared_ptr so pending I/O keeps it alive.
//
// Reading stops (and TCP flow control reaches the publisher) while the
// pipeline is busy, while a 3.1.1 client has receive_maximum messages
// unacknowledged, and once intake is stopped. Many packets are handled per
// read and every acknowledgement due is sent in one write.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "endpoint_core.h"
#include "gateway/codec/mqtt_codec.h"
#include "gateway/endpoint/mqtt_endpoint.h"
#include "session.h"
#include "transport.h"

namespace sluice::gateway::endpoint {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(EndpointCore& core, std::unique_ptr<Transport> transport,
             boost::asio::any_io_executor executor);

  void Start();
  // Acknowledgements of the session may be due; also resumes a reader
  // paused on the in-flight limit.
  void FlushAcks();
  // Sends DISCONNECT with `reason` (MQTT 5 only) and closes.
  void Close(mqtt::ReasonCode reason);
  // Another connection took the session: drop it without detaching it.
  void LoseSession();
  // Intake stopped: no more reads; writes (acknowledgements) go on.
  void StopReading();
  // Connect and keep-alive timeouts; called about once a second.
  void Tick(std::int64_t now_ms);

  bool finished() const { return finished_; }
  const std::string& peer() const { return transport_->peer(); }
  // What /v1/sources shows of it. Network thread only.
  EndpointConnectionInfo Info() const;

 private:
  enum class Step : std::uint8_t { kNext, kPause, kClosed };
  enum class Pause : std::uint8_t { kNone, kPipeline, kInflight, kStopped };

  void Read();
  void OnRead(const boost::system::error_code& ec, std::size_t n);
  void Process();
  Step Dispatch(const mqtt::FrameHeader& h, std::span<const std::uint8_t> body);
  Step HandleConnect(const mqtt::FrameHeader& h, std::span<const std::uint8_t> body);
  Step HandlePublish(const mqtt::FrameHeader& h, std::span<const std::uint8_t> body);
  Step Refuse(mqtt::ReasonCode reason, const std::string& why);
  Step ProtocolError(mqtt::ReasonCode reason, const char* what);
  void PauseFor(Pause why);
  void MakeRoom(std::uint32_t needed);
  void FlushWrites();
  void OnWrite(const boost::system::error_code& ec, std::size_t n);
  void Finish();
  std::string Who() const;

  EndpointCore& core_;
  std::unique_ptr<Transport> transport_;
  boost::asio::steady_timer retry_;
  std::vector<std::uint8_t> buf_;
  std::size_t begin_ = 0, end_ = 0;
  std::string out_, writing_;
  bool handshaken_ = false, reading_ = false, writing_active_ = false;
  bool closing_ = false, finished_ = false, connected_ = false;
  Pause pause_ = Pause::kNone;
  mqtt::ProtocolVersion version_ = mqtt::ProtocolVersion::kV5;
  Session* session_ = nullptr;
  std::string client_id_;
  std::uint16_t keep_alive_s_ = 0;
  std::int64_t started_ms_ = 0, last_rx_ms_ = 0;
  std::int64_t connected_ns_ = 0;     // wall clock of the accepted CONNECT
  std::uint64_t publishes_ = 0;       // PUBLISH packets taken
  std::vector<std::string> aliases_;  // topic alias n at [n - 1]
  mqtt::ConnectPacket connect_;
  mqtt::PublishPacket publish_;
  mqtt::AckPacket ack_;
  mqtt::SubscribePacket subscribe_;
  mqtt::DisconnectPacket disconnect_;
};

}  // namespace sluice::gateway::endpoint
