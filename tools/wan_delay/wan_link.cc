#include "wan_link.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <string>
#include <vector>

#include "base/clock.h"

namespace sluice::wan {
namespace {

// argv[0] as a path: as given when it has a '/', else the first executable
// of that name in PATH, /usr/sbin, /sbin.
std::string Resolve(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  dirs += ":/usr/sbin:/sbin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t colon = dirs.find(':', start);
    const std::string dir = dirs.substr(start, colon == std::string::npos ? colon : colon - start);
    if (!dir.empty()) {
      const std::string p = dir + "/" + name;
      if (::access(p.c_str(), X_OK) == 0) return p;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

struct SpawnOptions {
  int stdin_fd = -1;        // -1: /dev/null
  bool capture = true;      // stdout and stderr to a pipe (returned)
  bool die_with_parent = false;
  bool new_session = false;
};

// fork + exec with no allocation in the child; the pipe's read end in
// *out_fd when capturing.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const SpawnOptions& o, int* out_fd) {
  const std::string path = Resolve(argv.at(0));
  if (path.empty()) return Unsupported(argv[0] + ": not found (PATH, /usr/sbin, /sbin)");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out[2] = {-1, -1};
  if (o.capture && ::pipe2(out, O_CLOEXEC) != 0) return IoError("pipe2: " + std::string(std::strerror(errno)));
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const Status s = IoError("fork: " + std::string(std::strerror(errno)));
    if (out[0] >= 0) ::close(out[0]), ::close(out[1]);
    ::close(devnull);
    return s;
  }
  if (pid == 0) {
    if (o.new_session) ::setsid();
    if (o.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
    }
    ::dup2(o.stdin_fd >= 0 ? o.stdin_fd : devnull, 0);
    ::dup2(o.capture ? out[1] : devnull, 1);
    ::dup2(o.capture ? out[1] : devnull, 2);
    ::close_range(3, ~0U, 0);  // no socket or file of the test leaks into children
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(path.c_str(), args.data());
    ::_exit(127);
  }
  ::close(devnull);
  if (o.capture) {
    ::close(out[1]);
    *out_fd = out[0];
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Reads one line from fd until the deadline; empty on timeout or EOF.
std::string ReadLine(int fd, std::int64_t deadline_ms) {
  std::string line;
  char c;
  while (MonotonicMs() < deadline_ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(deadline_ms - MonotonicMs())) <= 0) continue;
    const ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) return line;
    if (c == '\n') return line;
    line += c;
  }
  return line;
}

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Namespaces named by an earlier process of ours that died without cleaning
// up (its guard killed too): sw<pid>n<k>c / sw<pid>n<k>s with <pid> gone.
void RemoveStale() {
  DIR* d = ::opendir("/run/netns");
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    unsigned pid = 0, k = 0;
    char side = 0, extra = 0;
    if (std::sscanf(n.c_str(), "sw%un%u%c%c", &pid, &k, &side, &extra) == 3 &&
        (side == 'c' || side == 's') && pid != 0 &&
        n == "sw" + std::to_string(pid) + "n" + std::to_string(k) + side &&
        !Alive(static_cast<pid_t>(pid))) {
      stale.push_back(n);
    }
  }
  ::closedir(d);
  for (const auto& n : stale) (void)RunCommand({"ip", "netns", "del", n});
}

std::atomic<int> g_links{0};

}  // namespace

Result<std::string> RunCommand(const std::vector<std::string>& argv) {
  int fd = -1;
  SLUICE_ASSIGN_OR_RETURN(auto pid, Spawn(argv, {}, &fd));
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(fd);
  const int rc = WaitExit(pid);
  if (rc != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return Unavailable("'" + cmd + "' exited " + std::to_string(rc) + ": " + out);
  }
  return out;
}

Status WanLink::Available(const std::string& wan_delay_bin, bool delay) {
  std::string missing;
  if (::geteuid() != 0) missing += "root (euid " + std::to_string(::geteuid()) + ")";
  for (const char* tool : {"ip", "tc", "iptables-legacy"}) {
    if (Resolve(tool).empty()) missing += std::string(missing.empty() ? "" : ", ") + tool;
  }
  if (delay && (wan_delay_bin.empty() || ::access(wan_delay_bin.c_str(), X_OK) != 0)) {
    missing += std::string(missing.empty() ? "" : ", ") + "wan_delay (built with libnetfilter-queue-dev)";
  }
  if (!missing.empty()) {
    return Unsupported("needs " + missing + " (Debian: iproute2, iptables, libnetfilter-queue-dev)");
  }
  return Status::Ok();
}

