// Decoders for PUBLISH, the acknowledgements, (UN)SUBSCRIBE, (UN)SUBACK,
// DISCONNECT and the empty packets. CONNECT and CONNACK are in
// mqtt_codec_decode_connect.cc.
#include "base/status.h"
#include "mqtt_codec_internal.h"
#include "gateway/codec/mqtt_codec.h"

namespace sluice::gateway::mqtt {

using namespace internal;

namespace {

constexpr PropertyErrors kPublishErrors = SLUICE_MQTT_PROPERTY_ERRORS("PUBLISH");
constexpr PropertyErrors kSubscribeErrors = SLUICE_MQTT_PROPERTY_ERRORS("SUBSCRIBE");
constexpr PropertyErrors kUnsubscribeErrors = SLUICE_MQTT_PROPERTY_ERRORS("UNSUBSCRIBE");
constexpr PropertyErrors kSubackErrors = SLUICE_MQTT_PROPERTY_ERRORS("SUBACK");
constexpr PropertyErrors kUnsubackErrors = SLUICE_MQTT_PROPERTY_ERRORS("UNSUBACK");
constexpr PropertyErrors kDisconnectErrors = SLUICE_MQTT_PROPERTY_ERRORS("DISCONNECT");

// The fixed descriptions of one acknowledgement type.
struct AckErrors {
  const char* flags;
  const char* packet_id_missing;
  const char* packet_id_zero;
  const char* reason;
  const char* trailing;
  PropertyErrors properties;
};
#define SLUICE_MQTT_ACK_ERRORS(pkt)                                          \
  AckErrors {                                                                \
    pkt ": fixed header flags are wrong", pkt ": packet identifier missing", \
        pkt ": packet identifier is 0", pkt ": reason code not allowed",     \
        pkt ": bytes after the last field", SLUICE_MQTT_PROPERTY_ERRORS(pkt) \
  }
constexpr AckErrors kAckErrors[4] = {
    SLUICE_MQTT_ACK_ERRORS("PUBACK"), SLUICE_MQTT_ACK_ERRORS("PUBREC"),
    SLUICE_MQTT_ACK_ERRORS("PUBREL"), SLUICE_MQTT_ACK_ERRORS("PUBCOMP")};
#undef SLUICE_MQTT_ACK_ERRORS

bool IsAck(PacketType t) { return t >= PacketType::kPuback && t <= PacketType::kPubcomp; }

}  // namespace

// The hot path: ~1M packets/s. No allocation unless user properties grow
// the vector past its previous capacity.
DecodeResult DecodePublish(ProtocolVersion v, std::uint8_t flags,
                           std::span<const std::uint8_t> body, PublishPacket& out) {
  out.dup = (flags & 0x08) != 0;
  out.qos = (flags >> 1) & 0x03;
  out.retain = (flags & 0x01) != 0;
  if (out.qos == 3) return Malformed("PUBLISH: QoS is 3");
  if (out.dup && out.qos == 0) return ProtocolError("PUBLISH: DUP flag set on a QoS 0 message");
  Reader r(body);
  if (!r.Prefixed(out.topic)) return Malformed("PUBLISH: topic name length exceeds the packet");
  if (!IsValidMqttUtf8(out.topic)) return Malformed("PUBLISH: topic name is not valid UTF-8");
  if (HasWildcard(out.topic)) {
    return {ReasonCode::kTopicNameInvalid, "PUBLISH: topic name contains a wildcard"};
  }
  out.packet_id = 0;
  if (out.qos > 0) {
    if (!r.U16(out.packet_id)) return Malformed("PUBLISH: packet identifier missing");
    if (out.packet_id == 0) return ProtocolError("PUBLISH: packet identifier is 0");
  }
  out.topic_alias = 0;
  out.payload_format.reset();
  out.message_expiry_s.reset();
  out.content_type = {};
  out.response_topic = {};
  out.correlation_data = {};
  out.user_properties.clear();
  if (v == ProtocolVersion::kV5) {
    Properties props;
    auto res = ParseProperties(r, kPublishProperties, kPublishErrors, props, &out.user_properties);
    if (!res.ok()) return res;
    if (props.present != 0) {
      if (props.Has(kTopicAlias)) {
        out.topic_alias = static_cast<std::uint16_t>(props.number[kTopicAlias]);
        if (out.topic_alias == 0) {
          return {ReasonCode::kTopicAliasInvalid, "PUBLISH: topic alias is 0"};
        }
      }
      if (props.Has(kPayloadFormatIndicator)) {
        out.payload_format = static_cast<std::uint8_t>(props.number[kPayloadFormatIndicator]);
      }
      if (props.Has(kMessageExpiryInterval)) {
        out.message_expiry_s = props.number[kMessageExpiryInterval];
      }
      if (props.Has(kContentType)) out.content_type = props.bytes(kContentType);
      if (props.Has(kResponseTopic)) {
        out.response_topic = props.bytes(kResponseTopic);
        if (HasWildcard(out.response_topic)) {
          return ProtocolError("PUBLISH: response topic contains a wildcard");
        }
      }
      if (props.Has(kCorrelationData)) out.correlation_data = props.bytes(kCorrelationData);
    }
    if (out.topic.empty() && out.topic_alias == 0) {
      return ProtocolError("PUBLISH: topic name is empty and there is no topic alias");
    }
  } else if (out.topic.empty()) {
    return {ReasonCode::kTopicNameInvalid, "PUBLISH: topic name is empty"};
  }
  out.payload = r.Rest();
  if (out.payload_format == 1 && !IsWellFormedUtf8(out.payload, /*allow_nul=*/true)) {
    return {ReasonCode::kPayloadFormatInvalid,
            "PUBLISH: payload is marked UTF-8 but is not valid UTF-8"};
  }
  return DecodeResult::Ok();
}

DecodeResult DecodeAck(ProtocolVersion v, PacketType type, std::uint8_t flags,
                       std::span<const std::uint8_t> body, AckPacket& out) {
  SLUICE_CHECK(IsAck(type));
  const AckErrors& e = kAckErrors[static_cast<int>(type) - static_cast<int>(PacketType::kPuback)];
  const bool pubrel = type == PacketType::kPubrel;
  if (flags != (pubrel ? 0x02 : 0x00)) return Malformed(e.flags);
  Reader r(body);
  out.type = type;
  out.reason = ReasonCode::kSuccess;
  out.reason_string = {};
  if (!r.U16(out.packet_id)) return Malformed(e.packet_id_missing);
  if (out.packet_id == 0) return ProtocolError(e.packet_id_zero);
  if (v == ProtocolVersion::kV5 && !r.empty()) {
    // Remaining length 2: success. 3: a reason code, no properties.
    std::uint8_t code = 0;
    (void)r.U8(code);
    const bool allowed = (type == PacketType::kPuback || type == PacketType::kPubrec)
                             ? kPubackReasons.Has(code)
                             : kPubrelReasons.Has(code);
    if (!allowed) return ProtocolError(e.reason);
    out.reason = static_cast<ReasonCode>(code);
    if (!r.empty()) {
      Properties props;
      auto res = ParseProperties(r, kAckProperties, e.properties, props, nullptr);
      if (!res.ok()) return res;
      if (props.Has(kReasonString)) out.reason_string = props.bytes(kReasonString);
    }
  }
  if (!r.empty()) return Malformed(e.trailing);
  return DecodeResult::Ok();
}

DecodeResult DecodeSubscribe(ProtocolVersion v, PacketType type, std::uint8_t flags,
                             std::span<const std::uint8_t> body, SubscribePacket& out) {
  SLUICE_CHECK(type == PacketType::kSubscribe || type == PacketType::kUnsubscribe);
  const bool sub = type == PacketType::kSubscribe;
  const bool v5 = v == ProtocolVersion::kV5;
  if (flags != 0x02) {
    return Malformed(sub ? "SUBSCRIBE: fixed header flags are not 0010"
                         : "UNSUBSCRIBE: fixed header flags are not 0010");
  }
  Reader r(body);
  out.filters = 0;
  if (!r.U16(out.packet_id)) {
    return Malformed(sub ? "SUBSCRIBE: packet identifier missing"
                         : "UNSUBSCRIBE: packet identifier missing");
  }
  if (out.packet_id == 0) {
    return ProtocolError(sub ? "SUBSCRIBE: packet identifier is 0"
                             : "UNSUBSCRIBE: packet identifier is 0");
  }
  if (v5) {
    Properties props;
    auto res = sub ? ParseProperties(r, kSubscribeProperties, kSubscribeErrors, props, nullptr)
                   : ParseProperties(r, kUnsubscribeProperties, kUnsubscribeErrors, props, nullptr);
    if (!res.ok()) return res;
  }
  if (r.empty()) {
    return ProtocolError(sub ? "SUBSCRIBE: no topic filter" : "UNSUBSCRIBE: no topic filter");
  }
  while (!r.empty()) {
    std::string_view filter;
    if (!r.Prefixed(filter)) {
      return Malformed(sub ? "SUBSCRIBE: topic filter length exceeds the packet"
                           : "UNSUBSCRIBE: topic filter length exceeds the packet");
    }
    if (!IsValidMqttUtf8(filter)) {
      return Malformed(sub ? "SUBSCRIBE: topic filter is not valid UTF-8"
                           : "UNSUBSCRIBE: topic filter is not valid UTF-8");
    }
    if (!IsValidTopicFilter(filter, v5)) {
      return {ReasonCode::kTopicFilterInvalid, sub ? "SUBSCRIBE: topic filter is not valid"
                                                   : "UNSUBSCRIBE: topic filter is not valid"};
    }
    if (sub) {
      std::uint8_t options = 0;
      if (!r.U8(options)) return Malformed("SUBSCRIBE: subscription options missing");
      if ((options & 0x03) == 3) return Malformed("SUBSCRIBE: requested QoS is 3");
      if (!v5) {
        if ((options & 0xFC) != 0) return Malformed("SUBSCRIBE: reserved option bits are not 0");
      } else {
        if ((options & 0xC0) != 0) return Malformed("SUBSCRIBE: reserved option bits are not 0");
        if (((options >> 4) & 0x03) == 3) return ProtocolError("SUBSCRIBE: retain handling is 3");
        if ((options & 0x04) != 0 && IsSharedFilter(filter)) {
          return ProtocolError("SUBSCRIBE: no local set on a shared subscription");
        }
      }
    }
    ++out.filters;
  }
  return DecodeResult::Ok();
}

DecodeResult DecodeSuback(ProtocolVersion v, PacketType type, std::uint8_t flags,
                          std::span<const std::uint8_t> body, SubackPacket& out) {
  SLUICE_CHECK(type == PacketType::kSuback || type == PacketType::kUnsuback);
  const bool sub = type == PacketType::kSuback;
  const bool v5 = v == ProtocolVersion::kV5;
  if (flags != 0) {
    return Malformed(sub ? "SUBACK: reserved fixed header flags are not 0"
                         : "UNSUBACK: reserved fixed header flags are not 0");
  }
  Reader r(body);
  out.type = type;
  out.reason_codes = {};
  out.reason_string = {};
  if (!r.U16(out.packet_id)) {
    return Malformed(sub ? "SUBACK: packet identifier missing"
                         : "UNSUBACK: packet identifier missing");
  }
  if (out.packet_id == 0) {
    return ProtocolError(sub ? "SUBACK: packet identifier is 0"
                             : "UNSUBACK: packet identifier is 0");
  }
  if (v5) {
    Properties props;
    auto res =
        ParseProperties(r, kAckProperties, sub ? kSubackErrors : kUnsubackErrors, props, nullptr);
    if (!res.ok()) return res;
    if (props.Has(kReasonString)) out.reason_string = props.bytes(kReasonString);
  } else if (!sub) {
    if (!r.empty()) return Malformed("UNSUBACK: bytes after the packet identifier");
    return DecodeResult::Ok();
  }
  out.reason_codes = r.Rest();
  if (out.reason_codes.empty()) {
    return ProtocolError(sub ? "SUBACK: no reason code" : "UNSUBACK: no reason code");
  }
  const ReasonSet& allowed = !sub ? kUnsubackReasons : v5 ? kSubackReasons : kSubackReasonsV311;
  for (char c : out.reason_codes) {
    if (!allowed.Has(static_cast<std::uint8_t>(c))) {
      return ProtocolError(sub ? "SUBACK: reason code not allowed"
                               : "UNSUBACK: reason code not allowed");
    }
  }
  return DecodeResult::Ok();
}

DecodeResult DecodeDisconnect(ProtocolVersion v, std::uint8_t flags,
                              std::span<const std::uint8_t> body, DisconnectPacket& out) {
  if (flags != 0) return Malformed("DISCONNECT: reserved fixed header flags are not 0");
  out = DisconnectPacket{};
  Reader r(body);
  if (v == ProtocolVersion::kV5 && !r.empty()) {
    // Remaining length 0: normal disconnection. 1: a reason code only.
    std::uint8_t code = 0;
    (void)r.U8(code);
    if (!kDisconnectReasons.Has(code)) return ProtocolError("DISCONNECT: reason code not allowed");
    out.reason = static_cast<ReasonCode>(code);
    if (!r.empty()) {
      Properties props;
      auto res = ParseProperties(r, kDisconnectProperties, kDisconnectErrors, props, nullptr);
      if (!res.ok()) return res;
      if (props.Has(kSessionExpiryInterval)) {
        out.session_expiry_s = props.number[kSessionExpiryInterval];
      }
      if (props.Has(kReasonString)) out.reason_string = props.bytes(kReasonString);
    }
  }
  if (!r.empty()) return Malformed("DISCONNECT: bytes after the last field");
  return DecodeResult::Ok();
}

DecodeResult DecodeEmpty(PacketType type, std::uint8_t flags, std::span<const std::uint8_t> body) {
  SLUICE_CHECK(type == PacketType::kPingreq || type == PacketType::kPingresp);
  const bool req = type == PacketType::kPingreq;
  if (flags != 0) {
    return Malformed(req ? "PINGREQ: reserved fixed header flags are not 0"
                         : "PINGRESP: reserved fixed header flags are not 0");
  }
  if (!body.empty()) {
    return Malformed(req ? "PINGREQ: remaining length is not 0"
                         : "PINGRESP: remaining length is not 0");
  }
  return DecodeResult::Ok();
}

}  // namespace sluice::gateway::mqtt
