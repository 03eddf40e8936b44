// MQTT ingest end to end, in-process: a real Mosquitto, independent
// publishers (mosquitto_pub, Python paho-mqtt, Paho C++ via the simulator),
// the real pipeline and store; what arrives is read back from the store.
#include <doctest/doctest.h>

#include <atomic>
#include <set>

#include "gateway/app/app.h"
#include "mosquitto.h"
#include "mqtt_test_util.h"
#include "raw_mqtt_client.h"
#include "sensor_sim/sensor_sim.h"
#include "temp_dir.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using gateway::App;
using gateway::PressureLevel;

const char* kRules = R"(
[[ingest.rule]]
topic = "plant/{machine}/telemetry"
format = "json"
fields = ["temp", "rpm"]
series = "{machine}.{field}"
timestamp = "field:ts"
[[ingest.rule]]
topic = "seq/{name}"
type = "int64"
series = "seq.{name}"
[[ingest.rule]]
topic = "spBv1.0/#"
format = "sparkplug_b"
[[ingest.rule]]
topic = "bulk/#"
priority = "low"
)";

struct Fixture {
  TempDir dir{"sluice-mqtt"};
  std::unique_ptr<MosquittoBroker> broker;
  std::string store_dir = (dir.path() / "store").string();

  explicit Fixture(bool persistence = true) {
    MosquittoOptions o;
    o.persistence = persistence;
    auto b = MosquittoBroker::Start(dir.path() / "broker", o);
    REQUIRE_MESSAGE(b.ok(), b.status().ToString());
    broker = std::move(*b);
  }

  std::unique_ptr<App> Start(const std::string& extra = "", gateway::AppHooks hooks = {}) {
    auto app = App::Start(ParseOrDie(GatewayToml(store_dir, broker->uri(), std::string(kRules) + extra)),
                          std::move(hooks));
    REQUIRE_MESSAGE(app.ok(), app.status().ToString());
    REQUIRE(Eventually([&] {
      const auto m = (*app)->stats().mqtt;
      return m.connected == m.total;
    }));
    return std::move(*app);
  }
};

std::uint64_t Stored(App& app) { return app.stats().pipeline.records_stored; }

// Every int64 value of `series`, in timestamp order.
std::vector<std::int64_t> Ints(store::Store& s, const std::string& series) {
  std::vector<std::int64_t> out;
  auto info = s.FindSeries(series);
  if (!info) return out;
  REQUIRE(s.Scan(info->id, 0, INT64_MAX, [&](const store::Record& r) {
               out.push_back(std::get<std::int64_t>(r.value));
               return true;
             }).ok());
  return out;
}

}  // namespace

TEST_CASE("JSON from mosquitto_pub and Python paho-mqtt, Sparkplug B from Paho C++ reach the store") {
  Fixture f;
  auto app = f.Start();
  // mosquitto_pub: one message per line.
  REQUIRE(Shell("printf '%s\\n' '{\"ts\":1700000000000,\"temp\":21.5,\"rpm\":1200}' "
                "'{\"ts\":1700000001000,\"temp\":21.75,\"rpm\":1210}' | mosquitto_pub -h 127.0.0.1 -p " +
                std::to_string(f.broker->port()) + " -q 1 -t plant/press-3/telemetry -l") == 0);
  // Python paho-mqtt: 500 numbered QoS 1 messages.
  const std::string acked = (f.dir.path() / "acked.txt").string();
  REQUIRE(Shell(PythonPublisherCommand(f.broker->port(), "seq/py", 500, 0, acked)) == 0);
  // Paho C++: a Sparkplug B fleet of 2 edge nodes x 3 metrics, births first.
  sensor_sim::SimOptions sim;
  sim.uri = f.broker->uri();
  sim.format = "sparkplug";
  sim.devices = 2;
  sim.metrics = 3;
  sim.count = 40;
  sim.rate = 0;
  sim.quiet = true;
  auto report = sensor_sim::RunSimulation(sim);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(report->acked == 42);

  const std::uint64_t want = 4 + 500 + 2 * 3 + 40 * 3;
  REQUIRE(Eventually([&] { return Stored(*app) >= want; }));
  REQUIRE(app->Stop().ok());
  CHECK(Stored(*app) == want);

  auto store = store::Store::Open(ParseOrDie(GatewayToml(f.store_dir, f.broker->uri(), kRules)).store);
  REQUIRE(store.ok());
  CHECK(StoredDoubles(**store, "press-3.temp") == std::vector<double>{21.5, 21.75});
  CHECK(StoredDoubles(**store, "press-3.rpm") == std::vector<double>{1200, 1210});
  const auto seq = Ints(**store, "seq.py");
  REQUIRE(seq.size() == 500);
  CHECK(std::set<std::int64_t>(seq.begin(), seq.end()).size() == 500);
  CHECK(*std::max_element(seq.begin(), seq.end()) == 499);
  for (const char* node : {"dev-0", "dev-1"}) {
    for (int m = 0; m < 3; ++m) {
      // The birth's value plus 20 NDATA values each.
      CHECK(StoredDoubles(**store, std::string("sim/") + node + "/m" + std::to_string(m)).size() == 21);
    }
  }
}

