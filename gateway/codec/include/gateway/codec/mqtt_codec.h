// MQTT 3.1.1 and 5.0 packet codec: bytes <-> packets, nothing else. No I/O,
// no clocks, no allocation beyond the caller's reusable outputs, so the
// native endpoint, the benchmark load generator, the simulator and the fuzz
// target share it.
//
// Decoding is two steps. PeekFrame() looks at the front of a receive buffer
// and says whether one whole packet is there (fixed header + remaining
// length). The Decode*() function for its type then parses the body.
// Decoded packets hold string_views into the caller's buffer: valid until
// the caller consumes those bytes.
//
// Every decoder checks what MQTT calls a malformed packet or a protocol
// error (lengths, reserved flags, UTF-8 rules of MQTT 1.5.4, property
// identifiers allowed for that packet, duplicate properties, QoS 3, packet
// id 0, ...). A failure returns the reason code the server must send in its
// DISCONNECT (MQTT 5) and a fixed description naming the packet and field.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::gateway::mqtt {

enum class ProtocolVersion : std::uint8_t { kV311 = 4, kV5 = 5 };

enum class PacketType : std::uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,
};
std::string_view PacketTypeName(PacketType type);  // "PUBLISH"

// MQTT 5 reason codes (MQTT 5 section 2.4). MQTT 3.1.1 has none on the
// wire except the CONNACK return code, mapped by EncodeConnack().
enum class ReasonCode : std::uint8_t {
  kSuccess = 0x00,  // also "normal disconnection", "granted QoS 0"
  kGrantedQos1 = 0x01,
  kGrantedQos2 = 0x02,
  kDisconnectWithWill = 0x04,
  kNoMatchingSubscribers = 0x10,
  kNoSubscriptionExisted = 0x11,   // UNSUBACK
  kContinueAuthentication = 0x18,  // AUTH (enhanced auth is refused)
  kReAuthenticate = 0x19,
  kUnspecifiedError = 0x80,
  kMalformedPacket = 0x81,
  kProtocolError = 0x82,
  kImplementationSpecificError = 0x83,
  kUnsupportedProtocolVersion = 0x84,
  kClientIdentifierNotValid = 0x85,
  kBadUserNameOrPassword = 0x86,
  kNotAuthorized = 0x87,
  kServerUnavailable = 0x88,
  kServerBusy = 0x89,
  kBanned = 0x8A,
  kServerShuttingDown = 0x8B,
  kBadAuthenticationMethod = 0x8C,
  kKeepAliveTimeout = 0x8D,
  kSessionTakenOver = 0x8E,
  kTopicFilterInvalid = 0x8F,
  kTopicNameInvalid = 0x90,
  kPacketIdentifierInUse = 0x91,
  kPacketIdentifierNotFound = 0x92,
  kReceiveMaximumExceeded = 0x93,
  kTopicAliasInvalid = 0x94,
  kPacketTooLarge = 0x95,
  kMessageRateTooHigh = 0x96,
  kQuotaExceeded = 0x97,
  kAdministrativeAction = 0x98,
  kPayloadFormatInvalid = 0x99,
  kRetainNotSupported = 0x9A,
  kQosNotSupported = 0x9B,
  kUseAnotherServer = 0x9C,
  kServerMoved = 0x9D,
  kSharedSubscriptionsNotSupported = 0x9E,
  kConnectionRateExceeded = 0x9F,
  kMaximumConnectTime = 0xA0,
  kSubscriptionIdentifiersNotSupported = 0xA1,
  kWildcardSubscriptionsNotSupported = 0xA2,
};
std::string_view ReasonCodeName(ReasonCode code);  // "malformed packet"

// Outcome of a decode. `what` is a static string naming packet and field
// ("PUBLISH: topic name is not valid UTF-8"); null on success.
struct [[nodiscard]] DecodeResult {
  ReasonCode reason = ReasonCode::kSuccess;
  const char* what = nullptr;
  bool ok() const { return reason == ReasonCode::kSuccess; }
  static DecodeResult Ok() { return {}; }
  static DecodeResult Error(ReasonCode r, const char* w) { return {r, w}; }
};

// ---------------------------------------------------------------------------
// Framing

enum class FrameStatus : std::uint8_t {
  kComplete,    // header describes a packet wholly inside the buffer
  kIncomplete,  // need more bytes (header_size may be 0 if not yet known)
  kMalformed,   // remaining length uses more than 4 bytes, or type 0
  kTooLarge,    // header_size + remaining_length > max_packet_size
};

struct FrameHeader {
  PacketType type = PacketType::kConnect;
  std::uint8_t flags = 0;  // low nibble of the first byte
  std::uint32_t remaining_length = 0;
  std::uint32_t header_size = 0;  // 2 to 5 bytes
  std::uint32_t size() const { return header_size + remaining_length; }
};

