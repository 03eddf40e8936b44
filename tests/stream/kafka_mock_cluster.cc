// A librdkafka mock cluster in its own process, so that killing the process
// under test leaves the cluster (and what it holds) up. No Kafka broker is
// packaged for Debian; this speaks the Kafka protocol on loopback TCP.
//
//   kafka_mock_cluster <brokers>
//
// Prints "bootstrap <host:port,...>" and then reads commands from stdin,
// one per line, answering "ok" or "error <why>" on stdout:
//   topic <name> <partitions> <replication>
//   down <broker-id> | up <broker-id>
//   errors <api-key> <error-code> <count>     next <count> requests fail
//   leader <topic> <partition> <broker-id>
//   quit                                       (or end of input)
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const int brokers = argc > 1 ? std::atoi(argv[1]) : 3;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::cerr << "rd_kafka_new: " << err << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (mc == nullptr) {
    std::cerr << "rd_kafka_mock_cluster_new failed\n";
    return 1;
  }
  std::cout << "bootstrap " << rd_kafka_mock_cluster_bootstraps(mc) << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (cmd == "topic") {
      std::string name;
      int parts = 1, repl = 1;
      in >> name >> parts >> repl;
      e = rd_kafka_mock_topic_create(mc, name.c_str(), parts, repl);
    } else if (cmd == "down" || cmd == "up") {
      int id = 0;
      in >> id;
      e = cmd == "down" ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id);
    } else if (cmd == "errors") {
      int api = 0, code = 0, count = 0;
      in >> api >> code >> count;
      std::vector<rd_kafka_resp_err_t> errs(static_cast<std::size_t>(count),
                                            static_cast<rd_kafka_resp_err_t>(code));
      rd_kafka_mock_push_request_errors_array(mc, static_cast<int16_t>(api), errs.size(),
                                              errs.data());
    } else if (cmd == "leader") {
      std::string topic;
      int part = 0, id = 0;
      in >> topic >> part >> id;
      e = rd_kafka_mock_partition_set_leader(mc, topic.c_str(), part, id);
    } else if (cmd == "quit") {
      break;
    } else {
      std::cout << "error unknown command '" << cmd << "'" << std::endl;
      continue;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) std::cout << "error " << rd_kafka_err2str(e) << std::endl;
    else std::cout << "ok" << std::endl;
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
