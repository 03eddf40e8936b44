// The admin endpoint against real clients: a real Prometheus server (the
// Debian `prometheus` package, on loopback, its own config and TSDB in a
// temp dir) scrapes a running gateway with the bearer token, and `sluice
// status` draws that gateway once and in --watch mode.
//
// Prometheus missing: the scrape test exits 77 (skipped) loudly, or fails
// under SLUICE_TEST_REQUIRE_SERVICES=1. Every wait is bounded; Prometheus
// is stopped (SIGTERM, then SIGKILL) whatever happens.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "admin_test_util.h"
#include "base/clock.h"
#include "mosquitto.h"

extern char** environ;

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;
using testing::AppFixture;
using testing::Get;

constexpr const char* kToken = "prometheus-scrape-token-0123456789";

std::string FindPrometheus() {
  for (const char* p : {"/usr/bin/prometheus", "/usr/local/bin/prometheus"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

[[noreturn]] void SkipOrFail(const std::string& why) {
  const char* req = std::getenv("SLUICE_TEST_REQUIRE_SERVICES");
  const bool required = req != nullptr && std::string(req) == "1";
  std::printf(
      "%s\n%s: admin_prom_test: %s\n  install it: apt-get install prometheus "
      "(scripts/debian-packages.txt)\n%s\n",
      std::string(72, '*').c_str(), required ? "FAILED" : "SKIPPED", why.c_str(),
      std::string(72, '*').c_str());
  std::fflush(stdout);
  std::exit(required ? 1 : 77);
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A Prometheus server on 127.0.0.1:port, stopped when destroyed.
class Prometheus {
 public:
  Prometheus(const std::string& binary, const std::filesystem::path& dir, const std::string& config)
      : dir_(dir) {
    auto port = sluice::testing::PickFreePort();
    REQUIRE(port.ok());
    port_ = *port;
    std::ofstream(dir / "prometheus.yml") << config;
    const std::string log = (dir / "prometheus.log").string();
    std::vector<std::string> args = {binary, "--config.file=" + (dir / "prometheus.yml").string(),
                                     "--storage.tsdb.path=" + (dir / "tsdb").string(),
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                     "--log.level=warn"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    REQUIRE(posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    const Status up = sluice::testing::WaitForTcp(port_, pid_, 30'000);
    REQUIRE_MESSAGE(up.ok(), up.ToString() << "\n" << Log());
  }
  ~Prometheus() { Stop(); }

  int port() const { return port_; }
  std::string Log() const { return ReadFile(dir_ / "prometheus.log"); }

  // The first sample value of an instant query, as text; empty if none yet.
  std::string Query(const std::string& promql) {
    std::string encoded;
    for (char c : promql) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_')
        encoded += c;
      else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X",
                      static_cast<unsigned>(static_cast<unsigned char>(c)));
        encoded += buf;
      }
    }
    const auto reply = Get(static_cast<std::uint16_t>(port_), "/api/v1/query?query=" + encoded);
    // {"status":"success","data":{...,"result":[{"metric":{...},"value":[<time>,"<v>"]}]}}
    const auto at = reply.body.find("\"value\":[");
    if (reply.status != 200 || at == std::string::npos) return "";
    const auto open = reply.body.find('"', reply.body.find(',', at));
    const auto close = reply.body.find('"', open + 1);
    if (open == std::string::npos || close == std::string::npos) return "";
    return reply.body.substr(open + 1, close - open - 1);
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {  // 10 s
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Polls `query` until it reads `want` (or passes `pred`), at most `limit`.
template <typename Pred>
std::string PollQuery(Prometheus& p, const std::string& query, Pred pred,
                      std::chrono::seconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string v;
  while (std::chrono::steady_clock::now() < deadline) {
    v = p.Query(query);
    if (!v.empty() && pred(v)) return v;
    std::this_thread::sleep_for(200ms);  // Prometheus scrapes every second; nothing to await
  }
  return v;
}

void Ingest(AppFixture& f, int n) {
  for (int i = 0; i < n; ++i) {
    InboundMessage m;
    m.topic = "plant/l" + std::to_string(i % 2) + "/temp";
    m.payload = std::to_string(20.5 + i);
    m.receive_time_ns = WallNs();
    REQUIRE(f.app->pipeline().Offer(std::move(m)) == OfferResult::kQueued);
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (f.app->stats().pipeline.records_stored < static_cast<std::uint64_t>(n)) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(5ms);
  }
}

// Runs a shell command, bounded by `timeout`; its exit code and stdout+stderr.
std::pair<int, std::string> Run(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int rc = pclose(p);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

}  // namespace

TEST_CASE("a real Prometheus scrapes /metrics with the bearer token, and not without it") {
  const std::string binary = FindPrometheus();
  if (binary.empty()) SkipOrFail("no prometheus binary in /usr/bin or /usr/local/bin");
  sluice::testing::TempDir dir("sluice-admin-prom");
  const auto token = dir.path() / "admin.token";
  testing::WriteFile(token, std::string(kToken) + "\n", 0600);
  AppFixture f("token_file = \"" + token.string() + "\"\n");
  Ingest(f, 40);

  const std::string target = "'127.0.0.1:" + std::to_string(f.port()) + "'";
  Prometheus prom(binary, dir.path(),
                  "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                  "scrape_configs:\n"
                  "  - job_name: sluice\n"
                  "    authorization:\n      type: Bearer\n      credentials_file: " +
                      token.string() +
                      "\n"
                      "    static_configs:\n      - targets: [" +
                      target +
                      "]\n"
                      "  - job_name: sluice_no_token\n"
                      "    static_configs:\n      - targets: [" +
                      target + "]\n");

  const auto is = [](const char* want) {
    return [want](const std::string& v) { return v == want; };
  };
  CHECK_MESSAGE(PollQuery(prom, "up{job=\"sluice\"}", is("1")) == "1", prom.Log());
  CHECK(PollQuery(prom, "sluice_records_stored_total{job=\"sluice\"}", is("40")) == "40");
  // The histogram was understood as one: its buckets, count and sum.
  CHECK(PollQuery(prom, "sluice_durable_ack_latency_seconds_count{job=\"sluice\"}",
                  [](const std::string& v) { return std::stod(v) >= 1; }) != "");
  CHECK(PollQuery(
            prom,
            "histogram_quantile(0.99, sluice_durable_ack_latency_seconds_bucket{job=\"sluice\"})",
            [](const std::string& v) { return std::stod(v) > 0; }) != "");
  CHECK(PollQuery(prom, "sluice_store_partitions{job=\"sluice\",state=\"open\"}",
                  [](const std::string& v) { return std::stod(v) >= 1; }) != "");
  CHECK(PollQuery(prom, "sluice_ingest_messages_total{job=\"sluice\",result=\"decoded\"}",
                  is("40")) == "40");
  // Without the token the scrape fails: the target is down, the refusal counted.
  CHECK(PollQuery(prom, "up{job=\"sluice_no_token\"}", is("0")) == "0");
  const auto targets = Get(static_cast<std::uint16_t>(prom.port()), "/api/v1/targets");
  CHECK(targets.Has("401"));
  CHECK(f.app->admin_port() != 0);
  const auto metrics = Get(f.port(), "/metrics", std::string("Bearer ") + kToken);
  const auto failures = metrics.body.find("\nsluice_admin_auth_failures_total ");
  REQUIRE(failures != std::string::npos);
  CHECK(std::stoi(metrics.body.substr(failures + 34)) >= 1);
  prom.Stop();
  CHECK(prom.Log().find("level=error") == std::string::npos);
}

TEST_CASE("sluice status draws a running gateway, once and with --watch") {
  sluice::testing::TempDir dir("sluice-admin-status");
  const auto token = dir.path() / "admin.token";
  testing::WriteFile(token, std::string(kToken) + "\n", 0600);
  AppFixture f("token_file = \"" + token.string() + "\"\n");
  Ingest(f, 10);
  const std::string url = "http://127.0.0.1:" + std::to_string(f.port());
  const std::string bin = std::string("timeout 30 ") + SLUICE_BIN + " status --admin " + url;

  const auto [rc, out] = Run(bin + " --token-file " + token.string());
  MESSAGE(out);
  CHECK(rc == 0);
  for (const char* section :
       {"sluice status: gateway edge-01 at site plant-a", "board      ",
        "health     healthy, ready", "ingest     ", "msg/s", "records/s stored", "durable ack p50",
        "store      ", "sync       off", "partitions open ", "errors     none"}) {
    CAPTURE(section);
    CHECK(out.find(section) != std::string::npos);
  }

  const auto [denied_rc, denied] = Run(bin);
  CHECK(denied_rc == 1);
  CHECK(denied.find("answered 401") != std::string::npos);
  CHECK(denied.find("--token-file") != std::string::npos);
  CHECK(denied.find(kToken) == std::string::npos);

  const auto [down_rc, down] =
      Run(std::string("timeout 30 ") + SLUICE_BIN + " status --admin http://127.0.0.1:1");
  CHECK(down_rc == 1);
  CHECK(down.find("Connection refused") != std::string::npos);

  // --watch redraws until SIGINT, then exits 0 by itself.
  const auto [watch_rc, watch] =
      Run("timeout --preserve-status -s INT 2 " + std::string(SLUICE_BIN) + " status --admin " +
          url + " --token-file " + token.string() + " --watch 0.3");
  CHECK(watch_rc == 0);
  std::size_t frames = 0;
  for (std::size_t at = 0; (at = watch.find("sluice status: gateway", at)) != std::string::npos;
       ++at)
    ++frames;
  CHECK(frames >= 2);
}

}  // namespace sluice::gateway
