#include "session.h"

#include "base/status.h"

namespace sluice::gateway::endpoint {

using mqtt::ReasonCode;

Session::Verdict Session::Classify(std::uint16_t packet_id, std::uint8_t qos, bool dup,
                                   std::uint64_t hash) {
  auto it = slots_.find(packet_id);
  if (it != slots_.end()) {
    Slot& slot = it->second;
    if (slot.qos != qos) return Verdict::kIdInUse;
    if (slot.state == State::kReleased) return Verdict::kResendPubrec;
    // Being stored, or stored with its acknowledgement owed: a resend.
    Queue(packet_id, slot);
    return Verdict::kDuplicate;
  }
  if (qos == 1 && dup) {
    auto a = acked_.find(packet_id);
    if (a != acked_.end() && a->second.hash == hash) {
      Slot& slot = slots_[packet_id];
      slot.qos = 1;
      slot.state = State::kDone;
      slot.hash = hash;
      Queue(packet_id, slot);
      return Verdict::kDuplicate;
    }
  }
  if (slots_.size() >= receive_maximum_) return Verdict::kQuotaExceeded;
  return Verdict::kNew;
}

void Session::Begin(std::uint16_t packet_id, std::uint8_t qos, std::uint64_t hash) {
  SLUICE_CHECK(!slots_.contains(packet_id));
  Slot& slot = slots_[packet_id];
  slot.qos = qos;
  slot.hash = hash;
  slot.tag = next_tag_++;
  by_tag_[slot.tag] = packet_id;
  Queue(packet_id, slot);
}

void Session::BeginDone(std::uint16_t packet_id, std::uint8_t qos, std::uint64_t hash,
                        ReasonCode reason) {
  SLUICE_CHECK(!slots_.contains(packet_id));
  Slot& slot = slots_[packet_id];
  slot.qos = qos;
  slot.hash = hash;
  slot.state = State::kDone;
  slot.reason = reason;
  Queue(packet_id, slot);
}

bool Session::Settle(std::uint64_t tag, ReasonCode reason) {
  auto t = by_tag_.find(tag);
  if (t == by_tag_.end()) return false;
  auto it = slots_.find(t->second);
  by_tag_.erase(t);
  if (it == slots_.end() || it->second.state != State::kStoring || it->second.tag != tag) {
    return false;
  }
  it->second.state = State::kDone;
  it->second.reason = reason;
  return true;
}

Session::Written Session::TakeDueAcks(mqtt::ProtocolVersion version, std::string& out) {
  Written w;
  while (!order_.empty()) {
    const std::uint16_t id = order_.front();
    auto it = slots_.find(id);
    if (it == slots_.end()) {  // released meanwhile (cannot happen for owed acks)
      order_.pop_front();
      continue;
    }
    Slot& slot = it->second;
    if (slot.state != State::kDone) break;
    order_.pop_front();
    slot.queued = false;
    mqtt::AckPacket ack;
    ack.type = slot.qos == 1 ? mqtt::PacketType::kPuback : mqtt::PacketType::kPubrec;
    ack.packet_id = id;
    // MQTT 3.1.1 has no negative acknowledgement: what could not be stored
    // (malformed, no rule, shed, refused for good) was counted and is
    // acknowledged anyway, or the client would resend it forever.
    ack.reason = version == mqtt::ProtocolVersion::kV5 ? slot.reason : ReasonCode::kSuccess;
    mqtt::EncodeAck(version, ack, out);
    ++w.acks;
    if (static_cast<std::uint8_t>(ack.reason) >= 0x80) ++w.negative;
    if (slot.qos == 1) {
      Remember(id, slot.hash);
      slots_.erase(it);
    } else if (static_cast<std::uint8_t>(ack.reason) >= 0x80) {
      slots_.erase(it);  // a PUBREC with an error ends the QoS 2 flow
    } else {
      slot.state = State::kReleased;
      ++released_;
    }
  }
  return w;
}

ReasonCode Session::Release(std::uint16_t packet_id) {
  auto it = slots_.find(packet_id);
  if (it == slots_.end() || it->second.state != State::kReleased) {
    return ReasonCode::kPacketIdentifierNotFound;
  }
  slots_.erase(it);
  --released_;
  return ReasonCode::kSuccess;
}

void Session::Detach() {
  for (std::uint16_t id : order_) {
    auto it = slots_.find(id);
    if (it != slots_.end()) it->second.queued = false;
  }
  order_.clear();
  connection = nullptr;
}

void Session::Queue(std::uint16_t packet_id, Slot& slot) {
  if (slot.queued) return;
  slot.queued = true;
  order_.push_back(packet_id);
}

void Session::Remember(std::uint16_t packet_id, std::uint64_t hash) {
  const std::uint64_t stamp = ++ack_stamp_;
  acked_[packet_id] = Acked{hash, stamp};
  acked_order_.emplace_back(packet_id, stamp);
  while (acked_order_.size() > receive_maximum_) {
    const auto [id, old] = acked_order_.front();
    acked_order_.pop_front();
    auto it = acked_.find(id);
    if (it != acked_.end() && it->second.stamp == old) acked_.erase(it);
  }
}

}  // namespace sluice::gateway::endpoint
