// TLS and user name/password against a real Mosquitto, for the Paho
// front-end. Each case makes a throwaway PKI with the openssl command line
// (a CA, a broker certificate for 127.0.0.1, client certificates for Sluice
// and for the publisher), starts a private broker whose only listener is TLS
// with client certificates required, a password_file and no anonymous
// access, and spawns the real `sluice run` on a generated config. While
// Sluice runs, its admin endpoint (/metrics) and its log say what happened;
// after it stops, the store says what arrived.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>

#include <cctype>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "gateway/app/app.h"
#include "mosquitto.h"
#include "mqtt_test_util.h"
#include "temp_dir.h"

extern char** environ;

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Passwords are distinctive so that a leak into a log is found by search.
constexpr const char* kSluiceUser = "sluice";
constexpr const char* kSluicePassword = "Sluice-pw-7Hq2xZ";
constexpr const char* kWrongPassword = "Wrong-pw-Qe83Lm";
constexpr const char* kSensorUser = "sensor";
constexpr const char* kSensorPassword = "Sensor-pw-4Vn1Rk";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteSecret(const fs::path& p, const std::string& text, mode_t mode = 0600) {
  { std::ofstream(p, std::ios::trunc) << text << "\n"; }
  REQUIRE(::chmod(p.c_str(), mode) == 0);
}

// Like Eventually, for conditions that cost a file read or an HTTP request.
bool PollUntil(const std::function<bool()>& cond, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

// The throwaway PKI, in `dir`: <name>.crt and <name>.key for
//   ca            the CA Sluice and the publisher trust
//   server        broker, signed by ca, subjectAltName IP:127.0.0.1
//   client        Sluice's client certificate, signed by ca
//   sensor        the publisher's client certificate, signed by ca
//   rogue-ca      a CA nobody trusts
//   rogue-server  broker, signed by rogue-ca, subjectAltName IP:127.0.0.1
//   other-server  broker, signed by ca, but for another host
struct Pki {
  fs::path dir;
  std::string crt(const std::string& name) const { return (dir / (name + ".crt")).string(); }
  std::string key(const std::string& name) const { return (dir / (name + ".key")).string(); }
};

Pki MakePki(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path script = dir / "make-pki.sh";
  std::ofstream(script) << R"sh(set -e
cd "$1"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
ca() {  # name, common name
  openssl req -x509 $ec -keyout "$1.key" -out "$1.crt" -days 2 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {  # name, common name, issuing CA, extensions (one per line)
  openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
  printf '%s\n' "basicConstraints=CA:FALSE" "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 2 -extfile "$1.ext" -out "$1.crt"
}
ca ca "Sluice test CA"
ca rogue-ca "Unknown test CA"
leaf server 127.0.0.1 ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf rogue-server 127.0.0.1 rogue-ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf other-server elsewhere.example ca "subjectAltName=DNS:elsewhere.example,IP:10.9.8.7
extendedKeyUsage=serverAuth"
leaf client sluice ca "extendedKeyUsage=clientAuth"
leaf sensor sensor-1 ca "extendedKeyUsage=clientAuth"
chmod 600 *.key
)sh";
  const fs::path log = dir / "openssl.log";
  REQUIRE_MESSAGE(
      Shell("sh " + script.string() + " " + dir.string() + " >" + log.string() + " 2>&1") == 0,
      "openssl failed: " << ReadFile(log));
  return Pki{dir};
}

// A broker whose listener is TLS (certificate `server_cert`), requires a
// client certificate signed by the CA, and admits only the users of its
// password file (made by mosquitto_passwd -b).
std::unique_ptr<MosquittoBroker> StartTlsBroker(const fs::path& dir, const Pki& pki,
                                                const std::string& server_cert) {
  fs::create_directories(dir);
  const std::string passwd = (dir / "passwd").string();
  REQUIRE(Shell("mosquitto_passwd -c -b " + passwd + " " + kSluiceUser + " " + kSluicePassword) ==
          0);
  REQUIRE(Shell("mosquitto_passwd -b " + passwd + " " + kSensorUser + " " + kSensorPassword) == 0);
  MosquittoOptions o;
  o.listener_config = "cafile " + pki.crt("ca") + "\ncertfile " + pki.crt(server_cert) +
                      "\nkeyfile " + pki.key(server_cert) + "\nrequire_certificate true\n";
  o.allow_anonymous = false;
  o.extra_config = "password_file " + passwd + "\n";
  auto b = MosquittoBroker::Start(dir, o);
  REQUIRE_MESSAGE(b.ok(), b.status().ToString());
  return std::move(*b);
}

// mosquitto_pub over TLS with the publisher's own certificate and user;
// `args` are the message options (-t, -m or -l, -q).
int SensorPub(const MosquittoBroker& b, const Pki& pki, const std::string& args,
              const std::string& ca = "ca") {
  return Shell("timeout 30 mosquitto_pub -h 127.0.0.1 -p " + std::to_string(b.port()) +
               " --cafile " + pki.crt(ca) + " --cert " + pki.crt("sensor") + " --key " +
               pki.key("sensor") + " -u " + kSensorUser + " -P " + kSensorPassword + " " + args);
}

const char* kJsonRule = R"(
[[ingest.rule]]
topic = "plant/{machine}/telemetry"
format = "json"
fields = ["temp", "rpm"]
series = "{machine}.{field}"
timestamp = "field:ts"
)";

