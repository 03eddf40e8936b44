// The batched MQTT load generator (tools/mqtt_load) and the `wire` engine of
// `sluice simulate`, against a real Mosquitto (tests/support/mosquitto.h)
// while an independent Paho C++ subscriber counts what the broker delivers:
// every message arrives once and in order per connection, every QoS 1/2
// message is acknowledged, at QoS 0, 1 and 2, in MQTT 3.1.1 and 5. Failures
// (refused connect, a server that never answers, a broker that goes away,
// bad credentials) end the run with an error naming host:port, never a hang.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <mqtt/async_client.h>

#include "base/paho_library.h"
#include "mosquitto.h"
#include "mqtt_load/mqtt_load.h"
#include "sensor_sim/sensor_sim.h"
#include "temp_dir.h"

namespace sluice::testing {
namespace {

// Paho clients come and go all through this process: see base/paho_library.h.
const bool kPahoHeld = (sluice::HoldPahoLibrary(), true);

using namespace std::chrono_literals;
using gateway::mqtt::ProtocolVersion;
using mqtt_load::LoadMessage;
using mqtt_load::LoadOptions;

std::string Name(ProtocolVersion v) { return v == ProtocolVersion::kV5 ? "MQTT 5" : "MQTT 3.1.1"; }

// Payload "<connection>:<sequence>:" padded with 'x' to `size` bytes, on
// topic load/<connection>.
mqtt_load::MessageGenerator Numbered(std::size_t size = 0) {
  return [size](std::uint32_t c, std::uint64_t seq, LoadMessage& m) {
    m.topic = "load/" + std::to_string(c);
    m.payload = std::to_string(c) + ":" + std::to_string(seq) + ":";
    if (m.payload.size() < size) m.payload.resize(size, 'x');
  };
}

// A Paho C++ subscriber to `filter` that checks each numbered message: no
// duplicate, in order per connection, the expected size.
class CountingSubscriber {
 public:
  CountingSubscriber(const MosquittoBroker& broker, const std::string& filter, int qos)
      : client_(broker.uri(), "sluice-load-test-sub", mqtt::create_options(MQTTVERSION_5)) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) { OnMessage(*m); });
    auto opts = mqtt::connect_options_builder().mqtt_version(MQTTVERSION_5).clean_start(true).finalize();
    client_.connect(opts)->wait();
    client_.subscribe(filter, qos)->wait();
  }
  ~CountingSubscriber() {
    try {
      client_.disconnect()->wait();
    } catch (const mqtt::exception&) {
    }
  }

  // Waits until `n` messages arrived or `limit` passed; the count.
  std::uint64_t WaitFor(std::uint64_t n, std::chrono::milliseconds limit = 60s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, limit, [&] { return count_ >= n; });
    return count_;
  }
  std::uint64_t count() {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::uint64_t anomalies() {
    std::lock_guard lock(mu_);
    return anomalies_;
  }
  std::vector<std::string> topics() {
    std::lock_guard lock(mu_);
    return topics_;
  }
  std::size_t expect_size = 0;

 private:
  void OnMessage(const mqtt::message& m) {
    const std::string& p = m.get_payload_ref().str();
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
    topics_.push_back(m.get_topic());
    const auto a = p.find(':');
    const auto b = a == std::string::npos ? a : p.find(':', a + 1);
    if (b == std::string::npos) return;  // not a numbered message
    const std::uint64_t c = std::strtoull(p.c_str(), nullptr, 10);
    const std::int64_t seq = std::strtoll(p.c_str() + a + 1, nullptr, 10);
    auto [it, fresh] = next_.emplace(c, 0);
    if (seq != it->second || (expect_size > 0 && p.size() != expect_size)) ++anomalies_;
    it->second = seq + 1;
  }

  mqtt::async_client client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t count_ = 0;
  std::uint64_t anomalies_ = 0;  // duplicates, gaps, reordering, wrong size
  std::map<std::uint64_t, std::int64_t> next_;
  std::vector<std::string> topics_;
};

LoadOptions Options(const MosquittoBroker& b, ProtocolVersion v, int qos, std::uint64_t count,
                    std::uint32_t connections) {
  LoadOptions o;
  o.host = b.host();
  o.port = static_cast<std::uint16_t>(b.port());
  o.version = v;
  o.qos = qos;
  o.count = count;
  o.connections = connections;
  o.client_id_prefix = "load-test";
  o.io_timeout = 20s;
  return o;
}

