// Acknowledged means durable, checked the hard way. QoS 1 publishers (the
// raw codec client, one thread each) publish numbered messages straight to
// the native endpoint of the real `sluice run`, which is SIGKILLed at random
// moments and restarted, at least 50 times (SLUICE_ENDPOINT_KILLS for more).
// Each publisher (qos1_publisher.h) keeps its own record of what was
// acknowledged and resends what was not, with DUP, after every reconnect, as
// an MQTT client must. At the end every acknowledged number must be in the
// store: zero loss.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "mosquitto.h"
#include "mqtt_test_util.h"
#include "qos1_publisher.h"
#include "store/store.h"
#include "temp_dir.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

std::string KillToml(const std::string& store_dir, int port) {
  return "[gateway]\nid = \"kill-gw\"\n[log]\nlevel = \"warn\"\n[store]\ndir = \"" + store_dir +
         "\"\nwal_file_size = \"16MiB\"\n[admin]\nenabled = false\n"
         "[[ingest.rule]]\ntopic = \"kill/{p}\"\nformat = \"raw\"\ntype = \"int64\"\n"
         "series = \"kill/{p}\"\n[endpoint]\nenabled = true\nport = " +
         std::to_string(port) + "\nreceive_maximum = 256\n";
}

}  // namespace

TEST_CASE("kill -9 of sluice run under QoS 1 publishers loses no acknowledged message") {
  const int kills = EnvInt("SLUICE_ENDPOINT_KILLS", 50);
  constexpr int kPublishers = 4;
  TempDir dir("sluice-endpoint-kill");
  auto port = PickFreePort();
  REQUIRE(port.ok());
  const std::string store_dir = (dir.path() / "store").string();
  const std::string config_file = (dir.path() / "sluice.toml").string();
  std::ofstream(config_file) << KillToml(store_dir, *port);
  const std::string log = (dir.path() / "sluice.log").string();

  std::atomic<bool> stop_new{false}, give_up{false};
  std::vector<std::unique_ptr<Qos1Publisher>> pubs;
  std::vector<std::thread> threads;
  for (int i = 0; i < kPublishers; ++i) {
    pubs.push_back(std::make_unique<Qos1Publisher>(*port, i, "kill/p", "kill-pub-"));
    threads.emplace_back([&, p = pubs.back().get()] { p->Run(stop_new, give_up); });
  }

  KillAtRandomMoments({SLUICE_BIN, "run", "--config", config_file}, log, kills, 150, 700);
  // A last clean run: the publishers get their remaining acknowledgements.
  stop_new = true;
  const pid_t sluice = SpawnLogged({SLUICE_BIN, "run", "--config", config_file}, log);
  const bool drained = AllAcknowledged(pubs, 60s);
  give_up = true;
  for (auto& t : threads) t.join();
  kill(sluice, SIGTERM);
  int status = 0;
  waitpid(sluice, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  REQUIRE_MESSAGE(drained, "publishers still had unacknowledged messages; see " << log);

  auto config = ParseOrDie(KillToml(store_dir, *port));
  auto s = store::Store::Open(config.store);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  std::uint64_t acked_total = 0, lost = 0, stored_total = 0, sent_total = 0;
  int connects = 0;
  for (int i = 0; i < kPublishers; ++i) {
    std::vector<bool> stored(static_cast<std::size_t>(pubs[i]->sent()), false);
    if (auto info = (*s)->FindSeries("kill/p" + std::to_string(i))) {
      REQUIRE((*s)->Scan(info->id, 0, INT64_MAX, [&](const store::Record& r) {
                     const auto n = std::get<std::int64_t>(r.value);
                     if (n >= 0 && static_cast<std::size_t>(n) < stored.size()) stored[n] = true;
                     ++stored_total;
                     return true;
                   }).ok());
    }
    for (std::int64_t n : pubs[i]->acked()) {
      if (!stored[static_cast<std::size_t>(n)]) ++lost;
    }
    acked_total += pubs[i]->acked().size();
    sent_total += static_cast<std::uint64_t>(pubs[i]->sent());
    connects += pubs[i]->connects();
  }
  REQUIRE((*s)->Close().ok());
  std::printf("endpoint kill test: %d kills, %d publishers, %d connects, %llu messages sent, "
              "%llu acknowledged, %llu records stored (resends after a kill may store twice), "
              "%llu acknowledged but lost\n",
              kills, kPublishers, connects, static_cast<unsigned long long>(sent_total),
              static_cast<unsigned long long>(acked_total),
              static_cast<unsigned long long>(stored_total), static_cast<unsigned long long>(lost));
  CHECK(acked_total == sent_total);
  CHECK(acked_total > static_cast<std::uint64_t>(kills) * 10);
  CHECK(lost == 0);
}

}  // namespace sluice::testing

namespace sluice::testing {

// systemd/sluice.service gives a stop TimeoutStopSec=120 before SIGKILL.
TEST_CASE("SIGTERM drains, writes every open block and exits well within the stop timeout") {
  TempDir dir("sluice-endpoint-term");
  auto port = PickFreePort();
  REQUIRE(port.ok());
  const std::string store_dir = (dir.path() / "store").string();
  const std::string config_file = (dir.path() / "sluice.toml").string();
  std::ofstream(config_file) << KillToml(store_dir, *port);
  const std::string log = (dir.path() / "sluice.log").string();
  const pid_t sluice = SpawnLogged({SLUICE_BIN, "run", "--config", config_file}, log);

  std::atomic<bool> stop_new{false}, give_up{false};
  Qos1Publisher pub(*port, 0, "kill/p", "kill-pub-");
  std::thread t([&] { pub.Run(stop_new, give_up); });
  REQUIRE(Eventually([&] { return pub.acked().size() >= 20000; }, 60s));
  stop_new = true;
  REQUIRE(Eventually([&] { return pub.unacked() == 0; }, 60s));
  give_up = true;
  t.join();

  const auto t0 = std::chrono::steady_clock::now();
  kill(sluice, SIGTERM);
  int status = 0;
  waitpid(sluice, &status, 0);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(took < 10s);
  MESSAGE("stopped in " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms after " << pub.acked().size() << " messages");

  // Every open block was written at the stop: nothing is left to replay from
  // the write-ahead log, and every acknowledged number is in the blocks.
  auto s = store::Store::Open(ParseOrDie(KillToml(store_dir, *port)).store);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  CHECK((*s)->stats().recovered_records == 0);
  std::vector<bool> stored(static_cast<std::size_t>(pub.sent()), false);
  auto info = (*s)->FindSeries("kill/p0");
  REQUIRE(info);
  REQUIRE((*s)->Scan(info->id, 0, INT64_MAX, [&](const store::Record& r) {
                 const auto n = std::get<std::int64_t>(r.value);
                 if (n >= 0 && static_cast<std::size_t>(n) < stored.size()) stored[n] = true;
                 return true;
               }).ok());
  std::size_t missing = 0;
  for (std::int64_t n : pub.acked()) missing += stored[static_cast<std::size_t>(n)] ? 0 : 1;
  CHECK(missing == 0);
  REQUIRE((*s)->Close().ok());
}

}  // namespace sluice::testing
