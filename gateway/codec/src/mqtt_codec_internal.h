// Private helpers of the MQTT codec: a bounds-checked body reader, the MQTT 5
// property table and parser, reason code sets, topic checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "gateway/codec/mqtt_codec.h"

namespace sluice::gateway::mqtt::internal {

// Largest value a variable byte integer can carry (4 bytes of 7 bits).
inline constexpr std::uint32_t kMaxVarint = 268'435'455;

inline constexpr DecodeResult Malformed(const char* what) {
  return {ReasonCode::kMalformedPacket, what};
}
inline constexpr DecodeResult ProtocolError(const char* what) {
  return {ReasonCode::kProtocolError, what};
}

// Reads big-endian fields from a packet body. Every read checks the bounds
// and returns false, leaving the output alone, when the body is too short.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> body)
      : p_(body.data()), end_(body.data() + body.size()) {}

  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  bool empty() const { return p_ == end_; }

  bool U8(std::uint8_t& v) {
    if (p_ == end_) return false;
    v = *p_++;
    return true;
  }
  bool U16(std::uint16_t& v) {
    if (remaining() < 2) return false;
    v = static_cast<std::uint16_t>((p_[0] << 8) | p_[1]);
    p_ += 2;
    return true;
  }
  bool U32(std::uint32_t& v) {
    if (remaining() < 4) return false;
    v = (std::uint32_t{p_[0]} << 24) | (std::uint32_t{p_[1]} << 16) | (std::uint32_t{p_[2]} << 8) |
        std::uint32_t{p_[3]};
    p_ += 4;
    return true;
  }
  // False when truncated or longer than 4 bytes.
  bool Varint(std::uint32_t& v) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      if (p_ + i == end_) return false;
      const std::uint8_t b = p_[i];
      value |= std::uint32_t{b & 0x7Fu} << (7 * i);
      if ((b & 0x80) == 0) {
        p_ += i + 1;
        v = value;
        return true;
      }
    }
    return false;
  }
  bool Take(std::size_t n, std::string_view& v) {
    if (remaining() < n) return false;
    v = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }
  // Two-byte length, then that many bytes (MQTT strings and binary data).
  bool Prefixed(std::string_view& v) {
    if (remaining() < 2) return false;
    const std::size_t n = (std::size_t{p_[0]} << 8) | p_[1];
    if (remaining() - 2 < n) return false;
    v = std::string_view(reinterpret_cast<const char*>(p_ + 2), n);
    p_ += 2 + n;
    return true;
  }
  std::string_view Rest() {
    std::string_view v(reinterpret_cast<const char*>(p_), remaining());
    p_ = end_;
    return v;
  }
  // A reader over the next n bytes, which this one skips.
  bool Split(std::size_t n, Reader& sub) {
    if (remaining() < n) return false;
    sub = Reader(std::span<const std::uint8_t>(p_, n));
    p_ += n;
    return true;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past
// U+10FFFF); U+0000 refused unless allow_nul. ASCII runs take a fast path.
bool IsWellFormedUtf8(std::string_view s, bool allow_nul);

// '+' or '#' anywhere.
inline bool HasWildcard(std::string_view s) {
  return std::memchr(s.data(), '+', s.size()) != nullptr ||
         std::memchr(s.data(), '#', s.size()) != nullptr;
}

// MQTT 4.7: '#' only as the whole last level, '+' only as a whole level,
// not empty. With `shared` (MQTT 5), "$share/<name>/<filter>" must have a
// non-empty name without wildcards or '/', and a valid filter after it.
bool IsValidTopicFilter(std::string_view filter, bool shared);
// The filter is a shared subscription ("$share/..."), MQTT 5 only.
inline bool IsSharedFilter(std::string_view filter) { return filter.starts_with("$share/"); }

// ---------------------------------------------------------------------------
// Reason codes allowed in each packet (MQTT 5 section 2.4 and the packets'
// own tables).

class ReasonSet {
 public:
  constexpr ReasonSet(std::initializer_list<std::uint8_t> codes) {
    for (std::uint8_t c : codes) bits_[c >> 6] |= std::uint64_t{1} << (c & 63);
  }
  constexpr bool Has(std::uint8_t c) const { return (bits_[c >> 6] >> (c & 63)) & 1; }

 private:
  std::uint64_t bits_[4] = {};
};

inline constexpr ReasonSet kConnackReasons{0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                           0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                           0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
inline constexpr ReasonSet kPubackReasons{0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
inline constexpr ReasonSet kPubrelReasons{0x00, 0x92};
inline constexpr ReasonSet kSubackReasons{0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                          0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
inline constexpr ReasonSet kSubackReasonsV311{0x00, 0x01, 0x02, 0x80};
inline constexpr ReasonSet kUnsubackReasons{0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
inline constexpr ReasonSet kDisconnectReasons{
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};

// ---------------------------------------------------------------------------
// MQTT 5 properties (section 2.2.2.2). Every identifier fits in one byte
// and below 64, so a set of them is a 64-bit mask.

enum PropertyId : std::uint8_t {
  kPayloadFormatIndicator = 0x01,
  kMessageExpiryInterval = 0x02,
  kContentType = 0x03,
  kResponseTopic = 0x08,
  kCorrelationData = 0x09,
  kSubscriptionIdentifier = 0x0B,
  kSessionExpiryInterval = 0x11,
  kAssignedClientIdentifier = 0x12,
  kServerKeepAlive = 0x13,
  kAuthenticationMethod = 0x15,
  kAuthenticationData = 0x16,
  kRequestProblemInformation = 0x17,
  kWillDelayInterval = 0x18,
  kRequestResponseInformation = 0x19,
  kResponseInformation = 0x1A,
  kServerReference = 0x1C,
  kReasonString = 0x1F,
  kReceiveMaximum = 0x21,
  kTopicAliasMaximum = 0x22,
  kTopicAlias = 0x23,
  kMaximumQos = 0x24,
  kRetainAvailable = 0x25,
  kUserProperty = 0x26,
  kMaximumPacketSize = 0x27,
  kWildcardSubscriptionAvailable = 0x28,
  kSubscriptionIdentifierAvailable = 0x29,
  kSharedSubscriptionAvailable = 0x2A,
};
inline constexpr int kPropertyIdLimit = 0x2B;

constexpr std::uint64_t Bit(PropertyId id) { return std::uint64_t{1} << id; }
constexpr std::uint64_t Bits(std::initializer_list<PropertyId> ids) {
  std::uint64_t m = 0;
  for (PropertyId id : ids) m |= Bit(id);
  return m;
}

// Which properties a packet allows, and which of those may repeat.
struct PropertyRules {
  std::uint64_t allowed;
  std::uint64_t repeatable;
};

inline constexpr PropertyRules kConnectProperties{
    Bits({kSessionExpiryInterval, kReceiveMaximum, kMaximumPacketSize, kTopicAliasMaximum,
          kRequestResponseInformation, kRequestProblemInformation, kUserProperty,
          kAuthenticationMethod, kAuthenticationData}),
    Bit(kUserProperty)};
inline constexpr PropertyRules kWillProperties{
    Bits({kWillDelayInterval, kPayloadFormatIndicator, kMessageExpiryInterval, kContentType,
          kResponseTopic, kCorrelationData, kUserProperty}),
    Bit(kUserProperty)};
inline constexpr PropertyRules kConnackProperties{
    Bits({kSessionExpiryInterval, kReceiveMaximum, kMaximumQos, kRetainAvailable,
          kMaximumPacketSize, kAssignedClientIdentifier, kTopicAliasMaximum, kReasonString,
          kUserProperty, kWildcardSubscriptionAvailable, kSubscriptionIdentifierAvailable,
          kSharedSubscriptionAvailable, kServerKeepAlive, kResponseInformation, kServerReference,
          kAuthenticationMethod, kAuthenticationData}),
    Bit(kUserProperty)};
inline constexpr PropertyRules kPublishProperties{
    Bits({kPayloadFormatIndicator, kMessageExpiryInterval, kTopicAlias, kResponseTopic,
          kCorrelationData, kUserProperty, kSubscriptionIdentifier, kContentType}),
    Bits({kUserProperty, kSubscriptionIdentifier})};
// PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK.
inline constexpr PropertyRules kAckProperties{Bits({kReasonString, kUserProperty}),
                                              Bit(kUserProperty)};
inline constexpr PropertyRules kSubscribeProperties{Bits({kSubscriptionIdentifier, kUserProperty}),
                                                    Bit(kUserProperty)};
inline constexpr PropertyRules kUnsubscribeProperties{Bit(kUserProperty), Bit(kUserProperty)};
inline constexpr PropertyRules kDisconnectProperties{
    Bits({kSessionExpiryInterval, kReasonString, kUserProperty, kServerReference}),
    Bit(kUserProperty)};

// Fixed descriptions for the generic property failures of one packet.
struct PropertyErrors {
  const char* length;       // property length malformed or past the packet
  const char* not_allowed;  // identifier unknown or not allowed here
  const char* duplicate;    // a once-only property twice
  const char* truncated;    // a value runs past the property length
  const char* utf8;         // a string property is not valid MQTT UTF-8
  const char* not_boolean;  // a byte property other than 0 or 1
  const char* zero_receive_maximum;
  const char* zero_maximum_packet_size;
  const char* zero_subscription_id;
};

#define SLUICE_MQTT_PROPERTY_ERRORS(pkt)                                                      \
  ::sluice::gateway::mqtt::internal::PropertyErrors {                                         \
    pkt ": property length is malformed or exceeds the packet",                               \
        pkt ": property identifier not allowed in this packet",                               \
        pkt ": property that may appear once appears twice",                                  \
        pkt ": property value exceeds the property length",                                   \
        pkt ": string property is not valid UTF-8", pkt ": byte property is neither 0 nor 1", \
        pkt ": receive maximum is 0", pkt ": maximum packet size is 0",                       \
        pkt ": subscription identifier is 0"                                                  \
  }

// Property values by identifier; only those in `present` were set. The
// arrays are left uninitialised (trivial types): a PUBLISH decode should not
// pay for clearing 43 slots it mostly does not use.
struct Properties {
  struct Bytes {
    const char* data;
    std::size_t size;
  };
  std::uint64_t present = 0;
  std::uint32_t number[kPropertyIdLimit];  // byte, two-, four-byte, varint
  Bytes raw[kPropertyIdLimit];             // strings and binary data
  bool Has(PropertyId id) const { return (present & Bit(id)) != 0; }
  std::string_view bytes(PropertyId id) const { return {raw[id].data, raw[id].size}; }
};

// Reads the property length and the properties. Checks identifiers against
// `rules`, duplicates, value types and bounds, UTF-8 of string properties,
// that booleans are 0 or 1, and that receive maximum, maximum packet size
// and subscription identifiers are not 0. User properties are appended to
// `user` (nullptr: checked and dropped); for a repeatable subscription
// identifier only the last is kept.
DecodeResult ParseProperties(Reader& r, const PropertyRules& rules, const PropertyErrors& e,
                             Properties& out, std::vector<UserPropertyView>* user);

}  // namespace sluice::gateway::mqtt::internal
