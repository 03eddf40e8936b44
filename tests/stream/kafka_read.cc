// ReadTopic (mock_cluster.h): kafka_read.py, kafka-python, run by the shell.
#include <sstream>
#include <stdexcept>

#include "mock_cluster.h"
#include "shell.h"

namespace sluice::testing {

std::vector<ReadRecord> ReadTopic(const std::string& bootstrap, const std::string& topic,
                                  std::size_t count, const std::string& format,
                                  double timeout_s) {
  const std::string cmd = "/usr/bin/python3 " SLUICE_SOURCE_DIR "/tests/stream/kafka_read.py"
                          " --bootstrap " + bootstrap + " --topic " + topic + " --count " +
                          std::to_string(count) + " --format " + format +
                          " --proto-dir " SLUICE_BINARY_DIR "/tests/stream/proto --timeout " +
                          std::to_string(timeout_s) + " 2>&1";
  std::istringstream in(ShellOutput(cmd));
  std::vector<ReadRecord> out;
  std::string line;
  while (std::getline(in, line)) {
    // partition offset ts gateway site|series|timestamp_ns|type|unit|value
    std::vector<std::string> f;
    std::size_t at = 0;
    for (int i = 0; i < 5; ++i) {
      const auto bar = line.find('|', at);
      if (bar == std::string::npos) break;
      f.push_back(line.substr(at, bar - at));
      at = bar + 1;
    }
    if (f.size() != 5) throw std::runtime_error("kafka_read.py: " + line);
    f.push_back(line.substr(at));
    ReadRecord r;
    std::istringstream head(f[0]);
    head >> r.partition >> r.offset >> r.kafka_ts_ms >> r.gateway >> r.site;
    r.series = f[1];
    r.timestamp_ns = std::stoll(f[2]);
    r.type = f[3];
    r.unit = f[4];
    r.value = f[5];
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sluice::testing
