#include "bench_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "sensor_sim/fleet.h"

extern char** environ;

namespace sluice::bench {

void Die(const std::string& why) { throw Failure(why); }

Child::Child(Child&& o) noexcept : pid(o.pid), read_fd(o.read_fd), buffered(std::move(o.buffered)) {
  o.pid = -1;
  o.read_fd = -1;
}

std::string Child::ReadLine(std::int64_t deadline_ns) {
  for (;;) {
    const auto nl = buffered.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered.substr(0, nl);
      buffered.erase(0, nl + 1);
      return line;
    }
    const std::int64_t left_ms = (deadline_ns - MonotonicNs()) / 1'000'000;
    pollfd p{read_fd, POLLIN, 0};
    if (left_ms <= 0 || poll(&p, 1, static_cast<int>(left_ms)) != 1) return "";
    char buf[512];
    const ssize_t n = read(read_fd, buf, sizeof buf);
    if (n <= 0) return "";
    buffered.append(buf, static_cast<std::size_t>(n));
  }
}

void Child::Stop() {
  if (read_fd >= 0) close(read_fd);
  read_fd = -1;
  if (pid <= 0) return;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  kill(pid, SIGTERM);
  pollfd p{pidfd, POLLIN, 0};
  if (pidfd < 0 || poll(&p, 1, 30'000) != 1) kill(pid, SIGKILL);
  if (pidfd >= 0) close(pidfd);
  waitpid(pid, nullptr, 0);
  pid = -1;
}

Child Spawn(const std::vector<std::string>& args, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  Child c;
  int fds[2] = {-1, -1};
  if (log.empty()) {
    if (pipe2(fds, O_CLOEXEC) != 0) Die("pipe");
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int rc = posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    c.pid = -1;
    Die("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  if (fds[1] >= 0) close(fds[1]);
  c.read_fd = fds[0];
  return c;
}

namespace {

// The fields of /proc/<pid>/stat after "pid (comm) ", state first; empty if gone.
std::vector<std::string> StatFields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  std::vector<std::string> out;
  if (close == std::string::npos || close + 2 > s.size()) return out;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  while (rest >> field) out.push_back(field);
  return out;
}

}  // namespace

double CpuSeconds(pid_t pid) {
  const auto f = StatFields(pid);  // f[0] is field 3 (state): utime is 14, stime 15
  if (f.size() < 13) return 0;
  const unsigned long long utime = std::stoull(f[11]), stime = std::stoull(f[12]);
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double PeakRssMiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

double StatusMiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::string key = field + ":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtod(line.c_str() + key.size(), nullptr) / 1024.0;
  }
  return 0;
}

struct MemorySampler::State {
  pid_t pid;
  int admin_port;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  double peak = 0, peak_less = 0, open_at_peak = 0;
  std::thread thread;
};

MemorySampler::MemorySampler(pid_t pid, int admin_port) : s_(std::make_unique<State>()) {
  s_->pid = pid;
  s_->admin_port = admin_port;
  s_->thread = std::thread([s = s_.get()] {
    std::unique_lock lock(s->mu);
    while (!s->stop) {
      lock.unlock();
      const std::string metrics = HttpGet(s->admin_port, "/metrics");
      const double rss = StatusMiB(s->pid, "VmRSS");
      const double open = std::max(0.0, Metric(metrics, "sluice_store_open_blocks_memory_bytes"));
      lock.lock();
      if (!metrics.empty() && rss > 0) {
        const double open_mib = open / (1 << 20);
        s->peak = std::max(s->peak, rss);
        if (rss - open_mib > s->peak_less) {
          s->peak_less = rss - open_mib;
          s->open_at_peak = open_mib;
        }
      }
      s->cv.wait_for(lock, std::chrono::milliseconds(50), [s] { return s->stop; });
    }
  });
}

MemorySampler::~MemorySampler() { Stop(); }

void MemorySampler::Stop() {
  {
    std::lock_guard lock(s_->mu);
    s_->stop = true;
  }
  s_->cv.notify_all();
  if (s_->thread.joinable()) s_->thread.join();
}

double MemorySampler::peak_rss_mib() const {
  std::lock_guard lock(s_->mu);
  return s_->peak;
}

double MemorySampler::peak_rss_less_open_blocks_mib() const {
  std::lock_guard lock(s_->mu);
  return s_->peak_less;
}

double MemorySampler::open_blocks_at_peak_mib() const {
  std::lock_guard lock(s_->mu);
  return s_->open_at_peak;
}

double CpuPressureUs() {
  std::ifstream in("/proc/pressure/cpu");
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find("total=");
    if (line.rfind("some ", 0) == 0 && at != std::string::npos) {
      return std::strtod(line.c_str() + at + 6, nullptr);
    }
  }
  return -1;
}

pid_t FindChild(const std::string& comm) {
  DIR* d = opendir("/proc");
  if (d == nullptr) return -1;
  const std::string me = std::to_string(getpid());
  pid_t found = -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    const auto f = StatFields(pid);  // f[1] is field 4, the parent
    if (f.size() < 2 || f[1] != me) continue;
    std::ifstream c("/proc/" + std::string(e->d_name) + "/comm");
    std::string name;
    if (std::getline(c, name) && name == comm) {
      found = pid;
      break;
    }
  }
  closedir(d);
  return found;
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[16384];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) out.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  const auto body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

