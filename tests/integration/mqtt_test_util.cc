#include "mqtt_test_util.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

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

}  // namespace sluice::testing
