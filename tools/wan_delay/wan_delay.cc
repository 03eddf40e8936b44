// wan_delay: holds every packet of one NFQUEUE queue for a fixed time, then
// lets it through, to add WAN latency where the kernel has no netem.
//
//   wan_delay --netns NAME --queue N --delay-ms D [--max-seconds S] [--max-held P]
//
// Safety: it only runs inside the named network namespace (/run/netns/NAME,
// made by `ip netns add`) and refuses the one it was started in and the
// initial one, so it can never hold the host's traffic; it sees only what that namespace's iptables rules send
// to queue N (use --queue-bypass on the rule: packets pass undelayed when no
// program listens). It stops by itself after --max-seconds (default 600),
// on SIGTERM or SIGINT, and when its parent dies; every packet it still holds
// is accepted on the way out, none is dropped.
//
// Prints "wan_delay: ready ..." on stdout once the queue is bound (callers
// wait for that line before sending traffic), and a summary at exit.
#include <arpa/inet.h>
#include <fcntl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <deque>
#include <string>

#include "base/clock.h"

namespace {

using sluice::MonotonicNs;

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct Held {
  std::int64_t release_ns;
  std::uint32_t id;
};

struct State {
  std::int64_t delay_ns = 0;
  std::size_t max_held = 0;
  std::deque<Held> held;  // FIFO: a constant delay keeps arrival order
  std::uint64_t delayed = 0, passed_at_once = 0;
  nfq_q_handle* queue = nullptr;
};

int OnPacket(nfq_q_handle* qh, nfgenmsg*, nfq_data* nfa, void* data) {
  auto* st = static_cast<State*>(data);
  const nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(nfa);
  if (ph == nullptr) return 0;
  const std::uint32_t id = ntohl(ph->packet_id);
  if (st->held.size() >= st->max_held) {  // fail open rather than grow
    ++st->passed_at_once;
    return nfq_set_verdict(qh, id, NF_ACCEPT, 0, nullptr);
  }
  st->held.push_back({MonotonicNs() + st->delay_ns, id});
  ++st->delayed;
  return 0;
}

void ReleaseDue(State& st, std::int64_t now_ns) {
  while (!st.held.empty() && st.held.front().release_ns <= now_ns) {
    nfq_set_verdict(st.queue, st.held.front().id, NF_ACCEPT, 0, nullptr);
    st.held.pop_front();
  }
}

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "wan_delay: %s\nusage: wan_delay --netns NAME --queue N --delay-ms D "
               "[--max-seconds S] [--max-held P]\n",
               why);
  std::exit(2);
}

bool ParseUint(const char* s, unsigned long max, unsigned long* out) {
  if (s == nullptr || *s == '\0') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long v = std::strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max) return false;
  *out = v;
  return true;
}

