// A full disk, the real thing. The store of the real `sluice run` lives on a
// small loop-mounted ext4 file system of the test's own (loop_fs.h), beside
// a ballast file. QoS 1 publishers fill it to 100%; sluice is SIGKILLed at
// random moments while it fills, while it is full and while it drains, and
// its kill points (base/kill_point.h) force kills inside segment creation,
// log roll and manifest append. Restarted while full, it must stay up
// (no restart loop), answer /healthz 200 and /readyz 503 naming the lack of
// space. Then the ballast goes, and it must resume by itself.
//
// The payloads are 4 KiB: through the native endpoint they are large values,
// written straight to blocks (a marker in the write buffer); through the
// broker they go through the write buffer (large_value_bytes 8 KiB there).
//
// Native endpoint: the publishers' record of what was acknowledged is the
// model; at the end every acknowledged message must be in the store or in
// an object the directory sink received. Broker (a private Mosquitto): Paho
// acknowledges on receipt, so only what the store acknowledged durable
// (sluice_records_stored_total, read from /metrics during each run) must be
// there.
//
// SLUICE_DISK_FULL_KILLS=N gives more rounds (default 24), and
// SLUICE_DISK_FULL_KILL_POINTS other odds (default
// "segment_create=200,log_roll=500,manifest_append=100", thousandths).
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <thread>
#include <unordered_map>

#include "disk_full_rig.h"
#include "loop_fs.h"
#include "mosquitto.h"
#include "mqtt_test_util.h"
#include "store/store.h"
#include "temp_dir.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kSegmentSize = 16 * kMiB, kWalFileSize = 8 * kMiB;
// Below this much free space the store can make neither a segment nor a log file.
constexpr std::uint64_t kNearFull = kSegmentSize + kWalFileSize;

struct Shape {
  const char* name;
  int fs_mib;              // the loop file system
  std::uint64_t ballast;   // freed to let the store drain
  int fill_kills;          // random kills at least while filling
  int full_rounds;         // restarts while full (even: liveness checked)
  int drain_kills;         // random kills after space came back
};

// `large_value_bytes`: the store's; the payloads are 4 KiB, so that with
// the default they are large values, written straight to blocks, and with
// "8KiB" they go through the write buffer (whose files then roll).
std::string Toml(const fs::path& store_dir, const fs::path& sink, int admin_port,
                 const std::string& ingest, const std::string& large_value_bytes) {
  return "[gateway]\nid = \"disk-full-gw\"\n[log]\nlevel = \"info\"\n[store]\ndir = \"" +
         store_dir.string() +
         "\"\nsegment_size = \"16MiB\"\nwal_file_size = \"8MiB\"\npartition_window = \"60s\"\n"
         "late_grace = \"0s\"\npartition_shards = 2\nlarge_value_bytes = \"" + large_value_bytes +
         "\"\n"
         "[sync]\nsink = \"dir\"\npoll_interval = \"200ms\"\nretry_base = \"100ms\"\n"
         "retry_cap = \"2s\"\n[sync.dir]\nroot = \"" +
         sink.string() + "\"\n[admin]\nenabled = true\nport = " + std::to_string(admin_port) +
         "\n[[ingest.rule]]\ntopic = \"full/{p}\"\nformat = \"raw\"\ntype = \"bytes\"\n"
         "series = \"full/{p}\"\n" + ingest;
}

