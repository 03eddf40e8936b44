// The MQTT codec: byte-exact encodings, round trips of every packet in both
// versions, framing. Malformed input: mqtt_codec_malformed_test.cc.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "gateway/codec/mqtt_codec.h"
#include "mqtt_codec_test_util.h"

namespace sluice::gateway::mqtt {
namespace {

using testing::Bytes;
using testing::Frame;
using testing::Span;

constexpr ProtocolVersion kBoth[] = {ProtocolVersion::kV311, ProtocolVersion::kV5};

// The CONNECT of MQTT 3.1.1 figure 3.6 / MQTT 5 figure 3-8: user name,
// password, will QoS 1, will, clean session (flags 0xCE), keep alive 10.
ConnectPacket SpecConnect(ProtocolVersion v) {
  ConnectPacket p;
  p.version = v;
  p.clean_start = true;
  p.keep_alive_s = 10;
  p.client_id = "c1";
  p.will = true;
  p.will_qos = 1;
  p.will_topic = "w";
  p.will_payload = "bye";
  p.username = "u";
  p.password = "p";
  return p;
}

ConnectPacket Decoded(const std::string& wire) {
  const auto f = Frame(wire);
  REQUIRE(f.header.type == PacketType::kConnect);
  ConnectPacket out;
  const DecodeResult r = DecodeConnect(f.header.flags, f.body, out);
  INFO(r.what);
  REQUIRE(r.ok());
  return out;
}

PublishPacket FullPublish() {
  PublishPacket p;
  p.dup = true;
  p.qos = 2;
  p.retain = true;
  p.topic = "plant/l1/temp";
  p.packet_id = 0xBEEF;
  p.payload = "{\"v\": 21.5}";
  p.topic_alias = 7;
  p.payload_format = 1;
  p.message_expiry_s = 3600;
  p.content_type = "application/json";
  p.response_topic = "plant/l1/reply";
  p.correlation_data = std::string_view("\x00\x01\x02", 3);
  p.user_properties = {{"ts", "1700000000"}, {"unit", "degC"}, {"ts", "dup keys are fine"}};
  return p;
}

}  // namespace

TEST_CASE("a 3.1.1 CONNECT encodes to the bytes of the spec's example") {
  std::string wire;
  EncodeConnect(SpecConnect(ProtocolVersion::kV311), wire);
  CHECK(wire == Bytes({0x10, 28,                                      // CONNECT, remaining length
                       0x00, 0x04, 'M',  'Q',  'T',  'T', 0x04,       // protocol name, level 4
                       0xCE, 0x00, 0x0A,                              // flags, keep alive 10
                       0x00, 0x02, 'c',  '1',                         // client id
                       0x00, 0x01, 'w',  0x00, 0x03, 'b', 'y',  'e',  // will topic, payload
                       0x00, 0x01, 'u',  0x00, 0x01, 'p'}));          // user name, password
  CHECK(Decoded(wire) == SpecConnect(ProtocolVersion::kV311));
}

TEST_CASE("an MQTT 5 CONNECT with a session expiry encodes to the bytes of the spec's example") {
  ConnectPacket p = SpecConnect(ProtocolVersion::kV5);
  p.session_expiry_s = 10;
  std::string wire;
  EncodeConnect(p, wire);
  CHECK(wire ==
        Bytes({0x10, 35,   0x00, 0x04, 'M',  'Q', 'T', 'T', 0x05, 0xCE, 0x00, 0x0A, 0x05, 0x11,
               0x00, 0x00, 0x00, 0x0A,  // properties: session expiry 10
               0x00, 0x02, 'c',  '1',
               0x00,  // no will properties
               0x00, 0x01, 'w',  0x00, 0x03, 'b', 'y', 'e', 0x00, 0x01, 'u',  0x00, 0x01, 'p'}));
  CHECK(Decoded(wire) == p);
}

TEST_CASE("CONNECT round trips in both versions with every field and property") {
  for (ProtocolVersion v : kBoth) {
    CAPTURE(static_cast<int>(v));
    ConnectPacket p = SpecConnect(v);
    p.clean_start = false;
    p.will_qos = 2;
    p.will_retain = true;
    p.will_payload = std::string_view("\x00\xff", 2);
    p.password = std::string_view("\x00secret\xff", 8);
    p.keep_alive_s = 65535;
    if (v == ProtocolVersion::kV5) {
      p.session_expiry_s = 86400;
      p.receive_maximum = 100;
      p.maximum_packet_size = 1 << 20;
      p.topic_alias_maximum = 16;
      p.request_problem_information = false;
      p.authentication_method = "SCRAM-SHA-1";
      p.user_properties = {{"site", "north"}, {"rack", "7"}};
    }
    std::string wire;
    EncodeConnect(p, wire);
    CHECK(Decoded(wire) == p);
  }
}

TEST_CASE("an MQTT 5 CONNECT may carry a password without a user name") {
  ConnectPacket p;
  p.client_id = "x";
  p.password = "token";
  std::string wire;
  EncodeConnect(p, wire);
  CHECK(Decoded(wire) == p);
}

TEST_CASE("a 3.1.1 CONNACK maps reason codes to return codes and back") {
  struct Case {
    ReasonCode in;
    int code;
    ReasonCode back;
  };
  const Case cases[] = {
      {ReasonCode::kSuccess, 0, ReasonCode::kSuccess},
      {ReasonCode::kUnsupportedProtocolVersion, 1, ReasonCode::kUnsupportedProtocolVersion},
      {ReasonCode::kClientIdentifierNotValid, 2, ReasonCode::kClientIdentifierNotValid},
      {ReasonCode::kServerUnavailable, 3, ReasonCode::kServerUnavailable},
      {ReasonCode::kServerBusy, 3, ReasonCode::kServerUnavailable},
      {ReasonCode::kQuotaExceeded, 3, ReasonCode::kServerUnavailable},
      {ReasonCode::kBadUserNameOrPassword, 4, ReasonCode::kBadUserNameOrPassword},
      {ReasonCode::kNotAuthorized, 5, ReasonCode::kNotAuthorized},
      {ReasonCode::kBanned, 5, ReasonCode::kNotAuthorized},
  };
  for (const Case& c : cases) {
    CAPTURE(c.code);
    ConnackPacket p;
    p.reason = c.in;
    p.receive_maximum = 10;  // MQTT 5 only: not on a 3.1.1 wire
    std::string wire;
    EncodeConnack(ProtocolVersion::kV311, p, wire);
    CHECK(wire == Bytes({0x20, 0x02, 0x00, c.code}));
    const auto f = Frame(wire);
    ConnackPacket out;
    REQUIRE(DecodeConnack(ProtocolVersion::kV311, f.header.flags, f.body, out).ok());
    CHECK(out.reason == c.back);
  }
  ConnackPacket resumed;
  resumed.session_present = true;
  std::string wire;
  EncodeConnack(ProtocolVersion::kV311, resumed, wire);
  CHECK(wire == Bytes({0x20, 0x02, 0x01, 0x00}));
}

TEST_CASE("an MQTT 5 CONNACK round trips with every property") {
  ConnackPacket p;
  std::string wire;
  EncodeConnack(ProtocolVersion::kV5, p, wire);
  CHECK(wire == Bytes({0x20, 0x03, 0x00, 0x00, 0x00}));  // nothing to say: no properties

  p.session_present = true;
  p.has_session_expiry = true;
  p.session_expiry_s = 0;
  p.receive_maximum = 20;
  p.maximum_qos = 1;
  p.retain_available = false;
  p.maximum_packet_size = 65536;
  p.assigned_client_id = "auto-1";
  p.topic_alias_maximum = 10;
  p.reason_string = "welcome";
  p.wildcard_subscription_available = false;
  p.subscription_ids_available = false;
  p.shared_subscription_available = false;
  p.server_keep_alive_s = 30;
  wire.clear();
  EncodeConnack(ProtocolVersion::kV5, p, wire);
  const auto f = Frame(wire);
  ConnackPacket out;
  REQUIRE(DecodeConnack(ProtocolVersion::kV5, f.header.flags, f.body, out).ok());
  CHECK(out == p);
}

TEST_CASE("a 3.1.1 PUBLISH encodes to the bytes of the spec's example") {
  // MQTT 3.1.1 figure 3.11: topic "a/b", packet identifier 10.
  PublishPacket p;
  p.qos = 1;
  p.topic = "a/b";
  p.packet_id = 10;
  p.payload = "hi";
  p.payload_format = 1;  // MQTT 5 only: not on a 3.1.1 wire
  std::string wire;
  EncodePublish(ProtocolVersion::kV311, p, wire);
  CHECK(wire == Bytes({0x32, 9, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'}));
  CHECK(PublishSize(ProtocolVersion::kV311, p) == wire.size());
  wire.clear();
  EncodePublish(ProtocolVersion::kV5, p, wire);
  CHECK(wire ==
        Bytes({0x32, 12, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 0x02, 0x01, 0x01, 'h', 'i'}));
}

TEST_CASE("PUBLISH round trips in both versions with every flag and property") {
  for (ProtocolVersion v : kBoth) {
    CAPTURE(static_cast<int>(v));
    PublishPacket p = FullPublish();
    if (v == ProtocolVersion::kV311) {
      PublishPacket plain;
      plain.dup = p.dup;
      plain.qos = p.qos;
      plain.retain = p.retain;
      plain.topic = p.topic;
      plain.packet_id = p.packet_id;
      plain.payload = p.payload;
      p = plain;
    }
    std::string wire = "prefix";  // encoders append
    EncodePublish(v, p, wire);
    REQUIRE(wire.starts_with("prefix"));
    wire.erase(0, 6);
    CHECK(PublishSize(v, p) == wire.size());
    const auto f = Frame(wire);
    CHECK(f.header.type == PacketType::kPublish);
    CHECK(f.header.flags == 0x0D);
    PublishPacket out;
    out.user_properties = {{"stale", "entry"}};  // cleared by the decoder
    const DecodeResult r = DecodePublish(v, f.header.flags, f.body, out);
    INFO(r.what);
    REQUIRE(r.ok());
    CHECK(out == p);
  }
}

TEST_CASE("an MQTT 5 PUBLISH may have an empty topic when it carries a topic alias") {
  PublishPacket p;
  p.topic_alias = 3;
  p.payload = "x";
  std::string wire;
  EncodePublish(ProtocolVersion::kV5, p, wire);
  const auto f = Frame(wire);
  PublishPacket out;
  REQUIRE(DecodePublish(ProtocolVersion::kV5, f.header.flags, f.body, out).ok());
  CHECK(out == p);
}

TEST_CASE("PublishSize equals what EncodePublish appends on every length boundary") {
  const std::string big(2'097'152, 'x');
  for (ProtocolVersion v : kBoth) {
    PublishPacket p = v == ProtocolVersion::kV5 ? FullPublish() : PublishPacket{};
    if (v == ProtocolVersion::kV311) p.topic = "t";
    p.payload = {};
    std::string empty;
    EncodePublish(v, p, empty);
    const std::uint32_t base = Frame(empty).header.remaining_length;
    // Remaining lengths on each side of where the length takes 2, 3, 4 bytes.
    const std::pair<std::uint32_t, std::uint32_t> cases[] = {
        {127, 2}, {128, 3}, {16383, 3}, {16384, 4}, {2097151, 4}, {2097152, 5}};
    for (const auto& c : cases) {
      const std::uint32_t remaining = c.first;
      const std::uint32_t header_size = c.second;
      CAPTURE(remaining);
      p.payload = std::string_view(big).substr(0, remaining - base);
      std::string wire;
      EncodePublish(v, p, wire);
      CHECK(PublishSize(v, p) == wire.size());
      const auto f = Frame(wire);
      CHECK(f.header.remaining_length == remaining);
      CHECK(f.header.header_size == header_size);
      PublishPacket out;
      REQUIRE(DecodePublish(v, f.header.flags, f.body, out).ok());
      CHECK(out == p);
    }
  }
}

TEST_CASE("an MQTT 5 PUBACK on success uses the spec's short form") {
  AckPacket p;
  p.packet_id = 1;
  std::string wire;
  EncodeAck(ProtocolVersion::kV5, p, wire);
  CHECK(wire == Bytes({0x40, 0x02, 0x00, 0x01}));

  p.reason = ReasonCode::kNoMatchingSubscribers;
  wire.clear();
  EncodeAck(ProtocolVersion::kV5, p, wire);
  CHECK(wire == Bytes({0x40, 0x03, 0x00, 0x01, 0x10}));  // no property length

  p.reason_string = "no one";
  wire.clear();
  EncodeAck(ProtocolVersion::kV5, p, wire);
  CHECK(wire ==
        Bytes({0x40, 13, 0x00, 0x01, 0x10, 9, 0x1F, 0x00, 0x06, 'n', 'o', ' ', 'o', 'n', 'e'}));
}

TEST_CASE("3.1.1 acknowledgements are always two bytes and PUBREL carries flags 0010") {
  const std::pair<PacketType, int> types[] = {{PacketType::kPuback, 0x40},
                                              {PacketType::kPubrec, 0x50},
                                              {PacketType::kPubrel, 0x62},
                                              {PacketType::kPubcomp, 0x70}};
  for (auto [type, first] : types) {
    AckPacket p;
    p.type = type;
    p.packet_id = 0x1234;
    p.reason = ReasonCode::kPacketIdentifierNotFound;
    p.reason_string = "MQTT 5 only";
    std::string wire;
    EncodeAck(ProtocolVersion::kV311, p, wire);
    CHECK(wire == Bytes({first, 0x02, 0x12, 0x34}));
  }
}

TEST_CASE("acknowledgements round trip in both versions with reason and reason string") {
  for (ProtocolVersion v : kBoth) {
    for (PacketType type :
         {PacketType::kPuback, PacketType::kPubrec, PacketType::kPubrel, PacketType::kPubcomp}) {
      CAPTURE(PacketTypeName(type));
      const bool rel = type == PacketType::kPubrel || type == PacketType::kPubcomp;
      for (int variant = 0; variant < 3; ++variant) {
        AckPacket p;
        p.type = type;
        p.packet_id = 42;
        if (v == ProtocolVersion::kV5 && variant > 0) {
          p.reason = rel ? ReasonCode::kPacketIdentifierNotFound : ReasonCode::kQuotaExceeded;
        }
        if (v == ProtocolVersion::kV5 && variant > 1) p.reason_string = "because";
        std::string wire;
        EncodeAck(v, p, wire);
        const auto f = Frame(wire);
        CHECK(f.header.type == type);
        AckPacket out;
        REQUIRE(DecodeAck(v, type, f.header.flags, f.body, out).ok());
        CHECK(out == p);
      }
    }
  }
}

TEST_CASE("SUBSCRIBE encodes one filter and decodes to its packet id and filter count") {
  std::string wire;
  EncodeSubscribe(ProtocolVersion::kV311, 10, "a/b", 1, wire);
  CHECK(wire == Bytes({0x82, 8, 0x00, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x01}));
  for (ProtocolVersion v : kBoth) {
    wire.clear();
    EncodeSubscribe(v, 7, "$share/g/plant/+/temp", 2, wire);
    const auto f = Frame(wire);
    SubscribePacket out;
    REQUIRE(DecodeSubscribe(v, PacketType::kSubscribe, f.header.flags, f.body, out).ok());
    CHECK(out == SubscribePacket{7, 1});
  }
}

TEST_CASE("SUBSCRIBE and UNSUBSCRIBE count every filter in the payload") {
  testing::Body sub, unsub;
  sub.U16(9).Props({}).Str("a/#").U8(0x01).Str("+/b").U8(0x2A).Str("$share/g/c").U8(0x00);
  unsub.U16(9).Props({}).Str("a/#").Str("x").Str("$share/g/c");
  SubscribePacket out;
  REQUIRE(
      DecodeSubscribe(ProtocolVersion::kV5, PacketType::kSubscribe, 0x02, sub.span(), out).ok());
  CHECK(out == SubscribePacket{9, 3});
  REQUIRE(DecodeSubscribe(ProtocolVersion::kV5, PacketType::kUnsubscribe, 0x02, unsub.span(), out)
              .ok());
  CHECK(out == SubscribePacket{9, 3});
  testing::Body unsub311;
  unsub311.U16(9).Str("a").Str("b");
  REQUIRE(
      DecodeSubscribe(ProtocolVersion::kV311, PacketType::kUnsubscribe, 0x02, unsub311.span(), out)
          .ok());
  CHECK(out.filters == 2);
}

TEST_CASE("SUBACK and UNSUBACK carry one reason per filter and round trip") {
  std::string wire;
  EncodeSuback(ProtocolVersion::kV311, PacketType::kSuback, 10, 2, ReasonCode::kGrantedQos1, wire);
  CHECK(wire == Bytes({0x90, 0x04, 0x00, 0x0A, 0x01, 0x01}));
  wire.clear();
  EncodeSuback(ProtocolVersion::kV311, PacketType::kSuback, 10, 1, ReasonCode::kNotAuthorized,
               wire);
  CHECK(wire == Bytes({0x90, 0x03, 0x00, 0x0A, 0x80}));
  wire.clear();
  EncodeSuback(ProtocolVersion::kV311, PacketType::kUnsuback, 10, 3, ReasonCode::kSuccess, wire);
  CHECK(wire == Bytes({0xB0, 0x02, 0x00, 0x0A}));
  wire.clear();
  EncodeSuback(ProtocolVersion::kV5, PacketType::kSuback, 10, 2, ReasonCode::kGrantedQos2, wire);
  CHECK(wire == Bytes({0x90, 0x05, 0x00, 0x0A, 0x00, 0x02, 0x02}));

  for (ProtocolVersion v : kBoth) {
    for (PacketType type : {PacketType::kSuback, PacketType::kUnsuback}) {
      const ReasonCode reason = type == PacketType::kSuback && v == ProtocolVersion::kV5
                                    ? ReasonCode::kTopicFilterInvalid
                                    : ReasonCode::kSuccess;
      wire.clear();
      EncodeSuback(v, type, 300, 4, reason, wire);
      const auto f = Frame(wire);
      SubackPacket out;
      REQUIRE(DecodeSuback(v, type, f.header.flags, f.body, out).ok());
      CHECK(out.type == type);
      CHECK(out.packet_id == 300);
      if (v == ProtocolVersion::kV311 && type == PacketType::kUnsuback) {
        CHECK(out.reason_codes.empty());
      } else {
        CHECK(out.reason_codes == std::string(4, static_cast<char>(reason)));
      }
    }
  }
}

TEST_CASE("DISCONNECT is nothing in 3.1.1 and as short as possible in MQTT 5") {
  DisconnectPacket p;
  std::string wire;
  EncodeDisconnect(ProtocolVersion::kV311, p, wire);
  CHECK(wire.empty());
  EncodeDisconnect(ProtocolVersion::kV5, p, wire);
  CHECK(wire == Bytes({0xE0, 0x00}));
  p.reason = ReasonCode::kServerShuttingDown;
  wire.clear();
  EncodeDisconnect(ProtocolVersion::kV5, p, wire);
  CHECK(wire == Bytes({0xE0, 0x01, 0x8B}));

  p.session_expiry_s = 0;
  p.reason_string = "maintenance";
  wire.clear();
  EncodeDisconnect(ProtocolVersion::kV5, p, wire);
  const auto f = Frame(wire);
  DisconnectPacket out;
  REQUIRE(DecodeDisconnect(ProtocolVersion::kV5, f.header.flags, f.body, out).ok());
  CHECK(out == p);

  // A client's 3.1.1 DISCONNECT: E0 00.
  REQUIRE(DecodeDisconnect(ProtocolVersion::kV311, 0, {}, out).ok());
  CHECK(out == DisconnectPacket{});
}

TEST_CASE("PINGREQ and PINGRESP are two bytes with an empty body") {
  std::string wire;
  EncodeEmpty(PacketType::kPingreq, wire);
  EncodeEmpty(PacketType::kPingresp, wire);
  CHECK(wire == Bytes({0xC0, 0x00, 0xD0, 0x00}));
  FrameHeader h;
  REQUIRE(PeekFrame(Span(wire), 0, h) == FrameStatus::kComplete);
  CHECK(DecodeEmpty(h.type, h.flags, {}).ok());
  REQUIRE(PeekFrame(Span(wire).subspan(2), 0, h) == FrameStatus::kComplete);
  CHECK(h.type == PacketType::kPingresp);
  CHECK(DecodeEmpty(h.type, h.flags, {}).ok());
}

TEST_CASE("PeekFrame waits byte by byte until the whole packet is there") {
  PublishPacket p;
  p.topic = "t";
  const std::string payload(200, 'p');
  p.payload = payload;
  std::string wire;
  EncodePublish(ProtocolVersion::kV311, p, wire);
  REQUIRE(wire.size() == 206);  // 1 + 2 length bytes + 3 topic + 200
  for (std::size_t n = 0; n <= wire.size(); ++n) {
    CAPTURE(n);
    FrameHeader h;
    const FrameStatus s = PeekFrame(Span(wire).first(n), 0, h);
    if (n < 3) {
      CHECK(s == FrameStatus::kIncomplete);
      CHECK(h.header_size == 0);  // the length is not complete yet
    } else if (n < wire.size()) {
      CHECK(s == FrameStatus::kIncomplete);
      CHECK(h.header_size == 3);
      CHECK(h.size() == 206);
    } else {
      CHECK(s == FrameStatus::kComplete);
      CHECK(h.type == PacketType::kPublish);
      CHECK(h.remaining_length == 203);
    }
  }
}

TEST_CASE("PeekFrame refuses a fifth length byte, type 0 and packets over the limit") {
  FrameHeader h;
  CHECK(PeekFrame(Span(Bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})), 0, h) ==
        FrameStatus::kMalformed);
  CHECK(PeekFrame(Span(Bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF})), 0, h) == FrameStatus::kMalformed);
  CHECK(PeekFrame(Span(Bytes({0x30, 0xFF, 0xFF, 0xFF})), 0, h) == FrameStatus::kIncomplete);
  CHECK(PeekFrame(Span(Bytes({0x00, 0x00})), 0, h) == FrameStatus::kMalformed);

