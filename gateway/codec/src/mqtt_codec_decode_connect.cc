// CONNECT and CONNACK decoders (MQTT 3.1.1 section 3.1-3.2, MQTT 5 3.1-3.2).
#include "mqtt_codec_internal.h"
#include "gateway/codec/mqtt_codec.h"

namespace sluice::gateway::mqtt {

using namespace internal;

namespace {

constexpr PropertyErrors kConnectErrors = SLUICE_MQTT_PROPERTY_ERRORS("CONNECT");
constexpr PropertyErrors kWillErrors = SLUICE_MQTT_PROPERTY_ERRORS("CONNECT will");
constexpr PropertyErrors kConnackErrors = SLUICE_MQTT_PROPERTY_ERRORS("CONNACK");

// CONNECT flags byte (MQTT 3.1.2.3).
constexpr std::uint8_t kReservedFlag = 0x01;
constexpr std::uint8_t kCleanStartFlag = 0x02;
constexpr std::uint8_t kWillFlag = 0x04;
constexpr std::uint8_t kWillRetainFlag = 0x20;
constexpr std::uint8_t kPasswordFlag = 0x40;
constexpr std::uint8_t kUserNameFlag = 0x80;

// The will: properties (MQTT 5), topic and payload.
DecodeResult DecodeWill(Reader& r, ConnectPacket& out) {
  const bool v5 = out.version == ProtocolVersion::kV5;
  Properties props;
  if (v5) {
    auto res = ParseProperties(r, kWillProperties, kWillErrors, props, nullptr);
    if (!res.ok()) return res;
  }
  if (!r.Prefixed(out.will_topic))
    return Malformed("CONNECT: will topic length exceeds the packet");
  if (!IsValidMqttUtf8(out.will_topic)) return Malformed("CONNECT: will topic is not valid UTF-8");
  if (out.will_topic.empty()) {
    return {ReasonCode::kTopicNameInvalid, "CONNECT: will topic is empty"};
  }
  if (HasWildcard(out.will_topic)) {
    return {ReasonCode::kTopicNameInvalid, "CONNECT: will topic contains a wildcard"};
  }
  if (!r.Prefixed(out.will_payload)) {
    return Malformed("CONNECT: will payload length exceeds the packet");
  }
  if (v5 && props.Has(kPayloadFormatIndicator) && props.number[kPayloadFormatIndicator] == 1 &&
      !IsWellFormedUtf8(out.will_payload, /*allow_nul=*/true)) {
    return {ReasonCode::kPayloadFormatInvalid,
            "CONNECT: will payload is marked UTF-8 but is not valid UTF-8"};
  }
  if (v5 && props.Has(kResponseTopic) && HasWildcard(props.bytes(kResponseTopic))) {
    return ProtocolError("CONNECT: will response topic contains a wildcard");
  }
  return DecodeResult::Ok();
}

ReasonCode ReasonFromV311ReturnCode(std::uint8_t code) {
  switch (code) {
    case 0:
      return ReasonCode::kSuccess;
    case 1:
      return ReasonCode::kUnsupportedProtocolVersion;
    case 2:
      return ReasonCode::kClientIdentifierNotValid;
    case 3:
      return ReasonCode::kServerUnavailable;
    case 4:
      return ReasonCode::kBadUserNameOrPassword;
    default:
      return ReasonCode::kNotAuthorized;  // 5
  }
}

}  // namespace

DecodeResult DecodeConnect(std::uint8_t flags, std::span<const std::uint8_t> body,
                           ConnectPacket& out) {
  if (flags != 0) return Malformed("CONNECT: reserved fixed header flags are not 0");
  Reader r(body);
  std::string_view name;
  std::uint8_t level = 0;
  if (!r.Prefixed(name)) return Malformed("CONNECT: protocol name length exceeds the packet");
  if (!r.U8(level)) return Malformed("CONNECT: protocol level missing");
  if (name != "MQTT" || (level != 4 && level != 5)) {
    return {ReasonCode::kUnsupportedProtocolVersion,
            "CONNECT: protocol name and level are not MQTT 3.1.1 or 5"};
  }
  out.version = static_cast<ProtocolVersion>(level);
  const bool v5 = out.version == ProtocolVersion::kV5;

  std::uint8_t connect_flags = 0;
  if (!r.U8(connect_flags)) return Malformed("CONNECT: connect flags missing");
  if ((connect_flags & kReservedFlag) != 0) {
    return Malformed("CONNECT: reserved connect flag is not 0");
  }
  out.clean_start = (connect_flags & kCleanStartFlag) != 0;
  out.will = (connect_flags & kWillFlag) != 0;
  out.will_qos = (connect_flags >> 3) & 0x03;
  out.will_retain = (connect_flags & kWillRetainFlag) != 0;
  const bool has_password = (connect_flags & kPasswordFlag) != 0;
  const bool has_user = (connect_flags & kUserNameFlag) != 0;
  if (out.will_qos == 3) return Malformed("CONNECT: will QoS is 3");
  if (!out.will && (out.will_qos != 0 || out.will_retain)) {
    return ProtocolError("CONNECT: will QoS or will retain set without the will flag");
  }
  if (!v5 && has_password && !has_user) {
    return ProtocolError("CONNECT: password flag set without the user name flag");
  }
  if (!r.U16(out.keep_alive_s)) return Malformed("CONNECT: keep alive missing");

  // MQTT 5 properties, or their defaults.
  out.session_expiry_s = 0;
  out.receive_maximum = 65535;
  out.maximum_packet_size = 0;
  out.topic_alias_maximum = 0;
  out.request_problem_information = true;
  out.authentication_method = {};
  out.user_properties.clear();
  if (v5) {
    Properties props;
    auto res = ParseProperties(r, kConnectProperties, kConnectErrors, props, &out.user_properties);
    if (!res.ok()) return res;
    if (props.present != 0) {
      if (props.Has(kSessionExpiryInterval)) {
        out.session_expiry_s = props.number[kSessionExpiryInterval];
      }
      if (props.Has(kReceiveMaximum)) {
        out.receive_maximum = static_cast<std::uint16_t>(props.number[kReceiveMaximum]);
      }
      if (props.Has(kMaximumPacketSize)) {
        out.maximum_packet_size = props.number[kMaximumPacketSize];
      }
      if (props.Has(kTopicAliasMaximum)) {
        out.topic_alias_maximum = static_cast<std::uint16_t>(props.number[kTopicAliasMaximum]);
      }
      if (props.Has(kRequestProblemInformation)) {
        out.request_problem_information = props.number[kRequestProblemInformation] == 1;
      }
      if (props.Has(kAuthenticationMethod)) {
        out.authentication_method = props.bytes(kAuthenticationMethod);
      } else if (props.Has(kAuthenticationData)) {
        return ProtocolError("CONNECT: authentication data without authentication method");
      }
    }
  }

  // Payload: client id, will, user name, password, in that order.
  if (!r.Prefixed(out.client_id)) return Malformed("CONNECT: client id length exceeds the packet");
  if (!IsValidMqttUtf8(out.client_id)) return Malformed("CONNECT: client id is not valid UTF-8");
  if (!v5 && out.client_id.empty() && !out.clean_start) {
    return {ReasonCode::kClientIdentifierNotValid,
            "CONNECT: empty client id without clean session"};
  }
  out.will_topic = {};
  out.will_payload = {};
  if (out.will) {
    auto res = DecodeWill(r, out);
    if (!res.ok()) return res;
  }
  out.username.reset();
  out.password.reset();
  if (has_user) {
    std::string_view user;
    if (!r.Prefixed(user)) return Malformed("CONNECT: user name length exceeds the packet");
    if (!IsValidMqttUtf8(user)) return Malformed("CONNECT: user name is not valid UTF-8");
    out.username = user;
  }
  if (has_password) {
    std::string_view password;
    if (!r.Prefixed(password)) return Malformed("CONNECT: password length exceeds the packet");
    out.password = password;
  }
  if (!r.empty()) return Malformed("CONNECT: bytes after the last field");
  return DecodeResult::Ok();
}

DecodeResult DecodeConnack(ProtocolVersion v, std::uint8_t flags,
                           std::span<const std::uint8_t> body, ConnackPacket& out) {
  if (flags != 0) return Malformed("CONNACK: reserved fixed header flags are not 0");
  Reader r(body);
  std::uint8_t ack_flags = 0, code = 0;
  if (!r.U8(ack_flags) || !r.U8(code)) return Malformed("CONNACK: shorter than 2 bytes");
  if ((ack_flags & 0xFE) != 0) return Malformed("CONNACK: reserved acknowledge flags are not 0");
  out = ConnackPacket{};
  out.session_present = (ack_flags & 0x01) != 0;
  if (v == ProtocolVersion::kV311) {
    if (code > 5) return ProtocolError("CONNACK: return code is not 0 to 5");
    out.reason = ReasonFromV311ReturnCode(code);
    if (!r.empty()) return Malformed("CONNACK: bytes after the return code");
  } else {
    if (!kConnackReasons.Has(code)) return ProtocolError("CONNACK: reason code not allowed");
    out.reason = static_cast<ReasonCode>(code);
    Properties props;
    auto res = ParseProperties(r, kConnackProperties, kConnackErrors, props, nullptr);
    if (!res.ok()) return res;
    if (props.present != 0) {
      const auto u16 = [&](PropertyId id) { return static_cast<std::uint16_t>(props.number[id]); };
      if (props.Has(kSessionExpiryInterval)) {
        out.has_session_expiry = true;
        out.session_expiry_s = props.number[kSessionExpiryInterval];
      }
      if (props.Has(kReceiveMaximum)) out.receive_maximum = u16(kReceiveMaximum);
      if (props.Has(kMaximumQos)) {
        out.maximum_qos = static_cast<std::uint8_t>(props.number[kMaximumQos]);
      }
      if (props.Has(kRetainAvailable)) {
        out.retain_available = props.number[kRetainAvailable] == 1;
      }
      if (props.Has(kMaximumPacketSize)) {
        out.maximum_packet_size = props.number[kMaximumPacketSize];
      }
      if (props.Has(kAssignedClientIdentifier)) {
        out.assigned_client_id = props.bytes(kAssignedClientIdentifier);
      }
      if (props.Has(kTopicAliasMaximum)) out.topic_alias_maximum = u16(kTopicAliasMaximum);
      if (props.Has(kReasonString)) out.reason_string = props.bytes(kReasonString);
      if (props.Has(kWildcardSubscriptionAvailable)) {
        out.wildcard_subscription_available = props.number[kWildcardSubscriptionAvailable] == 1;
      }
      if (props.Has(kSubscriptionIdentifierAvailable)) {
        out.subscription_ids_available = props.number[kSubscriptionIdentifierAvailable] == 1;
      }
      if (props.Has(kSharedSubscriptionAvailable)) {
        out.shared_subscription_available = props.number[kSharedSubscriptionAvailable] == 1;
      }
      if (props.Has(kServerKeepAlive)) out.server_keep_alive_s = u16(kServerKeepAlive);
    }
    if (!r.empty()) return Malformed("CONNACK: bytes after the properties");
  }
  if (out.session_present && out.reason != ReasonCode::kSuccess) {
    return ProtocolError("CONNACK: session present with a failure code");
  }
  return DecodeResult::Ok();
}

}  // namespace sluice::gateway::mqtt
