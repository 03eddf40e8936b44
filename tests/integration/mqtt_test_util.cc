#include "mqtt_test_util.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include "qos1_publisher.h"

extern char** environ;

namespace sluice::testing {

std::string GatewayToml(const std::string& store_dir, const std::string& uri,
                        const std::string& extra) {
  return "[gateway]\nid = \"test-gw\"\n[log]\nlevel = \"warn\"\n[store]\ndir = \"" + store_dir +
         "\"\nwal_file_size = \"4MiB\"\n[[mqtt.broker]]\nuri = \"" + uri +
         "\"\nreconnect_min = \"20ms\"\nreconnect_max = \"200ms\"\n" + extra + "\n";
}

gateway::Config ParseOrDie(const std::string& toml) {
  auto c = gateway::ParseConfig(toml, "test.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return *c;
}

bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

int Shell(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int MosquittoPub(int port, const std::string& args) {
  return Shell("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(port) + " " + args);
}

std::string PythonPublisherCommand(int port, const std::string& topic, int count, double rate,
                                   const std::string& acked_file) {
  return std::string("/usr/bin/python3 ") + SLUICE_SOURCE_DIR +
         "/tests/integration/mqtt_publisher.py 127.0.0.1 " + std::to_string(port) + " " + topic +
         " " + std::to_string(count) + " " + std::to_string(rate) + " " + acked_file;
}

std::vector<std::int64_t> ReadNumbers(const std::string& file) {
  std::vector<std::int64_t> out;
  std::ifstream in(file);
  std::int64_t v = 0;
  while (in >> v) out.push_back(v);
  return out;
}

std::vector<double> StoredDoubles(store::Store& store, const std::string& series) {
  std::vector<double> out;
  auto info = store.FindSeries(series);
  if (!info) return out;
  REQUIRE(store.Scan(info->id, 0, INT64_MAX, [&](const store::Record& r) {
                 out.push_back(std::get<double>(r.value));
                 return true;
               }).ok());
  return out;
}

void KillAtRandomMoments(const std::vector<std::string>& args, const std::string& log, int kills,
                         int min_ms, int max_ms, const std::function<void(int)>& before_each) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> run_ms(min_ms, max_ms);
  for (int k = 0; k < kills; ++k) {
    if (before_each) before_each(k);
    const pid_t pid = SpawnLogged(args, log);
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
  }
}

bool AllAcknowledged(const std::vector<std::unique_ptr<Qos1Publisher>>& pubs,
                     std::chrono::milliseconds limit) {
  return Eventually(
      [&] {
        for (const auto& p : pubs) {
          if (p->unacked() > 0) return false;
        }
        return true;
      },
      limit);
}

pid_t SpawnLogged(const std::vector<std::string>& args, const std::string& log) {
  return SpawnLoggedWithEnv(args, log, {});
}

pid_t SpawnLoggedWithEnv(const std::vector<std::string>& args, const std::string& log,
                         const std::vector<std::string>& extra_env) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& x : extra_env) replaced |= x.substr(0, x.find('=')) == name;
    if (!replaced) env_strings.push_back(entry);
  }
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE_MESSAGE(rc == 0, "spawn " << args[0]);
  return pid;
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

HttpReply AdminGet(int port, const std::string& path) {
  HttpReply reply;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return reply;
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = recv(fd, buf, sizeof buf, 0)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) out.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  close(fd);
  // "HTTP/1.x NNN reason\r\n...\r\n\r\nbody"
  if (out.rfind("HTTP/1.", 0) != 0 || out.size() < 12) return reply;
  reply.status = std::atoi(out.c_str() + 9);
  const auto body = out.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = out.substr(body + 4);
  return reply;
}

}  // namespace sluice::testing
