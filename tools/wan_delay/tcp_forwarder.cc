#include "tcp_forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"

namespace sluice::wan {
namespace {

constexpr std::size_t kBufferBytes = 256 << 10;  // per direction and connection

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Closes with a TCP reset instead of a FIN.
void CloseWithReset(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

Result<sockaddr_in> Ipv4(const std::string& address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) {
    return InvalidArgument("not an IPv4 address: '" + address + "'");
  }
  return a;
}

// One direction of a connection: bytes read from `from`, not yet written to `to`.
struct Pipe {
  std::string buf;
  std::size_t off = 0;
  bool eof = false;       // `from` said FIN
  bool shut = false;      // FIN passed on to `to`
  std::size_t pending() const { return buf.size() - off; }
};

struct Conn {
  int client = -1, server = -1;
  Pipe up, down;  // up: client -> server
  bool dead = false;
};

class Forwarder final : public TcpForwarder {
 public:
  Forwarder(int listen_fd, int wake_fd, std::uint16_t port, sockaddr_in target)
      : listen_fd_(listen_fd), wake_fd_(wake_fd), port_(port), target_(target) {
    thread_ = std::thread([this] { Loop(); });
  }

  ~Forwarder() override {
    {
      MutexLock lock(mu_);
      stop_ = true;
    }
    Wake();
    thread_.join();
    for (auto& c : conns_) {
      CloseWithReset(c.client);
      CloseWithReset(c.server);
    }
    ::close(listen_fd_);
    ::close(wake_fd_);
  }

  std::uint16_t port() const override { return port_; }

  void Cut() override {
    MutexLock lock(mu_);
    cut_ = true;
    const std::uint64_t gen = ++cut_requests_;
    lock.Unlock();
    Wake();
    lock.Lock();
    cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) { return cut_done_ >= gen || stop_; });
  }

  void Restore() override {
    {
      MutexLock lock(mu_);
      cut_ = false;
    }
    Wake();
  }

  TcpForwarderCounters counters() const override {
    MutexLock lock(mu_);
    return counters_;
  }

 private:
  void Wake() {
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }

  // Reads what `from` offers into `p`; false when the connection failed.
  bool ReadInto(int from, Pipe& p, std::uint64_t* counter) {
    char tmp[64 << 10];
    while (!p.eof && p.pending() < kBufferBytes) {
      const ssize_t n = ::recv(from, tmp, sizeof tmp, 0);
      if (n > 0) {
        if (p.off > 0 && p.off == p.buf.size()) {
          p.buf.clear();
          p.off = 0;
        }
        p.buf.append(tmp, static_cast<std::size_t>(n));
        MutexLock lock(mu_);
        *counter += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n == 0) {
        p.eof = true;
        break;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return false;
    }
    return true;
  }

  // Writes what `p` holds to `to`; passes a FIN on once drained.
  bool WriteFrom(int to, Pipe& p) {
    while (p.pending() > 0) {
      const ssize_t n = ::send(to, p.buf.data() + p.off, p.pending(), MSG_NOSIGNAL);
      if (n > 0) {
        p.off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    p.buf.clear();
    p.off = 0;
    if (p.eof && !p.shut) {
      ::shutdown(to, SHUT_WR);
      p.shut = true;
    }
    return true;
  }

  void Accept() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a transient error: poll again
      bool cut = false;
      {
        MutexLock lock(mu_);
        cut = cut_;  // now, not when the poll started: Restore() may have come since
      }
      if (cut) {
        CloseWithReset(fd);
        MutexLock lock(mu_);
        ++counters_.refused;
        continue;
      }
      // The target is local (loopback): a blocking connect is immediate.
      const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (s < 0 || ::connect(s, reinterpret_cast<const sockaddr*>(&target_), sizeof target_) != 0) {
        if (s >= 0) ::close(s);
        CloseWithReset(fd);
        MutexLock lock(mu_);
        ++counters_.refused;
        continue;
      }
      SetNonBlocking(s);
      const int one = 1;
      ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      Conn c;
      c.client = fd;
      c.server = s;
      conns_.push_back(std::move(c));
      MutexLock lock(mu_);
      ++counters_.connections;
    }
  }

  void Loop() {
    std::vector<pollfd> fds;
    std::vector<Conn*> owners;  // fds[i] for i >= 2: conn of the pair at (i - 2) / 2
    for (;;) {
      bool cut = false;
      std::uint64_t cut_gen = 0;
      {
        MutexLock lock(mu_);
        if (stop_) break;
        cut = cut_;
        cut_gen = cut_requests_;
      }
      if (cut) {
        for (auto& c : conns_) {
          if (c.dead) continue;
          CloseWithReset(c.client);
          CloseWithReset(c.server);
          c.client = c.server = -1;
          c.dead = true;
          MutexLock lock(mu_);
          ++counters_.reset;
        }
      }
      conns_.remove_if([](const Conn& c) { return c.dead; });
      {
        MutexLock lock(mu_);
        counters_.open = static_cast<std::uint32_t>(conns_.size());
        if (cut && cut_done_ < cut_gen) {
          cut_done_ = cut_gen;
          cv_.NotifyAll();
        }
      }

      fds.clear();
      owners.clear();
      fds.push_back({wake_fd_, POLLIN, 0});
      fds.push_back({listen_fd_, POLLIN, 0});
      for (auto& c : conns_) {
        short ce = 0, se = 0;
        if (!c.up.eof && c.up.pending() < kBufferBytes) ce |= POLLIN;
        if (!c.down.eof && c.down.pending() < kBufferBytes) se |= POLLIN;
        if (c.down.pending() > 0) ce |= POLLOUT;
        if (c.up.pending() > 0) se |= POLLOUT;
        fds.push_back({c.client, ce, 0});
        fds.push_back({c.server, se, 0});
        owners.push_back(&c);
      }
      if (::poll(fds.data(), fds.size(), 1000) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[0].revents & POLLIN) {
        std::uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof v);
      }
      if (fds[1].revents & POLLIN) Accept();
      for (std::size_t i = 0; i < owners.size(); ++i) {
        Conn& c = *owners[i];
        const short cr = fds[2 + 2 * i].revents, sr = fds[3 + 2 * i].revents;
        bool ok = true;
        std::uint64_t* up_counter = &counters_.bytes_to_target;
        std::uint64_t* down_counter = &counters_.bytes_to_client;
        if (cr & (POLLIN | POLLHUP | POLLERR)) ok = ok && ReadInto(c.client, c.up, up_counter);
        if (sr & (POLLIN | POLLHUP | POLLERR)) ok = ok && ReadInto(c.server, c.down, down_counter);
        ok = ok && WriteFrom(c.server, c.up) && WriteFrom(c.client, c.down);
        if (!ok) {  // a reset or an error on one side: reset the other too
          CloseWithReset(c.client);
          CloseWithReset(c.server);
          c.client = c.server = -1;
          c.dead = true;
        } else if (c.up.shut && c.down.shut) {
          ::close(c.client);
          ::close(c.server);
          c.client = c.server = -1;
          c.dead = true;
        }
      }
    }
    MutexLock lock(mu_);
    cv_.NotifyAll();
  }

