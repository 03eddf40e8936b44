#include "mosquitto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <thread>

extern char** environ;

namespace sluice::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool Exited(pid_t pid) {
  int status = 0;
  return pid > 0 && waitpid(pid, &status, WNOHANG) == pid;
}

}  // namespace

Result<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus("socket", errno);
  sockaddr_in a = Loopback(0);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus("bind 127.0.0.1:0", err);
  }
  close(fd);
  return static_cast<int>(ntohs(a.sin_port));
}

Status WaitForTcp(int port, pid_t pid, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // Each attempt is a non-blocking connect awaited with poll(); between
  // failed attempts the wait doubles from 5 ms, capped at 100 ms.
  int backoff_ms = 5;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Exited(pid)) return Unavailable("process exited before accepting connections");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return ErrnoStatus("socket", errno);
    sockaddr_in a = Loopback(port);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 200) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
      }
    }
    close(fd);
    if (rc == 0) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 100);
  }
  return Unavailable("nothing accepted connections on 127.0.0.1:" + std::to_string(port) +
                     " within " + std::to_string(timeout_ms) + " ms");
}

Result<std::unique_ptr<MosquittoBroker>> MosquittoBroker::Start(const std::filesystem::path& dir,
                                                                MosquittoOptions options) {
  std::unique_ptr<MosquittoBroker> b(new MosquittoBroker(dir, std::move(options)));
  // The port is free when picked but another process may take it before the
  // broker binds; a few attempts make that race harmless.
  Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto port = PickFreePort();
    if (!port.ok()) return port.status();
    b->port_ = *port;
    s = b->Launch();
    if (s.ok()) return b;
  }
  return s;
}

Status MosquittoBroker::Launch() {
  std::filesystem::create_directories(dir_ / "data");
  const auto conf = dir_ / "mosquitto.conf";
  log_ = dir_ / "mosquitto.log";
  {
    std::ofstream c(conf);
    c << "# written by the Sluice test helper\n"
      << "listener " << port_ << " 127.0.0.1\n"
      << options_.listener_config << "\n"
      << "allow_anonymous " << (options_.allow_anonymous ? "true" : "false") << "\n"
      // Started as root, mosquitto would switch to its own user, which cannot
      // write into this private folder; the test's user is enough.
      << (geteuid() == 0 ? "user root\n" : "")
      << "persistence " << (options_.persistence ? "true" : "false") << "\n"
      << "persistence_location " << (dir_ / "data").string() << "/\n"
      << "log_dest file " << log_.string() << "\n"
      << "log_type error\nlog_type warning\nlog_type notice\n"
      << "max_queued_messages 100000\n"
      << options_.extra_config << "\n";
    if (!c) return IoError("cannot write " + conf.string());
  }
  const std::string conf_s = conf.string();
  char* argv[] = {const_cast<char*>("mosquitto"), const_cast<char*>("-c"),
                  const_cast<char*>(conf_s.c_str()), nullptr};
  int rc = posix_spawnp(&pid_, "mosquitto", nullptr, nullptr, argv, environ);
  if (rc != 0) {
    pid_ = -1;
    return ErrnoStatus("spawn mosquitto (is it installed? scripts/setup installs it)", rc);
  }
  Status s = WaitForTcp(port_, pid_, 5000);
  if (!s.ok()) {
    (void)Stop();
    return s.WithContext("mosquitto on port " + std::to_string(port_) + " (log: " +
                         log_.string() + ")");
  }
  return Status::Ok();
}

Status MosquittoBroker::Stop() {
  if (pid_ <= 0) return Status::Ok();
  // Await the exit through a pidfd instead of polling waitpid().
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  kill(pid_, SIGTERM);
  bool exited = false;
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    exited = poll(&p, 1, 5000) == 1;
    close(pidfd);
  }
  if (!exited) kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return Status::Ok();
}

Status MosquittoBroker::Restart() {
  SLUICE_RETURN_IF_ERROR(Stop());
  return Launch();
}

MosquittoBroker::~MosquittoBroker() { (void)Stop(); }

}  // namespace sluice::testing