  // The largest length, four bytes: too large for a 1 MiB limit, reported
  // before the body arrives, with the header filled in.
  REQUIRE(PeekFrame(Span(Bytes({0x32, 0xFF, 0xFF, 0xFF, 0x7F})), 1 << 20, h) ==
          FrameStatus::kTooLarge);
  CHECK(h.type == PacketType::kPublish);
  CHECK(h.flags == 0x02);
  CHECK(h.remaining_length == 268'435'455);
  CHECK(h.header_size == 5);
  // Exactly at the limit is fine.
  CHECK(PeekFrame(Span(Bytes({0xC0, 0x00})), 2, h) == FrameStatus::kComplete);
  CHECK(PeekFrame(Span(Bytes({0xC0, 0x01, 0x00})), 2, h) == FrameStatus::kTooLarge);
  // A length in more bytes than needed is accepted.
  CHECK(PeekFrame(Span(Bytes({0xC0, 0x80, 0x00})), 0, h) == FrameStatus::kComplete);
  CHECK(h.header_size == 3);
}

TEST_CASE("a stream of 1000 concatenated PUBLISH packets decodes in order") {
  for (ProtocolVersion v : kBoth) {
    std::vector<std::string> topics, payloads;
    std::string stream;
    for (int i = 0; i < 1000; ++i) {
      topics.push_back("site/" + std::to_string(i % 37) + "/m" + std::to_string(i));
      payloads.push_back(std::string(static_cast<std::size_t>((i * 7919) % 400), 'a' + i % 26));
    }
    for (int i = 0; i < 1000; ++i) {
      PublishPacket p;
      p.qos = static_cast<std::uint8_t>(i % 3);
      p.packet_id = p.qos == 0 ? 0 : static_cast<std::uint16_t>(i + 1);
      p.topic = topics[i];
      p.payload = payloads[i];
      if (v == ProtocolVersion::kV5 && i % 2 == 0) p.user_properties = {{"i", topics[i]}};
      EncodePublish(v, p, stream);
    }
    std::span<const std::uint8_t> rest = Span(stream);
    PublishPacket out;
    int decoded = 0;
    while (!rest.empty()) {
      FrameHeader h;
      REQUIRE(PeekFrame(rest, 1 << 20, h) == FrameStatus::kComplete);
      REQUIRE(h.type == PacketType::kPublish);
      REQUIRE(DecodePublish(v, h.flags, rest.subspan(h.header_size, h.remaining_length), out).ok());
      REQUIRE(decoded < 1000);
      CHECK(out.topic == topics[decoded]);
      CHECK(out.payload == payloads[decoded]);
      CHECK(out.qos == decoded % 3);
      CHECK(out.packet_id == (decoded % 3 == 0 ? 0 : decoded + 1));
      CHECK(out.user_properties.size() ==
            (v == ProtocolVersion::kV5 && decoded % 2 == 0 ? 1u : 0u));
      rest = rest.subspan(h.size());
      ++decoded;
    }
    CHECK(decoded == 1000);
  }
}

TEST_CASE("packet types and reason codes have names") {
  CHECK(PacketTypeName(PacketType::kPublish) == "PUBLISH");
  CHECK(PacketTypeName(PacketType::kAuth) == "AUTH");
  CHECK(PacketTypeName(static_cast<PacketType>(0)) == "RESERVED");
  CHECK(ReasonCodeName(ReasonCode::kMalformedPacket) == "malformed packet");
  CHECK(ReasonCodeName(ReasonCode::kTopicAliasInvalid) == "topic alias invalid");
  CHECK(ReasonCodeName(static_cast<ReasonCode>(0x7F)) == "unknown reason code");
  for (int c = 0; c < 256; ++c) CHECK(!ReasonCodeName(static_cast<ReasonCode>(c)).empty());
}

}  // namespace sluice::gateway::mqtt
