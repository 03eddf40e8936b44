// The stream lane against librdkafka's mock cluster (its own process), read
// back by kafka-python. Label: integration (release tree).
#include "stream/kafka_lane.h"

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <thread>

#include "mock_cluster.h"
#include "store/store.h"
#include "temp_dir.h"

namespace sluice::stream {
namespace {

using testing::ReadRecord;

struct Expected {
  std::string type;
  std::vector<std::pair<std::int64_t, std::string>> points;  // timestamp, value as printed
};

struct Rig {
  testing::TempDir dir{"sluice-stream"};
  std::unique_ptr<store::Store> store;
  std::vector<store::SeriesId> ids;
  std::map<std::string, Expected> expected;
  std::int64_t next_ts = 1'700'000'000'000'000'000;
  std::uint64_t total = 0;

  Rig() {
    store::Options o;
    o.dir = (dir.path() / "store").string();
    o.wal_file_size = 4 << 20;
    o.cursor_retain_bytes = 16 << 20;
    auto s = store::Store::Open(o);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    store = std::move(*s);
    const std::pair<const char*, store::ValueType> series[] = {
        {"plant/l1/temp", store::ValueType::kFloat64},
        {"plant/l1/count", store::ValueType::kInt64},
        {"plant/l1/running", store::ValueType::kBool},
        {"plant/l1/code", store::ValueType::kBytes},
        {"plant/l2/temp", store::ValueType::kFloat64},
    };
    for (const auto& [name, type] : series) {
      ids.push_back(*store->RegisterSeries(name, type, type == store::ValueType::kFloat64 ? "degC" : ""));
      expected[name].type = store::ValueTypeName(type);
    }
  }