// Publishes and checks that the subscriber got every message exactly once,
// in order per connection, and that every message was acknowledged.
void PublishAndCount(ProtocolVersion v, int qos, std::uint64_t count, std::uint32_t connections,
                     std::size_t size = 0, std::uint32_t window = 1000) {
  TempDir dir("sluice-load");
  auto broker = MosquittoBroker::Start(dir.path());
  REQUIRE_MESSAGE(broker.ok(), broker.status().ToString());
  CountingSubscriber sub(**broker, "load/#", qos);
  sub.expect_size = size;
  LoadOptions o = Options(**broker, v, qos, count, connections);
  o.window = window;
  auto r = mqtt_load::RunLoad(o, Numbered(size));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  MESSAGE(Name(v) << " QoS " << qos << ": " << mqtt_load::FormatReport(*r));
  CHECK(r->sent == count);
  CHECK(r->acked == count);
  CHECK(r->errors == 0);
  CHECK(r->latency.samples == (qos > 0 ? count : 0));
  CHECK(sub.WaitFor(count) == count);
  CHECK(sub.anomalies() == 0);
}

}  // namespace

TEST_CASE("20,000 QoS 1 messages over 4 connections all reach a subscriber and are all acknowledged") {
  for (auto v : {ProtocolVersion::kV5, ProtocolVersion::kV311}) {
    CAPTURE(Name(v));
    PublishAndCount(v, 1, 20000, 4);
  }
}

TEST_CASE("QoS 0 messages all arrive, in order per connection") {
  for (auto v : {ProtocolVersion::kV5, ProtocolVersion::kV311}) {
    CAPTURE(Name(v));
    PublishAndCount(v, 0, 5000, 4);
  }
}

TEST_CASE("QoS 2 messages go through PUBREC, PUBREL, PUBCOMP and arrive exactly once") {
  // MQTT 5: the window follows Mosquitto's Receive Maximum (its
  // max_inflight_messages, 20). MQTT 3.1.1 has no Receive Maximum, and
  // Mosquitto answers QoS 2 messages past that limit with a plain PUBREC and
  // drops them: the window must stay within it.
  PublishAndCount(ProtocolVersion::kV5, 2, 5000, 4);
  PublishAndCount(ProtocolVersion::kV311, 2, 5000, 4, 0, 20);
}

TEST_CASE("batches larger than the socket buffer go out through partial writes intact") {
  // 64 x 100 KB per write: every write is partial.
  PublishAndCount(ProtocolVersion::kV5, 1, 300, 2, 100 * 1024);
}

TEST_CASE("the window is lowered to the broker's Receive Maximum in MQTT 5") {
  TempDir dir("sluice-load");
  MosquittoOptions mo;
  mo.extra_config = "max_inflight_messages 8\n";
  auto broker = MosquittoBroker::Start(dir.path(), mo);
  REQUIRE(broker.ok());
  LoadOptions o = Options(**broker, ProtocolVersion::kV5, 1, 2000, 2);
  o.window = 500;
  auto r = mqtt_load::RunLoad(o, Numbered());
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->window == 8);
  CHECK(r->acked == 2000);
  o.version = ProtocolVersion::kV311;  // no Receive Maximum in 3.1.1
  r = mqtt_load::RunLoad(o, Numbered());
  REQUIRE(r.ok());
  CHECK(r->window == 500);
}

TEST_CASE("a rate limit spreads the messages over time") {
  TempDir dir("sluice-load");
  auto broker = MosquittoBroker::Start(dir.path());
  REQUIRE(broker.ok());
  LoadOptions o = Options(**broker, ProtocolVersion::kV5, 1, 1000, 3);
  o.rate = 2000;
  auto r = mqtt_load::RunLoad(o, Numbered());
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->acked == 1000);
  CHECK(r->seconds >= 0.45);  // 1000 messages at 2000/s
  CHECK(r->seconds < 5.0);
}

TEST_CASE("a duration or a stop flag ends an unbounded run, and everything sent is acknowledged") {
  TempDir dir("sluice-load");
  auto broker = MosquittoBroker::Start(dir.path());
  REQUIRE(broker.ok());
  LoadOptions o = Options(**broker, ProtocolVersion::kV5, 2, 0, 2);
  o.rate = 5000;
  o.duration_s = 0.3;
  auto r = mqtt_load::RunLoad(o, Numbered());
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->sent > 0);
  CHECK(r->acked == r->sent);

  std::atomic<bool> stop{false};
  o.duration_s = 0;
  o.progress_interval = 50ms;
  o.on_progress = [&](const mqtt_load::LoadProgress& p) {
    if (p.acked > 100) stop.store(true);
  };
  r = mqtt_load::RunLoad(o, Numbered(), &stop);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->acked == r->sent);
  CHECK(r->sent > 100);
}

TEST_CASE("a refused connect is an error naming host, port and the reason") {
  auto port = PickFreePort();
  REQUIRE(port.ok());
  LoadOptions o;
  o.port = static_cast<std::uint16_t>(*port);
  o.count = 10;
  auto r = mqtt_load::RunLoad(o, Numbered());
  REQUIRE_FALSE(r.ok());
  const std::string m = r.status().message();
  CHECK(m.find("127.0.0.1:" + std::to_string(*port)) != std::string::npos);
  CHECK(m.find("Connection refused") != std::string::npos);
}

