// Encoders. Each packet's body is described once, as a template over a sink:
// run with a Counter it gives the remaining length (and PublishSize), run
// with a Writer it fills bytes already reserved in the output. So the length
// written in the fixed header always matches the body, and the output grows
// once per packet.
#include "base/status.h"
#include "mqtt_codec_internal.h"
#include "gateway/codec/mqtt_codec.h"

namespace sluice::gateway::mqtt {

using namespace internal;

namespace {

constexpr std::size_t kMaxString = 65535;

std::size_t VarintSize(std::size_t v) {
  SLUICE_CHECK(v <= kMaxVarint);
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

class Counter {
 public:
  void U8(std::uint8_t) { n_ += 1; }
  void U16(std::uint16_t) { n_ += 2; }
  void U32(std::uint32_t) { n_ += 4; }
  void Varint(std::size_t v) { n_ += VarintSize(v); }
  void Prefixed(std::string_view s) {
    SLUICE_CHECK(s.size() <= kMaxString);
    n_ += 2 + s.size();
  }
  void Raw(std::string_view s) { n_ += s.size(); }
  std::size_t size() const { return n_; }

 private:
  std::size_t n_ = 0;
};

class Writer {
 public:
  explicit Writer(char* p) : p_(p) {}
  void U8(std::uint8_t v) { *p_++ = static_cast<char>(v); }
  void U16(std::uint16_t v) {
    U8(static_cast<std::uint8_t>(v >> 8));
    U8(static_cast<std::uint8_t>(v));
  }
  void U32(std::uint32_t v) {
    U16(static_cast<std::uint16_t>(v >> 16));
    U16(static_cast<std::uint16_t>(v));
  }
  void Varint(std::size_t v) {
    do {
      std::uint8_t b = v & 0x7F;
      v >>= 7;
      if (v != 0) b |= 0x80;
      U8(b);
    } while (v != 0);
  }
  void Prefixed(std::string_view s) {
    U16(static_cast<std::uint16_t>(s.size()));
    Raw(s);
  }
  void Raw(std::string_view s) {
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  const char* position() const { return p_; }

 private:
  char* p_;
};

// Remaining length of a body described by `body(sink)`.
template <typename Body>
std::size_t BodySize(const Body& body) {
  Counter c;
  body(c);
  return c.size();
}

// Appends the fixed header and the body to `out`.
template <typename Body>
void Encode(std::uint8_t first_byte, std::string& out, const Body& body) {
  const std::size_t length = BodySize(body);
  const std::size_t total = 1 + VarintSize(length) + length;
  const std::size_t start = out.size();
  out.resize(start + total);
  Writer w(out.data() + start);
  w.U8(first_byte);
  w.Varint(length);
  body(w);
  SLUICE_CHECK(w.position() == out.data() + out.size());
}

// A property block: its length, then the properties from `props(sink)`.
template <typename Sink, typename Props>
void PutProperties(Sink& s, const Props& props) {
  s.Varint(BodySize(props));
  props(s);
}

template <typename Sink>
void PutU8Property(Sink& s, PropertyId id, std::uint8_t v) {
  s.U8(id);
  s.U8(v);
}
template <typename Sink>
void PutU16Property(Sink& s, PropertyId id, std::uint16_t v) {
  s.U8(id);
  s.U16(v);
}
template <typename Sink>
void PutU32Property(Sink& s, PropertyId id, std::uint32_t v) {
  s.U8(id);
  s.U32(v);
}
template <typename Sink>
void PutStringProperty(Sink& s, PropertyId id, std::string_view v) {
  s.U8(id);
  s.Prefixed(v);
}
template <typename Sink>
void PutUserProperties(Sink& s, const std::vector<UserPropertyView>& user) {
  for (const UserPropertyView& kv : user) {
    s.U8(kUserProperty);
    s.Prefixed(kv.key);
    s.Prefixed(kv.value);
  }
}

constexpr std::uint8_t FirstByte(PacketType type, std::uint8_t flags = 0) {
  return static_cast<std::uint8_t>((static_cast<std::uint8_t>(type) << 4) | flags);
}

std::uint8_t PublishFlags(const PublishPacket& p) {
  SLUICE_CHECK(p.qos <= 2);
  SLUICE_CHECK(!(p.dup && p.qos == 0));
  SLUICE_CHECK(p.qos == 0 || p.packet_id != 0);
  return static_cast<std::uint8_t>((p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 0x01 : 0));
}

template <typename Sink>
void PutPublishBody(Sink& s, ProtocolVersion v, const PublishPacket& p) {
  s.Prefixed(p.topic);
  if (p.qos > 0) s.U16(p.packet_id);
  if (v == ProtocolVersion::kV5) {
    PutProperties(s, [&](auto& ps) {
      if (p.payload_format) PutU8Property(ps, kPayloadFormatIndicator, *p.payload_format);
      if (p.message_expiry_s) PutU32Property(ps, kMessageExpiryInterval, *p.message_expiry_s);
      if (p.topic_alias != 0) PutU16Property(ps, kTopicAlias, p.topic_alias);
      if (!p.content_type.empty()) PutStringProperty(ps, kContentType, p.content_type);
      if (!p.response_topic.empty()) PutStringProperty(ps, kResponseTopic, p.response_topic);
      if (!p.correlation_data.empty()) {
        PutStringProperty(ps, kCorrelationData, p.correlation_data);
      }
      PutUserProperties(ps, p.user_properties);
    });
  }
  s.Raw(p.payload);
}

// MQTT 3.1.1 CONNACK return code for a reason code (see ConnackPacket).
std::uint8_t V311ReturnCode(ReasonCode r) {
  switch (r) {
    case ReasonCode::kSuccess:
      return 0;
    case ReasonCode::kUnsupportedProtocolVersion:
      return 1;
    case ReasonCode::kClientIdentifierNotValid:
      return 2;
    case ReasonCode::kBadUserNameOrPassword:
      return 4;
    case ReasonCode::kNotAuthorized:
    case ReasonCode::kBanned:
    case ReasonCode::kBadAuthenticationMethod:
      return 5;
    default:
      return 3;
  }
}

}  // namespace

void EncodeConnect(const ConnectPacket& p, std::string& out) {
  const bool v5 = p.version == ProtocolVersion::kV5;
  SLUICE_CHECK(v5 || p.version == ProtocolVersion::kV311);
  SLUICE_CHECK(v5 || !p.password || p.username);  // 3.1.1: no password alone
  SLUICE_CHECK(!p.will || p.will_qos <= 2);
  SLUICE_CHECK(p.receive_maximum != 0);
  std::uint8_t flags = p.clean_start ? 0x02 : 0;
  if (p.will) {
    flags |= static_cast<std::uint8_t>(0x04 | (p.will_qos << 3) | (p.will_retain ? 0x20 : 0));
  }
  if (p.password) flags |= 0x40;
  if (p.username) flags |= 0x80;
  Encode(FirstByte(PacketType::kConnect), out, [&](auto& s) {
    s.Prefixed("MQTT");
    s.U8(static_cast<std::uint8_t>(p.version));
    s.U8(flags);
    s.U16(p.keep_alive_s);
    if (v5) {
      PutProperties(s, [&](auto& ps) {
        if (p.session_expiry_s != 0) {
          PutU32Property(ps, kSessionExpiryInterval, p.session_expiry_s);
        }
        if (p.receive_maximum != 65535) PutU16Property(ps, kReceiveMaximum, p.receive_maximum);
        if (p.maximum_packet_size != 0) {
          PutU32Property(ps, kMaximumPacketSize, p.maximum_packet_size);
        }
        if (p.topic_alias_maximum != 0) {
          PutU16Property(ps, kTopicAliasMaximum, p.topic_alias_maximum);
        }
        if (!p.request_problem_information) PutU8Property(ps, kRequestProblemInformation, 0);
        if (!p.authentication_method.empty()) {
          PutStringProperty(ps, kAuthenticationMethod, p.authentication_method);
        }
        PutUserProperties(ps, p.user_properties);
      });
    }
    s.Prefixed(p.client_id);
    if (p.will) {
      if (v5) s.Varint(0);  // no will properties
      s.Prefixed(p.will_topic);
      s.Prefixed(p.will_payload);
    }
    if (p.username) s.Prefixed(*p.username);
    if (p.password) s.Prefixed(*p.password);
  });
}

void EncodeConnack(ProtocolVersion v, const ConnackPacket& p, std::string& out) {
  SLUICE_CHECK(!(p.session_present && p.reason != ReasonCode::kSuccess));
  SLUICE_CHECK(p.maximum_qos <= 2);
  Encode(FirstByte(PacketType::kConnack), out, [&](auto& s) {
    s.U8(p.session_present ? 1 : 0);
    if (v == ProtocolVersion::kV311) {
      s.U8(V311ReturnCode(p.reason));
      return;
    }
    s.U8(static_cast<std::uint8_t>(p.reason));
    PutProperties(s, [&](auto& ps) {
      if (p.has_session_expiry) PutU32Property(ps, kSessionExpiryInterval, p.session_expiry_s);
      if (p.receive_maximum != 0) PutU16Property(ps, kReceiveMaximum, p.receive_maximum);
      if (p.maximum_qos < 2) PutU8Property(ps, kMaximumQos, p.maximum_qos);
      if (!p.retain_available) PutU8Property(ps, kRetainAvailable, 0);
      if (p.maximum_packet_size != 0) {
        PutU32Property(ps, kMaximumPacketSize, p.maximum_packet_size);
      }
      if (!p.assigned_client_id.empty()) {
        PutStringProperty(ps, kAssignedClientIdentifier, p.assigned_client_id);
      }
      if (p.topic_alias_maximum != 0) {
        PutU16Property(ps, kTopicAliasMaximum, p.topic_alias_maximum);
      }
      if (!p.reason_string.empty()) PutStringProperty(ps, kReasonString, p.reason_string);
      if (!p.wildcard_subscription_available) {
        PutU8Property(ps, kWildcardSubscriptionAvailable, 0);
      }
      if (!p.subscription_ids_available) PutU8Property(ps, kSubscriptionIdentifierAvailable, 0);
      if (!p.shared_subscription_available) PutU8Property(ps, kSharedSubscriptionAvailable, 0);
      if (p.server_keep_alive_s != 0) PutU16Property(ps, kServerKeepAlive, p.server_keep_alive_s);
    });
  });
}

void EncodePublish(ProtocolVersion v, const PublishPacket& p, std::string& out) {
  Encode(FirstByte(PacketType::kPublish, PublishFlags(p)), out,
         [&](auto& s) { PutPublishBody(s, v, p); });
}

std::size_t PublishSize(ProtocolVersion v, const PublishPacket& p) {
  (void)PublishFlags(p);  // the same checks as EncodePublish
  const std::size_t length = BodySize([&](auto& s) { PutPublishBody(s, v, p); });
  return 1 + VarintSize(length) + length;
}

void EncodeAck(ProtocolVersion v, const AckPacket& p, std::string& out) {
  SLUICE_CHECK(p.type >= PacketType::kPuback && p.type <= PacketType::kPubcomp);
  const std::uint8_t flags = p.type == PacketType::kPubrel ? 0x02 : 0x00;
  Encode(FirstByte(p.type, flags), out, [&](auto& s) {
    s.U16(p.packet_id);
    if (v == ProtocolVersion::kV311) return;
    if (p.reason_string.empty()) {
      // MQTT 5 3.4.2.1: the reason code may be left out on success, and
      // the property length whenever there are no properties.
      if (p.reason != ReasonCode::kSuccess) s.U8(static_cast<std::uint8_t>(p.reason));
      return;
    }
    s.U8(static_cast<std::uint8_t>(p.reason));
    PutProperties(s, [&](auto& ps) { PutStringProperty(ps, kReasonString, p.reason_string); });
  });
}

void EncodeSuback(ProtocolVersion v, PacketType type, std::uint16_t packet_id,
                  std::uint32_t filters, ReasonCode reason, std::string& out) {
  SLUICE_CHECK(type == PacketType::kSuback || type == PacketType::kUnsuback);
  SLUICE_CHECK(filters >= 1);
  const bool v5 = v == ProtocolVersion::kV5;
  if (!v5 && type == PacketType::kUnsuback) filters = 0;  // 3.1.1: no codes
  std::uint8_t code = static_cast<std::uint8_t>(reason);
  if (!v5 && code > 2) code = 0x80;  // 3.1.1 SUBACK: 0, 1, 2 or failure
  Encode(FirstByte(type), out, [&](auto& s) {
    s.U16(packet_id);
    if (v5) s.Varint(0);  // no properties
    for (std::uint32_t i = 0; i < filters; ++i) s.U8(code);
  });
}

void EncodeSubscribe(ProtocolVersion v, std::uint16_t packet_id, std::string_view filter,
                     std::uint8_t qos, std::string& out) {
  SLUICE_CHECK(qos <= 2);
  SLUICE_CHECK(packet_id != 0);
  Encode(FirstByte(PacketType::kSubscribe, 0x02), out, [&](auto& s) {
    s.U16(packet_id);
    if (v == ProtocolVersion::kV5) s.Varint(0);  // no properties
    s.Prefixed(filter);
    s.U8(qos);
  });
}

void EncodeDisconnect(ProtocolVersion v, const DisconnectPacket& p, std::string& out) {
  if (v == ProtocolVersion::kV311) return;
  const bool has_properties = p.session_expiry_s.has_value() || !p.reason_string.empty();
  Encode(FirstByte(PacketType::kDisconnect), out, [&](auto& s) {
    // MQTT 5 3.14.2.1: reason and property length may be left out.
    if (p.reason == ReasonCode::kSuccess && !has_properties) return;
    s.U8(static_cast<std::uint8_t>(p.reason));
    if (!has_properties) return;
    PutProperties(s, [&](auto& ps) {
      if (p.session_expiry_s) PutU32Property(ps, kSessionExpiryInterval, *p.session_expiry_s);
      if (!p.reason_string.empty()) PutStringProperty(ps, kReasonString, p.reason_string);
    });
  });
}

void EncodeEmpty(PacketType type, std::string& out) {
  SLUICE_CHECK(type == PacketType::kPingreq || type == PacketType::kPingresp);
  out.push_back(static_cast<char>(FirstByte(type)));
  out.push_back(0);
}

}  // namespace sluice::gateway::mqtt
