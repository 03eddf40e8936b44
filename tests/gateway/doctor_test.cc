// `sluice doctor` checks that run anywhere: against a temp dir, a closed
// port, fixed clocks, a fake /dev.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <fstream>

#include "doctor/doctor.h"
#include "temp_dir.h"

namespace sluice::gateway::doctor {
namespace {

namespace fs = std::filesystem;

// A loopback port nobody listens on: bound, then closed.
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST_CASE("uris split into host and port") {
  std::string host;
  int port = 0;
  CHECK(SplitHostPort("tcp://127.0.0.1:1883", host, port));
  CHECK((host == "127.0.0.1" && port == 1883));
  CHECK(SplitHostPort("ssl://broker.plant", host, port));
  CHECK((host == "broker.plant" && port == 8883));
  CHECK(SplitHostPort("https://s3.eu-west-1.amazonaws.com", host, port));
  CHECK(port == 443);
  CHECK(SplitHostPort("http://[::1]:7480/", host, port));
  CHECK((host == "::1" && port == 7480));
  CHECK_FALSE(SplitHostPort("127.0.0.1:1883", host, port));
  CHECK_FALSE(SplitHostPort("tcp://h:99999", host, port));
}

TEST_CASE("a closed broker port fails, an open listener passes") {
  const int port = ClosedPort();
  MqttOptions mqtt;
  mqtt.brokers.push_back({});
  mqtt.brokers.back().uri = "tcp://127.0.0.1:" + std::to_string(port);
  auto r = CheckBrokers(mqtt, 500);
  REQUIRE(r.size() == 1);
  CHECK(r[0].level == Level::kFail);
  CHECK(r[0].message.find("unreachable") != std::string::npos);

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  CHECK(CheckTcp("broker", "127.0.0.1", ntohs(a.sin_port), 500).level == Level::kPass);
  ::close(fd);

  CHECK(CheckBrokers(MqttOptions{}, 500)[0].level == Level::kWarn);
}

TEST_CASE("upstream: none passes, a closed S3 endpoint fails") {
  SyncConfig sync;
  CHECK(CheckUpstream(sync, 500)[0].level == Level::kPass);
  sync.sink = SinkKind::kS3;
  sync.s3.endpoint = "http://127.0.0.1:" + std::to_string(ClosedPort());
  auto r = CheckUpstream(sync, 500);
  REQUIRE(r.size() == 1);
  CHECK(r[0].level == Level::kFail);
}

TEST_CASE("disk checks against a temp dir") {
  testing::TempDir t("doctor");
  const std::string dir = (t.path() / "store").string();
  CHECK(ExistingAncestor(dir) == t.path().string());
  fs::create_directories(dir);
  // O_DIRECT depends on the file system of $TMPDIR (tmpfs refuses it).
  const CheckResult od = CheckODirect(dir);
  CHECK(od.level != Level::kWarn);
  CHECK(CheckDiskSpace(dir, 0).level == Level::kWarn);
  CHECK(CheckDiskSpace(dir, 1ull << 20).level == Level::kPass);
  CHECK(CheckDiskSpace(dir, 1ull << 60).level == Level::kFail);
  const CheckResult sync = CheckSyncLatency(dir, 5);
  CHECK(sync.level != Level::kFail);
  CHECK(sync.message.find("p99") != std::string::npos);
  if (od.level == Level::kPass) {
    CHECK(CheckWriteBandwidth(dir, 4ull << 20).level != Level::kFail);
  }
  // Probes leave nothing behind.
  CHECK(fs::is_empty(dir));
}

TEST_CASE("persistent memory: a fake /dev and a non-DAX pmem path") {
  testing::TempDir t("doctor");
  store::Options store;
  store.dir = t.path().string();
  CHECK(CheckPersistentMemory((t.path() / "dev").string(), store).level == Level::kPass);
  fs::create_directories(t.path() / "dev");
  std::ofstream(t.path() / "dev/pmem0") << "";
  const CheckResult seen = CheckPersistentMemory((t.path() / "dev").string(), store);
  CHECK(seen.message.find("pmem0") != std::string::npos);
  // A temp dir is not DAX: page granularity or no pmem support, a failure.
  store.write_buffer = store::WriteBufferMode::kPmem;
  CHECK(CheckPersistentMemory((t.path() / "dev").string(), store).level == Level::kFail);
  CHECK_FALSE(fs::exists(t.path() / ".sluice-doctor-pmem"));
}

TEST_CASE("clock: before 2024 and far future fail") {
  CHECK(CheckClock(0).level == Level::kFail);               // 1970: RTC reset
  CHECK(CheckClock(1'735'689'600).level == Level::kPass);   // 2025-01-01
  CHECK(CheckClock(4'102'444'800).level == Level::kFail);   // 2100-01-01
}

TEST_CASE("clock sync: unsynchronised or unreadable is a warning that says what to do") {
  struct timex tx {};
  tx.esterror = 120;
  tx.maxerror = 4000;
  const CheckResult synced = ClockSyncResult(TIME_OK, tx, 0);
  CHECK(synced.level == Level::kPass);
  CHECK(synced.name == "clock-sync");
  CHECK(synced.message.find("estimated error 120 us") != std::string::npos);

  tx.status = STA_UNSYNC;
  const CheckResult unsync = ClockSyncResult(TIME_OK, tx, 0);
  CHECK(unsync.level == Level::kWarn);
  CHECK(unsync.message.find("STA_UNSYNC") != std::string::npos);
  CHECK(unsync.message.find("systemd-timesyncd") != std::string::npos);
  CHECK(unsync.message.find("chrony") != std::string::npos);
  CHECK(unsync.message.find("GPS") != std::string::npos);

  tx.status = 0;
  const CheckResult error = ClockSyncResult(TIME_ERROR, tx, 0);
  CHECK(error.level == Level::kWarn);
  CHECK(error.message.find("TIME_ERROR") != std::string::npos);
  CHECK(ClockSyncResult(-1, tx, EPERM).level == Level::kWarn);
  // This box's own clock: whatever its state, never a failure.
  CHECK(CheckClockSync().level != Level::kFail);
}

TEST_CASE("file system: read-only or full fails, under the warning threshold warns") {
  store::Env::Space space;
  space.total_bytes = 100ull << 30;
  space.free_bytes = 40ull << 30;
  const CheckResult roomy = FileSystemResult("/var/lib/sluice", space, 5);
  CHECK(roomy.level == Level::kPass);
  CHECK(roomy.message.find("40.0% free on /var/lib/sluice") != std::string::npos);

  space.free_bytes = 3ull << 30;
  const CheckResult low = FileSystemResult("/var/lib/sluice", space, 5);
  CHECK(low.level == Level::kWarn);
  CHECK(low.message.find("3.0% free") != std::string::npos);
  CHECK(low.message.find("store.free_space_warning (5%)") != std::string::npos);
  CHECK(low.message.find("free space or enlarge the file system") != std::string::npos);
  CHECK(low.message.find("reclaimed once a sink is reachable") != std::string::npos);
  // The warning off: low is still writable.
  CHECK(FileSystemResult("/var/lib/sluice", space, 0).level == Level::kPass);

  space.free_bytes = 0;
  CHECK(FileSystemResult("/var/lib/sluice", space, 0).level == Level::kFail);

  space.free_bytes = 40ull << 30;
  space.read_only = true;
  const CheckResult ro = FileSystemResult("/var/lib/sluice", space, 5);
  CHECK(ro.level == Level::kFail);
  CHECK(ro.message.find("read-only") != std::string::npos);
  CHECK(ro.message.find("remount") != std::string::npos);

  // A real temp dir, not yet holding the store: read through the store's Env.
  testing::TempDir t("doctor");
  const CheckResult real = CheckFileSystem((t.path() / "store").string(), 0);
  CHECK(real.level != Level::kWarn);
  CHECK(real.message.find(t.path().string()) != std::string::npos);
}

}  // namespace
}  // namespace sluice::gateway::doctor

namespace sluice::gateway::doctor {

TEST_CASE("doctor warns when anonymous clients may publish from the network") {
  EndpointOptions e;
  e.enabled = true;
  e.address = "0.0.0.0";
  e.port = 1884;
  e.allow_anonymous = true;
  const CheckResult r = CheckEndpointAccess(e);
  CHECK(r.level == Level::kWarn);
  CHECK(r.name == "endpoint");
  CHECK(r.message.find("anyone on the network can write data") != std::string::npos);
  CHECK(r.message.find("endpoint.password_file") != std::string::npos);

  e.allow_anonymous = false;
  CHECK(CheckEndpointAccess(e).level == Level::kFail);
}

TEST_CASE("doctor says how endpoint clients are authenticated") {
  EndpointOptions e;
  e.enabled = true;
  e.address = "0.0.0.0";
  e.password_file = "/etc/sluice/endpoint.passwd";
  CheckResult r = CheckEndpointAccess(e);
  CHECK(r.level == Level::kPass);
  CHECK(r.message.find("password from /etc/sluice/endpoint.passwd") != std::string::npos);

  e.password_file.clear();
  e.tls_cert_file = "/c";
  e.tls_key_file = "/k";
  e.tls_ca_file = "/ca.pem";
  e.require_client_cert = true;
  r = CheckEndpointAccess(e);
  CHECK(r.level == Level::kPass);
  CHECK(r.message.find("client certificate signed by a CA in /ca.pem") != std::string::npos);

  EndpointOptions local;
  local.enabled = true;  // 127.0.0.1
  r = CheckEndpointAccess(local);
  CHECK(r.level == Level::kPass);
  CHECK(r.message.find("loopback only") != std::string::npos);

  CHECK(CheckEndpointAccess(EndpointOptions{}).message == "off");
}

}  // namespace sluice::gateway::doctor
