// The stream lane's delivery promise, checked the hard way. librdkafka's mock
// cluster runs in its own process (tests/stream/kafka_mock_cluster) and stays
// up while the real `sluice run`, native endpoint and stream lane on, is
// SIGKILLed at random moments and restarted, with QoS 1 publishers
// (qos1_publisher.h) on the endpoint. At the end kafka-python reads the
// topic back and the test checks, against the publishers' acknowledgements
// and the store:
//  - every acknowledged number, and every record the store holds, is in
//    Kafka at least once, and Kafka holds nothing else;
//  - each series is on one partition, in commit order, where a restart may
//    send a run of records again (a replay of what was delivered but not yet
//    confirmed);
//  - duplicates are counted: each replay run, and all of them together, stay
//    within the bound stream/README.md states, max_unconfirmed_records plus
//    one write-buffer batch per restart. A batch holds at most the messages
//    the publishers have unacknowledged (the endpoint acknowledges only
//    durable messages), so the test bounds it by publishers x window.
// It runs twice: with the write-ahead log, and with the persistent-memory
// ring (emulated on /dev/shm, as store_test does), where the brokers are
// down for the first half of the kills and the lane's DRAM is 1 MiB, so
// that unconfirmed batches are copied to the spill log, and kills land
// while they are.
// SLUICE_STREAM_KILLS sets the number of kills (default 12).
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "mock_cluster.h"
#include "mqtt_test_util.h"
#include "mosquitto.h"
#include "qos1_publisher.h"
#include "store/store.h"
#include "temp_dir.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kPublishers = 4;
constexpr std::size_t kWindow = 64;
constexpr double kRatePerPublisher = 2500;  // messages/s: keeps the read-back short
constexpr std::uint64_t kMaxUnconfirmed = 1000;  // the smallest the lane allows
constexpr std::uint64_t kBound = kMaxUnconfirmed + kPublishers * kWindow;

std::string KillToml(const std::string& store_dir, const std::string& pmem_path, int port,
                     int admin_port, const std::string& bootstrap) {
  const std::string pmem =
      pmem_path.empty() ? ""
                        : "write_buffer = \"pmem\"\npmem_path = \"" + pmem_path +
                              "\"\npmem_size = \"8MiB\"\n";
  return "[gateway]\nid = \"kill-gw\"\nsite = \"kill\"\n[log]\nlevel = \"warn\"\n"
         "[store]\ndir = \"" + store_dir + "\"\nwal_file_size = \"16MiB\"\n" + pmem +
         "[admin]\nenabled = true\nport = " + std::to_string(admin_port) + "\n"
         "[[ingest.rule]]\ntopic = \"kill/{p}\"\nformat = \"raw\"\ntype = \"int64\"\n"
         "series = \"kill/{p}\"\n[endpoint]\nenabled = true\nport = " + std::to_string(port) +
         "\nreceive_maximum = 256\n"
         "[stream.kafka]\nenabled = true\nbootstrap_servers = \"" + bootstrap + "\"\n"
         "topic = \"sluice.{site}\"\nformat = \"json\"\nmax_unconfirmed_records = " +
         std::to_string(kMaxUnconfirmed) + "\nposition_interval = \"200ms\"\n"
         "backlog_disk = \"64MiB\"\n" + (pmem_path.empty() ? "" : "backlog_memory = \"1MiB\"\n");
}

double MetricValue(const std::string& text, const std::string& name) {
  const std::string head = "\n" + name + " ";
  const auto at = text.find(head);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + head.size()));
}

// The endpoint's and the admin server's ports: free, and not the same.
std::pair<int, int> TwoPorts() {
  auto port = PickFreePort();
  auto admin_port = PickFreePort();
  REQUIRE(port.ok());
  REQUIRE(admin_port.ok());
  for (int i = 0; i < 100 && *admin_port == *port; ++i) admin_port = PickFreePort();
  REQUIRE(*admin_port != *port);
  return {*port, *admin_port};
}

struct Identity {
  std::int64_t timestamp_ns;
  std::string value;
  auto operator<=>(const Identity&) const = default;
};