  // `batches` batches of `per` records over the series in turn.
  void Append(int batches, int per) {
    for (int b = 0; b < batches; ++b) {
      store::Batch batch;
      for (int i = 0; i < per; ++i) {
        const std::size_t k = (total + static_cast<std::uint64_t>(i)) % ids.size();
        const auto info = *store->GetSeries(ids[k]);
        const std::int64_t ts = next_ts;
        next_ts += 1'000'000;  // 1 ms apart
        const std::uint64_t n = total + static_cast<std::uint64_t>(i);
        store::Value v;
        std::string shown;
        switch (info.type) {
          case store::ValueType::kFloat64: {
            const double d = static_cast<double>(n) * 0.25 - 100.5;
            v = d;
            shown = std::to_string(d);
            break;
          }
          case store::ValueType::kInt64:
            v = static_cast<std::int64_t>(n) * 1'000'003 - 7;
            shown = std::to_string(std::get<std::int64_t>(v));
            break;
          case store::ValueType::kBool:
            v = n % 3 == 0;
            shown = n % 3 == 0 ? "true" : "false";
            break;
          case store::ValueType::kBytes: {
            std::string bytes = "c" + std::to_string(n);
            bytes.push_back('\0');
            bytes.push_back('\xff');
            static const char kHex[] = "0123456789abcdef";
            for (unsigned char c : bytes) {
              shown.push_back(kHex[c >> 4]);
              shown.push_back(kHex[c & 15]);
            }
            v = bytes;
            break;
          }
        }
        batch.push_back({ids[k], ts, v});
        expected[info.name].points.emplace_back(ts, shown);
      }
      total += static_cast<std::uint64_t>(per);
      REQUIRE(store->Append(std::move(batch)).Wait().ok());
    }
  }
};

KafkaLaneOptions LaneOptions(const std::string& bootstrap, MessageFormat format) {
  KafkaLaneOptions o;
  o.bootstrap_servers = bootstrap;
  o.topic = "sluice.{site}";
  o.format = format;
  o.gateway_id = "gw-7";
  o.site = "plant-a";
  o.max_unconfirmed_records = 5000;
  o.position_interval = std::chrono::milliseconds(50);
  o.properties["retry.backoff.ms"] = "50";
  return o;
}

// Waits (polling the lane's own counters) until every durable record is
// confirmed, or `limit` passes.
bool Drained(const KafkaLane& lane, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    const auto s = lane.stats();
    if (s.cursor.backlog_records == 0 && s.cursor.position == s.cursor.durable_seq) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Every series arrives complete, in order, each record once, with the
// right timestamp, type, unit, value and headers. With `replays`, a lane
// rewound after a failed delivery may send a stretch again: a record older
// than the next expected one must be one already seen, and is skipped.
// Returns the records skipped so.
std::size_t CheckArrived(const Rig& rig, const std::vector<ReadRecord>& got, bool batched = false,
                         bool replays = false) {
  if (!replays) REQUIRE(got.size() == rig.total);
  std::map<std::string, std::size_t> at;
  std::map<std::string, int> partition_of;
  std::size_t replayed = 0;
  for (const ReadRecord& r : got) {
    auto it = rig.expected.find(r.series);
    REQUIRE_MESSAGE(it != rig.expected.end(), r.series);
    const Expected& e = it->second;
    std::size_t& i = at[r.series];
    if (replays && i > 0 && (i == e.points.size() || r.timestamp_ns < e.points[i].first)) {
      CHECK(r.timestamp_ns <= e.points[i - 1].first);
      ++replayed;
      continue;
    }
    REQUIRE(i < e.points.size());
    CHECK(r.timestamp_ns == e.points[i].first);
    // A batch message carries the timestamp of its first record.
    if (batched) CHECK(r.kafka_ts_ms <= e.points[i].first / 1'000'000);
    else CHECK(r.kafka_ts_ms == e.points[i].first / 1'000'000);
    CHECK(r.type == e.type);
    if (e.type == "float64") {
      CHECK(std::stod(r.value) == std::stod(e.points[i].second));
      CHECK(r.unit == "degC");
    } else {
      CHECK(r.value == e.points[i].second);
    }
    CHECK(r.gateway == "gw-7");
    CHECK(r.site == "plant-a");
    // One series, one partition: the key is the series name.
    auto [p, fresh] = partition_of.emplace(r.series, r.partition);
    if (!fresh) CHECK(p->second == r.partition);
    ++i;
  }
  for (const auto& [name, e] : rig.expected) CHECK(at[name] == e.points.size());
  return replayed;
}

// A mock cluster with the topic sluice.plant-a (4 partitions), a store and
// a lane on it, started.
struct LaneRig {
  explicit LaneRig(MessageFormat format) {
    REQUIRE(cluster.Command("topic sluice.plant-a 4 1") == "ok");
    auto l = KafkaLane::Start(rig.store.get(), LaneOptions(cluster.bootstrap(), format));
    REQUIRE_MESSAGE(l.ok(), l.status().ToString());
    lane = std::move(*l);
  }
  testing::MockKafkaCluster cluster{3};
  Rig rig;
  std::unique_ptr<KafkaLane> lane;
};

}  // namespace

TEST_CASE("every durable record reaches Kafka in order per series, in each format") {
  for (MessageFormat f : {MessageFormat::kJson, MessageFormat::kProtobuf,
                          MessageFormat::kProtobufBatch}) {
    CAPTURE(MessageFormatName(f));
    const std::string topic = std::string("sluice.plant-a");
    Rig rig;
    // A topic per format: the same name in a fresh cluster would mix them.
    testing::MockKafkaCluster fresh(3);
    REQUIRE(fresh.Command("topic " + topic + " 4 1") == "ok");
    rig.Append(50, 40);  // durable before the lane starts: read back from the log
    auto lane = KafkaLane::Start(rig.store.get(), LaneOptions(fresh.bootstrap(), f));
    REQUIRE_MESSAGE(lane.ok(), lane.status().ToString());
    rig.Append(100, 37);  // and while it runs
    REQUIRE(Drained(**lane, std::chrono::seconds(30)));
    const auto s = (*lane)->stats();
    CHECK(s.records_delivered == rig.total);
    CHECK(s.cursor.lost_records == 0);
    CHECK(s.latency_p99_us > 0);
    (*lane)->Stop();
    CheckArrived(rig, testing::ReadTopic(fresh.bootstrap(), topic, rig.total, MessageFormatName(f)),
                 f == MessageFormat::kProtobufBatch);
  }
}

TEST_CASE("brokers down and up: the backlog waits in the store and nothing is lost") {
  LaneRig t(MessageFormat::kJson);
  auto& [cluster, rig, lane] = t;
  rig.Append(20, 50);
  REQUIRE(Drained(*lane, std::chrono::seconds(30)));
  for (int b = 1; b <= 3; ++b) REQUIRE(cluster.Command("down " + std::to_string(b)) == "ok");
  rig.Append(200, 50);  // 10,000 records, twice the unconfirmed window
  // Ingest went on; the lane holds its window and the rest waits in the log.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto s = lane->stats();
  CHECK(s.cursor.backlog_records > 0);
  CHECK(s.in_flight_records <= 5000 + 50);
  CHECK(s.cursor.oldest_arrival_ns > 0);
  for (int b = 1; b <= 3; ++b) REQUIRE(cluster.Command("up " + std::to_string(b)) == "ok");
  REQUIRE(Drained(*lane, std::chrono::seconds(60)));
  s = lane->stats();
  CHECK(s.cursor.lost_records == 0);
  lane->Stop();
  CheckArrived(rig, testing::ReadTopic(cluster.bootstrap(), "sluice.plant-a", rig.total, "json"));
}

TEST_CASE("request errors and a leader change: retried by the idempotent producer, no gaps, no duplicates") {
  LaneRig t(MessageFormat::kProtobuf);
  auto& [cluster, rig, lane] = t;
  rig.Append(10, 50);
  // Produce (API key 0): NOT_LEADER_FOR_PARTITION (6), REQUEST_TIMED_OUT (7),
  // NOT_ENOUGH_REPLICAS (19).
  REQUIRE(cluster.Command("errors 0 6 3") == "ok");
  REQUIRE(cluster.Command("errors 0 7 2") == "ok");
  REQUIRE(cluster.Command("errors 0 19 3") == "ok");
  rig.Append(40, 50);
  REQUIRE(cluster.Command("leader sluice.plant-a 0 2") == "ok");
  REQUIRE(cluster.Command("leader sluice.plant-a 1 3") == "ok");
  rig.Append(40, 50);
  REQUIRE(Drained(*lane, std::chrono::seconds(60)));
  lane->Stop();
  CheckArrived(rig, testing::ReadTopic(cluster.bootstrap(), "sluice.plant-a", rig.total, "protobuf"));
}

TEST_CASE("an authorisation failure shows in the lane's status until a delivery succeeds and nothing is lost") {
  LaneRig t(MessageFormat::kJson);
  auto& [cluster, rig, lane] = t;
  rig.Append(5, 50);
  REQUIRE(Drained(*lane, std::chrono::seconds(30)));
  CHECK(lane->stats().auth_error.empty());
  // Produce (API key 0): TOPIC_AUTHORIZATION_FAILED (29), as a broker whose
  // ACLs refuse the lane's principal answers.
  REQUIRE(cluster.Command("errors 0 29 40") == "ok");
  rig.Append(20, 50);
  std::string seen;
  std::uint64_t auth_errors = 0;
  for (int i = 0; i < 500 && seen.empty(); ++i) {
    const auto s = lane->stats();
    seen = s.auth_error;
    auth_errors = s.delivery_errors[static_cast<int>(DeliveryError::kAuth)] +
                  s.client_errors[static_cast<int>(DeliveryError::kAuth)];
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK_MESSAGE(!seen.empty(), "the lane never reported the authorisation failure");
  CHECK(seen.find("uthoriz") != std::string::npos);
  CHECK(auth_errors > 0);
  // The errors run out, as when an operator fixes the ACL: the lane
  // delivers again and the failure clears.
  REQUIRE(Drained(*lane, std::chrono::seconds(60)));
  const auto s = lane->stats();
  CHECK(s.auth_error.empty());
  CHECK(s.rewinds > 0);
  CHECK(s.cursor.lost_records == 0);
  lane->Stop();
  const std::size_t replayed = CheckArrived(
      rig, testing::ReadTopic(cluster.bootstrap(), "sluice.plant-a", SIZE_MAX / 2, "json", 5),
      false, true);
  MESSAGE("records sent again after the failures: " << replayed);
}

TEST_CASE("a fatal idempotent-producer error gets a new producer and the lane goes on") {
  LaneRig t(MessageFormat::kProtobuf);
  auto& [cluster, rig, lane] = t;
  rig.Append(5, 50);
  REQUIRE(Drained(*lane, std::chrono::seconds(30)));
  // Produce: OUT_OF_ORDER_SEQUENCE_NUMBER (45), which an idempotent
  // producer cannot recover from (librdkafka raises a fatal error).
  REQUIRE(cluster.Command("errors 0 45 1") == "ok");
  rig.Append(20, 50);
  REQUIRE(Drained(*lane, std::chrono::seconds(60)));
  const auto s = lane->stats();
  CHECK(s.producer_restarts >= 1);
  CHECK(s.client_errors[static_cast<int>(DeliveryError::kFatal)] >= 1);
  CHECK(s.cursor.lost_records == 0);
  lane->Stop();
  CheckArrived(rig, testing::ReadTopic(cluster.bootstrap(), "sluice.plant-a", SIZE_MAX / 2,
                                       "protobuf", 5),
               false, true);
}

TEST_CASE("bad lane configuration is refused naming the key") {
  KafkaLaneOptions o = LaneOptions("127.0.0.1:1", MessageFormat::kJson);
  o.properties["no.such.property"] = "1";
  Status s = o.Validate();
  CHECK(s.message().starts_with("properties.no.such.property: "));
  o.properties.clear();
  o.properties["acks"] = "1";
  CHECK(o.Validate().message().starts_with("properties.acks: must stay all"));
  o.properties.clear();
  o.properties["enable.idempotence"] = "false";
  CHECK(o.Validate().message().starts_with("properties.enable.idempotence: "));
  o.properties.clear();
  o.properties["compression.codec"] = "snappy-ish";
  CHECK(o.Validate().message().starts_with("properties.compression.codec: "));
  o.properties.clear();
  o.topic = "sluice.{plant}";
  CHECK(o.Validate().message().starts_with("topic: unknown placeholder {plant}"));
  o.topic = "a/b";
  CHECK(o.Validate().message().starts_with("topic: "));
  o.topic = "ok";
  o.compression = "gzip9";
  CHECK(o.Validate().message().starts_with("compression: "));
  o.compression = "lz4";
  CHECK(o.Validate().ok());
  // A store without a cursor cannot feed a lane.
  testing::TempDir dir;
  store::Options so;
  so.dir = (dir.path() / "store").string();
  auto store = store::Store::Open(so);
  REQUIRE(store.ok());
  auto lane = KafkaLane::Start(store->get(), o);
  CHECK_FALSE(lane.ok());
  CHECK(lane.status().message().find("cursor_retain_bytes") != std::string::npos);
}

}  // namespace sluice::stream
