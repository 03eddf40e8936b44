// Names, UTF-8 and topic checks, framing and the MQTT 5 property parser
// shared by the decoders.
#include <array>
#include <cstring>

#include "mqtt_codec_internal.h"
#include "gateway/codec/mqtt_codec.h"

namespace sluice::gateway::mqtt {

using namespace internal;

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kConnect:
      return "CONNECT";
    case PacketType::kConnack:
      return "CONNACK";
    case PacketType::kPublish:
      return "PUBLISH";
    case PacketType::kPuback:
      return "PUBACK";
    case PacketType::kPubrec:
      return "PUBREC";
    case PacketType::kPubrel:
      return "PUBREL";
    case PacketType::kPubcomp:
      return "PUBCOMP";
    case PacketType::kSubscribe:
      return "SUBSCRIBE";
    case PacketType::kSuback:
      return "SUBACK";
    case PacketType::kUnsubscribe:
      return "UNSUBSCRIBE";
    case PacketType::kUnsuback:
      return "UNSUBACK";
    case PacketType::kPingreq:
      return "PINGREQ";
    case PacketType::kPingresp:
      return "PINGRESP";
    case PacketType::kDisconnect:
      return "DISCONNECT";
    case PacketType::kAuth:
      return "AUTH";
  }
  return "RESERVED";
}

std::string_view ReasonCodeName(ReasonCode code) {
  switch (code) {
    case ReasonCode::kSuccess:
      return "success";
    case ReasonCode::kGrantedQos1:
      return "granted QoS 1";
    case ReasonCode::kGrantedQos2:
      return "granted QoS 2";
    case ReasonCode::kDisconnectWithWill:
      return "disconnect with will message";
    case ReasonCode::kNoMatchingSubscribers:
      return "no matching subscribers";
    case ReasonCode::kNoSubscriptionExisted:
      return "no subscription existed";
    case ReasonCode::kContinueAuthentication:
      return "continue authentication";
    case ReasonCode::kReAuthenticate:
      return "re-authenticate";
    case ReasonCode::kUnspecifiedError:
      return "unspecified error";
    case ReasonCode::kMalformedPacket:
      return "malformed packet";
    case ReasonCode::kProtocolError:
      return "protocol error";
    case ReasonCode::kImplementationSpecificError:
      return "implementation specific error";
    case ReasonCode::kUnsupportedProtocolVersion:
      return "unsupported protocol version";
    case ReasonCode::kClientIdentifierNotValid:
      return "client identifier not valid";
    case ReasonCode::kBadUserNameOrPassword:
      return "bad user name or password";
    case ReasonCode::kNotAuthorized:
      return "not authorized";
    case ReasonCode::kServerUnavailable:
      return "server unavailable";
    case ReasonCode::kServerBusy:
      return "server busy";
    case ReasonCode::kBanned:
      return "banned";
    case ReasonCode::kServerShuttingDown:
      return "server shutting down";
    case ReasonCode::kBadAuthenticationMethod:
      return "bad authentication method";
    case ReasonCode::kKeepAliveTimeout:
      return "keep alive timeout";
    case ReasonCode::kSessionTakenOver:
      return "session taken over";
    case ReasonCode::kTopicFilterInvalid:
      return "topic filter invalid";
    case ReasonCode::kTopicNameInvalid:
      return "topic name invalid";
    case ReasonCode::kPacketIdentifierInUse:
      return "packet identifier in use";
    case ReasonCode::kPacketIdentifierNotFound:
      return "packet identifier not found";
    case ReasonCode::kReceiveMaximumExceeded:
      return "receive maximum exceeded";
    case ReasonCode::kTopicAliasInvalid:
      return "topic alias invalid";
    case ReasonCode::kPacketTooLarge:
      return "packet too large";
    case ReasonCode::kMessageRateTooHigh:
      return "message rate too high";
    case ReasonCode::kQuotaExceeded:
      return "quota exceeded";
    case ReasonCode::kAdministrativeAction:
      return "administrative action";
    case ReasonCode::kPayloadFormatInvalid:
      return "payload format invalid";
    case ReasonCode::kRetainNotSupported:
      return "retain not supported";
    case ReasonCode::kQosNotSupported:
      return "QoS not supported";
    case ReasonCode::kUseAnotherServer:
      return "use another server";
    case ReasonCode::kServerMoved:
      return "server moved";
    case ReasonCode::kSharedSubscriptionsNotSupported:
      return "shared subscriptions not supported";
    case ReasonCode::kConnectionRateExceeded:
      return "connection rate exceeded";
    case ReasonCode::kMaximumConnectTime:
      return "maximum connect time";
    case ReasonCode::kSubscriptionIdentifiersNotSupported:
      return "subscription identifiers not supported";
    case ReasonCode::kWildcardSubscriptionsNotSupported:
      return "wildcard subscriptions not supported";
  }
  return "unknown reason code";
}

