#include "mock_cluster.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace sluice::testing {

MockKafkaCluster::MockKafkaCluster(int brokers) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    const std::string n = std::to_string(brokers);
    execl(SLUICE_BINARY_DIR "/tests/stream/kafka_mock_cluster", "kafka_mock_cluster", n.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_ = in[1];
  from_ = out[0];
  const std::string first = ReadLine();
  if (first.rfind("bootstrap ", 0) != 0) throw std::runtime_error("mock cluster: " + first);
  bootstrap_ = first.substr(10);
}

MockKafkaCluster::~MockKafkaCluster() {
  if (pid_ <= 0) return;
  (void)!write(to_, "quit\n", 5);
  close(to_);
  close(from_);
  int status = 0;
  for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(20000);
  if (waitpid(pid_, &status, WNOHANG) == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
}

std::string MockKafkaCluster::ReadLine() {
  for (;;) {
    const auto nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    char buf[512];
    const ssize_t n = read(from_, buf, sizeof buf);
    if (n <= 0) return "error helper exited";
    buffered_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string MockKafkaCluster::Command(const std::string& line) {
  const std::string l = line + "\n";
  if (write(to_, l.data(), l.size()) != static_cast<ssize_t>(l.size())) return "error write";
  return ReadLine();
}

}  // namespace sluice::testing