// Enters /run/netns/NAME and checks that it is neither the namespace this
// program was started in (the caller's, usually the host's) nor, when that
// can be read, the initial one (pid 1's).
bool EnterNetns(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    std::fprintf(stderr, "wan_delay: bad namespace name '%s'\n", name.c_str());
    return false;
  }
  struct stat before {};
  if (::stat("/proc/self/ns/net", &before) != 0) {
    std::fprintf(stderr, "wan_delay: /proc/self/ns/net: %s\n", std::strerror(errno));
    return false;
  }
  const std::string path = "/run/netns/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "wan_delay: %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  const int rc = ::setns(fd, CLONE_NEWNET);
  ::close(fd);
  if (rc != 0) {
    std::fprintf(stderr, "wan_delay: setns %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  struct stat self {}, init {};
  if (::stat("/proc/self/ns/net", &self) != 0) {
    std::fprintf(stderr, "wan_delay: /proc/self/ns/net: %s\n", std::strerror(errno));
    return false;
  }
  const auto same = [](const struct stat& a, const struct stat& b) {
    return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
  };
  if (same(self, before) || (::stat("/proc/1/ns/net", &init) == 0 && same(self, init))) {
    std::fprintf(stderr,
                 "wan_delay: %s is the caller's or the initial network namespace; refusing\n",
                 name.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string netns;
  unsigned long queue_num = 0, delay_ms = 0, max_seconds = 600, max_held = 100'000;
  bool have_queue = false, have_delay = false;
  for (int i = 1; i < argc; i += 2) {  // every option takes a value
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--netns" && v) {
      netns = v;
    } else if (a == "--queue" && v) {
      if (!ParseUint(v, 65535, &queue_num)) Usage("--queue: 0..65535");
      have_queue = true;
    } else if (a == "--delay-ms" && v) {
      if (!ParseUint(v, 60'000, &delay_ms)) Usage("--delay-ms: 0..60000");
      have_delay = true;
    } else if (a == "--max-seconds" && v) {
      if (!ParseUint(v, 86'400, &max_seconds) || max_seconds == 0) Usage("--max-seconds: 1..86400");
    } else if (a == "--max-held" && v) {
      if (!ParseUint(v, 10'000'000, &max_held) || max_held == 0) Usage("--max-held: 1..10000000");
    } else {
      Usage(("unknown or incomplete argument '" + a + "'").c_str());
    }
  }
  if (netns.empty() || !have_queue || !have_delay) Usage("--netns, --queue and --delay-ms are required");

  // Stop with the parent (a test that crashed), as well as by the clock.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: poll() returns EINTR
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  if (::getppid() == 1) return 0;  // the parent is already gone

  if (!EnterNetns(netns)) return 1;

  State st;
  st.delay_ns = static_cast<std::int64_t>(delay_ms) * 1'000'000;
  st.max_held = max_held;
  nfq_handle* h = nfq_open();
  if (h == nullptr) {
    std::fprintf(stderr, "wan_delay: nfq_open: %s\n", std::strerror(errno));
    return 1;
  }
  st.queue = nfq_create_queue(h, static_cast<std::uint16_t>(queue_num), &OnPacket, &st);
  if (st.queue == nullptr) {
    std::fprintf(stderr, "wan_delay: bind queue %lu in %s: %s\n", queue_num, netns.c_str(),
                 std::strerror(errno));
    nfq_close(h);
    return 1;
  }
  // Metadata only: the verdict needs the packet id, not the bytes.
  if (nfq_set_mode(st.queue, NFQNL_COPY_META, 0) < 0 &&
      nfq_set_mode(st.queue, NFQNL_COPY_PACKET, 0) < 0) {
    std::fprintf(stderr, "wan_delay: nfq_set_mode: %s\n", std::strerror(errno));
    nfq_destroy_queue(st.queue);
    nfq_close(h);
    return 1;
  }
  const auto kernel_max = static_cast<std::uint32_t>(std::min<unsigned long>(max_held + 1024, 1u << 20));
  (void)nfq_set_queue_maxlen(st.queue, kernel_max);
  // When the kernel queue is full, accept instead of dropping.
  (void)nfq_set_queue_flags(st.queue, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);
  (void)nfnl_rcvbufsiz(nfq_nfnlh(h), 8u << 20);

  const int fd = nfq_fd(h);
  std::printf("wan_delay: ready netns=%s queue=%lu delay_ms=%lu max_seconds=%lu\n", netns.c_str(),
              queue_num, delay_ms, max_seconds);
  std::fflush(stdout);

  const std::int64_t end_ns =
      MonotonicNs() + static_cast<std::int64_t>(max_seconds) * 1'000'000'000;
  std::uint64_t overruns = 0;
  alignas(8) char buf[65536];
  while (!g_stop) {
    const std::int64_t now = MonotonicNs();
    if (now >= end_ns) break;
    ReleaseDue(st, now);
    std::int64_t wait_ns = std::min<std::int64_t>(end_ns - now, 100'000'000);
    if (!st.held.empty()) wait_ns = std::min(wait_ns, st.held.front().release_ns - now);
    pollfd p{fd, POLLIN, 0};
    const int timeout_ms = static_cast<int>(std::max<std::int64_t>(0, (wait_ns + 999'999) / 1'000'000));
    const int n = ::poll(&p, 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "wan_delay: poll: %s\n", std::strerror(errno));
      break;
    }
    if (n == 0) continue;
    // Drain what is readable without blocking.
    for (;;) {
      const ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r > 0) {
        nfq_handle_packet(h, buf, static_cast<int>(r));
        continue;
      }
      if (r < 0 && errno == ENOBUFS) {  // the kernel dropped notifications; keep going
        ++overruns;
        continue;
      }
      break;
    }
  }
  // Whatever is still held goes through now.
  ReleaseDue(st, INT64_MAX);
  nfq_destroy_queue(st.queue);
  nfq_close(h);
  std::printf("wan_delay: stopped: %llu packets delayed, %llu passed at once, %llu overruns\n",
              static_cast<unsigned long long>(st.delayed),
              static_cast<unsigned long long>(st.passed_at_once),
              static_cast<unsigned long long>(overruns));
  std::fflush(stdout);
  return 0;
}
