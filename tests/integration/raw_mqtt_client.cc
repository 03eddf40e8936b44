#include "raw_mqtt_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::testing {

namespace mqtt = gateway::mqtt;

RawMqttClient::~RawMqttClient() { Close(); }

RawMqttClient::RawMqttClient(RawMqttClient&& other) noexcept
    : fd_(other.fd_), in_(std::move(other.in_)) {
  other.fd_ = -1;
}

RawMqttClient& RawMqttClient::operator=(RawMqttClient&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    in_ = std::move(other.in_);
    other.fd_ = -1;
  }
  return *this;
}

Result<RawMqttClient> RawMqttClient::Open(int port) {
  RawMqttClient c;
  c.fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c.fd_ < 0) return ErrnoStatus("socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoStatus("connect 127.0.0.1:" + std::to_string(port), errno);
  }
  int one = 1;
  ::setsockopt(c.fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return c;
}

void RawMqttClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
}

Status RawMqttClient::Send(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("send", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Result<RawPacket> RawMqttClient::Read(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    RawPacket p;
    const std::span<const std::uint8_t> avail(reinterpret_cast<const std::uint8_t*>(in_.data()),
                                              in_.size());
    const auto fs = mqtt::PeekFrame(avail, 1u << 28, p.header);
    if (fs == mqtt::FrameStatus::kComplete) {
      p.body = in_.substr(p.header.header_size, p.header.remaining_length);
      in_.erase(0, p.header.size());
      return p;
    }
    if (fs != mqtt::FrameStatus::kIncomplete) return Corruption("bad frame from the server");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Unavailable("no packet within the timeout");
    pollfd pfd{fd_, POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno != EINTR) return ErrnoStatus("poll", errno);
    if (r <= 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return Aborted("connection closed by the server");
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) return Aborted("connection reset by the server");
      return ErrnoStatus("recv", errno);
    }
    in_.append(buf, static_cast<std::size_t>(n));
  }
}

bool RawMqttClient::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    auto p = Read(left);
    if (!p.ok()) return p.status().code() == StatusCode::kAborted;
  }
}

Result<mqtt::ConnackPacket> RawMqttClient::Handshake(const mqtt::ConnectPacket& connect) {
  std::string out;
  mqtt::EncodeConnect(connect, out);
  SLUICE_RETURN_IF_ERROR(Send(out));
  auto p = Read();
  if (!p.ok()) return p.status();
  if (p->header.type != mqtt::PacketType::kConnack) return Corruption("expected CONNACK");
  mqtt::ConnackPacket ack;
  const auto r = mqtt::DecodeConnack(connect.version, p->header.flags, p->bytes(), ack);
  if (!r.ok()) return Corruption(std::string("CONNACK: ") + r.what);
  // Views into p->body die with it; copy the one string a test reads.
  static thread_local std::string assigned;
  assigned.assign(ack.assigned_client_id);
  ack.assigned_client_id = assigned;
  ack.reason_string = {};
  return ack;
}

Status RawMqttClient::Publish(mqtt::ProtocolVersion v, const std::string& topic,
                              const std::string& payload, std::uint8_t qos,
                              std::uint16_t packet_id, bool dup, std::uint16_t topic_alias) {
  mqtt::PublishPacket p;
  p.topic = topic;
  p.payload = payload;
  p.qos = qos;
  p.packet_id = packet_id;
  p.dup = dup;
  p.topic_alias = topic_alias;
  std::string out;
  mqtt::EncodePublish(v, p, out);
  return Send(out);
}

mqtt::ConnectPacket MakeConnect(std::string_view client_id, mqtt::ProtocolVersion v,
                                bool clean_start, std::uint32_t expiry_s) {
  mqtt::ConnectPacket c;
  c.version = v;
  c.client_id = client_id;
  c.clean_start = clean_start;
  c.keep_alive_s = 60;
  c.session_expiry_s = expiry_s;
  return c;
}

}  // namespace sluice::testing