void KillLoop(bool pmem) {
  const int kills = EnvInt("SLUICE_STREAM_KILLS", 12);
  MockKafkaCluster cluster(3);
  REQUIRE(cluster.Command("topic sluice.kill 2 1") == "ok");
  TempDir dir("sluice-stream-kill");
  TempDir shm("sluice-stream-kill-pmem");
  const std::string pmem_path =
      pmem ? "/dev/shm/" + shm.path().filename().string() + ".pmem" : std::string();
  const std::pair<int, int> ports = TwoPorts();
  const int port = ports.first, admin_port = ports.second;
  const std::string store_dir = (dir.path() / "store").string();
  const std::string config_file = (dir.path() / "sluice.toml").string();
  const std::string toml = KillToml(store_dir, pmem_path, port, admin_port, cluster.bootstrap());
  std::ofstream(config_file) << toml;
  const std::string log = (dir.path() / "sluice.log").string();

  std::atomic<bool> stop_new{false}, give_up{false};
  std::vector<std::unique_ptr<Qos1Publisher>> pubs;
  std::vector<std::thread> threads;
  for (int i = 0; i < kPublishers; ++i) {
    pubs.push_back(std::make_unique<Qos1Publisher>(port, i, "kill/p", "stream-kill-pub-",
                                                   kWindow, kRatePerPublisher));
    threads.emplace_back([&, p = pubs.back().get()] { p->Run(stop_new, give_up); });
  }

  auto brokers = [&](const char* how) {
    for (int b = 1; b <= 3; ++b) {
      REQUIRE(cluster.Command(std::string(how) + " " + std::to_string(b)) == "ok");
    }
  };
  if (pmem) brokers("down");
  KillAtRandomMoments({SLUICE_BIN, "run", "--config", config_file}, log, kills, 300, 1500,
                      [&](int k) {
                        if (pmem && k == kills / 2) brokers("up");
                      });
  // A last clean run: the publishers get their remaining acknowledgements and
  // the lane delivers and confirms everything durable.
  stop_new = true;
  const pid_t sluice = SpawnLogged({SLUICE_BIN, "run", "--config", config_file}, log);
  const bool drained = AllAcknowledged(pubs, 30s);
  give_up = true;
  for (auto& t : threads) t.join();
  double delivered = -1, spilled = -1;
  const bool confirmed = Eventually(
      [&] {
        const std::string m = "\n" + AdminGet(admin_port, "/metrics").body;
        delivered = MetricValue(m, "sluice_stream_records_delivered_total");
        spilled = MetricValue(m, "sluice_stream_spilled_batches_total");
        return MetricValue(m, "sluice_stream_running") == 1 &&
               MetricValue(m, "sluice_stream_backlog_records") == 0 &&
               MetricValue(m, "sluice_stream_in_flight_records") == 0;
      },
      30s);
  kill(sluice, SIGTERM);
  int status = 0;
  waitpid(sluice, &status, 0);
  CHECK(WIFEXITED(status));
  if (!drained || !confirmed) {
    std::ifstream in(log);
    MESSAGE("sluice.log:\n" << std::string(std::istreambuf_iterator<char>(in), {}));
  }
  REQUIRE_MESSAGE(drained, "publishers still had unacknowledged messages; see " << log);
  REQUIRE_MESSAGE(confirmed, "the lane did not confirm every durable record; see " << log);

  // The model: what the store holds (commit order per series is time order:
  // one publisher, one connection per series, receive-time timestamps).
  std::map<std::string, std::set<Identity>> stored;
  std::uint64_t stored_total = 0, stored_distinct = 0;
  {
    auto s = store::Store::Open(ParseOrDie(toml).store);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    for (const auto& p : pubs) {
      auto info = (*s)->FindSeries(p->topic());
      REQUIRE(info);
      REQUIRE((*s)->Scan(info->id, 0, INT64_MAX, [&](const store::Record& r) {
                     stored[p->topic()].insert(
                         {r.timestamp_ns, std::to_string(std::get<std::int64_t>(r.value))});
                     ++stored_total;
                     return true;
                   }).ok());
    }
    REQUIRE((*s)->Close().ok());
  }
  for (const auto& [series, ids] : stored) stored_distinct += ids.size();

  const auto got = ReadTopic(cluster.bootstrap(), "sluice.kill", SIZE_MAX / 2, "json", 5);
  std::map<std::string, std::set<Identity>> in_kafka;
  std::map<std::string, std::set<std::string>> values;
  std::map<std::string, int> partition_of;
  std::map<int, std::vector<const ReadRecord*>> by_partition;
  std::uint64_t unknown = 0, moved = 0;  // moved: a series on a second partition
  for (const ReadRecord& r : got) {
    in_kafka[r.series].insert({r.timestamp_ns, r.value});
    values[r.series].insert(r.value);
    auto [p, fresh] = partition_of.emplace(r.series, r.partition);
    if (!fresh && p->second != r.partition) ++moved;
    by_partition[r.partition].push_back(&r);
    if (!stored[r.series].contains({r.timestamp_ns, r.value})) ++unknown;
  }

  // Every acknowledged number, every stored record.
  std::uint64_t acked_total = 0, acked_missing = 0, stored_missing = 0;
  for (const auto& p : pubs) {
    for (std::int64_t n : p->acked()) {
      if (!values[p->topic()].contains(std::to_string(n))) ++acked_missing;
    }
    acked_total += p->acked().size();
    for (const Identity& id : stored[p->topic()]) {
      if (!in_kafka[p->topic()].contains(id)) ++stored_missing;
    }
  }

  // Order and duplicates, per partition in offset order. A record seen
  // before is a duplicate; consecutive duplicates form a replay run, cut
  // where the run itself repeats a record (a second restart replaying the
  // same stretch). New records of a series arrive in time order, each
  // replay too.
  std::uint64_t duplicates = 0, runs = 0, longest_run = 0, out_of_order = 0;
  for (const auto& [partition, records] : by_partition) {
    std::set<std::pair<std::string, Identity>> seen, run;
    std::map<std::string, std::int64_t> newest, run_last;
    for (const ReadRecord* r : records) {
      std::pair<std::string, Identity> key{r->series, {r->timestamp_ns, r->value}};
      if (seen.insert(key).second) {
        run.clear();
        run_last.clear();
        auto [it, fresh] = newest.emplace(r->series, r->timestamp_ns);
        if (!fresh) {
          if (r->timestamp_ns < it->second) ++out_of_order;
          it->second = r->timestamp_ns;
        }
        continue;
      }
      ++duplicates;
      if (run.empty() || run.contains(key)) {
        run.clear();
        run_last.clear();
        ++runs;
      }
      run.insert(key);
      auto [last, fresh] = run_last.emplace(r->series, r->timestamp_ns);
      if (!fresh) {
        if (r->timestamp_ns < last->second) ++out_of_order;
        last->second = r->timestamp_ns;
      }
      longest_run = std::max<std::uint64_t>(longest_run, run.size());
    }
  }

  std::printf("stream kill test (%s): %d kills, %d publishers, %llu acknowledged, %llu records stored, "
              "%zu records in Kafka (lane reported %.0f delivered in its last run), %llu "
              "duplicates in %llu replay runs (longest %llu; bound %llu per restart, %llu for "
              "%d restarts), %llu acknowledged but missing, %llu stored but missing, %llu out of "
              "order, %llu unknown\n",
              pmem ? "pmem ring" : "write-ahead log", kills, kPublishers,
              static_cast<unsigned long long>(acked_total),
              static_cast<unsigned long long>(stored_total), got.size(), delivered,
              static_cast<unsigned long long>(duplicates), static_cast<unsigned long long>(runs),
              static_cast<unsigned long long>(longest_run),
              static_cast<unsigned long long>(kBound),
              static_cast<unsigned long long>(kBound * static_cast<std::uint64_t>(kills)), kills,
              static_cast<unsigned long long>(acked_missing),
              static_cast<unsigned long long>(stored_missing),
              static_cast<unsigned long long>(out_of_order),
              static_cast<unsigned long long>(unknown));
  CHECK(acked_total > static_cast<std::uint64_t>(kills) * 100);
  CHECK(acked_missing == 0);
  CHECK(stored_missing == 0);
  CHECK(unknown == 0);
  CHECK(moved == 0);
  CHECK(out_of_order == 0);
  CHECK(got.size() == stored_distinct + duplicates);
  CHECK(longest_run <= kBound);
  CHECK(duplicates <= kBound * static_cast<std::uint64_t>(kills));
  if (pmem) {
    // The spill log's files stay until a later copy starts it afresh: their
    // presence shows the backlog was copied out of the ring at some point
    // (the counter is the last run's only).
    std::size_t files = 0;
    const std::filesystem::path spill_dir = std::filesystem::path(store_dir) / "stream-spill";
    if (std::filesystem::is_directory(spill_dir)) {
      for (const auto& e : std::filesystem::directory_iterator(spill_dir)) files += e.is_regular_file();
    }
    std::printf("stream kill test (pmem ring): %zu spill log files; the last run copied %.0f "
                "batches\n", files, spilled);
    CHECK(files > 0);
    std::filesystem::remove(pmem_path);
  }
}

}  // namespace