  const int listen_fd_, wake_fd_;
  const std::uint16_t port_;
  const sockaddr_in target_;
  std::list<Conn> conns_;  // the loop thread's only

  mutable Mutex mu_;
  CondVar cv_;
  bool stop_ SLUICE_GUARDED_BY(mu_) = false;
  bool cut_ SLUICE_GUARDED_BY(mu_) = false;
  std::uint64_t cut_requests_ SLUICE_GUARDED_BY(mu_) = 0;
  std::uint64_t cut_done_ SLUICE_GUARDED_BY(mu_) = 0;
  TcpForwarderCounters counters_ SLUICE_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<NetnsScope>> NetnsScope::Enter(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return InvalidArgument("bad network namespace name '" + name + "'");
  }
  const int back = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (back < 0) return IoError(Errno("/proc/thread-self/ns/net"));
  const std::string path = "/run/netns/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ::close(back);
    return NotFound(Errno(path));
  }
  const int rc = ::setns(fd, CLONE_NEWNET);
  ::close(fd);
  if (rc != 0) {
    ::close(back);
    return Status(StatusCode::kUnsupported, Errno("setns " + path));
  }
  return std::unique_ptr<NetnsScope>(new NetnsScope(back));
}

NetnsScope::~NetnsScope() {
  // Failing to return would leave this thread in a namespace that is about
  // to be deleted: every later connection of the thread would fail.
  SLUICE_CHECK(::setns(back_fd_, CLONE_NEWNET) == 0);
  ::close(back_fd_);
}

Result<std::unique_ptr<TcpForwarder>> TcpForwarder::Start(const TcpForwarderOptions& o) {
  if (o.target_port == 0) return InvalidArgument("tcp forwarder: no target port");
  SLUICE_ASSIGN_OR_RETURN(auto listen_addr, Ipv4(o.listen_address, o.listen_port));
  SLUICE_ASSIGN_OR_RETURN(auto target, Ipv4(o.target_address, o.target_port));

  int fd = -1;
  {
    std::unique_ptr<NetnsScope> scope;
    if (!o.listen_netns.empty()) {
      SLUICE_ASSIGN_OR_RETURN(auto s, NetnsScope::Enter(o.listen_netns));
      scope = std::move(s);
    }
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }  // back in the caller's namespace; the socket stays where it was made
  if (fd < 0) return IoError(Errno("socket"));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&listen_addr), sizeof listen_addr) != 0 ||
      ::listen(fd, 128) != 0) {
    const Status s =
        IoError(Errno("bind " + o.listen_address + ":" + std::to_string(o.listen_port)));
    ::close(fd);
    return s;
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    ::close(fd);
    return IoError(Errno("eventfd"));
  }
  return std::unique_ptr<TcpForwarder>(new Forwarder(fd, wake, ntohs(bound.sin_port), target));
}

}  // namespace sluice::wan