TEST_CASE("malformed payloads are counted by reason and ingest goes on") {
  Fixture f(false);
  auto app = f.Start();
  const int port = f.broker->port();
  REQUIRE(MosquittoPub(port, "-q 1 -t plant/m1/telemetry -m '{oops'") == 0);
  REQUIRE(MosquittoPub(port, "-q 1 -t seq/bad -m 'twelve'") == 0);
  REQUIRE(MosquittoPub(port, "-q 1 -t spBv1.0/g/NDATA/n -m 'not protobuf'") == 0);
  REQUIRE(MosquittoPub(port, "-q 1 -t seq/good -m 7") == 0);
  REQUIRE(Eventually([&] { return Stored(*app) >= 1; }));
  const auto c = app->stats().pipeline;
  CHECK(c.messages_malformed == 3);
  CHECK(c.malformed[static_cast<int>(gateway::MalformedReason::kBadJson)] == 1);
  CHECK(c.malformed[static_cast<int>(gateway::MalformedReason::kNotANumber)] == 1);
  CHECK(c.malformed[static_cast<int>(gateway::MalformedReason::kBadProtobuf)] == 1);
  CHECK(Ints(app->store(), "seq.good") == std::vector<std::int64_t>{7});
}

TEST_CASE("/v1/sources shows the broker connection, an endpoint client and each rule's counts") {
  Fixture f(false);
  auto app = f.Start("[endpoint]\nenabled = true\nport = 0\n");
  REQUIRE(MosquittoPub(f.broker->port(), "-q 1 -t seq/a -m 1") == 0);
  REQUIRE(MosquittoPub(f.broker->port(), "-q 1 -t seq/a -m two") == 0);
  auto client = RawMqttClient::Open(app->endpoint_port());
  REQUIRE(client.ok());
  REQUIRE(client->Handshake(MakeConnect("sensor-7")).ok());
  REQUIRE(client->Publish(gateway::mqtt::ProtocolVersion::kV5, "seq/b", "3", 1, 1).ok());
  REQUIRE(client->Read().ok());  // PUBACK: stored
  REQUIRE(Eventually(
      [&] { return Stored(*app) >= 2 && app->stats().pipeline.messages_malformed >= 1; }));

  const std::string s = app->SourcesJson();
  CAPTURE(s);
  const std::string uri = f.broker->uri();
  CHECK(
      s.find(
          R"({"index":0,"broker":0,"uri":")" + uri +
          R"(","client_id":"sluice-test-gw-0","connected":true,"messages":2,"connects":1,"connect_failures":0,"connections_lost":0,"last_error":"")") !=
      std::string::npos);
  CHECK(s.find(R"("subscriptions":["plant/+/telemetry","seq/+","bulk/#","spBv1.0/#"])") !=
        std::string::npos);
  CHECK(s.find(R"("endpoint":{"enabled":true,"address":"127.0.0.1","port":)" +
               std::to_string(app->endpoint_port()) + R"(,"tls":false,"auth":"anonymous")") !=
        std::string::npos);
  CHECK(s.find(R"({"client_id":"sensor-7","peer":"127.0.0.1:)") != std::string::npos);
  CHECK(s.find(R"("protocol":"5")") != std::string::npos);
  CHECK(
      s.find(R"("publishes":1,"tls":false}],"connections_total":1,"connections_complete":true})") !=
      std::string::npos);
  CHECK(
      s.find(
          R"({"index":1,"topic":"seq/+","format":"raw","priority":"normal","matched":3,"malformed":1,"samples":2})") !=
      std::string::npos);
  CHECK(s.find(R"("unmatched":0})") != std::string::npos);
}

TEST_CASE("QoS 1 messages published while Sluice is stopped arrive after it restarts") {
  Fixture f;
  (void)f.Start()->Stop();
  // Sluice is away; its persistent session makes the broker queue for it.
  const std::string acked = (f.dir.path() / "acked.txt").string();
  REQUIRE(Shell(PythonPublisherCommand(f.broker->port(), "seq/away", 1000, 0, acked)) == 0);
  auto app = f.Start();
  REQUIRE(Eventually([&] { return Stored(*app) >= 1000; }));
  const auto seq = Ints(app->store(), "seq.away");
  CHECK(std::set<std::int64_t>(seq.begin(), seq.end()).size() == 1000);
}

TEST_CASE("after a broker restart Sluice reconnects by itself and ingests again") {
  Fixture f;
  auto app = f.Start();
  REQUIRE(MosquittoPub(f.broker->port(), "-q 1 -t seq/a -m 1") == 0);
  REQUIRE(Eventually([&] { return Stored(*app) >= 1; }));
  REQUIRE(f.broker->Restart().ok());
  REQUIRE(Eventually([&] {
    const auto m = app->stats().mqtt;
    return m.connects >= 2 && m.connected == m.total;
  }));
  CHECK(app->stats().mqtt.connections_lost >= 1);
  REQUIRE(MosquittoPub(f.broker->port(), "-q 1 -t seq/a -m 2") == 0);
  REQUIRE(Eventually([&] { return Stored(*app) >= 2; }));
  CHECK(Ints(app->store(), "seq.a") == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("when the store says stop, reading pauses, the broker queues, and all QoS 1 arrive after") {
  Fixture f;
  auto level = std::make_shared<std::atomic<PressureLevel>>(PressureLevel::kStop);
  gateway::AppHooks hooks;
  hooks.pressure_sources.push_back([level] { return level->load(); });
  auto app = f.Start("[pipeline]\npressure_poll = \"1ms\"\nqueue_capacity = 16\n", std::move(hooks));
  REQUIRE(Eventually([&] { return app->pipeline().level() == PressureLevel::kStop; }));
  const std::string acked = (f.dir.path() / "acked.txt").string();
  // The broker acknowledges all 3000 to the publisher: it holds them.
  REQUIRE(Shell(PythonPublisherCommand(f.broker->port(), "seq/held", 3000, 0, acked)) == 0);
  const auto held = app->stats().pipeline;
  CHECK(held.messages_queued == 0);
  CHECK(held.messages_in <= 1);  // one message waits in Offer; Paho reads no further
  CHECK(Stored(*app) == 0);
  level->store(PressureLevel::kOpen);
  REQUIRE(Eventually([&] { return Stored(*app) >= 3000; }));
  const auto seq = Ints(app->store(), "seq.held");
  CHECK(std::set<std::int64_t>(seq.begin(), seq.end()).size() == 3000);
  CHECK(app->stats().pipeline.ShedTotal() == 0);
}

TEST_CASE("under shed = \"qos0\", QoS 0 messages that arrive while stopped are shed and counted") {
  Fixture f(false);
  auto level = std::make_shared<std::atomic<PressureLevel>>(PressureLevel::kStop);
  gateway::AppHooks hooks;
  hooks.pressure_sources.push_back([level] { return level->load(); });
  auto app = f.Start("[pipeline]\npressure_poll = \"1ms\"\nshed = \"qos0\"\n", std::move(hooks));
  REQUIRE(Eventually([&] { return app->pipeline().level() == PressureLevel::kStop; }));
  REQUIRE(Shell("seq 1 200 | mosquitto_pub -h 127.0.0.1 -p " + std::to_string(f.broker->port()) +
                " -q 0 -t bulk/x -l") == 0);
  REQUIRE(Eventually([&] { return app->stats().pipeline.ShedTotal() >= 200; }));
  const auto c = app->stats().pipeline;
  CHECK(c.shed[static_cast<int>(gateway::PriorityClass::kLow)]
              [static_cast<int>(gateway::ShedReason::kQos0)] == 200);
  level->store(PressureLevel::kOpen);
  REQUIRE(MosquittoPub(f.broker->port(), "-q 1 -t seq/after -m 5") == 0);
  REQUIRE(Eventually([&] { return Stored(*app) >= 1; }));
  CHECK(Stored(*app) == 1);
}

}  // namespace sluice::testing