struct SluiceConfig {
  std::string store_dir;
  std::string uri;
  std::string password_file;
  const Pki* pki = nullptr;
  std::string mqtt_version = "5";

  std::string Toml() const {
    return "[gateway]\nid = \"tls-gw\"\n[log]\nlevel = \"info\"\n[store]\ndir = \"" + store_dir +
           "\"\nwal_file_size = \"4MiB\"\n[admin]\nport = 0\n[[mqtt.broker]]\nuri = \"" + uri +
           "\"\nclient_id_prefix = \"sluice-tls\"\nmqtt_version = \"" + mqtt_version +
           "\"\nusername = \"" + kSluiceUser + "\"\npassword_file = \"" + password_file +
           "\"\ntls_ca_file = \"" + pki->crt("ca") + "\"\ntls_cert_file = \"" + pki->crt("client") +
           "\"\ntls_key_file = \"" + pki->key("client") +
           "\"\nreconnect_min = \"50ms\"\nreconnect_max = \"400ms\"\nconnect_timeout = \"5s\"\n" +
           kJsonRule;
  }
};

// The decimal number right after the first `prefix` in `text`; -1 if none.
int NumberAfter(const std::string& text, const std::string& prefix) {
  const auto at = text.find(prefix);
  if (at == std::string::npos) return -1;
  std::size_t i = at + prefix.size();
  if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
  int n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    n = n * 10 + (text[i++] - '0');
  }
  return n;
}

// `sluice run --config FILE`, its stdout and stderr in `log`. Killed if
// still running when destroyed.
class SluiceRun {
 public:
  SluiceRun(const std::string& config_file, fs::path log) : log_(std::move(log)) {
    pid_ = SpawnLogged({SLUICE_BIN, "run", "--config", config_file}, log_.string());
  }
  ~SluiceRun() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  SluiceRun(const SluiceRun&) = delete;
  SluiceRun& operator=(const SluiceRun&) = delete;

  std::string Log() const { return ReadFile(log_); }

