// The endpoint's session state machine and password file, without sockets.
#include <doctest/doctest.h>

#include "password_file.h"
#include "session.h"

namespace sluice::gateway::endpoint {
namespace {

using mqtt::PacketType;
using mqtt::ProtocolVersion;
using mqtt::ReasonCode;

// The acknowledgements in `bytes`, as (type, packet id, reason).
struct Ack {
  PacketType type;
  std::uint16_t id;
  ReasonCode reason;
  bool operator==(const Ack&) const = default;
};
std::vector<Ack> Decode(ProtocolVersion v, const std::string& bytes) {
  std::vector<Ack> out;
  std::span<const std::uint8_t> rest(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                     bytes.size());
  while (!rest.empty()) {
    mqtt::FrameHeader h;
    REQUIRE(mqtt::PeekFrame(rest, 1 << 20, h) == mqtt::FrameStatus::kComplete);
    mqtt::AckPacket a;
    REQUIRE(mqtt::DecodeAck(v, h.type, h.flags, rest.subspan(h.header_size, h.remaining_length), a)
                .ok());
    out.push_back({h.type, a.packet_id, a.reason});
    rest = rest.subspan(h.size());
  }
  return out;
}

std::uint64_t Start(Session& s, std::uint16_t id, std::uint8_t qos, std::uint64_t hash = 1) {
  REQUIRE(s.Classify(id, qos, false, hash) == Session::Verdict::kNew);
  const std::uint64_t tag = s.next_tag();
  s.Begin(id, qos, hash);
  return tag;
}

TEST_CASE("acknowledgements leave in arrival order whatever order the outcomes come in") {
  Session s("c", 0, 16);
  const auto t1 = Start(s, 1, 1), t2 = Start(s, 2, 2), t3 = Start(s, 3, 1);
  std::string out;
  CHECK(s.Settle(t3, ReasonCode::kSuccess));
  CHECK(s.TakeDueAcks(ProtocolVersion::kV5, out).acks == 0);  // 1 and 2 not done
  CHECK(s.Settle(t1, ReasonCode::kSuccess));
  CHECK(s.TakeDueAcks(ProtocolVersion::kV5, out).acks == 1);
  CHECK(s.Settle(t2, ReasonCode::kPayloadFormatInvalid));
  const auto w = s.TakeDueAcks(ProtocolVersion::kV5, out);
  CHECK(w.acks == 2);
  CHECK(w.negative == 1);
  CHECK(Decode(ProtocolVersion::kV5, out) ==
        std::vector<Ack>{{PacketType::kPuback, 1, ReasonCode::kSuccess},
                         {PacketType::kPubrec, 2, ReasonCode::kPayloadFormatInvalid},
                         {PacketType::kPuback, 3, ReasonCode::kSuccess}});
  CHECK(s.inflight() == 0);  // a failed PUBREC ends the QoS 2 flow
}

TEST_CASE("MQTT 3.1.1 gets a plain acknowledgement where MQTT 5 gets a failure reason") {
  Session s("c", 0, 16);
  const auto t = Start(s, 5, 1);
  CHECK(s.Settle(t, ReasonCode::kNoMatchingSubscribers));
  std::string out;
  CHECK(s.TakeDueAcks(ProtocolVersion::kV311, out).negative == 0);
  CHECK(Decode(ProtocolVersion::kV311, out) ==
        std::vector<Ack>{{PacketType::kPuback, 5, ReasonCode::kSuccess}});
}

TEST_CASE("a QoS 2 flow holds its id from PUBLISH to PUBREL and answers resends with PUBREC") {
  Session s("c", 0, 16);
  const auto t = Start(s, 9, 2);
  CHECK(s.Classify(9, 2, true, 1) == Session::Verdict::kDuplicate);  // resent while storing
  CHECK(s.Settle(t, ReasonCode::kSuccess));
  std::string out;
  CHECK(s.TakeDueAcks(ProtocolVersion::kV5, out).acks == 1);
  CHECK(s.Classify(9, 2, true, 1) == Session::Verdict::kResendPubrec);
  CHECK(s.Classify(9, 1, false, 1) == Session::Verdict::kIdInUse);
  CHECK(s.unacked() == 0);
  CHECK(s.inflight() == 1);
  CHECK(s.Release(9) == ReasonCode::kSuccess);
  CHECK(s.Release(9) == ReasonCode::kPacketIdentifierNotFound);
  CHECK(s.inflight() == 0);
}

TEST_CASE("an acknowledgement owed when the connection dropped is sent when the client resends") {
  Session s("c", 0, 16);
  const auto t = Start(s, 4, 1, 77);
  s.Detach();
  CHECK(s.Settle(t, ReasonCode::kSuccess));  // stored while the client was away
  std::string out;
  CHECK(s.TakeDueAcks(ProtocolVersion::kV5, out).acks == 0);  // nothing queued: not connected
  CHECK(s.Classify(4, 1, true, 77) == Session::Verdict::kDuplicate);
  CHECK(s.TakeDueAcks(ProtocolVersion::kV5, out).acks == 1);
}

TEST_CASE("a DUP resend after a lost PUBACK is recognised by id and content, a new message is not") {
  Session s("c", 0, 2);
  const auto t = Start(s, 7, 1, 1234);
  CHECK(s.Settle(t, ReasonCode::kSuccess));
  std::string out;
  CHECK(s.TakeDueAcks(ProtocolVersion::kV5, out).acks == 1);
  CHECK(s.Classify(7, 1, true, 999) == Session::Verdict::kNew);   // other content
  CHECK(s.Classify(7, 1, false, 1234) == Session::Verdict::kNew); // no DUP: a new message
  CHECK(s.Classify(7, 1, true, 1234) == Session::Verdict::kDuplicate);
  CHECK(s.TakeDueAcks(ProtocolVersion::kV5, out).acks == 1);
  // The ring keeps the last receive_maximum (2) acknowledgements only.
  for (std::uint16_t id = 100; id < 102; ++id) {
    const auto tag = Start(s, id, 1, id);
    CHECK(s.Settle(tag, ReasonCode::kSuccess));
    CHECK(s.TakeDueAcks(ProtocolVersion::kV5, out).acks == 1);
  }
  CHECK(s.Classify(7, 1, true, 1234) == Session::Verdict::kNew);
  CHECK(s.Classify(101, 1, true, 101) == Session::Verdict::kDuplicate);
}

TEST_CASE("more unacknowledged messages than receive_maximum is a quota error") {
  Session s("c", 0, 2);
  Start(s, 1, 1);
  Start(s, 2, 1);
  CHECK(s.Classify(3, 1, false, 1) == Session::Verdict::kQuotaExceeded);
  CHECK(s.Classify(1, 1, true, 1) == Session::Verdict::kDuplicate);  // resends still fine
}

TEST_CASE("an outcome for an unknown tag is ignored") {
  Session s("c", 0, 4);
  CHECK_FALSE(s.Settle(12345, ReasonCode::kSuccess));
}

TEST_CASE("password files from mosquitto_passwd: $7$ PBKDF2 and $6$ salted SHA-512") {
  const std::string text =
      "# users\n"
      "alice:$7$101$2PrbbsKzE9oiFdey$DE7j4jBCsbIkTnNPO5pANuFtDXZainF2nCAW8IrLoyLX8r66AIKaAHmMQDANi"
      "azPZKaC7PWRrYd8YOtJxD+rbg==\n"
      "\n"
      "bob:$6$MDEyMzQ1Njc4OWFi$Kgl3AxuVCetFEGDDZOAh44c3ssh9wvPft10MPC9Tjr1rwsIDmYUEICH/zUOFhM8vCQKm"
      "Mb8nXrQTl7q2T8alUw==\n";
  auto f = PasswordFile::Parse(text, "users");
  REQUIRE_MESSAGE(f.ok(), f.status().ToString());
  CHECK(f->size() == 2);
  CHECK(f->Check("alice", "secret"));
  CHECK_FALSE(f->Check("alice", "Secret"));
  CHECK(f->Check("bob", "hunter2"));
  CHECK_FALSE(f->Check("bob", ""));
  CHECK_FALSE(f->Check("carol", "secret"));
}

TEST_CASE("a password file with plain text or broken lines is refused with file and line") {
  auto plain = PasswordFile::Parse("alice:secret\n", "users");
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.status().message().find("users:1:") != std::string::npos);
  CHECK(plain.status().message().find("mosquitto_passwd") != std::string::npos);
  CHECK(plain.status().message().find("secret") == std::string::npos);  // never echoed
  auto twice = PasswordFile::Parse(
      "# x\nbob:$6$MDEyMzQ1Njc4OWFi$Kgl3AxuVCetFEGDDZOAh44c3ssh9wvPft10MPC9Tjr1rwsIDmYUEICH/zUOFhM8v"
      "CQKmMb8nXrQTl7q2T8alUw==\nbob:$6$MDEyMzQ1Njc4OWFi$Kgl3AxuVCetFEGDDZOAh44c3ssh9wvPft10MPC9Tjr1r"
      "wsIDmYUEICH/zUOFhM8vCQKmMb8nXrQTl7q2T8alUw==\n",
      "users");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().message().find("users:3:") != std::string::npos);
  CHECK_FALSE(PasswordFile::Parse("alice:$7$x$AAAA$AAAA\n", "users").ok());
  CHECK_FALSE(PasswordFile::Parse(":$6$AAAA$AAAA\n", "users").ok());
  CHECK_FALSE(PasswordFile::Load("/nonexistent/users").ok());
}

}  // namespace
}  // namespace sluice::gateway::endpoint
