// Probes that measure or reach out: fdatasync latency, sequential O_DIRECT
// bandwidth, TCP reachability of brokers and upstream, an S3 Head.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "doctor/doctor.h"
#include "store/env.h"
#include "sync/sink.h"

namespace sluice::gateway::doctor {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string Fmt(const char* f, double a, double b = 0) {
  char buf[96];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

// A scratch file in `dir`, removed when it goes out of scope.
struct Scratch {
  std::string path;
  int fd = -1;
  Scratch(const std::string& dir, const char* name, int extra) {
    path = (fs::path(dir) / name).string();
    fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC | extra, 0600);
  }
  ~Scratch() {
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
  }
};

// Connects within `timeout_ms`; "" on success, else why not.
std::string Connect(const std::string& host, int port, int timeout_ms) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) return std::string("cannot resolve: ") + gai_strerror(rc);
  std::string why = "no address";
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int err = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int n = ::poll(&p, 1, timeout_ms);
      socklen_t len = sizeof err;
      if (n == 0) err = ETIMEDOUT;
      else if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    ::close(fd);
    if (err == 0) {
      ::freeaddrinfo(res);
      return "";
    }
    why = std::strerror(err);
  }
  ::freeaddrinfo(res);
  return why;
}

}  // namespace

CheckResult CheckSyncLatency(const std::string& dir, int writes) {
  Scratch f(dir, ".sluice-doctor-sync", 0);
  if (f.fd < 0) return {Level::kFail, "fdatasync", "cannot create a file in " + dir + ": " + std::strerror(errno)};
  std::vector<double> ms;
  char block[4096];
  std::memset(block, 0x5a, sizeof block);
  for (int i = 0; i < writes; ++i) {
    const auto t0 = Clock::now();
    if (::pwrite(f.fd, block, sizeof block, static_cast<off_t>(i) * 4096) != 4096 ||
        ::fdatasync(f.fd) != 0) {
      return {Level::kFail, "fdatasync", std::string("write + fdatasync failed: ") + std::strerror(errno)};
    }
    ms.push_back(Ms(Clock::now() - t0));
  }
  std::sort(ms.begin(), ms.end());
  const double p50 = ms[ms.size() / 2];
  const double p99 = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  const std::string m = Fmt("4 KiB write + fdatasync: p50 %.2f ms, p99 %.2f ms", p50, p99);
  // Every durable ack waits for one: past 10 ms (SD cards, cheap eMMC) the
  // group commit needs a longer store.wal_max_commit_delay to keep up.
  if (p50 > 10.0) return {Level::kWarn, "fdatasync", m + "; slow medium: raise store.wal_max_commit_delay"};
  return {Level::kPass, "fdatasync", m};
}

CheckResult CheckWriteBandwidth(const std::string& dir, std::uint64_t bytes) {
  Scratch f(dir, ".sluice-doctor-bw", O_DIRECT);
  if (f.fd < 0) return {Level::kFail, "bandwidth", "cannot open with O_DIRECT in " + dir + ": " + std::strerror(errno)};
  constexpr std::size_t kChunk = 1 << 20;  // the default block size
  store::AlignedBuffer buf = store::AllocateAligned(kChunk);
  std::memset(buf.get(), 0x5a, kChunk);
  const auto t0 = Clock::now();
  for (std::uint64_t off = 0; off < bytes; off += kChunk) {
    if (::pwrite(f.fd, buf.get(), kChunk, static_cast<off_t>(off)) != static_cast<ssize_t>(kChunk)) {
      return {Level::kFail, "bandwidth", std::string("O_DIRECT write failed: ") + std::strerror(errno)};
    }
  }
  if (::fdatasync(f.fd) != 0) return {Level::kFail, "bandwidth", std::string("fdatasync: ") + std::strerror(errno)};
  const double s = Ms(Clock::now() - t0) / 1000.0;
  const double mibs = static_cast<double>(bytes) / (1 << 20) / std::max(s, 1e-6);
  const std::string m = Fmt("sequential O_DIRECT writes: %.0f MiB/s over %.0f MiB", mibs,
                            static_cast<double>(bytes) / (1 << 20));
  // Below ~20 MiB/s (SD cards) sealing and compaction compete with ingest.
  if (mibs < 20.0) return {Level::kWarn, "bandwidth", m + "; slow medium for the store"};
  return {Level::kPass, "bandwidth", m};
}