// ---------------------------------------------------------------------------
// UTF-8

namespace internal {

bool IsWellFormedUtf8(std::string_view s, bool allow_nul) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const std::uint8_t* const end = p + s.size();
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  constexpr std::uint64_t kLow = 0x0101010101010101ull;
  while (p != end) {
    // Eight ASCII bytes at a time (with no zero byte unless allowed).
    if (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      const bool ascii = (w & kHigh) == 0;
      const bool has_zero = ((w - kLow) & ~w & kHigh) != 0;
      if (ascii && (allow_nul || !has_zero)) {
        p += 8;
        continue;
      }
    }
    const std::uint8_t c = *p;
    if (c < 0x80) {
      if (c == 0 && !allow_nul) return false;
      ++p;
      continue;
    }
    // Lead byte: length and the range its first continuation byte must be
    // in (which rules out overlongs, surrogates and code points > U+10FFFF).
    std::size_t n;
    std::uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0xC2) {
      return false;  // a continuation byte, or an overlong C0/C1 lead
    } else if (c < 0xE0) {
      n = 2;
    } else if (c < 0xF0) {
      n = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // U+D800..U+DFFF
    } else if (c < 0xF5) {
      n = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::size_t i = 2; i < n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += n;
  }
  return true;
}

bool IsValidTopicFilter(std::string_view filter, bool shared) {
  if (shared && IsSharedFilter(filter)) {
    filter.remove_prefix(7);  // "$share/"
    const std::size_t slash = filter.find('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    if (HasWildcard(filter.substr(0, slash))) return false;
    filter.remove_prefix(slash + 1);
  }
  if (filter.empty()) return false;
  std::size_t level_start = 0;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    const char c = filter[i];
    if (c == '/') {
      level_start = i + 1;
    } else if (c == '+') {
      // The whole level: starts it and ends it.
      if (i != level_start || (i + 1 < filter.size() && filter[i + 1] != '/')) return false;
    } else if (c == '#') {
      // The whole last level.
      if (i != level_start || i + 1 != filter.size()) return false;
    }
  }
  return true;
}

}  // namespace internal

bool IsValidMqttUtf8(std::string_view s) { return IsWellFormedUtf8(s, /*allow_nul=*/false); }

// ---------------------------------------------------------------------------
// Framing

FrameStatus PeekFrame(std::span<const std::uint8_t> buffer, std::uint32_t max_packet_size,
                      FrameHeader& header) {
  header = FrameHeader{};
  if (buffer.empty()) return FrameStatus::kIncomplete;
  const std::uint8_t first = buffer[0];
  if ((first >> 4) == 0) return FrameStatus::kMalformed;
  header.type = static_cast<PacketType>(first >> 4);
  header.flags = first & 0x0F;
  std::uint32_t length = 0;
  std::uint32_t i = 1;
  for (;; ++i) {
    if (i > 4) return FrameStatus::kMalformed;  // a fifth length byte
    if (i >= buffer.size()) return FrameStatus::kIncomplete;
    const std::uint8_t b = buffer[i];
    length |= std::uint32_t{b & 0x7Fu} << (7 * (i - 1));
    if ((b & 0x80) == 0) break;
  }
  header.remaining_length = length;
  header.header_size = i + 1;
  if (max_packet_size != 0 && std::uint64_t{header.size()} > max_packet_size) {
    return FrameStatus::kTooLarge;
  }
  if (buffer.size() < header.size()) return FrameStatus::kIncomplete;
  return FrameStatus::kComplete;
}

// ---------------------------------------------------------------------------
// Properties