bool Contains(std::string text, std::string word) {
  auto lower = [](std::string& s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  lower(text);
  lower(word);
  return text.find(word) != std::string::npos;
}

// The value of an unlabelled Prometheus sample; -1 when absent.
double Sample(const std::string& metrics, const std::string& name) {
  const auto at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::atof(metrics.c_str() + at + name.size() + 2);
}

// One run of the scenario: the file system, the process, the checks made
// while it runs. `progress` is the figure that stops growing when the
// store is full: acknowledgements (endpoint) or records stored (broker).
class DiskFullRun {
 public:
  DiskFullRun(const Shape& shape, const fs::path& dir, std::string toml)
      : shape_(shape),
        dir_(dir),
        toml_(std::move(toml)),
        fs_(LoopFs::MountOrSkip(dir / "fs", shape.fs_mib, "disk_full_kill_test")) {
    std::ofstream(config_file()) << toml_;
    const char* spec = std::getenv("SLUICE_DISK_FULL_KILL_POINTS");
    sluice_ = std::make_unique<SluiceProcess>(
        config_file(), log(), (dir / "kill_points.log").string(),
        spec != nullptr ? spec : "segment_create=200,log_roll=500,manifest_append=100");
  }

  LoopFs& loop_fs() { return *fs_; }
  SluiceProcess& sluice() { return *sluice_; }
  std::string config_file() const { return (dir_ / "sluice.toml").string(); }
  std::string log() const { return (dir_ / "sluice.log").string(); }
  const std::string& toml() const { return toml_; }
  std::function<std::uint64_t()> progress;
  std::function<void()> on_start;  // before each start (the broker case's per-run figures)
  std::mt19937 rng{std::random_device{}()};

  int Rand(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

  void Start(KillPoints points) {
    if (on_start) on_start();
    sluice_->Start(points);
  }

  // Watches the running sluice every 10 ms until `done` holds (true) or
  // `limit` passes (false) or it exits by itself (false; reported unless a
  // kill point did it).
  bool Watch(std::chrono::milliseconds limit, const std::function<bool()>& done,
             const std::string& phase) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
      if (sluice_->Exited()) {
        if (!sluice_->exit_was_kill_point()) {
          FAIL_CHECK("sluice " << sluice_->DescribeExit() << " by itself after "
                                   << sluice_->uptime().count() << " ms (" << phase
                                   << "; free space " << fs_->free_bytes()
                                   << " bytes); its log:\n"
                                   << sluice_->LogOfThisRun());
        }
        return false;
      }
      if (done && done()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  // Phase 1: random kills while the publishers fill the file system, then a
  // run that lasts until the store stalls near full; the rest is taken by a
  // top-off file, so the file system is at 100%. Leaves that run going.
  void Fill() {
    const auto deadline = Clock::now() + 90s;
    int kills = 0;
    for (;;) {
      REQUIRE_MESSAGE(Clock::now() < deadline,
                      "the file system never filled in 90 s: " << fs_->free_bytes()
                          << " bytes free, progress " << progress() << "; see " << log());
      Start(KillPoints::kArmed);
      const bool random_kill = kills < shape_.fill_kills || fs_->free_bytes() >= kNearFull;
      const auto life = random_kill ? std::chrono::milliseconds(Rand(300, 1500)) : 20000ms;
      std::uint64_t last = progress();
      auto last_change = Clock::now();
      const bool full = Watch(life, [&] {
        if (const auto p = progress(); p != last) {
          last = p;
          last_change = Clock::now();
        }
        return sluice_->uptime() > 1500ms && Clock::now() - last_change > 1500ms &&
               fs_->free_bytes() < kNearFull;
      }, "filling");
      if (full) break;
      sluice_->Kill();
      ++kills;
    }
    full_after_ = Clock::now();
    progress_at_full_ = progress();
    free_at_stall_ = fs_->free_bytes();
    auto topped = fs_->FillUp(fs_->mount_point() / "topoff");
    REQUIRE_MESSAGE(topped.ok(), topped.status().ToString());
    free_after_topoff_ = fs_->free_bytes();
    Watch(std::chrono::milliseconds(Rand(0, 1000)), {}, "full, before a kill");
    if (sluice_->running()) ++kills_while_full_;
    sluice_->Kill();
  }

  // Restarted while full, sluice must stay up (systemd would otherwise
  // restart it in a loop), be alive and say why it is not ready.
  void ExpectUpWhileFull(const std::string& phase) {
    Watch(3000ms, {}, phase + ": restarted while full, it must stay up");
    if (!sluice_->running()) return;  // reported by Watch
    ++liveness_checks_;
    const auto health = AdminGet(admin_port, "/healthz");
    CHECK_MESSAGE(health.status == 200, phase << ": /healthz while full answered "
                                              << health.status << " '" << health.body
                                              << "', want 200 (alive)");
    const auto ready = AdminGet(admin_port, "/readyz");
    auto shown = [](const HttpReply& r) {
      std::string body = r.body;
      while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
      return std::to_string(r.status) + " '" + body + "'";
    };
    ready_while_full_ = shown(ready);
    health_while_full_ = shown(health);
    CHECK_MESSAGE((ready.status == 503 && Contains(ready.body, "space")),
                  phase << ": /readyz while full answered " << ready.status << " '" << ready.body
                        << "', want 503 with a reason naming the lack of space");
  }

  // Phase 2: restarts while full; every other one with kill points disarmed
  // and checked for liveness, the others armed and killed early (recovery).
  void RestartWhileFull(std::atomic<std::int64_t>& credit) {
    credit = 0;
    for (int r = 0; r < shape_.full_rounds; ++r) {
      if (r % 2 == 0) {
        Start(KillPoints::kDisarmed);
        ExpectUpWhileFull("full round " + std::to_string(r));
        Watch(std::chrono::milliseconds(Rand(0, 1000)), {}, "full");
      } else {
        Start(KillPoints::kArmed);
        Watch(std::chrono::milliseconds(Rand(20, 1000)), {}, "full, early kill");
      }
      if (sluice_->running()) ++kills_while_full_;
      sluice_->Kill();
    }
  }

  // Phase 3: space comes back under a running sluice (the ballast and the
  // top-off are deleted); intake must resume by itself. Then random kills.
  void FreeAndDrain(std::atomic<std::int64_t>& credit, std::int64_t new_messages) {
    Start(KillPoints::kDisarmed);
    ExpectUpWhileFull("before freeing");
    const std::uint64_t before = progress();
    const std::uint64_t free_before = fs_->free_bytes();
    fs::remove(fs_->mount_point() / "ballast");
    fs::remove(fs_->mount_point() / "topoff");
    freed_ = std::max(fs_->free_bytes(), free_before) - free_before;
    credit = new_messages;
    const auto t0 = Clock::now();
    resumed_ = Watch(30s, [&] { return progress() >= before + 64; }, "space freed");
    resume_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    CHECK_MESSAGE(resumed_, "intake did not resume by itself within 30 s after "
                                << freed_ / kMiB << " MiB were freed (progress " << before
                                << " -> " << progress() << "); its log:\n"
                                << sluice_->LogOfThisRun());
    if (sluice_->running()) {
      const bool ready = Watch(10s, [&] { return AdminGet(admin_port, "/readyz").status == 200; },
                               "space freed, waiting for /readyz");
      const auto r = AdminGet(admin_port, "/readyz");
      CHECK_MESSAGE(ready, "/readyz after space came back: " << r.status << " '" << r.body << "'");
    }
    sluice_->Kill();
    for (int k = 0; k < shape_.drain_kills; ++k) {
      Start(KillPoints::kArmed);
      Watch(std::chrono::milliseconds(Rand(200, 1500)), {}, "draining");
      sluice_->Kill();
    }
  }

  // A clean stop (SIGTERM) must exit 0 within the systemd stop timeout.
  void Stop(const std::string& phase) {
    const int status = sluice_->Terminate(60s);
    CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0),
                  phase << ": after SIGTERM sluice " << sluice_->DescribeExit()
                        << ", want exit code 0; its log:\n"
                        << sluice_->LogOfThisRun());
  }

  // The last start: it must come up healthy and ready, then stop cleanly.
  void StartOnceMore() {
    Start(KillPoints::kDisarmed);
    const bool up = Watch(20s, [&] {
      return AdminGet(admin_port, "/healthz").status == 200 &&
             AdminGet(admin_port, "/readyz").status == 200;
    }, "the start after the clean stop");
    CHECK_MESSAGE(up, "after the clean stop sluice did not become healthy and ready; its log:\n"
                          << sluice_->LogOfThisRun());
    Stop("the last run");
  }

  // What the store and the sink hold, per (publisher, seq): how often.
  struct Contents {
    std::unordered_map<std::uint64_t, std::uint32_t> store, sink;
    std::uint64_t store_records = 0, sink_records = 0, sink_objects = 0, foreign = 0;
    static std::uint64_t Key(int index, std::int64_t seq) {
      return (static_cast<std::uint64_t>(index) << 56) | static_cast<std::uint64_t>(seq);
    }
    bool Has(int index, std::int64_t seq) const {
      return store.contains(Key(index, seq)) || sink.contains(Key(index, seq));
    }
    // Records in the union, a record in both counted once.
    std::uint64_t UnionRecords() const {
      std::uint64_t n = 0;
      for (const auto& [k, c] : store) {
        const auto it = sink.find(k);
        n += std::max(c, it == sink.end() ? 0u : it->second);
      }
      for (const auto& [k, c] : sink) n += store.contains(k) ? 0 : c;
      return n;
    }
  };

  Contents Read(int publishers, const fs::path& sink) {
    Contents c;
    {
      auto s = store::Store::Open(ParseOrDie(toml_).store);
      REQUIRE_MESSAGE(s.ok(), "the store does not open after the clean stop: "
                                  << s.status().ToString());
      for (int i = 0; i < publishers; ++i) {
        auto info = (*s)->FindSeries("full/p" + std::to_string(i));
        if (!info) continue;
        REQUIRE((*s)->Scan(info->id, 0, INT64_MAX, [&](const store::Record& r) {
                       const auto id = ParseMessageId(std::get<std::string>(r.value));
                       ++c.store_records;
                       if (id && std::get<std::string>(r.value).size() == kMessageBytes) {
                         ++c.store[Contents::Key(id->first, id->second)];
                       } else {
                         ++c.foreign;
                       }
                       return true;
                     }).ok());
      }
      const Status closed = (*s)->Close();
      CHECK_MESSAGE(closed.ok(), "closing the store after reading it: " << closed.ToString());
    }
    for (const auto& e : fs::recursive_directory_iterator(sink)) {
      c.sink_objects += e.path().extension() == ".slp" ? 1 : 0;
    }
    if (c.sink_objects == 0) return c;
    const auto csv = dir_ / "export.csv";
    const std::string cmd = std::string(SLUICE_BIN) + " export --format csv -o " + csv.string() +
                            " " + sink.string() + " 2>" + (dir_ / "export.err").string();
    REQUIRE_MESSAGE(Shell(cmd) == 0, "sluice export of the sink failed: " << cmd);
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);  // header: series,timestamp_ns,timestamp,value,type
    while (std::getline(in, line)) {
      // The value is the 4th field; series, times and base64 hold no commas.
      std::size_t at = 0;
      for (int f = 0; f < 3 && at != std::string::npos; ++f) at = line.find(',', at + 1);
      if (at == std::string::npos) continue;
      ++c.sink_records;
      const auto id = ParseMessageId(Base64Prefix(std::string_view(line).substr(at + 1),
                                                  kMessageIdBytes));
      if (id) {
        ++c.sink[Contents::Key(id->first, id->second)];
      } else {
        ++c.foreign;
      }
    }
    return c;
  }

  std::string Figures() const {
    const auto hits = sluice_->KillPointHits();
    char buf[2048];
    std::snprintf(buf, sizeof buf,
                  "%s: file system %d MiB; full %.1f s into the run (free at the stall %llu bytes, "
                  "after top-off %llu); %llu MiB freed, resumed after %lld ms; kills: %d by the "
                  "test + %d at kill points (segment_create %d, log_roll %d, manifest_append "
                  "%d), %d of them while full; %d restarts, %d liveness checks while full, %d "
                  "exits by itself; last /healthz while full %s, /readyz %s",
                  shape_.name, shape_.fs_mib,
                  std::chrono::duration<double>(full_after_ - began_).count(),
                  static_cast<unsigned long long>(free_at_stall_),
                  static_cast<unsigned long long>(free_after_topoff_),
                  static_cast<unsigned long long>(freed_ / kMiB),
                  static_cast<long long>(resume_ms_), sluice_->kills(), sluice_->point_kills(),
                  hits.at("segment_create"), hits.at("log_roll"), hits.at("manifest_append"),
                  kills_while_full_, sluice_->starts() - 1, liveness_checks_,
                  sluice_->own_exits(), health_while_full_.c_str(), ready_while_full_.c_str());
    return buf;
  }

  // `except`: a kill point this run's shape may not reach.
  void CheckKillPointsHit(const std::string& except = "") const {
    for (const auto& hit : sluice_->KillPointHits()) {
      const auto& name = hit.first;
      const auto n = hit.second;
      if (name == except) continue;
      CHECK_MESSAGE(n >= 1, "kill point '" << name << "' never fired: does the store call "
                                           << "KillPoint(\"" << name << "\") yet?");
    }
  }

  int admin_port = 0;
  std::uint64_t progress_at_full_ = 0;

 private:
  const Shape shape_;
  const fs::path dir_;
  const std::string toml_;
  std::unique_ptr<LoopFs> fs_;
  std::unique_ptr<SluiceProcess> sluice_;  // after fs_: killed before the unmount
  const Clock::time_point began_ = Clock::now();
  Clock::time_point full_after_ = began_;
  std::uint64_t free_at_stall_ = 0, free_after_topoff_ = 0, freed_ = 0;
  std::int64_t resume_ms_ = -1;
  bool resumed_ = false;
  int kills_while_full_ = 0, liveness_checks_ = 0;
  std::string ready_while_full_ = "-", health_while_full_ = "-";
};

