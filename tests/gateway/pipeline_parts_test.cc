// The pipeline's parts one by one: bounded queue, batcher, shed policy,
// pressure evaluation, routing, subscription plan, and the config keys.
#include <doctest/doctest.h>

#include <deque>
#include <thread>

#include "gateway/app/config.h"
#include "gateway/frontend/mqtt_frontend.h"
#include "gateway/pipeline/store_space.h"
#include "batcher.h"
#include "bounded_queue.h"
#include "pressure.h"
#include "shed.h"

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;
using pipeline::BoundedQueue;

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a full bounded queue makes the producer wait until the consumer takes one") {
  BoundedQueue<int> q(2);
  int a = 1, b = 2, c = 3;
  REQUIRE(q.Push(a));
  REQUIRE(q.Push(b));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    CHECK(q.Push(c));
    pushed = true;
  });
  int out = 0;
  // The producer cannot get in before a slot frees: the queue never grows past 2.
  CHECK(q.size() == 2);
  REQUIRE(q.PopUntil(out, BoundedQueue<int>::Clock::now() + 5s) == BoundedQueue<int>::Pop::kItem);
  CHECK(out == 1);
  producer.join();
  CHECK(pushed);
  CHECK(q.size() == 2);
}

TEST_CASE("closing the queue releases a waiting producer and the consumer drains what is left") {
  BoundedQueue<int> q(1);
  int a = 1, b = 2;
  REQUIRE(q.Push(a));
  std::thread producer([&] { CHECK_FALSE(q.Push(b)); });
  q.Close();
  producer.join();
  int out = 0;
  CHECK(q.PopUntil(out, BoundedQueue<int>::Clock::now()) == BoundedQueue<int>::Pop::kItem);
  CHECK(out == 1);
  CHECK(q.PopUntil(out, BoundedQueue<int>::Clock::now()) == BoundedQueue<int>::Pop::kClosed);
}

TEST_CASE("a woken consumer returns without an item, and a wake before the wait is not lost") {
  BoundedQueue<int> q(1);
  q.Wake();
  int out = 0;
  CHECK(q.PopUntil(out, BoundedQueue<int>::Clock::now() + 10s) == BoundedQueue<int>::Pop::kWoken);
}

TEST_CASE("a wait that takes no events sleeps through a wake, which the next wait then sees") {
  using Q = BoundedQueue<int>;
  Q q(8);
  std::deque<int> out;
  std::thread waker([&] {
    std::this_thread::sleep_for(20ms);
    q.Wake();
  });
  const auto t0 = Q::Clock::now();
  CHECK(q.PopAllUntil(out, t0 + 200ms, 1, /*events=*/false) == Q::Pop::kWoken);
  CHECK(Q::Clock::now() - t0 >= 200ms);  // slept to its deadline
  waker.join();
  // The wake was kept: a wait that takes events returns at once.
  const auto t1 = Q::Clock::now();
  CHECK(q.PopAllUntil(out, t1 + 10s, 1, /*events=*/true) == Q::Pop::kWoken);
  CHECK(Q::Clock::now() - t1 < 5s);
  // An item still ends a wait without events.
  int item = 7;
  REQUIRE(q.Push(item));
  CHECK(q.PopAllUntil(out, Q::Clock::now() + 10s, 1, false) == Q::Pop::kItem);
  CHECK(out == std::deque<int>{7});
}

TEST_CASE("a batch is due when full or when its first record has lingered") {
  pipeline::Batcher b(3, 1u << 20, 2ms);
  const auto t0 = pipeline::Batcher::Clock::now();
  CHECK_FALSE(b.Due(t0));
  b.Add({store::SeriesId{1}, 1, 1.0}, 0, t0);
  b.Add({store::SeriesId{1}, 2, 2.0}, 0, t0 + 1ms);
  CHECK_FALSE(b.Due(t0 + 1ms));
  CHECK(b.Due(t0 + 2ms));  // the linger runs from the first record
  b.Add({store::SeriesId{1}, 3, 3.0}, 0, t0 + 1ms);
  CHECK(b.Full());
  CHECK(b.Due(t0));
  const store::Batch out = b.Take();
  CHECK(out.size() == 3);
  CHECK(b.empty());
  CHECK_FALSE(b.Due(t0 + 1h));
}