  // Waits at most `limit` for the process to exit by itself; its exit code,
  // or -1 if it did not (then it is killed) or died of a signal.
  int WaitExit(std::chrono::milliseconds limit) {
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    REQUIRE(pidfd >= 0);
    pollfd p{pidfd, POLLIN, 0};
    const bool exited = poll(&p, 1, static_cast<int>(limit.count())) == 1;
    close(pidfd);
    if (!exited) kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // SIGTERM: drain, close the store, exit 0.
  int Stop() {
    kill(pid_, SIGTERM);
    return WaitExit(30s);
  }

  // The admin endpoint's port (admin.port = 0 picks one; the log names it).
  int AdminPort() {
    if (admin_port_ == 0) {
      // (No std::regex: g++ 12 warns inside it under -O2 -fsanitize.)
      REQUIRE_MESSAGE(PollUntil([&] {
                        admin_port_ = NumberAfter(Log(), "admin: http://127.0.0.1:");
                        return admin_port_ > 0;
                      }),
                      "no admin endpoint in the log:\n"
                          << Log());
    }
    return admin_port_;
  }

  // A counter or gauge from /metrics; nullopt when unreachable.
  std::optional<double> Metric(const std::string& name) {
    const std::string body = testing::AdminGet(AdminPort(), "/metrics").body;
    const auto at = body.find("\n" + name + " ");
    if (at == std::string::npos) return std::nullopt;
    return std::stod(body.substr(at + name.size() + 2));
  }

  // Log lines containing `needle`.
  std::vector<std::string> LogLines(const std::string& needle) const {
    std::vector<std::string> out;
    std::istringstream in(Log());
    for (std::string line; std::getline(in, line);) {
      if (line.find(needle) != std::string::npos) out.push_back(line);
    }
    return out;
  }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int admin_port_ = 0;
};

bool Connected(SluiceRun& s) { return s.Metric("sluice_mqtt_connections") == 1.0; }

struct Fixture {
  TempDir dir{"sluice-mqtt-tls"};
  Pki pki = MakePki(dir.path() / "pki");
  std::unique_ptr<MosquittoBroker> broker;
  SluiceConfig config;
  std::string config_file = (dir.path() / "sluice.toml").string();

  explicit Fixture(const std::string& server_cert = "server") {
    broker = StartTlsBroker(dir.path() / "broker", pki, server_cert);
    config.store_dir = (dir.path() / "store").string();
    config.uri = broker->uri("ssl");
    config.password_file = (dir.path() / "mqtt.password").string();
    config.pki = &pki;
    WriteSecret(config.password_file, kSluicePassword);
    WriteConfig();
  }

  void WriteConfig() { std::ofstream(config_file, std::ios::trunc) << config.Toml(); }

  fs::path LogPath(const std::string& name) const { return dir.path() / name; }

  std::unique_ptr<store::Store> OpenStore() {
    auto s = store::Store::Open(ParseOrDie(config.Toml()).store);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    return std::move(*s);
  }
};

void CheckNoPasswordIn(const std::string& text) {
  CHECK(text.find(kSluicePassword) == std::string::npos);
  CHECK(text.find(kWrongPassword) == std::string::npos);
}

// The connect attempts Sluice logged, once at least `n` are there.
std::vector<std::string> AwaitConnectFailures(SluiceRun& sluice, const std::string& uri,
                                              std::size_t n) {
  const std::string needle = "cannot connect to " + uri + ": ";
  REQUIRE_MESSAGE(PollUntil([&] { return sluice.LogLines(needle).size() >= n; }),
                  "fewer than " << n << " failed attempts logged:\n"
                                << sluice.Log());
  return sluice.LogLines(needle);
}

// Case 1, for either MQTT version: connect over ssl:// with CA, client
// certificate, user name and password file; JSON published by mosquitto_pub
// over TLS reaches the store with its values.
void IngestOverTls(const std::string& mqtt_version, const std::string& protocol_in_broker_log) {
  Fixture f;
  f.config.mqtt_version = mqtt_version;
  f.WriteConfig();
  SluiceRun sluice(f.config_file, f.LogPath("sluice.log"));
  REQUIRE_MESSAGE(PollUntil([&] { return Connected(sluice); }), "not connected:\n" << sluice.Log());
  CHECK(!sluice.LogLines("mqtt sluice-tls-0: connected to " + f.config.uri).empty());
  // The broker saw our certificate-authenticated user with the configured
  // protocol version ("p5" is MQTT 5, "p2" is 3.1.1 in Mosquitto's log).
  REQUIRE(PollUntil([&] {
    return ReadFile(f.broker->log_file()).find("as sluice-tls-0 (" + protocol_in_broker_log) !=
           std::string::npos;
  }));
  CHECK(ReadFile(f.broker->log_file()).find("u'sluice'") != std::string::npos);

  REQUIRE(Shell("printf '%s\\n' '{\"ts\":1700000000000,\"temp\":21.5,\"rpm\":1200}' "
                "'{\"ts\":1700000001000,\"temp\":21.75,\"rpm\":1210}' | timeout 30 mosquitto_pub "
                "-h 127.0.0.1 -p " +
                std::to_string(f.broker->port()) + " --cafile " + f.pki.crt("ca") + " --cert " +
                f.pki.crt("sensor") + " --key " + f.pki.key("sensor") + " -u " + kSensorUser +
                " -P " + kSensorPassword + " -q 1 -t plant/press-3/telemetry -l") == 0);
  REQUIRE(PollUntil([&] { return sluice.Metric("sluice_records_stored_total") >= 4.0; }));
  CHECK(sluice.Stop() == 0);
  CheckNoPasswordIn(sluice.Log());

  auto store = f.OpenStore();
  CHECK(StoredDoubles(*store, "press-3.temp") == std::vector<double>{21.5, 21.75});
  CHECK(StoredDoubles(*store, "press-3.rpm") == std::vector<double>{1200, 1210});
}

}  // namespace

