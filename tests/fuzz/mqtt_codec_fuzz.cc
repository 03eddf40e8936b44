// Any byte stream, framed packet by packet with PeekFrame and each packet
// decoded under both MQTT versions, either fails with a reason and a
// description or decodes to a packet that encodes and decodes back to
// itself. Never a crash, never an encoder abort on a decoded packet.
//
// Input: byte 0 picks the mode.
//   bit 1 clear: the rest is a stream of packets; bit 0 picks the frame size
//     limit (64 KiB, else none).
//   bit 1 set: the high nibble of byte 1 is a packet type and the rest its
//     body, decoded with each of the 16 flag values: mutations need not
//     keep a remaining length right, and no flag combination (retain, DUP,
//     QoS) depends on luck.
// Every decoded PUBLISH is also re-encoded with payloads that put its
// remaining length on each side of the 1/2-byte length boundary, where
// size and framing bugs hide; the first one of an input also at the 2/3-byte
// boundary when bit 2 of byte 0 is set (slower). The 3/4-byte boundary, 2 MiB
// away, is left to the unit test.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"
#include "gateway/codec/mqtt_codec.h"

using namespace sluice::gateway::mqtt;

namespace {

using Bytes = std::span<const std::uint8_t>;

Bytes AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void CheckResult(const DecodeResult& r) {
  if (!r.ok()) {
    SLUICE_CHECK(r.what != nullptr && r.what[0] != '\0');
    SLUICE_CHECK(!ReasonCodeName(r.reason).empty());
  }
}

// Frames `wire`, which must hold exactly one packet of `type`.
Bytes Reframe(const std::string& wire, PacketType type, std::uint8_t& flags) {
  FrameHeader h;
  SLUICE_CHECK(PeekFrame(AsBytes(wire), 0, h) == FrameStatus::kComplete);
  SLUICE_CHECK(h.size() == wire.size());
  SLUICE_CHECK(h.type == type);
  flags = h.flags;
  return AsBytes(wire).subspan(h.header_size);
}

int g_large_boundaries = 0;  // PUBLISH packets left to check at 16 KiB

void PublishRoundTrip(ProtocolVersion v, std::uint8_t flags, const PublishPacket& p) {
  std::string wire;
  EncodePublish(v, p, wire);
  SLUICE_CHECK(PublishSize(v, p) == wire.size());
  PublishPacket again;
  std::uint8_t f;
  const Bytes b = Reframe(wire, PacketType::kPublish, f);
  SLUICE_CHECK(f == flags);
  SLUICE_CHECK(DecodePublish(v, f, b, again).ok());
  SLUICE_CHECK(again == p);
}

void Publish(ProtocolVersion v, std::uint8_t flags, Bytes body) {
  PublishPacket p;
  const DecodeResult r = DecodePublish(v, flags, body, p);
  CheckResult(r);
  if (!r.ok()) return;
  PublishRoundTrip(v, flags, p);
  // The same packet with payloads that land its remaining length on the
  // boundaries of the variable byte integer. A payload of spaces is valid
  // whatever the payload format says.
  static const std::string spaces(16384, ' ');
  p.payload = {};
  std::string empty;
  EncodePublish(v, p, empty);
  FrameHeader h;
  SLUICE_CHECK(PeekFrame(AsBytes(empty), 0, h) == FrameStatus::kComplete);
  const std::size_t base = h.remaining_length;  // without payload
  const bool large = g_large_boundaries > 0;
  if (large) --g_large_boundaries;
  for (std::size_t length : {127, 128, 16383, 16384}) {
    if (length > 128 && !large) break;
    if (length < base) continue;
    p.payload = std::string_view(spaces).substr(0, length - base);
    PublishRoundTrip(v, flags, p);
  }
}

void Connect(std::uint8_t flags, Bytes body) {
  ConnectPacket p;
  const DecodeResult r = DecodeConnect(flags, body, p);
  CheckResult(r);
  if (!r.ok()) return;
  std::string wire;
  EncodeConnect(p, wire);
  ConnectPacket again;
  std::uint8_t f;
  const Bytes b = Reframe(wire, PacketType::kConnect, f);
  SLUICE_CHECK(DecodeConnect(f, b, again).ok());
  SLUICE_CHECK(again == p);
}

void Connack(ProtocolVersion v, std::uint8_t flags, Bytes body) {
  ConnackPacket p;
  const DecodeResult r = DecodeConnack(v, flags, body, p);
  CheckResult(r);
  if (!r.ok()) return;
  std::string wire;
  EncodeConnack(v, p, wire);
  ConnackPacket again;
  std::uint8_t f;
  const Bytes b = Reframe(wire, PacketType::kConnack, f);
  SLUICE_CHECK(DecodeConnack(v, f, b, again).ok());
  SLUICE_CHECK(again == p);
}

void Ack(ProtocolVersion v, PacketType type, std::uint8_t flags, Bytes body) {
  AckPacket p;
  const DecodeResult r = DecodeAck(v, type, flags, body, p);
  CheckResult(r);
  if (!r.ok()) return;
  std::string wire;
  EncodeAck(v, p, wire);
  AckPacket again;
  std::uint8_t f;
  const Bytes b = Reframe(wire, type, f);
  SLUICE_CHECK(DecodeAck(v, type, f, b, again).ok());
  SLUICE_CHECK(again == p);
}

void Subscribe(ProtocolVersion v, PacketType type, std::uint8_t flags, Bytes body) {
  SubscribePacket p;
  const DecodeResult r = DecodeSubscribe(v, type, flags, body, p);
  CheckResult(r);
  if (r.ok()) SLUICE_CHECK(p.filters >= 1 && p.packet_id != 0);
}

void Suback(ProtocolVersion v, PacketType type, std::uint8_t flags, Bytes body) {
  SubackPacket p;
  const DecodeResult r = DecodeSuback(v, type, flags, body, p);
  CheckResult(r);
  if (!r.ok() || p.reason_codes.empty() || !p.reason_string.empty()) return;
  // EncodeSuback sends one reason for every filter: round trip those.
  const char first = p.reason_codes[0];
  if (p.reason_codes.find_first_not_of(first) != std::string_view::npos) return;
  std::string wire;
  EncodeSuback(v, type, p.packet_id, static_cast<std::uint32_t>(p.reason_codes.size()),
               static_cast<ReasonCode>(first), wire);
  SubackPacket again;
  std::uint8_t f;
  const Bytes b = Reframe(wire, type, f);
  SLUICE_CHECK(DecodeSuback(v, type, f, b, again).ok());
  SLUICE_CHECK(again == p);
}

void Disconnect(ProtocolVersion v, std::uint8_t flags, Bytes body) {
  DisconnectPacket p;
  const DecodeResult r = DecodeDisconnect(v, flags, body, p);
  CheckResult(r);
  if (!r.ok() || v == ProtocolVersion::kV311) return;  // 3.1.1: nothing to encode
  std::string wire;
  EncodeDisconnect(v, p, wire);
  DisconnectPacket again;
  std::uint8_t f;
  const Bytes b = Reframe(wire, PacketType::kDisconnect, f);
  SLUICE_CHECK(DecodeDisconnect(v, f, b, again).ok());
  SLUICE_CHECK(again == p);
}

void DecodeOne(ProtocolVersion v, const FrameHeader& h, Bytes body) {
  switch (h.type) {
    case PacketType::kConnect:
      if (v == ProtocolVersion::kV5) Connect(h.flags, body);  // version-free: once
      break;
    case PacketType::kConnack:
      Connack(v, h.flags, body);
      break;
    case PacketType::kPublish:
      Publish(v, h.flags, body);
      break;
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp:
      Ack(v, h.type, h.flags, body);
      break;
    case PacketType::kSubscribe:
    case PacketType::kUnsubscribe:
      Subscribe(v, h.type, h.flags, body);
      break;
    case PacketType::kSuback:
    case PacketType::kUnsuback:
      Suback(v, h.type, h.flags, body);
      break;
    case PacketType::kPingreq:
    case PacketType::kPingresp:
      CheckResult(DecodeEmpty(h.type, h.flags, body));
      break;
    case PacketType::kDisconnect:
      Disconnect(v, h.flags, body);
      break;
    case PacketType::kAuth:
      break;  // no decoder: enhanced auth is refused
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  g_large_boundaries = (data[0] & 4) != 0 ? 1 : 0;
  if ((data[0] & 2) != 0) {
    if (size < 2 || (data[1] >> 4) == 0) return 0;
    FrameHeader h;
    h.type = static_cast<PacketType>(data[1] >> 4);
    const Bytes body(data + 2, size - 2);
    for (int flags = 0; flags < 16; ++flags) {
      h.flags = static_cast<std::uint8_t>(flags);
      DecodeOne(ProtocolVersion::kV311, h, body);
      DecodeOne(ProtocolVersion::kV5, h, body);
    }
    return 0;
  }
  const std::uint32_t limit = (data[0] & 1) != 0 ? 65536 : 0;
  Bytes rest(data + 1, size - 1);
  while (!rest.empty()) {
    FrameHeader h;
    const FrameStatus s = PeekFrame(rest, limit, h);
    if (s == FrameStatus::kTooLarge) {
      SLUICE_CHECK(limit != 0 && h.size() > limit && h.header_size >= 2);
      break;
    }
    if (s != FrameStatus::kComplete) break;
    SLUICE_CHECK(h.header_size >= 2 && h.header_size <= 5 && h.size() <= rest.size());
    const Bytes body = rest.subspan(h.header_size, h.remaining_length);
    DecodeOne(ProtocolVersion::kV311, h, body);
    DecodeOne(ProtocolVersion::kV5, h, body);
    rest = rest.subspan(h.size());
  }
  return 0;
}