TEST_CASE("kill -9 of sluice run with the stream lane: every acknowledged record reaches Kafka, "
          "duplicates within the stated bound") {
  KillLoop(false);
}

TEST_CASE("Kafka refusing the lane's rights shows in /readyz, /v1/status and /metrics, then clears") {
  MockKafkaCluster cluster(3);
  REQUIRE(cluster.Command("topic sluice.kill 2 1") == "ok");
  TempDir dir("sluice-stream-auth");
  const std::pair<int, int> ports = TwoPorts();
  const int port = ports.first, admin_port = ports.second;
  const std::string config_file = (dir.path() / "sluice.toml").string();
  std::ofstream(config_file) << KillToml((dir.path() / "store").string(), "", port, admin_port,
                                         cluster.bootstrap());
  const std::string log = (dir.path() / "sluice.log").string();
  const pid_t sluice = SpawnLogged({SLUICE_BIN, "run", "--config", config_file}, log);
  CHECK(Eventually([&] { return AdminGet(admin_port, "/readyz").status == 200; }, 30s));

  // Produce (API key 0) answered with TOPIC_AUTHORIZATION_FAILED (29), as a
  // broker whose ACLs refuse the lane's principal; while records flow in.
  REQUIRE(cluster.Command("errors 0 29 20") == "ok");
  std::atomic<bool> stop_new{false}, give_up{false};
  Qos1Publisher pub(port, 0, "kill/p", "stream-auth-pub-", kWindow, 500);
  std::thread t([&] { pub.Run(stop_new, give_up); });
  HttpReply ready, status;
  double metric = -1;
  const bool refused = Eventually(
      [&] {
        ready = AdminGet(admin_port, "/readyz");
        if (ready.status != 503) return false;
        status = AdminGet(admin_port, "/v1/status");
        metric = MetricValue("\n" + AdminGet(admin_port, "/metrics").body,
                             "sluice_stream_auth_failed");
        return true;
      },
      30s);
  CHECK_MESSAGE(refused, "/readyz never reported the refusal");
  CHECK(ready.body.find("stream: Kafka refused the lane's credentials or permissions") !=
        std::string::npos);
  CHECK(status.body.find("\"auth_error\":\"") != std::string::npos);
  CHECK(status.body.find("\"auth_error\":\"\"") == std::string::npos);
  CHECK(metric == 1);
  // The errors run out (the ACL is fixed): ready again, nothing given up.
  const bool cleared =
      Eventually([&] { return AdminGet(admin_port, "/readyz").status == 200; }, 60s);
  CHECK_MESSAGE(cleared, "still refused: " << AdminGet(admin_port, "/v1/status").body);
  stop_new = true;
  CHECK(Eventually([&] { return pub.unacked() == 0; }, 30s));
  give_up = true;
  t.join();
  const std::string m = "\n" + AdminGet(admin_port, "/metrics").body;
  CHECK(MetricValue(m, "sluice_stream_auth_failed") == 0);
  CHECK(m.find("sluice_stream_lost_records_total{reason=\"retain_budget\"} 0") != std::string::npos);
  kill(sluice, SIGTERM);
  int wstatus = 0;
  waitpid(sluice, &wstatus, 0);
  CHECK(WIFEXITED(wstatus));
  if (!refused) {
    std::ifstream in(log);
    MESSAGE("sluice.log:\n" << std::string(std::istreambuf_iterator<char>(in), {}));
  }
}

TEST_CASE("kill -9 of sluice run with the stream lane on the persistent-memory ring: brokers "
          "down and the backlog spilled, nothing lost") {
  if (!std::filesystem::is_directory("/dev/shm")) {
    MESSAGE("SKIPPED: /dev/shm is missing, nothing to emulate persistent memory with");
    return;
  }
  // Test-only: libpmem2 treats the tmpfs file as cache-line persistent; the
  // spawned sluice inherits it.
  setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
  KillLoop(true);
  unsetenv("PMEM2_FORCE_GRANULARITY");
}

}  // namespace sluice::testing