TEST_CASE("a batch of large values is full by its size before its record count, so the store "
          "never refuses it as larger than a block") {
  // 4 KiB payloads with the defaults (512 records, 1 MiB blocks) made
  // batches of 1,054,491 encoded bytes, refused whole.
  pipeline::Batcher b(512, 512u << 10, 2ms);
  const auto t0 = pipeline::Batcher::Clock::now();
  std::size_t n = 0;
  while (!b.Full()) {
    b.Add({store::SeriesId{1}, static_cast<std::int64_t>(n), std::string(4096, 'x')}, 4096, t0);
    ++n;
  }
  CHECK(n == (512u << 10) / (4096 + pipeline::Batcher::kRecordOverhead) + 1);
  CHECK(n < 512);
  (void)b.Take();
  b.Add({store::SeriesId{1}, 1, std::string(4096, 'x')}, 4096, t0);
  CHECK_FALSE(b.Full());  // Take() starts the count afresh
}

TEST_CASE("the shed policy drops QoS 0 first, then by class only when stopped, never high") {
  using pipeline::ShedDecision;
  const auto kOpen = PressureLevel::kOpen, kSlow = PressureLevel::kSlow, kStop = PressureLevel::kStop;
  const auto kLow = PriorityClass::kLow, kNormal = PriorityClass::kNormal, kHigh = PriorityClass::kHigh;
  // No policy: never.
  CHECK_FALSE(ShedDecision(ShedPolicy::kNone, kStop, 0, kLow));
  // Open: never.
  CHECK_FALSE(ShedDecision(ShedPolicy::kNormal, kOpen, 0, kLow));
  // QoS 0 under any pressure, any class.
  CHECK(ShedDecision(ShedPolicy::kQos0, kSlow, 0, kHigh) == ShedReason::kQos0);
  CHECK_FALSE(ShedDecision(ShedPolicy::kQos0, kStop, 1, kLow));
  // Classes: only when stopped.
  CHECK_FALSE(ShedDecision(ShedPolicy::kLow, kSlow, 1, kLow));
  CHECK(ShedDecision(ShedPolicy::kLow, kStop, 1, kLow) == ShedReason::kPriority);
  CHECK_FALSE(ShedDecision(ShedPolicy::kLow, kStop, 1, kNormal));
  CHECK(ShedDecision(ShedPolicy::kNormal, kStop, 2, kNormal) == ShedReason::kPriority);
  CHECK_FALSE(ShedDecision(ShedPolicy::kNormal, kStop, 1, kHigh));
}

TEST_CASE("pressure: full or refusing stops, disk past the slow mark or a filling queue slows") {
  pipeline::PressureInputs in;
  in.disk_slow_bytes = 900;
  in.store.disk_budget_bytes = 1000;
  CHECK(pipeline::EvaluatePressure(in) == PressureLevel::kOpen);
  in.store.disk_used_bytes = 950;
  CHECK(pipeline::EvaluatePressure(in) == PressureLevel::kSlow);
  in.store.full = true;
  CHECK(pipeline::EvaluatePressure(in) == PressureLevel::kStop);
  in = {};
  in.queue_fill_pct = 80;
  CHECK(pipeline::EvaluatePressure(in) == PressureLevel::kSlow);
  in.store_refusing = true;
  CHECK(pipeline::EvaluatePressure(in) == PressureLevel::kStop);
  in = {};
  in.extra = PressureLevel::kStop;
  CHECK(pipeline::EvaluatePressure(in) == PressureLevel::kStop);
}

