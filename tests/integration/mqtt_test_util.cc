#include "mqtt_test_util.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <spawn.h>

#include <cstdlib>
#include <fstream>
#include <thread>

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

pid_t SpawnLogged(const std::vector<std::string>& args, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE_MESSAGE(rc == 0, "spawn " << args[0]);
  return pid;
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

}  // namespace sluice::testing