// Looks at the start of `buffer`. On kComplete, the packet's body is
// buffer[header_size, header_size + remaining_length). On kTooLarge the
// header fields are filled, so a caller can say how large it was; it is
// reported as soon as the remaining length is known, before the body has
// arrived. On kIncomplete, type and flags are filled once the first byte is
// there, and header_size once the remaining length is complete (then
// size() is how many bytes to wait for). `max_packet_size` 0: no limit.
// A remaining length encoded in more bytes than needed (0x80 0x00) is
// accepted: MQTT 5 1.5.5 asks senders for the shortest form, and refusing a
// longer one would protect nothing (a sender may write the length in place).
FrameStatus PeekFrame(std::span<const std::uint8_t> buffer, std::uint32_t max_packet_size,
                      FrameHeader& header);

// ---------------------------------------------------------------------------
// Packets. Fields that exist only in MQTT 5 are left empty for 3.1.1.

struct UserPropertyView {
  std::string_view key;
  std::string_view value;
  friend bool operator==(const UserPropertyView&, const UserPropertyView&) = default;
};

struct ConnectPacket {
  ProtocolVersion version = ProtocolVersion::kV5;
  bool clean_start = true;  // 3.1.1: clean session
  std::uint16_t keep_alive_s = 0;
  std::string_view client_id;  // may be empty: the server assigns one
  std::optional<std::string_view> username;
  std::optional<std::string_view> password;  // binary data
  // Will: parsed and validated, then ignored by the ingest endpoint.
  bool will = false;
  std::uint8_t will_qos = 0;
  bool will_retain = false;
  std::string_view will_topic;
  std::string_view will_payload;
  // MQTT 5 properties
  std::uint32_t session_expiry_s = 0;     // 0: ends with the connection
  std::uint16_t receive_maximum = 65535;  // absent: 65535
  std::uint32_t maximum_packet_size = 0;  // 0: absent (no limit)
  std::uint16_t topic_alias_maximum = 0;
  bool request_problem_information = true;
  std::string_view authentication_method;  // non-empty: enhanced auth (refused)
  // The CONNECT's own; the will's user properties are checked and dropped.
  std::vector<UserPropertyView> user_properties;
  friend bool operator==(const ConnectPacket&, const ConnectPacket&) = default;
};

struct ConnackPacket {
  bool session_present = false;
  // MQTT 5 reason code. For 3.1.1 the encoder maps it to a return code
  // (kUnsupportedProtocolVersion -> 1, kClientIdentifierNotValid -> 2,
  // kBadUserNameOrPassword -> 4, kNotAuthorized/kBanned/
  // kBadAuthenticationMethod -> 5, any other failure -> 3 "server
  // unavailable"); the decoder maps 1..5 back to the first of each.
  // A failure with session_present set is a programming error (aborts).
  ReasonCode reason = ReasonCode::kSuccess;
  // MQTT 5 properties; 0 / empty: not sent.
  std::uint32_t session_expiry_s = 0;
  bool has_session_expiry = false;
  std::uint16_t receive_maximum = 0;
  std::uint8_t maximum_qos = 2;  // 2: not sent
  bool retain_available = true;  // true: not sent
  std::uint32_t maximum_packet_size = 0;
  std::string_view assigned_client_id;
  std::uint16_t topic_alias_maximum = 0;
  std::string_view reason_string;
  bool wildcard_subscription_available = true;  // true: not sent
  bool subscription_ids_available = true;       // true: not sent
  bool shared_subscription_available = true;    // true: not sent
  std::uint16_t server_keep_alive_s = 0;        // 0: not sent
  // Decoded but not kept: response information, server reference,
  // authentication method and data, user properties.
  friend bool operator==(const ConnackPacket&, const ConnackPacket&) = default;
};