// `kills` rounds in all instead of the 24 the shape was drawn for.
Shape Scaled(Shape s, int kills) {
  const auto scale = [&](int n) { return std::max(1, n * kills / 24); };
  s.fill_kills = scale(s.fill_kills);
  s.full_rounds = scale(s.full_rounds);
  s.drain_kills = scale(s.drain_kills);
  return s;
}

}  // namespace

TEST_CASE("disk full, native endpoint: kill -9 while filling, full and draining loses no "
          "acknowledged message, and a full box restarts without a loop") {
  const int kills = std::max(6, EnvInt("SLUICE_DISK_FULL_KILLS", 24));
  const Shape shape = Scaled({"endpoint", 160, 48 * kMiB, 8, 8, 8}, kills);
  constexpr int kPublishers = 4;
  TempDir dir("sluice-disk-full");
  const fs::path sink = dir.path() / "sink";  // outside the small file system
  fs::create_directories(sink);
  auto port = PickFreePort();
  auto admin = PickFreePort();
  REQUIRE(port.ok());
  REQUIRE(admin.ok());
  // The store directory is made by sluice; the loop file system is mounted
  // by the run, so its path is known before.
  const fs::path store_dir = dir.path() / "fs" / "mnt" / "store";
  DiskFullRun run(shape, dir.path(),
                  Toml(store_dir, sink, *admin,
                       "[endpoint]\nenabled = true\nport = " + std::to_string(*port) +
                           "\nreceive_maximum = 256\n",
                       "4KiB"));
  run.admin_port = *admin;
  REQUIRE(run.loop_fs().Ballast(run.loop_fs().mount_point() / "ballast", shape.ballast).ok());

  std::atomic<std::int64_t> credit{INT64_MAX / 2};
  std::vector<std::unique_ptr<Publisher>> pubs;
  for (int i = 0; i < kPublishers; ++i) {
    PublisherOptions po;
    po.port = *port;
    po.index = i;
    pubs.push_back(std::make_unique<Publisher>(po, credit));
    pubs.back()->Start();
  }
  run.progress = [&] {
    std::uint64_t n = 0;
    for (const auto& p : pubs) n += p->acked_count();
    return n;
  };

  run.Fill();
  run.RestartWhileFull(credit);
  run.FreeAndDrain(credit, 2000);

  // The last clean run: every publisher gets its remaining acknowledgements.
  for (auto& p : pubs) p->StopNew();
  bool drained = false;
  for (int attempt = 0; attempt < 3 && !drained; ++attempt) {
    run.Start(KillPoints::kDisarmed);
    // Up first (its admin answers): a SIGTERM before its handlers are in
    // place would end it like a kill.
    drained = run.Watch(60s, [&] {
      for (const auto& p : pubs) {
        if (p->unacked() > 0) return false;
      }
      return AdminGet(*admin, "/healthz").status != 0;
    }, "the final drain");
  }
  run.Stop("the clean stop after the drain");
  for (auto& p : pubs) p->GiveUp();
  run.StartOnceMore();
  std::printf("disk full kill test, %s\n", run.Figures().c_str());
  std::fflush(stdout);

  std::uint64_t sent = 0, acked = 0, refused = 0, lost = 0;
  int connects = 0;
  const auto contents = run.Read(kPublishers, sink);
  std::string first_lost;
  for (int i = 0; i < kPublishers; ++i) {
    for (std::int64_t seq : pubs[i]->acked()) {
      if (contents.Has(i, seq)) continue;
      if (++lost <= 10) first_lost += " p" + std::to_string(i) + "#" + std::to_string(seq);
    }
    sent += static_cast<std::uint64_t>(pubs[i]->sent());
    acked += pubs[i]->acked().size();
    refused += pubs[i]->refused();
    connects += pubs[i]->connects();
  }
  std::printf("disk full kill test, endpoint: %d publishers, %d connects; messages sent %llu, "
              "acknowledged %llu (%llu when the store filled), refused %llu; records in the "
              "store %llu, in %llu sink objects %llu (not ours: %llu); acknowledged but lost "
              "%llu\n",
              kPublishers, connects, static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(acked),
              static_cast<unsigned long long>(run.progress_at_full_),
              static_cast<unsigned long long>(refused),
              static_cast<unsigned long long>(contents.store_records),
              static_cast<unsigned long long>(contents.sink_objects),
              static_cast<unsigned long long>(contents.sink_records),
              static_cast<unsigned long long>(contents.foreign),
              static_cast<unsigned long long>(lost));
  std::fflush(stdout);
  CHECK_MESSAGE(drained, "publishers still had unacknowledged messages after the final run; see "
                             << run.log());
  CHECK(acked == sent);
  CHECK(contents.foreign == 0);
  CHECK_MESSAGE(lost == 0, lost << " acknowledged messages are neither in the store nor in the "
                                << "sink, first:" << first_lost);
  // Large values: the write buffer holds markers only and may never fill a
  // file in this run (the broker's run below rolls it).
  run.CheckKillPointsHit("log_roll");
}

