// The mock Kafka cluster helper (kafka_mock_cluster.cc) driven from a test,
// and the independent reader (kafka_read.py, kafka-python).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::testing {

class MockKafkaCluster {
 public:
  explicit MockKafkaCluster(int brokers = 3);
  ~MockKafkaCluster();
  MockKafkaCluster(const MockKafkaCluster&) = delete;
  MockKafkaCluster& operator=(const MockKafkaCluster&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  // Sends one command line; returns the helper's answer ("ok" or "error ...").
  std::string Command(const std::string& line);

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffered_;
  std::string bootstrap_;
  std::string ReadLine();
};

struct ReadRecord {
  int partition = 0;
  std::int64_t offset = 0, kafka_ts_ms = 0;
  std::string gateway, site, series, type, unit, value;
  std::int64_t timestamp_ns = 0;
};

// kafka_read.py: every record of `topic` from the beginning, up to `count`.
std::vector<ReadRecord> ReadTopic(const std::string& bootstrap, const std::string& topic,
                                  std::size_t count, const std::string& format,
                                  double timeout_s = 20);

}  // namespace sluice::testing