struct PublishPacket {
  bool dup = false;
  std::uint8_t qos = 0;
  bool retain = false;
  std::string_view topic;       // may be empty in MQTT 5 when topic_alias is set
  std::uint16_t packet_id = 0;  // QoS 1 and 2 only; never 0 there
  std::string_view payload;
  // MQTT 5 properties
  std::uint16_t topic_alias = 0;  // 0: none
  // 1: UTF-8, checked as RFC 3629 well-formed (no surrogates or overlongs;
  // U+0000 allowed, unlike in MQTT strings).
  std::optional<std::uint8_t> payload_format;
  std::optional<std::uint32_t> message_expiry_s;
  std::string_view content_type;      // empty: not sent
  std::string_view response_topic;    // empty: not sent
  std::string_view correlation_data;  // empty: not sent
  // Subscription identifiers (server to client) are checked and dropped.
  std::vector<UserPropertyView> user_properties;
  friend bool operator==(const PublishPacket&, const PublishPacket&) = default;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP.
struct AckPacket {
  PacketType type = PacketType::kPuback;
  std::uint16_t packet_id = 0;
  ReasonCode reason = ReasonCode::kSuccess;
  std::string_view reason_string;  // MQTT 5; user properties are dropped
  friend bool operator==(const AckPacket&, const AckPacket&) = default;
};

// SUBSCRIBE and UNSUBSCRIBE: enough to answer them.
struct SubscribePacket {
  std::uint16_t packet_id = 0;
  std::uint32_t filters = 0;  // topic filters in the payload, >= 1
  friend bool operator==(const SubscribePacket&, const SubscribePacket&) = default;
};

// SUBACK and UNSUBACK, for clients (load generator, simulator, tests).
struct SubackPacket {
  PacketType type = PacketType::kSuback;
  std::uint16_t packet_id = 0;
  // One ReasonCode byte per filter; empty for a 3.1.1 UNSUBACK. A 3.1.1
  // SUBACK's return codes 0, 1, 2 and 0x80 are the same bytes in MQTT 5.
  std::string_view reason_codes;
  std::string_view reason_string;  // MQTT 5
  friend bool operator==(const SubackPacket&, const SubackPacket&) = default;
};

struct DisconnectPacket {
  ReasonCode reason = ReasonCode::kSuccess;
  std::optional<std::uint32_t> session_expiry_s;  // MQTT 5: may change it
  std::string_view reason_string;                 // server reference, user properties: dropped
  friend bool operator==(const DisconnectPacket&, const DisconnectPacket&) = default;
};

// ---------------------------------------------------------------------------
// Decoders. `body` is the packet after its fixed header; `flags` the low
// nibble of its first byte. Outputs are overwritten (vectors cleared and
// reused).

// Reads the protocol name and level itself: kUnsupportedProtocolVersion for
// anything but 4 and 5 (the server answers with a 3.1.1 CONNACK code 1 then).
// A 3.1.1 empty client id without clean session gives
// kClientIdentifierNotValid (CONNACK code 2).
DecodeResult DecodeConnect(std::uint8_t flags, std::span<const std::uint8_t> body,
                           ConnectPacket& out);
DecodeResult DecodeConnack(ProtocolVersion v, std::uint8_t flags,
                           std::span<const std::uint8_t> body, ConnackPacket& out);
DecodeResult DecodePublish(ProtocolVersion v, std::uint8_t flags,
                           std::span<const std::uint8_t> body, PublishPacket& out);
DecodeResult DecodeAck(ProtocolVersion v, PacketType type, std::uint8_t flags,
                       std::span<const std::uint8_t> body, AckPacket& out);
// An invalid topic filter gives kTopicFilterInvalid: the server may answer
// with a SUBACK carrying it rather than disconnect.
DecodeResult DecodeSubscribe(ProtocolVersion v, PacketType type, std::uint8_t flags,
                             std::span<const std::uint8_t> body, SubscribePacket& out);
// SUBACK, UNSUBACK.
DecodeResult DecodeSuback(ProtocolVersion v, PacketType type, std::uint8_t flags,
                          std::span<const std::uint8_t> body, SubackPacket& out);
DecodeResult DecodeDisconnect(ProtocolVersion v, std::uint8_t flags,
                              std::span<const std::uint8_t> body, DisconnectPacket& out);
// PINGREQ, PINGRESP: flags 0 and an empty body.
// Passing a `type` a decoder does not handle is a programming error (aborts).
DecodeResult DecodeEmpty(PacketType type, std::uint8_t flags, std::span<const std::uint8_t> body);

// ---------------------------------------------------------------------------
// Encoders append one whole packet to `out`, so many packets can share one
// write. Inputs are trusted (the caller built them): lengths beyond the
// protocol's limits are a programming error and abort.

void EncodeConnect(const ConnectPacket& p, std::string& out);
void EncodeConnack(ProtocolVersion v, const ConnackPacket& p, std::string& out);
void EncodePublish(ProtocolVersion v, const PublishPacket& p, std::string& out);
// PUBACK/PUBREC/PUBCOMP: reason kSuccess and no reason string gives the
// short 2-byte form in MQTT 5 too. PUBREL gets its mandatory flags 0b0010.
void EncodeAck(ProtocolVersion v, const AckPacket& p, std::string& out);
// SUBACK/UNSUBACK with the same reason for each of `filters` filters.
// 3.1.1 has no failure code in UNSUBACK: it is sent plain; a 3.1.1 SUBACK
// sends granted QoS 0/1/2 as such and any failure as 0x80.
void EncodeSuback(ProtocolVersion v, PacketType type, std::uint16_t packet_id,
                  std::uint32_t filters, ReasonCode reason, std::string& out);
void EncodeSubscribe(ProtocolVersion v, std::uint16_t packet_id, std::string_view filter,
                     std::uint8_t qos, std::string& out);
// DISCONNECT: 3.1.1 has no server DISCONNECT; for v == kV311 nothing is
// appended (the server just closes).
void EncodeDisconnect(ProtocolVersion v, const DisconnectPacket& p, std::string& out);
void EncodeEmpty(PacketType type, std::string& out);  // PINGREQ, PINGRESP

// Size EncodePublish() would append, without encoding.
std::size_t PublishSize(ProtocolVersion v, const PublishPacket& p);

// MQTT 1.5.4: well-formed UTF-8, no U+0000, no surrogates. (Control
// characters and non-characters are allowed, as the spec allows them.)
bool IsValidMqttUtf8(std::string_view s);

}  // namespace sluice::gateway::mqtt