TEST_CASE("disk full, through Mosquitto: what the store acknowledged durable survives kill -9 "
          "while filling, full and draining, and a full box restarts without a loop") {
  const int kills = std::max(6, EnvInt("SLUICE_DISK_FULL_KILLS", 24));
  const Shape shape = Scaled({"broker", 128, 64 * kMiB, 4, 3, 2}, kills);
  TempDir dir("sluice-disk-full-broker");
  MosquittoOptions mo;
  // The broker queues for sluice's persistent session while sluice is down
  // or full, up to 2000 messages (8 MB): what the freed ballast can take,
  // so that the box ends with space. Mosquitto drops what is past it, before
  // sluice has seen it: outside what this test checks.
  mo.extra_config = "max_queued_messages 2000\n";
  auto broker = MosquittoBroker::Start(dir.path() / "broker", mo);
  REQUIRE_MESSAGE(broker.ok(), broker.status().ToString());
  const fs::path sink = dir.path() / "sink";
  fs::create_directories(sink);
  auto admin = PickFreePort();
  REQUIRE(admin.ok());
  const fs::path store_dir = dir.path() / "fs" / "mnt" / "store";
  DiskFullRun run(shape, dir.path(),
                  Toml(store_dir, sink, *admin,
                       "[[mqtt.broker]]\nuri = \"" + (*broker)->uri() +
                           "\"\nclient_id_prefix = \"sluice-full\"\nreconnect_min = \"20ms\"\n"
                           "reconnect_max = \"200ms\"\n",
                       "8KiB"));
  run.admin_port = *admin;
  REQUIRE(run.loop_fs().Ballast(run.loop_fs().mount_point() / "ballast", shape.ballast).ok());

  // Records the store acknowledged durable, per run, as last read from
  // /metrics (a lower bound of that run's: a kill comes after the read).
  std::uint64_t stored_before = 0, stored_this_run = 0;
  auto last_scrape = Clock::now();
  run.on_start = [&] {
    stored_before += stored_this_run;
    stored_this_run = 0;
  };
  run.progress = [&] {
    if (run.sluice().running() && Clock::now() - last_scrape > 200ms) {
      last_scrape = Clock::now();
      const double v = Sample("\n" + AdminGet(*admin, "/metrics").body,
                              "sluice_records_stored_total");
      if (v > static_cast<double>(stored_this_run)) stored_this_run = static_cast<std::uint64_t>(v);
    }
    return stored_before + stored_this_run;
  };

  // Subscribe once, so that the broker queues for sluice from the first message.
  run.Start(KillPoints::kDisarmed);
  REQUIRE_MESSAGE(run.Watch(20s, [&] { return AdminGet(*admin, "/readyz").status == 200; },
                            "first subscription"),
                  "sluice never connected to the broker; see " << run.log());
  run.sluice().Kill();

  std::atomic<std::int64_t> credit{INT64_MAX / 2};
  PublisherOptions po;
  po.port = (*broker)->port();
  po.version = gateway::mqtt::ProtocolVersion::kV311;  // Mosquitto enforces no Receive Maximum on it
  po.window = 64;
  po.rate = 2000;  // 8 MB/s: the broker's queue for sluice stays modest
  Publisher pub(po, credit);
  pub.Start();

  run.Fill();
  run.RestartWhileFull(credit);
  run.FreeAndDrain(credit, 500);
  pub.StopNew();
  run.Start(KillPoints::kDisarmed);
  run.Watch(5s, {}, "the final run");
  run.progress();
  run.Stop("the clean stop");
  run.on_start();
  const std::uint64_t stored_acknowledged = stored_before;
  pub.GiveUp();
  run.StartOnceMore();
  std::printf("disk full kill test, %s\n", run.Figures().c_str());
  std::fflush(stdout);

  const auto contents = run.Read(1, sink);
  const std::uint64_t present = contents.UnionRecords();
  std::printf("disk full kill test, broker: messages published %lld, acknowledged by the "
              "broker %llu; records the store acknowledged durable (from /metrics, per run) "
              "at least %llu; records in the store %llu, in %llu sink objects %llu, both "
              "together %llu (not ours: %llu)\n",
              static_cast<long long>(pub.sent()),
              static_cast<unsigned long long>(pub.acked().size()),
              static_cast<unsigned long long>(stored_acknowledged),
              static_cast<unsigned long long>(contents.store_records),
              static_cast<unsigned long long>(contents.sink_objects),
              static_cast<unsigned long long>(contents.sink_records),
              static_cast<unsigned long long>(present),
              static_cast<unsigned long long>(contents.foreign));
  std::fflush(stdout);
  CHECK(contents.foreign == 0);
  CHECK_MESSAGE(present >= stored_acknowledged,
                "the store acknowledged at least " << stored_acknowledged
                    << " records durable, but only " << present
                    << " are in the store and the sink together");
  run.CheckKillPointsHit();
}

}  // namespace sluice::testing