TEST_CASE("the store's space is logged once per change, naming why appends are refused") {
  using Severity = pipeline::StoreSpaceEvent::Severity;
  store::StorePressure ok, full_fs, full_budget, low;
  full_fs.full = true;
  full_fs.full_reason = "file system full (ENOSPC)";
  full_budget.full = true;
  full_budget.full_reason = "disk budget full";
  low.low_space = true;
  low.fs_free_bytes = 3ull << 30;
  low.fs_total_bytes = 100ull << 30;

  CHECK(pipeline::StoreSpaceEvents(ok, ok).empty());
  auto start = pipeline::StoreSpaceEvents(ok, full_fs);
  REQUIRE(start.size() == 1);
  CHECK(start[0].severity == Severity::kWarn);
  CHECK(Contains(start[0].line, "appends refused: no space (file system full (ENOSPC))"));
  // Still full: nothing more, however many appends fail, even when the
  // reason's details move (the budget's names the bytes used).
  CHECK(pipeline::StoreSpaceEvents(full_fs, full_fs).empty());
  CHECK(pipeline::StoreSpaceEvents(full_fs, full_budget).empty());
  auto end = pipeline::StoreSpaceEvents(full_budget, ok);
  REQUIRE(end.size() == 1);
  CHECK(end[0].severity == Severity::kInfo);
  CHECK(Contains(end[0].line, "appends accepted again (was: appends refused: no space (disk "
                              "budget full))"));

  auto warned = pipeline::StoreSpaceEvents(ok, low);
  REQUIRE(warned.size() == 1);
  CHECK(warned[0].severity == Severity::kWarn);
  CHECK(Contains(warned[0].line, "3.0% free on the store's file system (3.0 GiB of 100.0 GiB)"));
  CHECK(pipeline::StoreSpaceEvents(low, low).empty());
  CHECK(pipeline::StoreSpaceEvents(low, ok).size() == 1);
}

TEST_CASE("Sparkplug topics route by edge node, so a node's births and data share a shard") {
  CHECK(RoutingHash("spBv1.0/g1/NBIRTH/n1") == RoutingHash("spBv1.0/g1/NDATA/n1"));
  CHECK(RoutingHash("spBv1.0/g1/DDATA/n1/dev7") == RoutingHash("spBv1.0/g1/NDEATH/n1"));
  CHECK(RoutingHash("spBv1.0/g1/NDATA/n1") != RoutingHash("spBv1.0/g1/NDATA/n2"));
  CHECK(RoutingHash("plant/a") == RoutingHash("plant/a"));
}

TEST_CASE("with several connections, filters are shared and Sparkplug stays on connection 0") {
  IngestOptions ingest;
  RuleOptions json;
  json.topic = "plant/{line}/{machine}/telemetry";
  json.format = PayloadFormat::kJson;
  RuleOptions sp;
  sp.topic = "spBv1.0/#";
  sp.format = PayloadFormat::kSparkplugB;
  ingest.rules = {json, sp, json};
  auto rules = RuleSet::Build(ingest);
  REQUIRE(rules.ok());
  MqttBrokerOptions b;
  b.uri = "tcp://127.0.0.1:1883";
  b.connections = 3;
  b.qos = 2;
  const auto plan = PlanSubscriptions(b, *rules);
  REQUIRE(plan.size() == 3);
  REQUIRE(plan[0].size() == 2);
  CHECK(plan[0][0].filter == "$share/sluice/plant/+/+/telemetry");
  CHECK(plan[0][0].qos == 2);
  CHECK(plan[0][1].filter == "spBv1.0/#");
  REQUIRE(plan[2].size() == 1);
  CHECK(plan[2][0].filter == "$share/sluice/plant/+/+/telemetry");
  b.connections = 1;
  CHECK(PlanSubscriptions(b, *rules)[0][0].filter == "plant/+/+/telemetry");
}