Result<std::unique_ptr<WanLink>> WanLink::Create(const WanLinkOptions& options) {
  if (options.loss < 0 || options.loss >= 1) return InvalidArgument("loss: 0 .. 1");
  if (options.delay_ms > 0 && options.wan_delay_bin.empty()) {
    return InvalidArgument("delay_ms > 0 needs wan_delay_bin");
  }
  SLUICE_RETURN_IF_ERROR(Available(options.wan_delay_bin, options.delay_ms > 0));
  RemoveStale();
  std::unique_ptr<WanLink> link(new WanLink());
  link->options_ = options;
  link->name_ = "sw" + std::to_string(::getpid()) + "n" + std::to_string(g_links++);
  link->client_ns_ = link->name_ + "c";
  link->server_ns_ = link->name_ + "s";
  link->client_dev_ = link->name_ + "a";
  link->server_dev_ = link->name_ + "b";
  const Status s = link->Build();
  if (!s.ok()) {
    (void)link->Remove();
    return s.WithContext("building the WAN link " + link->name_);
  }
  return link;
}

Status WanLink::Build() {
  // The guard first: from here on, a dying process leaves nothing behind.
  int guard_in[2];
  if (::pipe2(guard_in, O_CLOEXEC) != 0) return IoError("pipe2: " + std::string(std::strerror(errno)));
  const std::string script =
      "trap '' HUP INT TERM; read -r line; [ \"$line\" = done ] && exit 0; "
      "ip -n " + client_ns_ + " link del " + client_dev_ + " 2>/dev/null; "
      "ip netns del " + client_ns_ + " 2>/dev/null; ip netns del " + server_ns_ + " 2>/dev/null; exit 0";
  SpawnOptions go;
  go.stdin_fd = guard_in[0];
  go.capture = false;
  go.new_session = true;
  auto guard = Spawn({"/bin/sh", "-c", script}, go, nullptr);
  ::close(guard_in[0]);
  if (!guard.ok()) {
    ::close(guard_in[1]);
    return guard.status();
  }
  guard_pid_ = *guard;
  guard_fd_ = guard_in[1];

  const auto run = [](std::vector<std::string> argv) { return RunCommand(argv).status(); };
  const std::string& C = client_ns_;
  const std::string& S = server_ns_;
  SLUICE_RETURN_IF_ERROR(run({"ip", "netns", "add", C}));
  client_made_ = true;
  SLUICE_RETURN_IF_ERROR(run({"ip", "netns", "add", S}));
  server_made_ = true;
  SLUICE_RETURN_IF_ERROR(
      run({"ip", "-n", C, "link", "add", client_dev_, "type", "veth", "peer", "name", server_dev_,
           "netns", S}));
  for (const auto& [ns, dev, addr] :
       {std::tuple{C, client_dev_, std::string(kClientAddress)},
        std::tuple{S, server_dev_, std::string(kServerAddress)}}) {
    SLUICE_RETURN_IF_ERROR(run({"ip", "-n", ns, "addr", "add", addr + "/30", "dev", dev}));
    // One MTU-sized packet per skb: tbf, loss and delay act on real packets,
    // not on 64 KiB offload aggregates.
    SLUICE_RETURN_IF_ERROR(run({"ip", "-n", ns, "link", "set", dev, "gso_max_segs", "1"}));
    SLUICE_RETURN_IF_ERROR(run({"ip", "-n", ns, "link", "set", "lo", "up"}));
    SLUICE_RETURN_IF_ERROR(run({"ip", "-n", ns, "link", "set", dev, "up"}));
    if (options_.rate_kbit > 0) {
      SLUICE_RETURN_IF_ERROR(run({"tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf", "rate",
                                  std::to_string(options_.rate_kbit) + "kbit", "burst",
                                  std::to_string(options_.burst_kbit) + "kbit", "latency",
                                  std::to_string(options_.queue_latency_ms) + "ms"}));
    }
    if (options_.loss > 0) {
      // On the receiving end: what the sender's tbf let out is lost on the wire.
      char p[32];
      std::snprintf(p, sizeof p, "%.6f", options_.loss);
      SLUICE_RETURN_IF_ERROR(run({"ip", "netns", "exec", ns, "iptables-legacy", "-w", "-t", "mangle",
                                  "-A", "PREROUTING", "-i", dev, "-m", "statistic", "--mode",
                                  "random", "--probability", p, "-j", "DROP"}));
    }
  }
  if (options_.delay_ms > 0) {
    SLUICE_RETURN_IF_ERROR(run({"ip", "netns", "exec", S, "iptables-legacy", "-w", "-t", "mangle",
                                "-A", "PREROUTING", "-i", server_dev_, "-j", "NFQUEUE",
                                "--queue-num", "0", "--queue-bypass"}));
    SpawnOptions d;
    d.die_with_parent = true;
    auto pid = Spawn({options_.wan_delay_bin, "--netns", S, "--queue", "0", "--delay-ms",
                      std::to_string(options_.delay_ms), "--max-seconds",
                      std::to_string(options_.max_seconds)},
                     d, &delay_out_fd_);
    if (!pid.ok()) return pid.status();
    delay_pid_ = *pid;
    const std::string line = ReadLine(delay_out_fd_, MonotonicMs() + 10'000);
    if (line.rfind("wan_delay: ready", 0) != 0) {
      return Unavailable("wan_delay did not start: '" + line + "'");
    }
  }
  return Status::Ok();
}

std::string WanLink::Describe() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%u kbit/s (tbf burst %u kbit, latency %u ms), %u ms one-way delay "
                "upstream, %.2f%% loss each way",
                options_.rate_kbit, options_.burst_kbit, options_.queue_latency_ms,
                options_.delay_ms, options_.loss * 100);
  return buf;
}