double Metric(const std::string& text, const std::string& name) {
  const std::string key = "\n" + name + " ";
  const auto at = ("\n" + text).find(key);
  return at == std::string::npos ? -1 : std::strtod(text.c_str() + at + key.size() - 1, nullptr);
}

Child StartSluice(const std::string& bin, const std::filesystem::path& dir,
                  const std::string& toml, int admin_port,
                  const std::function<bool(const std::string&)>& ready,
                  const std::string& not_ready) {
  std::ofstream(dir / "sluice.toml") << toml;
  Child s = Spawn({bin, "run", "--config", (dir / "sluice.toml").string()},
                  (dir / "sluice.log").string());
  const std::int64_t ready_by = MonotonicNs() + kReadyNs;
  while (!ready(HttpGet(admin_port, "/metrics"))) {
    if (MonotonicNs() > ready_by || waitpid(s.pid, nullptr, WNOHANG) == s.pid) {
      std::ifstream log(dir / "sluice.log");
      Die(not_ready + "; its log:\n" +
          std::string((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>()));
    }
    usleep(20'000);  // another process's state: nothing to await
  }
  return s;
}

Stored WaitStored(int admin_port, double messages, double records, std::int64_t idle_ns) {
  Stored r;
  double stored = -1;
  std::int64_t changed = MonotonicNs();
  for (;;) {
    r.metrics = HttpGet(admin_port, "/metrics");
    const std::int64_t now = MonotonicNs();
    const double st = Metric(r.metrics, "sluice_records_stored_total");
    r.messages = Metric(r.metrics, "sluice_mqtt_messages_total");
    if (st != stored) changed = now;
    stored = st;
    r.records = st;
    if (r.messages >= messages && stored >= records) {
      r.done_ns = now;
      r.complete = true;
      return r;
    }
    if (now - changed > idle_ns) {
      r.done_ns = changed;
      return r;
    }
    usleep(10'000);  // polling another process's counters
  }
}

mqtt_load::MessageGenerator JsonGenerator(std::uint32_t devices, std::uint32_t n) {
  return [devices, n](std::uint32_t c, std::uint64_t seq, mqtt_load::LoadMessage& m) {
    const std::uint32_t k = (devices - c + n - 1) / n;
    const auto device = static_cast<std::uint32_t>(c + (seq % k) * n);
    const double tick = static_cast<double>(seq / k);
    char buf[128];
    int len = std::snprintf(buf, sizeof buf, "{\"ts\":%lld", static_cast<long long>(WallMs()));
    for (std::uint32_t f = 0; f < kJsonFields; ++f) {
      const double v = 20.0 + device % 50 + f * 0.5 + std::sin(tick / 10.0 + f);  // in [19, 72)
      len += std::snprintf(buf + len, sizeof buf - static_cast<std::size_t>(len), ",\"m%u\":%.11f", f, v);
    }
    buf[len++] = '}';
    m.payload.assign(buf, static_cast<std::size_t>(len));
    m.topic = "bench/dev-" + std::to_string(device) + "/telemetry";
  };
}

std::vector<std::string> Split(const std::string& s, char separator) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, separator)) out.push_back(x);
  return out;
}

std::string Fixed(double x, int decimals) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, x);
  return b;
}

}  // namespace sluice::bench