namespace internal {
namespace {

enum class ValueType : std::uint8_t { kNone, kByte, kTwo, kFour, kVarint, kUtf8, kBinary, kPair };

constexpr std::array<ValueType, kPropertyIdLimit> MakeValueTypes() {
  std::array<ValueType, kPropertyIdLimit> t{};
  for (PropertyId id :
       {kPayloadFormatIndicator, kRequestProblemInformation, kRequestResponseInformation,
        kMaximumQos, kRetainAvailable, kWildcardSubscriptionAvailable,
        kSubscriptionIdentifierAvailable, kSharedSubscriptionAvailable}) {
    t[id] = ValueType::kByte;
  }
  for (PropertyId id : {kServerKeepAlive, kReceiveMaximum, kTopicAliasMaximum, kTopicAlias}) {
    t[id] = ValueType::kTwo;
  }
  for (PropertyId id :
       {kMessageExpiryInterval, kSessionExpiryInterval, kWillDelayInterval, kMaximumPacketSize}) {
    t[id] = ValueType::kFour;
  }
  t[kSubscriptionIdentifier] = ValueType::kVarint;
  for (PropertyId id :
       {kContentType, kResponseTopic, kAssignedClientIdentifier, kAuthenticationMethod,
        kResponseInformation, kServerReference, kReasonString}) {
    t[id] = ValueType::kUtf8;
  }
  t[kCorrelationData] = ValueType::kBinary;
  t[kAuthenticationData] = ValueType::kBinary;
  t[kUserProperty] = ValueType::kPair;
  return t;
}
constexpr std::array<ValueType, kPropertyIdLimit> kValueTypes = MakeValueTypes();

// Zero is a protocol error for these (MQTT 5 3.1.2.11.3, 3.1.2.11.4,
// 3.2.2.3.3, 3.2.2.3.6, 3.3.2.3.8, 3.8.2.1.2). Topic alias 0 has its own
// reason code and is checked by the PUBLISH decoder.
constexpr std::uint64_t kNonZero =
    Bits({kReceiveMaximum, kMaximumPacketSize, kSubscriptionIdentifier});

}  // namespace

DecodeResult ParseProperties(Reader& r, const PropertyRules& rules, const PropertyErrors& e,
                             Properties& out, std::vector<UserPropertyView>* user) {
  out.present = 0;
  std::uint32_t length = 0;
  Reader props(std::span<const std::uint8_t>{});
  if (!r.Varint(length) || !r.Split(length, props)) return Malformed(e.length);
  while (!props.empty()) {
    std::uint8_t id = 0;
    (void)props.U8(id);
    // Identifiers are variable byte integers, but all defined ones are
    // below 0x80: a continuation bit is an unknown identifier too.
    if (id >= kPropertyIdLimit || (rules.allowed & (std::uint64_t{1} << id)) == 0) {
      return Malformed(e.not_allowed);
    }
    const std::uint64_t bit = std::uint64_t{1} << id;
    if ((out.present & bit) != 0 && (rules.repeatable & bit) == 0) {
      return ProtocolError(e.duplicate);
    }
    out.present |= bit;
    bool ok = false;
    switch (kValueTypes[id]) {
      case ValueType::kByte: {
        std::uint8_t v = 0;
        ok = props.U8(v);
        if (ok && v > 1) return ProtocolError(e.not_boolean);
        out.number[id] = v;
        break;
      }
      case ValueType::kTwo: {
        std::uint16_t v = 0;
        ok = props.U16(v);
        out.number[id] = v;
        break;
      }
      case ValueType::kFour:
        ok = props.U32(out.number[id]);
        break;
      case ValueType::kVarint:
        ok = props.Varint(out.number[id]);
        break;
      case ValueType::kUtf8:
      case ValueType::kBinary: {
        std::string_view v;
        ok = props.Prefixed(v);
        if (ok && kValueTypes[id] == ValueType::kUtf8 && !IsValidMqttUtf8(v)) {
          return Malformed(e.utf8);
        }
        out.raw[id] = {v.data(), v.size()};
        break;
      }
      case ValueType::kPair: {
        UserPropertyView kv;
        ok = props.Prefixed(kv.key) && props.Prefixed(kv.value);
        if (ok && (!IsValidMqttUtf8(kv.key) || !IsValidMqttUtf8(kv.value))) {
          return Malformed(e.utf8);
        }
        if (ok && user != nullptr) user->push_back(kv);
        break;
      }
      case ValueType::kNone:
        return Malformed(e.not_allowed);
    }
    if (!ok) return Malformed(e.truncated);
    if ((kNonZero & bit) != 0 && out.number[id] == 0) {
      return ProtocolError(id == kReceiveMaximum      ? e.zero_receive_maximum
                           : id == kMaximumPacketSize ? e.zero_maximum_packet_size
                                                      : e.zero_subscription_id);
    }
  }
  return DecodeResult::Ok();
}

}  // namespace internal
}  // namespace sluice::gateway::mqtt
