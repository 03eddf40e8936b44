#include "qos1_publisher.h"

#include <chrono>
#include <thread>

#include "gateway/codec/mqtt_codec.h"
#include "raw_mqtt_client.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
namespace mqtt = gateway::mqtt;

void AppendPublish(mqtt::ProtocolVersion v, const std::string& topic, std::uint16_t pid,
                   std::int64_t seq, bool dup, std::string& out) {
  const std::string payload = std::to_string(seq);
  mqtt::PublishPacket p;
  p.topic = topic;
  p.payload = payload;
  p.qos = 1;
  p.packet_id = pid;
  p.dup = dup;
  mqtt::EncodePublish(v, p, out);
}

}  // namespace

Qos1Publisher::Qos1Publisher(int port, int index, std::string topic_prefix,
                             std::string client_prefix, std::size_t window, double max_rate)
    : port_(port),
      topic_(std::move(topic_prefix) + std::to_string(index)),
      client_id_(std::move(client_prefix) + std::to_string(index)),
      window_(window),
      max_rate_(max_rate) {}

std::uint16_t Qos1Publisher::NextPid() {
  do {
    pid_ = static_cast<std::uint16_t>(pid_ == 65535 ? 1 : pid_ + 1);
  } while (unacked_.contains(pid_));
  return pid_;
}

void Qos1Publisher::Run(const std::atomic<bool>& stop_new, const std::atomic<bool>& give_up) {
  const auto v = mqtt::ProtocolVersion::kV5;
  const auto start = std::chrono::steady_clock::now();
  auto may_send = [&] {
    if (max_rate_ <= 0) return true;
    const std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
    return static_cast<double>(next_seq_) < max_rate_ * t.count();
  };
  while (!give_up.load()) {
    if (stop_new.load() && unacked_.empty()) return;
    auto c = RawMqttClient::Open(port_);
    if (!c.ok()) {
      std::this_thread::sleep_for(20ms);  // sluice is restarting: poll for its port
      continue;
    }
    auto ack = c->Handshake(MakeConnect(client_id_, v, false, 300));
    if (!ack.ok() || ack->reason != mqtt::ReasonCode::kSuccess) continue;
    ++connects_;
    std::string out;
    for (const auto& [pid, seq] : unacked_) AppendPublish(v, topic_, pid, seq, true, out);
    for (;;) {
      while (!stop_new.load() && unacked_.size() < window_ && may_send()) {
        const std::uint16_t pid = NextPid();
        unacked_[pid] = next_seq_;
        AppendPublish(v, topic_, pid, next_seq_++, false, out);
      }
      unacked_count_ = unacked_.size();
      if (!out.empty() && !c->Send(out).ok()) break;
      out.clear();
      if (stop_new.load() && unacked_.empty()) return;
      auto p = c->Read(max_rate_ > 0 ? 2ms : 200ms);
      if (!p.ok()) {
        if (p.status().code() == StatusCode::kUnavailable && !give_up.load()) continue;
        break;  // closed by the kill: reconnect and resend
      }
      if (p->header.type != mqtt::PacketType::kPuback) continue;
      mqtt::AckPacket a;
      if (!mqtt::DecodeAck(v, mqtt::PacketType::kPuback, p->header.flags, p->bytes(), a).ok()) {
        break;
      }
      auto it = unacked_.find(a.packet_id);
      if (it == unacked_.end()) continue;
      if (a.reason == mqtt::ReasonCode::kSuccess) {
        acked_.push_back(it->second);
        acked_count_ = acked_.size();
      }
      unacked_.erase(it);
      unacked_count_ = unacked_.size();
    }
  }
}

}  // namespace sluice::testing