bool SplitHostPort(const std::string& uri, std::string& host, int& port) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = uri.substr(0, scheme_end);
  std::string rest = uri.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('/'));
  port = scheme == "https" ? 443 : scheme == "http" ? 80 : scheme == "ssl" ? 8883 : 1883;
  std::string p;
  if (rest.starts_with("[")) {  // [v6]:port
    const auto close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') p = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) p = rest.substr(colon + 1);
  }
  if (!p.empty()) {
    if (p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit)) return false;
    port = std::stoi(p);
  }
  return !host.empty() && port > 0 && port < 65536;
}

CheckResult CheckTcp(const std::string& name, const std::string& host, int port, int timeout_ms) {
  const std::string where = host + ":" + std::to_string(port);
  const std::string why = Connect(host, port, timeout_ms);
  if (why.empty()) return {Level::kPass, name, where + " reachable (TCP)"};
  return {Level::kFail, name, where + " unreachable: " + why};
}

std::vector<CheckResult> CheckBrokers(const MqttOptions& mqtt, int timeout_ms) {
  std::vector<CheckResult> out;
  if (mqtt.brokers.empty()) {
    out.push_back({Level::kWarn, "broker", "no [[mqtt.broker]]: nothing will be ingested"});
  }
  for (const auto& b : mqtt.brokers) {
    std::string host;
    int port = 0;
    if (!SplitHostPort(b.uri, host, port)) {
      out.push_back({Level::kFail, "broker", "cannot parse uri '" + b.uri + "'"});
      continue;
    }
    out.push_back(CheckTcp("broker", host, port, timeout_ms));
  }
  return out;
}

std::vector<CheckResult> CheckUpstream(const SyncConfig& sync, int timeout_ms) {
  std::vector<CheckResult> out;
  if (sync.sink == SinkKind::kNone) {
    out.push_back({Level::kPass, "upstream", "sync.sink = none: nothing leaves the box"});
    return out;
  }
  if (sync.sink == SinkKind::kDir) {
    std::error_code ec;
    const bool ok = fs::is_directory(sync.dir.root, ec);
    out.push_back({ok ? Level::kPass : Level::kFail, "upstream",
                   "sync.dir.root " + sync.dir.root + (ok ? " exists" : " is not a directory")});
    return out;
  }
  std::string host;
  int port = 0;
  if (!SplitHostPort(sync.s3.endpoint, host, port)) {
    out.push_back({Level::kFail, "upstream", "cannot parse sync.s3.endpoint"});
    return out;
  }
  out.push_back(CheckTcp("upstream", host, port, timeout_ms));
  if (out.back().level != Level::kPass) return out;
  sync::S3SinkOptions s3 = sync.s3;
  s3.key_prefix = sync.engine.key_prefix;
  s3.connect_timeout = std::chrono::milliseconds(std::max(timeout_ms, 100));
  auto sink = sync::OpenS3Sink(s3);
  if (!sink.ok()) {
    out.push_back({Level::kWarn, "upstream-auth", "no credentials to try: " + sink.status().message()});
    return out;
  }
  // A key nothing writes: 404 proves the signature and bucket were accepted.
  auto head = (*sink)->Head("sluice-doctor-probe");
  const bool no_bucket = head.status().message().find("NoSuchBucket") != std::string::npos;
  if (head.ok() || (head.status().code() == StatusCode::kNotFound && !no_bucket)) {
    out.push_back({Level::kPass, "upstream-auth", (*sink)->Describe() + ": credentials accepted"});
  } else {
    out.push_back({Level::kFail, "upstream-auth", (*sink)->Describe() + ": " + head.status().message()});
  }
  return out;
}

}  // namespace sluice::gateway::doctor
