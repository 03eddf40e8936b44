// The native MQTT endpoint, in-process (gateway::App with [endpoint] on a
// free port and a real store in a temp dir), with independent clients
// (mosquitto_pub, Python paho-mqtt, Paho C++) over MQTT 3.1.1 and 5, QoS
// 0/1/2, TCP and TLS; and the project's raw codec client for what a normal
// client never sends (broken packets, resends, aliases, limits).
#include <doctest/doctest.h>

#include <mqtt/async_client.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "base/paho_library.h"
#include "gateway/app/app.h"
#include "gated_env.h"
#include "mqtt_test_util.h"
#include "raw_mqtt_client.h"
#include "store/env.h"
#include "temp_dir.h"
#include "test_pki.h"

namespace sluice::testing {
namespace {

// Paho clients come and go all through this process: see base/paho_library.h.
const bool kPahoHeld = (sluice::HoldPahoLibrary(), true);

using namespace std::chrono_literals;
namespace mqtt = gateway::mqtt;
using mqtt::PacketType;
using mqtt::ProtocolVersion;
using mqtt::ReasonCode;

const char* const kV311Name = "311";

using Pki = TestPki;  // a throwaway CA, a server certificate for 127.0.0.1, a client one
const auto MakePki = MakeTestPki;

std::string EndpointToml(const std::string& store_dir, const std::string& endpoint_extra,
                         const std::string& extra = "") {
  return "[gateway]\nid = \"test-gw\"\n[log]\nlevel = \"warn\"\n[store]\ndir = \"" + store_dir +
         "\"\nwal_file_size = \"4MiB\"\n[admin]\nenabled = false\n"
         "[[ingest.rule]]\ntopic = \"m/{name}\"\nformat = \"raw\"\nseries = \"m/{name}\"\n"
         "[endpoint]\nenabled = true\nport = 0\n" +
         endpoint_extra + "\n" + extra + "\n";
}

struct Gateway {
  std::unique_ptr<gateway::App> app;
  int port = 0;
  std::optional<double> Latest(const std::string& series) {
    auto info = app->store().FindSeries(series);
    if (!info) return std::nullopt;
    auto r = app->store().Latest(info->id);
    if (!r) return std::nullopt;
    return std::get<double>(r->value);
  }
  std::size_t Count(const std::string& series) {
    auto info = app->store().FindSeries(series);
    if (!info) return 0;
    std::size_t n = 0;
    REQUIRE(app->store().Scan(info->id, 0, INT64_MAX, [&](const store::Record&) {
                                ++n;
                                return true;
                              }).ok());
    return n;
  }
};

Gateway StartGateway(const std::string& toml) {
  auto app = gateway::App::Start(ParseOrDie(toml));
  REQUIRE_MESSAGE(app.ok(), app.status().ToString());
  Gateway g;
  g.app = std::move(*app);
  g.port = g.app->endpoint_port();
  REQUIRE(g.port > 0);
  return g;
}

// WAL commits held back while the gate is closed (GatedEnv, the store's
// test double): what the endpoint does before durability and after.
struct WalGate {
  std::unique_ptr<store::Env> posix = store::NewPosixEnv(store::IoEngine::kAuto).value();
  store::GatedEnv env{posix.get(), [](const std::string& path) {
                        return std::filesystem::path(path).filename().string().starts_with("wal");
                      }};
};

Gateway StartGateway(const std::string& toml, store::GatedEnv* env) {
  gateway::AppHooks hooks;
  hooks.store_context.env = env;
  auto app = gateway::App::Start(ParseOrDie(toml), std::move(hooks));
  REQUIRE_MESSAGE(app.ok(), app.status().ToString());
  Gateway g;
  g.app = std::move(*app);
  g.port = g.app->endpoint_port();
  REQUIRE(g.port > 0);
  return g;
}

RawMqttClient Connected(int port, std::string_view id, ProtocolVersion v = ProtocolVersion::kV5,
                        bool clean = true, std::uint32_t expiry = 0) {
  auto c = RawMqttClient::Open(port);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  auto ack = c->Handshake(MakeConnect(id, v, clean, expiry));
  REQUIRE_MESSAGE(ack.ok(), ack.status().ToString());
  REQUIRE(ack->reason == ReasonCode::kSuccess);
  return std::move(*c);
}

mqtt::AckPacket ReadAck(RawMqttClient& c, ProtocolVersion v, PacketType type,
                        std::chrono::milliseconds timeout = 5s) {
  auto p = c.Read(timeout);
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  REQUIRE_MESSAGE(p->header.type == type,
                  "got " << mqtt::PacketTypeName(p->header.type) << ", wanted "
                         << mqtt::PacketTypeName(type));
  mqtt::AckPacket ack;
  REQUIRE(mqtt::DecodeAck(v, type, p->header.flags, p->bytes(), ack).ok());
  return ack;
}

ReasonCode ReadDisconnect(RawMqttClient& c) {
  auto p = c.Read();
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  REQUIRE(p->header.type == PacketType::kDisconnect);
  mqtt::DisconnectPacket d;
  REQUIRE(mqtt::DecodeDisconnect(ProtocolVersion::kV5, p->header.flags, p->bytes(), d).ok());
  CHECK(c.WaitClosed());
  return d.reason;
}

// Paho C++: one message, waits for its delivery token.
bool PahoPublish(int port, const std::string& version, int qos, const std::string& topic,
                 const std::string& payload, const Pki* pki) {
  const std::string uri =
      std::string(pki ? "ssl" : "tcp") + "://127.0.0.1:" + std::to_string(port);
  try {
    ::mqtt::async_client client(uri, "paho-" + version + "-" + std::to_string(qos),
                                ::mqtt::create_options(version == "5" ? MQTTVERSION_5
                                                                      : MQTTVERSION_3_1_1));
    ::mqtt::connect_options opts;
    opts.set_mqtt_version(version == "5" ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
    if (version == "5") {
      opts.set_clean_start(true);
    } else {
      opts.set_clean_session(true);
    }
    if (pki) {
      ::mqtt::ssl_options ssl;
      ssl.set_trust_store(pki->ca);
      ssl.set_key_store(pki->client_cert);
      ssl.set_private_key(pki->client_key);
      opts.set_ssl(ssl);
    }
    client.connect(opts)->wait_for(10s);
    auto tok = client.publish(topic, payload.data(), payload.size(), qos, false);
    const bool ok = tok->wait_for(10s);
    client.disconnect()->wait_for(5s);
    return ok;
  } catch (const ::mqtt::exception& e) {
    MESSAGE("Paho C++: " << e.what());
    return false;
  }
}

void CheckMatrix(const std::string& endpoint_extra, const Pki* pki, const std::string& tag) {
  TempDir dir("sluice-endpoint-matrix");
  Gateway g = StartGateway(EndpointToml((dir.path() / "store").string(), endpoint_extra));
  double value = 1.25;
  for (const std::string& version : {std::string(kV311Name), std::string("5")}) {
    for (int qos = 0; qos <= 2; ++qos) {
      const std::string cell = tag + "-v" + version + "-q" + std::to_string(qos);
      CAPTURE(cell);
      // mosquitto_pub
      std::string tls_args;
      if (pki) {
        tls_args = " --cafile " + pki->ca + " --cert " + pki->client_cert + " --key " +
                   pki->client_key;
      }
      const std::string v_arg = version == "5" ? "mqttv5" : "mqttv311";
      CHECK(MosquittoPub(g.port, "-V " + v_arg + " -q " + std::to_string(qos) + " -t m/mp-" +
                                     cell + " -m " + std::to_string(value) + tls_args) == 0);
      // Python paho-mqtt
      std::string py = std::string("/usr/bin/python3 ") + SLUICE_SOURCE_DIR +
                       "/tests/integration/endpoint_publisher.py " + std::to_string(g.port) +
                       " " + version + " " + std::to_string(qos) + " m/py-" + cell + " " +
                       std::to_string(value + 1);
      if (pki) py += " --tls " + pki->ca + " " + pki->client_cert + " " + pki->client_key;
      CHECK(Shell(py + " >/dev/null") == 0);
      // Paho C++
      CHECK(PahoPublish(g.port, version, qos, "m/paho-" + cell, std::to_string(value + 2), pki));
      // QoS 1 and 2 were acknowledged only once durable: in the store now.
      // QoS 0 has no acknowledgement to wait for.
      for (const auto& sent : {std::pair{"mp", value}, std::pair{"py", value + 1},
                               std::pair{"paho", value + 2}}) {
        const std::string series = std::string("m/") + sent.first + "-" + cell;
        const auto v = sent.second;
        if (qos == 0) {
          CHECK_MESSAGE(Eventually([&] { return g.Latest(series) == v; }, 10s), series);
        } else {
          CHECK_MESSAGE(g.Latest(series) == v, series);
        }
      }
      value += 10;
    }
  }
  const auto c = g.app->stats().endpoint;
  CHECK(c.protocol_errors == 0);
  CHECK(c.acks_negative == 0);
  CHECK(g.app->Stop().ok());
}

}  // namespace

TEST_CASE("mosquitto_pub, Python paho-mqtt and Paho C++ reach the store over MQTT 3.1.1 and 5 at QoS 0, 1 and 2 over TCP") {
  CheckMatrix("", nullptr, "tcp");
}

TEST_CASE("the same matrix over TLS with client certificates required") {
  TempDir pki_dir("sluice-endpoint-pki");
  const Pki pki = MakePki(pki_dir.path());
  CheckMatrix("tls_cert_file = \"" + pki.server_cert + "\"\ntls_key_file = \"" + pki.server_key +
                  "\"\ntls_ca_file = \"" + pki.ca + "\"\nrequire_client_cert = true\n",
              &pki, "tls");
}

TEST_CASE("a TLS client without a certificate is refused when client certificates are required") {
  TempDir pki_dir("sluice-endpoint-pki");
  const Pki pki = MakePki(pki_dir.path());
  TempDir dir("sluice-endpoint-tls");
  Gateway g = StartGateway(EndpointToml(
      (dir.path() / "store").string(),
      "tls_cert_file = \"" + pki.server_cert + "\"\ntls_key_file = \"" + pki.server_key +
          "\"\ntls_ca_file = \"" + pki.ca + "\"\nrequire_client_cert = true\n"));
  CHECK(MosquittoPub(g.port, "-q 1 -t m/nocert -m 1 --cafile " + pki.ca + " 2>/dev/null") != 0);
  CHECK(Eventually([&] { return g.app->stats().endpoint.tls_failures >= 1; }));
  CHECK_FALSE(g.Latest("m/nocert"));
  CHECK(g.app->Stop().ok());
}

TEST_CASE("user names and passwords are checked against a mosquitto_passwd file") {
  TempDir dir("sluice-endpoint-auth");
  const std::string pw = (dir.path() / "users").string();
  REQUIRE(Shell("mosquitto_passwd -c -b " + pw + " sensor s3cret >/dev/null") == 0);
  Gateway g = StartGateway(
      EndpointToml((dir.path() / "store").string(), "password_file = \"" + pw + "\"\n"));
  CHECK(MosquittoPub(g.port, "-q 1 -t m/good -m 5 -u sensor -P s3cret") == 0);
  CHECK(g.Latest("m/good") == 5.0);
  CHECK(MosquittoPub(g.port, "-q 1 -t m/bad -m 6 -u sensor -P wrong 2>/dev/null") != 0);
  CHECK(MosquittoPub(g.port, "-q 1 -t m/anon -m 7 2>/dev/null") != 0);
  for (auto v : {ProtocolVersion::kV311, ProtocolVersion::kV5}) {
    auto c = RawMqttClient::Open(g.port);
    REQUIRE(c.ok());
    auto connect = MakeConnect("raw-auth", v);
    connect.username = "sensor";
    connect.password = "nope";
    auto ack = c->Handshake(connect);
    REQUIRE(ack.ok());
    CHECK(ack->reason == ReasonCode::kBadUserNameOrPassword);  // 3.1.1: return code 4
    CHECK(c->WaitClosed());
  }
  CHECK_FALSE(g.Latest("m/bad"));
  CHECK(g.app->stats().endpoint.auth_failures >= 4);
  CHECK(g.app->Stop().ok());
}

TEST_CASE("a malformed packet closes that one connection with its reason and no other") {
  TempDir dir("sluice-endpoint-malformed");
  Gateway g = StartGateway(EndpointToml((dir.path() / "store").string(), ""));
  RawMqttClient good = Connected(g.port, "good");
  RawMqttClient bad = Connected(g.port, "bad");
  // PUBLISH with QoS 3 (both QoS bits set): malformed.
  REQUIRE(bad.Send(std::string("\x36\x05\x00\x01m\x00\x01", 7)).ok());
  CHECK(ReadDisconnect(bad) == ReasonCode::kMalformedPacket);
  REQUIRE(good.Publish(ProtocolVersion::kV5, "m/after", "3.5", 1, 1).ok());
  CHECK(ReadAck(good, ProtocolVersion::kV5, PacketType::kPuback).reason == ReasonCode::kSuccess);
  CHECK(g.Latest("m/after") == 3.5);
  CHECK(g.app->stats().endpoint.protocol_errors == 1);
  CHECK(g.app->Stop().ok());
}

TEST_CASE("PUBACK waits for durability, Receive Maximum is enforced for MQTT 5 and paces 3.1.1") {
  TempDir dir("sluice-endpoint-flow");
  WalGate gate;
  store::GatedEnv& env = gate.env;
  Gateway g = StartGateway(
      EndpointToml((dir.path() / "store").string(), "receive_maximum = 4\n", "[pipeline]\nshards = 1\n"),
      &env);
  {
    RawMqttClient c = Connected(g.port, "flow-311", ProtocolVersion::kV311);
    env.Close();  // WAL commits wait from here on
    for (std::uint16_t id = 1; id <= 6; ++id) {
      REQUIRE(c.Publish(ProtocolVersion::kV311, "m/flow311", std::to_string(id), 1, id).ok());
    }
    // Nothing is acknowledged while the records are not durable...
    REQUIRE(Eventually([&] { return env.held() > 0; }, 10s));
    CHECK_FALSE(c.Read(300ms).ok());
    CHECK(g.app->stats().endpoint.publishes[1] == 4);  // 5 and 6 not even read: 4 unacknowledged
    env.Open();
    // ...then in order, and each acknowledged record is in the store.
    for (std::uint16_t id = 1; id <= 6; ++id) {
      auto ack = ReadAck(c, ProtocolVersion::kV311, PacketType::kPuback, 5s);
      CHECK(ack.packet_id == id);
      CHECK(g.Count("m/flow311") >= id);
    }
    CHECK(g.Count("m/flow311") == 6);
  }
  {
    RawMqttClient c = Connected(g.port, "flow-5");
    env.Close();
    for (std::uint16_t id = 1; id <= 5; ++id) {
      REQUIRE(c.Publish(ProtocolVersion::kV5, "m/flow5", std::to_string(id), 1, id).ok());
    }
    CHECK(ReadDisconnect(c) == ReasonCode::kReceiveMaximumExceeded);
    env.Open();
  }
  CHECK(g.app->Stop().ok());
}

TEST_CASE("redelivered QoS 1 and QoS 2 messages in a resumed session are stored once") {
  TempDir dir("sluice-endpoint-dup");
  Gateway g = StartGateway(EndpointToml((dir.path() / "store").string(), ""));
  const auto v = ProtocolVersion::kV5;
  {
    RawMqttClient c = Connected(g.port, "dup-client", v, false, 600);
    REQUIRE(c.Publish(v, "m/dup1", "42", 1, 7).ok());
    CHECK(ReadAck(c, v, PacketType::kPuback).packet_id == 7);
    REQUIRE(c.Publish(v, "m/dup2", "43", 2, 9).ok());
    CHECK(ReadAck(c, v, PacketType::kPubrec).packet_id == 9);
    c.Close();  // PUBACK "lost", PUBREL not sent yet
  }
  RawMqttClient c = RawMqttClient::Open(g.port).value();
  auto ack = c.Handshake(MakeConnect("dup-client", v, false, 600));
  REQUIRE(ack.ok());
  CHECK(ack->session_present);
  REQUIRE(c.Publish(v, "m/dup1", "42", 1, 7, /*dup=*/true).ok());
  CHECK(ReadAck(c, v, PacketType::kPuback).packet_id == 7);
  REQUIRE(c.Publish(v, "m/dup2", "43", 2, 9, /*dup=*/true).ok());
  CHECK(ReadAck(c, v, PacketType::kPubrec).packet_id == 9);
  std::string rel;
  mqtt::AckPacket p;
  p.type = PacketType::kPubrel;
  p.packet_id = 9;
  mqtt::EncodeAck(v, p, rel);
  REQUIRE(c.Send(rel).ok());
  CHECK(ReadAck(c, v, PacketType::kPubcomp).reason == ReasonCode::kSuccess);
  REQUIRE(c.Send(rel).ok());  // a second PUBREL: the flow is over
  CHECK(ReadAck(c, v, PacketType::kPubcomp).reason == ReasonCode::kPacketIdentifierNotFound);
  CHECK(g.Count("m/dup1") == 1);
  CHECK(g.Count("m/dup2") == 1);
  CHECK(g.app->stats().endpoint.duplicates == 2);
  // A new message reusing id 7 without DUP is a new message.
  REQUIRE(c.Publish(v, "m/dup1", "44", 1, 7).ok());
  CHECK(ReadAck(c, v, PacketType::kPuback).packet_id == 7);
  CHECK(g.Count("m/dup1") == 2);
  CHECK(g.app->Stop().ok());
}

TEST_CASE("topic aliases, SUBSCRIBE refusal, unmatched and malformed payloads get their reason codes") {
  TempDir dir("sluice-endpoint-codes");
  Gateway g = StartGateway(EndpointToml((dir.path() / "store").string(), ""));
  const auto v = ProtocolVersion::kV5;
  RawMqttClient c = Connected(g.port, "codes");
  REQUIRE(c.Publish(v, "m/aliased", "1", 1, 1, false, 3).ok());
  CHECK(ReadAck(c, v, PacketType::kPuback).reason == ReasonCode::kSuccess);
  REQUIRE(c.Publish(v, "", "2", 1, 2, false, 3).ok());
  CHECK(ReadAck(c, v, PacketType::kPuback).reason == ReasonCode::kSuccess);
  CHECK(g.Count("m/aliased") == 2);
  REQUIRE(c.Publish(v, "nomatch/x", "1", 1, 3).ok());
  CHECK(ReadAck(c, v, PacketType::kPuback).reason == ReasonCode::kNoMatchingSubscribers);
  REQUIRE(c.Publish(v, "m/text", "not-a-number", 1, 4).ok());
  CHECK(ReadAck(c, v, PacketType::kPuback).reason == ReasonCode::kPayloadFormatInvalid);
  std::string sub;
  mqtt::EncodeSubscribe(v, 5, "m/#", 1, sub);
  REQUIRE(c.Send(sub).ok());
  auto suback = c.Read();
  REQUIRE(suback.ok());
  CHECK(suback->header.type == PacketType::kSuback);
  CHECK(static_cast<std::uint8_t>(suback->body.back()) ==
        static_cast<std::uint8_t>(ReasonCode::kImplementationSpecificError));
  // An alias above the advertised maximum (64) ends the connection.
  REQUIRE(c.Publish(v, "m/x", "1", 1, 6, false, 65).ok());
  CHECK(ReadDisconnect(c) == ReasonCode::kTopicAliasInvalid);
  CHECK(g.app->Stop().ok());
}

TEST_CASE("a second connection with the same client id takes the session over") {
  TempDir dir("sluice-endpoint-takeover");
  Gateway g = StartGateway(EndpointToml((dir.path() / "store").string(), ""));
  RawMqttClient first = Connected(g.port, "same-id", ProtocolVersion::kV5, false, 60);
  RawMqttClient second = Connected(g.port, "same-id", ProtocolVersion::kV5, false, 60);
  CHECK(ReadDisconnect(first) == ReasonCode::kSessionTakenOver);
  REQUIRE(second.Publish(ProtocolVersion::kV5, "m/second", "9", 1, 1).ok());
  CHECK(ReadAck(second, ProtocolVersion::kV5, PacketType::kPuback).reason == ReasonCode::kSuccess);
  CHECK(g.app->stats().endpoint.sessions_taken_over == 1);
  CHECK(g.app->Stop().ok());
}

TEST_CASE("a packet above max_packet_size and a silent client past keep alive are closed") {
  TempDir dir("sluice-endpoint-limits");
  Gateway g = StartGateway(EndpointToml((dir.path() / "store").string(), "max_packet_size = 1024\n"));
  RawMqttClient big = Connected(g.port, "big");
  REQUIRE(big.Publish(ProtocolVersion::kV5, "m/big", std::string(2000, '1'), 1, 1).ok());
  CHECK(ReadDisconnect(big) == ReasonCode::kPacketTooLarge);

  auto quiet = RawMqttClient::Open(g.port);
  REQUIRE(quiet.ok());
  auto connect = MakeConnect("quiet");
  connect.keep_alive_s = 1;
  REQUIRE(quiet->Handshake(connect).ok());
  auto p = quiet->Read(4s);  // closed after 1.5 s of silence, checked each second
  REQUIRE(p.ok());
  CHECK(p->header.type == PacketType::kDisconnect);
  CHECK(g.app->stats().endpoint.keepalive_timeouts == 1);
  CHECK(g.app->Stop().ok());
}

}  // namespace sluice::testing
