// The MQTT codec refuses what the specs call malformed or a protocol error,
// with the reason code a server sends and a description naming the field.
#include <doctest/doctest.h>

#include <string>

#include "gateway/codec/mqtt_codec.h"
#include "mqtt_codec_test_util.h"

namespace sluice::gateway::mqtt {
namespace {

using testing::Body;
using testing::Bytes;

constexpr auto kV311 = ProtocolVersion::kV311;
constexpr auto kV5 = ProtocolVersion::kV5;

// Checks the reason and that the description names the packet.
void Expect(const DecodeResult& r, ReasonCode reason, std::string_view packet) {
  INFO(ReasonCodeName(r.reason), ": ", (r.what != nullptr ? r.what : "(null)"));
  CHECK(r.reason == reason);
  REQUIRE(r.what != nullptr);
  CHECK(std::string_view(r.what).starts_with(packet));
}

DecodeResult Publish(ProtocolVersion v, int flags, const Body& body) {
  PublishPacket out;
  return DecodePublish(v, static_cast<std::uint8_t>(flags), body.span(), out);
}

DecodeResult Connect(const Body& body, int flags = 0) {
  ConnectPacket out;
  return DecodeConnect(static_cast<std::uint8_t>(flags), body.span(), out);
}

// CONNECT header for `level` with connect flags `f` and keep alive 60.
Body ConnectHeader(int level, int f) {
  Body b;
  b.Str("MQTT").U8(level).U8(f).U16(60);
  return b;
}

}  // namespace

TEST_CASE("MQTT UTF-8 refuses ill-formed sequences, overlongs, surrogates and U+0000") {
  CHECK(IsValidMqttUtf8(""));
  CHECK(IsValidMqttUtf8("plant/line-1/temp"));
  CHECK(IsValidMqttUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  CHECK(IsValidMqttUtf8("\x01\x7F\xC2\x80\xEF\xBF\xBF"));  // controls, non-characters: allowed
  CHECK(
      IsValidMqttUtf8("0123456789abcdef\xC3\xA9"
                      "0123456789abcdef"));
  CHECK_FALSE(IsValidMqttUtf8(std::string_view("a\0b", 3)));
  CHECK_FALSE(IsValidMqttUtf8(std::string_view("0123456789\0abcdef", 17)));  // in a word
  CHECK_FALSE(IsValidMqttUtf8("\xC0\x80"));                                  // overlong U+0000
  CHECK_FALSE(IsValidMqttUtf8("\xC1\xBF"));                                  // overlong
  CHECK_FALSE(IsValidMqttUtf8("\xE0\x80\xAF"));                              // overlong '/'
  CHECK_FALSE(IsValidMqttUtf8("\xF0\x8F\xBF\xBF"));                          // overlong
  CHECK_FALSE(IsValidMqttUtf8("\xED\xA0\x80"));                              // U+D800
  CHECK_FALSE(IsValidMqttUtf8("\xED\xBF\xBF"));                              // U+DFFF
  CHECK_FALSE(IsValidMqttUtf8("\xF4\x90\x80\x80"));                          // past U+10FFFF
  CHECK_FALSE(IsValidMqttUtf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(IsValidMqttUtf8("\xFF"));
  CHECK_FALSE(IsValidMqttUtf8("\x80"));                  // lone continuation
  CHECK_FALSE(IsValidMqttUtf8("abc\xE2\x82"));           // truncated
  CHECK_FALSE(IsValidMqttUtf8("\xE2\x28\xA1"));          // bad continuation
  CHECK_FALSE(IsValidMqttUtf8("01234567\xF0\x9F\x98"));  // truncated after a word
}

TEST_CASE("reserved fixed header flags make a packet malformed") {
  AckPacket ack;
  Body id;
  id.U16(1);
  Expect(DecodeAck(kV5, PacketType::kPuback, 0x02, id.span(), ack), ReasonCode::kMalformedPacket,
         "PUBACK:");
  Expect(DecodeAck(kV311, PacketType::kPubrel, 0x00, id.span(), ack), ReasonCode::kMalformedPacket,
         "PUBREL:");
  Expect(DecodeAck(kV5, PacketType::kPubcomp, 0x01, id.span(), ack), ReasonCode::kMalformedPacket,
         "PUBCOMP:");
  SubscribePacket sub;
  Body s;
  s.U16(1).Str("a").U8(0);
  Expect(DecodeSubscribe(kV311, PacketType::kSubscribe, 0x00, s.span(), sub),
         ReasonCode::kMalformedPacket, "SUBSCRIBE:");
  Body u;
  u.U16(1).Str("a");
  Expect(DecodeSubscribe(kV311, PacketType::kUnsubscribe, 0x0A, u.span(), sub),
         ReasonCode::kMalformedPacket, "UNSUBSCRIBE:");
  Expect(Connect(ConnectHeader(4, 0x02).Str("c"), 0x01), ReasonCode::kMalformedPacket, "CONNECT:");
  ConnackPacket connack;
  Expect(DecodeConnack(kV311, 0x08, testing::Span(Bytes({0, 0})), connack),
         ReasonCode::kMalformedPacket, "CONNACK:");
  DisconnectPacket disconnect;
  Expect(DecodeDisconnect(kV5, 0x01, {}, disconnect), ReasonCode::kMalformedPacket, "DISCONNECT:");
  Expect(DecodeEmpty(PacketType::kPingreq, 0x01, {}), ReasonCode::kMalformedPacket, "PINGREQ:");
  SubackPacket suback;
  Expect(DecodeSuback(kV5, PacketType::kSuback, 0x02, testing::Span(Bytes({0, 1, 0, 0})), suback),
         ReasonCode::kMalformedPacket, "SUBACK:");
}

TEST_CASE("PUBLISH with QoS 3 is malformed and DUP on QoS 0 is a protocol error") {
  Body b;
  b.Str("t").U16(1);
  Expect(Publish(kV311, 0x06, b), ReasonCode::kMalformedPacket, "PUBLISH: QoS");
  Body q0;
  q0.Str("t");
  Expect(Publish(kV311, 0x08, q0), ReasonCode::kProtocolError, "PUBLISH: DUP");
}

TEST_CASE("packet identifier 0 is a protocol error wherever one is required") {
  Body p;
  p.Str("t").U16(0).Props({});
  Expect(Publish(kV5, 0x02, p), ReasonCode::kProtocolError, "PUBLISH: packet identifier");
  Body zero;
  zero.U16(0);
  AckPacket ack;
  for (PacketType t : {PacketType::kPuback, PacketType::kPubrec, PacketType::kPubcomp}) {
    Expect(DecodeAck(kV311, t, 0, zero.span(), ack), ReasonCode::kProtocolError, PacketTypeName(t));
  }
  Expect(DecodeAck(kV5, PacketType::kPubrel, 0x02, zero.span(), ack), ReasonCode::kProtocolError,
         "PUBREL: packet identifier is 0");
  SubscribePacket sub;
  Body s;
  s.U16(0).Str("a").U8(0);
  Expect(DecodeSubscribe(kV311, PacketType::kSubscribe, 0x02, s.span(), sub),
         ReasonCode::kProtocolError, "SUBSCRIBE: packet identifier");
  Body u;
  u.U16(0).Props({}).Str("a");
  Expect(DecodeSubscribe(kV5, PacketType::kUnsubscribe, 0x02, u.span(), sub),
         ReasonCode::kProtocolError, "UNSUBSCRIBE: packet identifier");
}

TEST_CASE("lengths that run past the body make a packet malformed") {
  Body topic;
  topic.U16(10).Raw("short");
  Expect(Publish(kV311, 0, topic), ReasonCode::kMalformedPacket, "PUBLISH: topic name length");
  Body missing_id;
  missing_id.Str("t").U8(0);
  Expect(Publish(kV311, 0x02, missing_id), ReasonCode::kMalformedPacket,
         "PUBLISH: packet identifier missing");
  Body props;
  props.Str("t").Varint(10).U8(0x02);
  Expect(Publish(kV5, 0, props), ReasonCode::kMalformedPacket, "PUBLISH: property length");
  Body value;
  value.Str("t").Props(Body().U8(0x26).Str("key").U16(9).Raw("v"));
  Expect(Publish(kV5, 0, value), ReasonCode::kMalformedPacket, "PUBLISH: property value");
  Body four;
  four.Str("t").Props(Body().U8(0x02).U16(1));  // message expiry needs 4 bytes
  Expect(Publish(kV5, 0, four), ReasonCode::kMalformedPacket, "PUBLISH: property value");
  Body client;
  client.Raw(ConnectHeader(4, 0x02).str()).U16(5).Raw("ab");
  Expect(Connect(client), ReasonCode::kMalformedPacket, "CONNECT: client id length");
  Body password;
  password.Raw(ConnectHeader(4, 0xC2).str()).Str("c").Str("u").U16(3);
  Expect(Connect(password), ReasonCode::kMalformedPacket, "CONNECT: password");
  Body name;
  name.U16(4).Raw("MQ");
  Expect(Connect(name), ReasonCode::kMalformedPacket, "CONNECT: protocol name");
  Body filter;
  filter.U16(1).Props({}).U16(4).Raw("a");
  SubscribePacket sub;
  Expect(DecodeSubscribe(kV5, PacketType::kSubscribe, 2, filter.span(), sub),
         ReasonCode::kMalformedPacket, "SUBSCRIBE: topic filter length");
  Body options;
  options.U16(1).Str("a");
  Expect(DecodeSubscribe(kV311, PacketType::kSubscribe, 2, options.span(), sub),
         ReasonCode::kMalformedPacket, "SUBSCRIBE: subscription options");
  ConnackPacket connack;
  Expect(DecodeConnack(kV311, 0, testing::Span(Bytes({0})), connack), ReasonCode::kMalformedPacket,
         "CONNACK:");
  Expect(DecodeConnack(kV5, 0, testing::Span(Bytes({0, 0})), connack), ReasonCode::kMalformedPacket,
         "CONNACK: property length");
}

TEST_CASE("bytes after the last field make a packet malformed") {
  AckPacket ack;
  Expect(DecodeAck(kV311, PacketType::kPuback, 0, testing::Span(Bytes({0, 1, 0})), ack),
         ReasonCode::kMalformedPacket, "PUBACK: bytes after");
  Expect(DecodeAck(kV5, PacketType::kPubrec, 0, testing::Span(Bytes({0, 1, 0, 0, 0})), ack),
         ReasonCode::kMalformedPacket, "PUBREC: bytes after");
  ConnackPacket connack;
  Expect(DecodeConnack(kV311, 0, testing::Span(Bytes({0, 0, 0})), connack),
         ReasonCode::kMalformedPacket, "CONNACK: bytes after");
  Expect(DecodeConnack(kV5, 0, testing::Span(Bytes({0, 0, 0, 0})), connack),
         ReasonCode::kMalformedPacket, "CONNACK: bytes after");
  Expect(Connect(ConnectHeader(4, 0x02).Str("c").U8(0)), ReasonCode::kMalformedPacket,
         "CONNECT: bytes after");
  DisconnectPacket disconnect;
  Expect(DecodeDisconnect(kV311, 0, testing::Span(Bytes({0})), disconnect),
         ReasonCode::kMalformedPacket, "DISCONNECT: bytes after");
  Expect(DecodeDisconnect(kV5, 0, testing::Span(Bytes({0, 0, 0})), disconnect),
         ReasonCode::kMalformedPacket, "DISCONNECT: bytes after");
  Expect(DecodeEmpty(PacketType::kPingresp, 0, testing::Span(Bytes({0}))),
         ReasonCode::kMalformedPacket, "PINGRESP:");
  SubackPacket suback;
  Expect(DecodeSuback(kV311, PacketType::kUnsuback, 0, testing::Span(Bytes({0, 1, 0})), suback),
         ReasonCode::kMalformedPacket, "UNSUBACK: bytes after");
}

TEST_CASE("strings that are not MQTT UTF-8 make a packet malformed") {
  Body topic;
  topic.Str("a/\xED\xA0\x80");
  Expect(Publish(kV311, 0, topic), ReasonCode::kMalformedPacket, "PUBLISH: topic name is not");
  Body nul;
  nul.Str(std::string_view("a\0", 2));
  Expect(Publish(kV5, 0, nul), ReasonCode::kMalformedPacket, "PUBLISH: topic name is not");
  Body user;
  user.Str("t").Props(Body().U8(0x26).Str("k").Str("\xC0\x80"));
  Expect(Publish(kV5, 0, user), ReasonCode::kMalformedPacket, "PUBLISH: string property");
  Body client;
  client.Raw(ConnectHeader(5, 0x02).str()).Props({}).Str("\xFF");
  Expect(Connect(client), ReasonCode::kMalformedPacket, "CONNECT: client id is not");
  Body username;
  username.Raw(ConnectHeader(4, 0x82).str()).Str("c").Str("\x80");
  Expect(Connect(username), ReasonCode::kMalformedPacket, "CONNECT: user name is not");
  Body reason;
  reason.U16(1).U8(0x80).Props(Body().U8(0x1F).Str("\xE0\x80\xAF"));
  AckPacket ack;
  Expect(DecodeAck(kV5, PacketType::kPuback, 0, reason.span(), ack), ReasonCode::kMalformedPacket,
         "PUBACK: string property");
}

TEST_CASE("a PUBLISH topic name with a wildcard is an invalid topic name") {
  for (std::string_view t : {"a/+/b", "a/#", "#", "a+"}) {
    Body b;
    b.Str(t).Props({});
    Expect(Publish(kV5, 0, b), ReasonCode::kTopicNameInvalid, "PUBLISH: topic name contains");
  }
  Body resp;
  resp.Str("t").Props(Body().U8(0x08).Str("reply/#"));
  Expect(Publish(kV5, 0, resp), ReasonCode::kProtocolError, "PUBLISH: response topic");
}

TEST_CASE("an empty PUBLISH topic needs a topic alias in MQTT 5 and is invalid in 3.1.1") {
  Body b;
  b.Str("");
  Expect(Publish(kV311, 0, b), ReasonCode::kTopicNameInvalid, "PUBLISH: topic name is empty");
  b.Props({});
  Expect(Publish(kV5, 0, b), ReasonCode::kProtocolError, "PUBLISH: topic name is empty");
  Body alias0;
  alias0.Str("t").Props(Body().U8(0x23).U16(0));
  Expect(Publish(kV5, 0, alias0), ReasonCode::kTopicAliasInvalid, "PUBLISH: topic alias is 0");
}

TEST_CASE("a property not allowed in its packet makes the packet malformed") {
  Body session;
  session.Str("t").Props(Body().U8(0x11).U32(5));  // session expiry
  Expect(Publish(kV5, 0, session), ReasonCode::kMalformedPacket, "PUBLISH: property identifier");
  Body unknown;
  unknown.Str("t").Props(Body().U8(0x04).U8(0));  // no such property
  Expect(Publish(kV5, 0, unknown), ReasonCode::kMalformedPacket, "PUBLISH: property identifier");
  Body big_id;
  big_id.Str("t").Props(Body().U8(0x81).U8(0x01).U8(0));
  Expect(Publish(kV5, 0, big_id), ReasonCode::kMalformedPacket, "PUBLISH: property identifier");
  Body alias;
  alias.Raw(ConnectHeader(5, 0x02).str()).Props(Body().U8(0x23).U16(1)).Str("c");
  Expect(Connect(alias), ReasonCode::kMalformedPacket, "CONNECT: property identifier");
  Body will;
  will.Raw(ConnectHeader(5, 0x06).str()).Props({}).Str("c");
  will.Props(Body().U8(0x11).U32(1)).Str("w").Str("p");  // session expiry in will properties
  Expect(Connect(will), ReasonCode::kMalformedPacket, "CONNECT will: property identifier");
  Body ack;
  ack.U16(1).U8(0).Props(Body().U8(0x01).U8(1));
  AckPacket out;
  Expect(DecodeAck(kV5, PacketType::kPubrel, 2, ack.span(), out), ReasonCode::kMalformedPacket,
         "PUBREL: property identifier");
  Body unsub;
  unsub.U16(1).Props(Body().U8(0x0B).Varint(1)).Str("a");
  SubscribePacket sub;
  Expect(DecodeSubscribe(kV5, PacketType::kUnsubscribe, 2, unsub.span(), sub),
         ReasonCode::kMalformedPacket, "UNSUBSCRIBE: property identifier");
}

TEST_CASE("a once-only property appearing twice is a protocol error but user properties repeat") {
  Body twice;
  twice.Str("t").Props(Body().U8(0x02).U32(1).U8(0x02).U32(2));
  Expect(Publish(kV5, 0, twice), ReasonCode::kProtocolError, "PUBLISH: property that may");
  Body users;
  users.Str("t").Props(Body()
                           .U8(0x26)
                           .Str("k")
                           .Str("1")
                           .U8(0x26)
                           .Str("k")
                           .Str("2")
                           .U8(0x0B)
                           .Varint(5)
                           .U8(0x0B)
                           .Varint(268'435'455));
  PublishPacket out;
  REQUIRE(DecodePublish(kV5, 0, users.span(), out).ok());
  REQUIRE(out.user_properties.size() == 2);
  CHECK(out.user_properties[1].value == "2");
  Body sub_ids;
  sub_ids.U16(1).Props(Body().U8(0x0B).Varint(1).U8(0x0B).Varint(2)).Str("a").U8(0);
  SubscribePacket sub;
  Expect(DecodeSubscribe(kV5, PacketType::kSubscribe, 2, sub_ids.span(), sub),
         ReasonCode::kProtocolError, "SUBSCRIBE: property that may");
  Body connack;
  connack.U8(0).U8(0).Props(Body().U8(0x1F).Str("a").U8(0x1F).Str("b"));
  ConnackPacket ca;
  Expect(DecodeConnack(kV5, 0, connack.span(), ca), ReasonCode::kProtocolError,
         "CONNACK: property that may");
}

TEST_CASE(
    "receive maximum 0, maximum packet size 0 and subscription identifier 0 are protocol "
    "errors") {
  Body rm;
  rm.Raw(ConnectHeader(5, 0x02).str()).Props(Body().U8(0x21).U16(0)).Str("c");
  Expect(Connect(rm), ReasonCode::kProtocolError, "CONNECT: receive maximum is 0");
  Body mps;
  mps.Raw(ConnectHeader(5, 0x02).str()).Props(Body().U8(0x27).U32(0)).Str("c");
  Expect(Connect(mps), ReasonCode::kProtocolError, "CONNECT: maximum packet size is 0");
  ConnackPacket ca;
  Body connack;
  connack.U8(0).U8(0).Props(Body().U8(0x21).U16(0));
  Expect(DecodeConnack(kV5, 0, connack.span(), ca), ReasonCode::kProtocolError,
         "CONNACK: receive maximum is 0");
  Body sub_id;
  sub_id.Str("t").Props(Body().U8(0x0B).Varint(0));
  Expect(Publish(kV5, 0, sub_id), ReasonCode::kProtocolError, "PUBLISH: subscription identifier");
  Body bool2;
  bool2.Raw(ConnectHeader(5, 0x02).str()).Props(Body().U8(0x17).U8(2)).Str("c");
  Expect(Connect(bool2), ReasonCode::kProtocolError, "CONNECT: byte property");
  Body qos2;
  qos2.U8(0).U8(0).Props(Body().U8(0x24).U8(2));
  Expect(DecodeConnack(kV5, 0, qos2.span(), ca), ReasonCode::kProtocolError,
         "CONNACK: byte property");
}

TEST_CASE("payload format indicator 1 requires a UTF-8 payload") {
  Body bad;
  bad.Str("t").Props(Body().U8(0x01).U8(1)).Raw("ok \xC3");
  Expect(Publish(kV5, 0, bad), ReasonCode::kPayloadFormatInvalid, "PUBLISH: payload");
  Body binary;
  binary.Str("t").Props(Body().U8(0x01).U8(0)).Raw("\xC3");
  CHECK(Publish(kV5, 0, binary).ok());
  Body text;
  text.Str("t").Props(Body().U8(0x01).U8(1)).Raw(std::string_view("caf\xC3\xA9\0", 6));
  CHECK(Publish(kV5, 0, text).ok());
  Body format2;
  format2.Str("t").Props(Body().U8(0x01).U8(2));
  Expect(Publish(kV5, 0, format2), ReasonCode::kProtocolError, "PUBLISH: byte property");
  Body will;
  will.Raw(ConnectHeader(5, 0x06).str()).Props({}).Str("c");
  will.Props(Body().U8(0x01).U8(1)).Str("w").Str("\xFF");
  Expect(Connect(will), ReasonCode::kPayloadFormatInvalid, "CONNECT: will payload");
}

TEST_CASE("CONNECT checks its flags, the will and the user name and password pair") {
  Expect(Connect(ConnectHeader(4, 0x03).Str("c")), ReasonCode::kMalformedPacket,
         "CONNECT: reserved connect flag");
  Expect(Connect(ConnectHeader(4, 0x0A).Str("c")), ReasonCode::kProtocolError,
         "CONNECT: will QoS or will retain");
  Expect(Connect(ConnectHeader(4, 0x22).Str("c")), ReasonCode::kProtocolError,
         "CONNECT: will QoS or will retain");
  Expect(Connect(ConnectHeader(4, 0x1E).Str("c").Str("w").Str("p")), ReasonCode::kMalformedPacket,
         "CONNECT: will QoS is 3");
  Expect(Connect(ConnectHeader(4, 0x42).Str("c").Str("p")), ReasonCode::kProtocolError,
         "CONNECT: password flag");
  CHECK(Connect(ConnectHeader(5, 0x42).Props({}).Str("c").Str("p")).ok());
  Expect(Connect(ConnectHeader(4, 0x06).Str("c").Str("w/#").Str("p")),
         ReasonCode::kTopicNameInvalid, "CONNECT: will topic");
  Expect(Connect(ConnectHeader(4, 0x06).Str("c").Str("").Str("p")), ReasonCode::kTopicNameInvalid,
         "CONNECT: will topic");
  Expect(Connect(ConnectHeader(4, 0x06).Str("c").Str("w")), ReasonCode::kMalformedPacket,
         "CONNECT: will payload");
  Expect(Connect(ConnectHeader(4, 0x00).Str("")), ReasonCode::kClientIdentifierNotValid,
         "CONNECT: empty client id");
  CHECK(Connect(ConnectHeader(4, 0x02).Str("")).ok());
  CHECK(Connect(ConnectHeader(5, 0x00).Props({}).Str("")).ok());
  Body auth;
  auth.Raw(ConnectHeader(5, 0x02).str()).Props(Body().U8(0x16).Str("data")).Str("c");
  Expect(Connect(auth), ReasonCode::kProtocolError, "CONNECT: authentication data");
}

TEST_CASE("CONNECT accepts only protocol MQTT at level 4 or 5") {
  for (auto [name, level] : {std::pair<std::string_view, int>{"MQIsdp", 3},
                             {"MQTT", 3},
                             {"MQTT", 6},
                             {"mqtt", 4},
                             {"MQTTX", 5}}) {
    Body b;
    b.Str(name).U8(level).U8(0x02).U16(60).Str("c");
    Expect(Connect(b), ReasonCode::kUnsupportedProtocolVersion, "CONNECT: protocol");
  }
}

TEST_CASE("SUBSCRIBE checks its topic filters and subscription options") {
  const auto decode = [](ProtocolVersion v, std::string_view filter, int options) {
    Body b;
    b.U16(1);
    if (v == kV5) b.Props({});
    b.Str(filter).U8(options);
    SubscribePacket out;
    return DecodeSubscribe(v, PacketType::kSubscribe, 2, b.span(), out);
  };
  for (std::string_view ok : {"#", "+", "a/+/b/#", "a//b", "/", "+/+", "$SYS/#"}) {
    CAPTURE(ok);
    CHECK(decode(kV311, ok, 1).ok());
    CHECK(decode(kV5, ok, 1).ok());
  }
  CHECK(decode(kV5, "$share/group/a/#", 2).ok());
  CHECK(decode(kV311, "$share/group", 0).ok());  // an ordinary filter in 3.1.1
  for (std::string_view bad : {"", "a/#/b", "a#", "a+", "+a/b", "a/b+", "##"}) {
    CAPTURE(bad);
    Expect(decode(kV5, bad, 0), ReasonCode::kTopicFilterInvalid, "SUBSCRIBE: topic filter");
  }
  for (std::string_view bad : {"$share/group", "$share//a", "$share/g+/a", "$share/g/"}) {
    CAPTURE(bad);
    Expect(decode(kV5, bad, 0), ReasonCode::kTopicFilterInvalid, "SUBSCRIBE: topic filter");
  }
  Expect(decode(kV311, "a", 3), ReasonCode::kMalformedPacket, "SUBSCRIBE: requested QoS");
  Expect(decode(kV311, "a", 0x04), ReasonCode::kMalformedPacket, "SUBSCRIBE: reserved option");
  CHECK(decode(kV5, "a", 0x2C).ok());  // no local, retain as published, retain handling 2
  Expect(decode(kV5, "a", 0x40), ReasonCode::kMalformedPacket, "SUBSCRIBE: reserved option");
  Expect(decode(kV5, "a", 0x30), ReasonCode::kProtocolError, "SUBSCRIBE: retain handling");
  Expect(decode(kV5, "$share/g/a", 0x04), ReasonCode::kProtocolError, "SUBSCRIBE: no local");
  Body empty;
  empty.U16(1).Props({});
  SubscribePacket out;
  Expect(DecodeSubscribe(kV5, PacketType::kSubscribe, 2, empty.span(), out),
         ReasonCode::kProtocolError, "SUBSCRIBE: no topic filter");
  Expect(DecodeSubscribe(kV311, PacketType::kUnsubscribe, 2, Body().U16(1).span(), out),
         ReasonCode::kProtocolError, "UNSUBSCRIBE: no topic filter");
}

TEST_CASE("reason codes not defined for a packet are protocol errors") {
  AckPacket ack;
  Expect(DecodeAck(kV5, PacketType::kPubrel, 2, testing::Span(Bytes({0, 1, 0x10})), ack),
         ReasonCode::kProtocolError, "PUBREL: reason code");
  Expect(DecodeAck(kV5, PacketType::kPuback, 0, testing::Span(Bytes({0, 1, 0x92})), ack),
         ReasonCode::kProtocolError, "PUBACK: reason code");
  CHECK(DecodeAck(kV5, PacketType::kPubcomp, 0, testing::Span(Bytes({0, 1, 0x92})), ack).ok());
  CHECK(ack.reason == ReasonCode::kPacketIdentifierNotFound);
  ConnackPacket connack;
  Expect(DecodeConnack(kV311, 0, testing::Span(Bytes({0, 6})), connack), ReasonCode::kProtocolError,
         "CONNACK: return code");
  Expect(DecodeConnack(kV5, 0, testing::Span(Bytes({0, 0x04, 0})), connack),
         ReasonCode::kProtocolError, "CONNACK: reason code");
  Expect(DecodeConnack(kV311, 0, testing::Span(Bytes({1, 5})), connack), ReasonCode::kProtocolError,
         "CONNACK: session present");
  Expect(DecodeConnack(kV311, 0, testing::Span(Bytes({2, 0})), connack),
         ReasonCode::kMalformedPacket, "CONNACK: reserved acknowledge");
  DisconnectPacket disconnect;
  Expect(DecodeDisconnect(kV5, 0, testing::Span(Bytes({0x10})), disconnect),
         ReasonCode::kProtocolError, "DISCONNECT: reason code");
  SubackPacket suback;
  Expect(DecodeSuback(kV311, PacketType::kSuback, 0, testing::Span(Bytes({0, 1, 0x87})), suback),
         ReasonCode::kProtocolError, "SUBACK: reason code");
  Expect(DecodeSuback(kV5, PacketType::kUnsuback, 0, testing::Span(Bytes({0, 1, 0, 0x02})), suback),
         ReasonCode::kProtocolError, "UNSUBACK: reason code");
  CHECK(DecodeSuback(kV5, PacketType::kUnsuback, 0, testing::Span(Bytes({0, 1, 0, 0x11})), suback)
            .ok());
}

TEST_CASE("decoding into a reused PUBLISH leaves no MQTT 5 fields of the previous packet") {
  Body good;
  good.Str("t").Props(Body().U8(0x26).Str("k").Str("v"));
  PublishPacket out;
  REQUIRE(DecodePublish(kV5, 0, good.span(), out).ok());
  REQUIRE(out.user_properties.size() == 1);
  REQUIRE(DecodePublish(kV311, 0, Body().Str("t").Raw("x").span(), out).ok());
  CHECK(out.user_properties.empty());
  CHECK_FALSE(out.payload_format.has_value());
}

}  // namespace sluice::gateway::mqtt