TEST_CASE("over ssl:// with client certificate and password file JSON reaches the store - MQTT 5") {
  IngestOverTls("5", "p5");
}

TEST_CASE("over ssl:// with client certificate and password file JSON reaches the store - 3.1.1") {
  IngestOverTls("3.1.1", "p2");
}

TEST_CASE("a wrong password is refused clearly without being logged and retried until fixed") {
  Fixture f;
  WriteSecret(f.config.password_file, kWrongPassword);
  {
    SluiceRun sluice(f.config_file, f.LogPath("sluice-wrong.log"));
    const auto failures = AwaitConnectFailures(sluice, f.config.uri, 5);
    // The broker itself is fine: the publisher's credentials get through.
    REQUIRE(SensorPub(*f.broker, f.pki,
                      "-q 1 -t plant/press-3/telemetry -m '{\"temp\":1,\"rpm\":2}'") == 0);
    for (const auto& line : failures) {
      CAPTURE(line);
      CHECK(line.find("[error]") != std::string::npos);
      CHECK(line.find("the broker refused the credentials of user 'sluice'") != std::string::npos);
      CHECK(line.find("Not authorized (MQTT 5 CONNACK reason 135)") != std::string::npos);
      CHECK(line.find("password_file " + f.config.password_file) != std::string::npos);
    }
    // Backoff: from reconnect_min (50 ms) doubling to reconnect_max (400 ms),
    // each wait drawn from the upper half of the current step.
    std::vector<int> waits;
    for (const auto& line : failures) {
      const int wait = NumberAfter(line, "retrying in ");
      REQUIRE(wait >= 0);
      waits.push_back(wait);
    }
    CAPTURE(failures);
    CHECK(waits[0] >= 25);
    CHECK(waits[0] <= 50);
    CHECK(waits[1] >= 50);
    CHECK(waits[2] >= 100);
    for (std::size_t i = 0; i < waits.size(); ++i) {
      CHECK(waits[i] <= 400);
      if (i >= 3) CHECK(waits[i] >= 200);
    }
    CHECK(sluice.Metric("sluice_mqtt_connections") == 0.0);
    CHECK(sluice.Metric("sluice_mqtt_messages_total") == 0.0);
    CHECK(sluice.Metric("sluice_records_stored_total") == 0.0);
    CHECK(sluice.Stop() == 0);
    CheckNoPasswordIn(sluice.Log());
  }
  CHECK(ReadFile(f.broker->log_file()).find("not authorised") != std::string::npos);

  // The password is read at start: correct the file, then restart.
  WriteSecret(f.config.password_file, kSluicePassword);
  SluiceRun sluice(f.config_file, f.LogPath("sluice-fixed.log"));
  REQUIRE_MESSAGE(PollUntil([&] { return Connected(sluice); }), "not connected:\n" << sluice.Log());
  REQUIRE(SensorPub(*f.broker, f.pki,
                    "-q 1 -t plant/press-7/telemetry -m "
                    "'{\"ts\":1700000005000,\"temp\":19.25,\"rpm\":900}'") == 0);
  REQUIRE(PollUntil([&] { return sluice.Metric("sluice_records_stored_total") >= 2.0; }));
  CHECK(sluice.Stop() == 0);
  CheckNoPasswordIn(sluice.Log());
  auto store = f.OpenStore();
  CHECK(StoredDoubles(*store, "press-7.temp") == std::vector<double>{19.25});
  CHECK(StoredDoubles(*store, "press-7.rpm") == std::vector<double>{900});
  CHECK(!store->FindSeries("press-3.temp"));
}