Result<WanLinkStats> WanLink::Stats() const {
  WanLinkStats stats;
  // "pkts bytes target ..." rows of the mangle PREROUTING chain.
  const auto count = [](const std::string& ns, const char* target) -> Result<std::uint64_t> {
    auto out = RunCommand({"ip", "netns", "exec", ns, "iptables-legacy", "-w", "-t", "mangle",
                           "-L", "PREROUTING", "-v", "-x", "-n"});
    if (!out.ok()) return out.status();
    std::uint64_t total = 0;
    std::size_t start = 0;
    while (start < out->size()) {
      std::size_t end = out->find('\n', start);
      if (end == std::string::npos) end = out->size();
      unsigned long long pkts = 0, bytes = 0;
      char t[32] = {};
      if (std::sscanf(out->substr(start, end - start).c_str(), " %llu %llu %31s", &pkts, &bytes,
                      t) == 3 &&
          std::string(t) == target) {
        total += pkts;
      }
      start = end + 1;
    }
    return total;
  };
  if (!client_made_ || !server_made_) return Status(StatusCode::kNotFound, "link removed");
  if (options_.loss > 0) {
    auto up = count(server_ns_, "DROP");
    auto down = count(client_ns_, "DROP");
    if (!up.ok()) return up.status();
    if (!down.ok()) return down.status();
    stats.upload_dropped = *up;
    stats.download_dropped = *down;
  }
  if (options_.delay_ms > 0) {
    SLUICE_ASSIGN_OR_RETURN(auto delayed, count(server_ns_, "NFQUEUE"));
    stats.upload_delayed = delayed;
  }
  return stats;
}

Status WanLink::Remove() {
  Status first;
  const auto note = [&](const Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  if (delay_pid_ > 0) {
    ::kill(delay_pid_, SIGTERM);
    // It accepts what it holds and exits at once; KILL if it does not.
    const std::int64_t until = MonotonicMs() + 5000;
    int status = 0;
    pid_t r = 0;
    while ((r = ::waitpid(delay_pid_, &status, WNOHANG)) == 0 && MonotonicMs() < until) {
      pollfd p{delay_out_fd_, POLLIN, 0};
      ::poll(&p, 1, 20);
      char buf[512];
      if (p.revents & POLLIN) (void)!::read(delay_out_fd_, buf, sizeof buf);
    }
    if (r == 0) {
      ::kill(delay_pid_, SIGKILL);
      ::waitpid(delay_pid_, &status, 0);
      note(Unavailable("wan_delay ignored SIGTERM"));
    }
    delay_pid_ = -1;
  }
  if (delay_out_fd_ >= 0) ::close(delay_out_fd_), delay_out_fd_ = -1;
  // Deleting one end deletes the pair; the namespaces take the qdiscs and
  // the iptables rules with them.
  if (client_made_) {
    (void)RunCommand({"ip", "-n", client_ns_, "link", "del", client_dev_});
    note(RunCommand({"ip", "netns", "del", client_ns_}).status());
    client_made_ = false;
  }
  if (server_made_) {
    note(RunCommand({"ip", "netns", "del", server_ns_}).status());
    server_made_ = false;
  }
  if (guard_fd_ >= 0) {
    (void)!::write(guard_fd_, "done\n", 5);
    ::close(guard_fd_);
    guard_fd_ = -1;
  }
  if (guard_pid_ > 0) {
    WaitExit(guard_pid_);
    guard_pid_ = -1;
  }
  return first;
}

WanLink::~WanLink() { (void)Remove(); }

}  // namespace sluice::wan