TEST_CASE("a server that accepts TCP but never answers CONNECT times out") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(listen(fd, 16) == 0);  // the kernel completes handshakes; nobody reads
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  LoadOptions o;
  o.port = ntohs(a.sin_port);
  o.connections = 3;
  o.count = 10;
  o.connect_timeout = 300ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = mqtt_load::RunLoad(o, Numbered());
  const auto took = std::chrono::steady_clock::now() - t0;
  close(fd);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("CONNACK not done within 300 ms") != std::string::npos);
  CHECK(took < 3s);
}

TEST_CASE("a broker that goes away mid-run ends the run with an error, not a hang") {
  for (auto v : {ProtocolVersion::kV5, ProtocolVersion::kV311}) {
    CAPTURE(Name(v));
    TempDir dir("sluice-load");
    auto broker = MosquittoBroker::Start(dir.path());
    REQUIRE(broker.ok());
    LoadOptions o = Options(**broker, v, 1, 0, 2);
    o.rate = 2000;
    o.duration_s = 30;
    o.progress_interval = 20ms;
    std::mutex mu;
    std::condition_variable cv;
    bool flowing = false;
    o.on_progress = [&](const mqtt_load::LoadProgress& p) {
      if (p.acked == 0) return;
      std::lock_guard lock(mu);
      flowing = true;
      cv.notify_all();
    };
    std::thread killer([&] {
      std::unique_lock lock(mu);
      cv.wait_for(lock, 10s, [&] { return flowing; });
      (void)(*broker)->Stop();
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto r = mqtt_load::RunLoad(o, Numbered());
    killer.join();
    REQUIRE_FALSE(r.ok());
    const std::string m = r.status().message();
    MESSAGE(m);
    CHECK(m.find("127.0.0.1:" + std::to_string((*broker)->port())) != std::string::npos);
    const bool said_why = m.find("closed the connection") != std::string::npos ||
                          m.find("DISCONNECT") != std::string::npos ||
                          m.find("reset") != std::string::npos;
    CHECK(said_why);
    CHECK(std::chrono::steady_clock::now() - t0 < 15s);
  }
}

TEST_CASE("user name and password are sent, and wrong ones are refused with the broker reason") {
  TempDir dir("sluice-load");
  const std::string pw = (dir.path() / "passwd").string();
  std::ofstream(pw) << "";
  REQUIRE(std::system(("mosquitto_passwd -b " + pw + " loader s3cret").c_str()) == 0);
  MosquittoOptions mo;
  mo.extra_config = "allow_anonymous false\npassword_file " + pw + "\n";
  auto broker = MosquittoBroker::Start(dir.path() / "broker", mo);
  REQUIRE_MESSAGE(broker.ok(), broker.status().ToString());
  for (auto v : {ProtocolVersion::kV5, ProtocolVersion::kV311}) {
    CAPTURE(Name(v));
    LoadOptions o = Options(**broker, v, 1, 100, 1);
    o.username = "loader";
    o.password = "s3cret";
    auto r = mqtt_load::RunLoad(o, Numbered());
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->acked == 100);
    o.password = "wrong";
    r = mqtt_load::RunLoad(o, Numbered());
    REQUIRE_FALSE(r.ok());
    MESSAGE(r.status().message());
    CHECK(r.status().message().find("refused the connection") != std::string::npos);
  }
}

TEST_CASE("sluice simulate --engine wire publishes the Sparkplug fleet: births first, then data") {
  TempDir dir("sluice-load");
  auto broker = MosquittoBroker::Start(dir.path());
  REQUIRE(broker.ok());
  CountingSubscriber sub(**broker, "spBv1.0/#", 1);
  sensor_sim::SimOptions o;
  o.engine = "wire";
  o.uri = (*broker)->uri();
  o.format = "sparkplug";
  o.devices = 8;
  o.connections = 4;
  o.rate = 0;
  o.count = 2000;
  o.quiet = true;
  auto r = sensor_sim::RunSimulation(o);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->published == 2008);
  CHECK(r->acked == 2008);
  REQUIRE(sub.WaitFor(2008) == 2008);
  // Each device: its NBIRTH before any of its NDATA; data shared evenly.
  std::map<std::string, int> data;
  std::set<std::string> born;
  for (const auto& t : sub.topics()) {
    const auto device = t.substr(t.rfind('/') + 1);
    if (t.find("/NBIRTH/") != std::string::npos) {
      CHECK(born.insert(device).second);
    } else {
      CHECK(born.count(device) == 1);
      ++data[device];
    }
  }
  CHECK(born.size() == 8);
  for (const auto& [device, n] : data) CHECK(n == 250);
}

}  // namespace sluice::testing
