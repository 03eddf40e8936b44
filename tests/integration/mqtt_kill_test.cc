// The acknowledged-before-durable window, measured. Paho acknowledges QoS 1
// on receipt (paho.mqtt.c issue 522), before the store has the record, so a
// kill -9 can lose what sits between the two. This test publishes numbered
// QoS 1 messages with Python paho-mqtt through a persistent Mosquitto while
// the real `sluice run` is SIGKILLed at random moments and restarted; at the
// end it counts the messages the broker acknowledged to the publisher that
// are not in the store, reports the worst loss of one kill, and checks it
// against the bound documented in gateway/README.md.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "gateway/app/app.h"
#include "mosquitto.h"
#include "mqtt_test_util.h"
#include "temp_dir.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

// The pipeline settings of this test, and the bound they give (see
// gateway/README.md, "What a crash can lose"): per shard the queue, the
// batch being filled, and the appends in flight; per connection the
// message Paho has handed to the callback plus what Paho has read and
// acknowledged but not delivered yet (at most receive_maximum).
constexpr int kShards = 1, kQueue = 64, kBatch = 128, kInflight = 2, kConnections = 1,
              kReceiveMaximum = 32;
constexpr int kBoundPerKill =
    kShards * (kQueue + kBatch * (kInflight + 1)) + kConnections * (1 + kReceiveMaximum);

std::string KillConfig(const std::string& store_dir, const std::string& uri) {
  return GatewayToml(store_dir, uri,
                     "client_id_prefix = \"sluice-kill\"\nreceive_maximum = " +
                         std::to_string(kReceiveMaximum) +
                         "\n[[ingest.rule]]\ntopic = \"kill/seq\"\ntype = \"int64\"\n"
                         "[pipeline]\nshards = " + std::to_string(kShards) +
                         "\nqueue_capacity = " + std::to_string(kQueue) +
                         "\nbatch_max_records = " + std::to_string(kBatch) +
                         "\nmax_inflight_batches = " + std::to_string(kInflight) + "\n");
}

}  // namespace

TEST_CASE("kill -9 of sluice run loses at most the documented window of acknowledged QoS 1 messages") {
  const int kills = EnvInt("SLUICE_MQTT_KILLS", 8);
  const int count = EnvInt("SLUICE_MQTT_KILL_MESSAGES", 24000);
  const double rate = 2000;  // msg/s: the publisher runs ~12 s, across every kill

  TempDir dir("sluice-mqtt-kill");
  MosquittoOptions mo;
  mo.persistence = true;
  auto broker = MosquittoBroker::Start(dir.path() / "broker", mo);
  REQUIRE_MESSAGE(broker.ok(), broker.status().ToString());
  const std::string store_dir = (dir.path() / "store").string();
  const std::string config_file = (dir.path() / "sluice.toml").string();
  {
    std::ofstream(config_file) << KillConfig(store_dir, (*broker)->uri());
  }
  const std::string log = (dir.path() / "sluice.log").string();

  // Register the session once, so the broker queues from the first message.
  {
    auto app = gateway::App::Start(ParseOrDie(KillConfig(store_dir, (*broker)->uri())));
    REQUIRE(app.ok());
    REQUIRE(Eventually([&] { return (*app)->stats().mqtt.connected == 1; }));
    REQUIRE((*app)->Stop().ok());
  }

  const std::string acked_file = (dir.path() / "acked.txt").string();
  const pid_t publisher =
      SpawnLogged({"/usr/bin/python3",
                   std::string(SLUICE_SOURCE_DIR) + "/tests/integration/mqtt_publisher.py",
             "127.0.0.1", std::to_string((*broker)->port()), "kill/seq", std::to_string(count),
             std::to_string(rate), acked_file},
            (dir.path() / "publisher.log").string());

  KillAtRandomMoments({SLUICE_BIN, "run", "--config", config_file}, log, kills, 300, 1500);
  int pub_status = 0;
  waitpid(publisher, &pub_status, 0);
  const bool publisher_ok = WIFEXITED(pub_status) && WEXITSTATUS(pub_status) == 0;
  REQUIRE_MESSAGE(publisher_ok,
                  "publisher failed; see " << dir.path() / "publisher.log");
  const auto acked = ReadNumbers(acked_file);
  REQUIRE(acked.size() == static_cast<std::size_t>(count));

  // A last, clean run takes what the broker queued meanwhile; the last
  // message published is the last delivered (one publisher, one topic).
  std::set<std::int64_t> stored;
  {
    auto app = gateway::App::Start(ParseOrDie(KillConfig(store_dir, (*broker)->uri())));
    REQUIRE(app.ok());
    auto& store = (*app)->store();
    REQUIRE(Eventually([&] {
      auto info = store.FindSeries("kill/seq");
      if (!info) return false;
      auto last = store.Latest(info->id);
      return last && std::get<std::int64_t>(last->value) == count - 1;
    }, 60s));
    REQUIRE((*app)->Stop().ok());
  }
  {
    auto s = store::Store::Open(ParseOrDie(KillConfig(store_dir, (*broker)->uri())).store);
    REQUIRE(s.ok());
    auto info = (*s)->FindSeries("kill/seq");
    REQUIRE(info);
    REQUIRE((*s)->Scan(info->id, 0, INT64_MAX, [&](const store::Record& r) {
                   stored.insert(std::get<std::int64_t>(r.value));
                   return true;
                 }).ok());
  }

  // Acknowledged but not stored, grouped into runs of consecutive numbers:
  // each kill loses (at most) one run.
  std::vector<std::int64_t> lost;
  for (std::int64_t n : acked) {
    if (!stored.count(n)) lost.push_back(n);
  }
  std::sort(lost.begin(), lost.end());
  std::vector<std::int64_t> runs;
  for (std::size_t i = 0; i < lost.size(); ++i) {
    if (i == 0 || lost[i] > lost[i - 1] + 1) runs.push_back(0);
    ++runs.back();
  }
  const std::int64_t worst = runs.empty() ? 0 : *std::max_element(runs.begin(), runs.end());
  std::printf("mqtt kill test: %d kills, %d QoS 1 messages acknowledged by the broker, %zu stored, "
              "%zu acknowledged-but-lost in %zu runs; worst run %lld (bound per kill %d)\n",
              kills, count, stored.size(), lost.size(), runs.size(),
              static_cast<long long>(worst), kBoundPerKill);
  MESSAGE("acknowledged-but-lost: " << lost.size() << " over " << kills << " kills, worst run "
                                    << worst << ", bound per kill " << kBoundPerKill);
  CHECK(runs.size() <= static_cast<std::size_t>(kills));
  CHECK(worst <= kBoundPerKill);
  CHECK(lost.size() <= static_cast<std::size_t>(kills * kBoundPerKill));
}

}  // namespace sluice::testing