TEST_CASE("a broker certificate from an unknown CA fails verification and nothing is ingested") {
  Fixture f("rogue-server");
  SluiceRun sluice(f.config_file, f.LogPath("sluice.log"));
  const auto failures = AwaitConnectFailures(sluice, f.config.uri, 3);
  // The broker serves: a publisher that trusts the rogue CA gets through.
  REQUIRE(SensorPub(*f.broker, f.pki, "-q 1 -t plant/press-3/telemetry -m '{\"temp\":1,\"rpm\":2}'",
                    "rogue-ca") == 0);
  for (const auto& line : failures) {
    CAPTURE(line);
    CHECK(line.find("[error]") != std::string::npos);
    CHECK(line.find("the broker's certificate could not be verified") != std::string::npos);
    CHECK(line.find("tls_ca_file " + f.pki.crt("ca")) != std::string::npos);
  }
  CHECK(sluice.Metric("sluice_mqtt_connections") == 0.0);
  CHECK(sluice.Metric("sluice_mqtt_messages_total") == 0.0);
  CHECK(sluice.Stop() == 0);
  CheckNoPasswordIn(sluice.Log());
  auto store = f.OpenStore();
  CHECK(!store->FindSeries("press-3.temp"));
}

TEST_CASE("a broker certificate for another host fails host name verification") {
  Fixture f("other-server");
  SluiceRun sluice(f.config_file, f.LogPath("sluice.log"));
  const auto failures = AwaitConnectFailures(sluice, f.config.uri, 3);
  for (const auto& line : failures) {
    CAPTURE(line);
    CHECK(line.find("not naming host '127.0.0.1'") != std::string::npos);
  }
  CHECK(sluice.Metric("sluice_mqtt_connections") == 0.0);
  CHECK(sluice.Stop() == 0);
  // The broker never let our user in: Paho gave up before CONNECT.
  CHECK(ReadFile(f.broker->log_file()).find("as sluice-tls-0") == std::string::npos);
}

TEST_CASE("a password file that group or others may read is refused naming the file and mode") {
  Fixture f;
  const std::string& pw = f.config.password_file;
  const std::string out = (f.dir.path() / "check.out").string();
  const std::string check =
      std::string(SLUICE_BIN) + " check-config " + f.config_file + " >" + out + " 2>&1";
  for (mode_t mode : {0644, 0640, 0604, 0620}) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    CAPTURE(text);
    REQUIRE(::chmod(pw.c_str(), mode) == 0);
    CHECK(Shell(check) == 1);
    CHECK(ReadFile(out).find("key 'mqtt.broker[1].password_file': password file " + pw +
                             " has mode " + text +
                             ": group and others must have no access (chmod 600 " + pw + ")") !=
          std::string::npos);
    auto parsed = gateway::ParseConfig(f.config.Toml(), "sluice.toml");
    REQUIRE(!parsed.ok());
    CHECK(parsed.status().message().find(std::string("has mode ") + text) != std::string::npos);
  }
  // `sluice run` refuses too, before it opens anything.
  REQUIRE(::chmod(pw.c_str(), 0644) == 0);
  {
    SluiceRun sluice(f.config_file, f.LogPath("sluice.log"));
    CHECK(sluice.WaitExit(30s) == 1);
    CHECK(sluice.Log().find("password file " + pw + " has mode 0644") != std::string::npos);
    CheckNoPasswordIn(sluice.Log());
  }
  CHECK(!fs::exists(f.config.store_dir));
  for (mode_t mode : {0600, 0400}) {
    REQUIRE(::chmod(pw.c_str(), mode) == 0);
    CHECK(Shell(check) == 0);
  }
}

}  // namespace sluice::testing