TEST_CASE("[[mqtt.broker]] and [pipeline] keys are read, defaults filled, errors named") {
  auto c = ParseConfig(R"(
[gateway]
id = "edge-7"
[[mqtt.broker]]
uri = "ssl://broker.local:8883"
mqtt_version = "3.1.1"
username = "sluice"
password_file = "/etc/sluice/mqtt.pw"
tls_ca_file = "/etc/sluice/ca.pem"
connections = 4
qos = 2
session_expiry = "3600s"
keep_alive = "20s"
receive_maximum = 32
reconnect_min = "50ms"
reconnect_max = "10s"
[[mqtt.broker]]
uri = "tcp://127.0.0.1:1883"
client_id_prefix = "edge"
clean_start = true
[pipeline]
shards = 4
queue_capacity = 128
batch_max_records = 256
batch_linger = "1ms"
max_inflight_batches = 3
pressure_poll = "5ms"
slow_delay = "500us"
slow_queue_percent = 60
shed = "low"
)",
                       "t.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  REQUIRE(c->mqtt.brokers.size() == 2);
  const auto& b = c->mqtt.brokers[0];
  CHECK(b.version == MqttVersion::kV311);
  CHECK(b.client_id_prefix == "sluice-edge-7");
  CHECK(b.password_file == "/etc/sluice/mqtt.pw");
  CHECK(b.connections == 4);
  CHECK(b.qos == 2);
  CHECK(b.session_expiry == std::chrono::seconds(3600));
  CHECK(b.keep_alive == std::chrono::seconds(20));
  CHECK(b.receive_maximum == 32);
  CHECK(b.reconnect_min == std::chrono::milliseconds(50));
  CHECK(b.reconnect_max == std::chrono::milliseconds(10000));
  CHECK(c->mqtt.brokers[1].client_id_prefix == "edge");
  CHECK(c->mqtt.brokers[1].clean_start);
  CHECK(c->pipeline.shards == 4);
  CHECK(c->pipeline.batch_linger == std::chrono::microseconds(1000));
  CHECK(c->pipeline.slow_delay == std::chrono::microseconds(500));
  CHECK(c->pipeline.pressure_poll == std::chrono::microseconds(5000));
  CHECK(c->pipeline.slow_queue_pct == 60);
  CHECK(c->pipeline.shed == ShedPolicy::kLow);

  auto bad = ParseConfig("[[mqtt.broker]]\nuri = \"mqtt://x:1\"\n", "t.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.status().message(), "t.toml:2:7: key 'mqtt.broker[1].uri'"));
  bad = ParseConfig("[[mqtt.broker]]\nuri = \"tcp://x:1\"\ntls_ca_file = \"/ca.pem\"\n", "t.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.status().message(), "ssl://"));
  bad = ParseConfig("[[mqtt.broker]]\nuri = \"tcp://x:1\"\nqos = 3\n", "t.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.status().message(), "mqtt.broker[1].qos"));
  bad = ParseConfig("[[mqtt.broker]]\nurl = \"tcp://x:1\"\n", "t.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.status().message(), "unknown key"));
  bad = ParseConfig("[pipeline]\nshed = \"all\"\n", "t.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.status().message(), "none, qos0, low, normal"));
  bad = ParseConfig("[pipeline]\nbatch_linger = \"2s\"\n", "t.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.status().message(), "pipeline.batch_linger"));
}

TEST_CASE("a full store is a readiness reason naming the cause, low space only a warning") {
  store::StorePressure p;
  CHECK(pipeline::StoreFullReason(p).empty());
  CHECK(pipeline::LowSpaceWarning(p).empty());
  p.full = true;
  p.full_reason = "disk budget full";
  CHECK(pipeline::StoreFullReason(p) == "appends refused: no space (disk budget full)");
  p.full_reason = "read-only file system";
  CHECK(pipeline::StoreFullReason(p) == "appends refused: no space (read-only file system)");
  p.full_reason.clear();  // a store that does not say why
  CHECK(pipeline::StoreFullReason(p) == "appends refused: no space");

  p = {};
  p.low_space = true;
  p.fs_free_bytes = 1ull << 30;
  p.fs_total_bytes = 40ull << 30;
  CHECK(pipeline::LowSpaceWarning(p) == "2.5% free on the store's file system (1.0 GiB of 40.0 GiB)");
  CHECK(pipeline::StoreFullReason(p).empty());
  p.fs_total_bytes = 0;
  CHECK(pipeline::LowSpaceWarning(p) == "low free space on the store's file system");
}

}  // namespace sluice::gateway
