// An impaired link between two fresh network namespaces, for tests and
// benchmarks of uploads over a bad WAN on a kernel without netem:
//
//   client ns  <name>c: veth <name>a 10.77.0.1/30   --rate, loss-->
//   server ns  <name>s: veth <name>b 10.77.0.2/30   --rate, loss, delay-->
//
//   rate   tc tbf on both veth ends (rate, burst, queue latency)
//   loss   iptables-legacy -t mangle PREROUTING ... statistic --probability
//          on the receiving end of each direction
//   delay  iptables NFQUEUE on the server end's PREROUTING (the upload
//          direction), packets held by tools/wan_delay: one-way, so the
//          round trip grows by delay_ms
//
// Everything lives inside the two namespaces it creates (both addresses
// too): the host's interfaces, routes and iptables rules are never touched.
// The destructor removes both namespaces (and with them the veth pair, the
// qdiscs and the rules) and stops wan_delay. A guard process, in a session of
// its own, does the same if the owning process dies without running the
// destructor (crash, SIGKILL); wan_delay also stops with its parent and
// after max_seconds.
//
// Needs root, ip, tc and iptables-legacy (Debian: iproute2, iptables) and,
// for delay, the wan_delay binary (libnetfilter-queue). Create() and the
// destructor must run on the same thread, one that lives as long as the
// link (wan_delay is tied to the thread that started it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace sluice::wan {

struct WanLinkOptions {
  // Rate of each direction, kbit/s (1000 = tc's "1mbit"); 0: unlimited.
  // Default: 1000.
  std::uint32_t rate_kbit = 1000;
  // tbf bucket, kbit, and the longest a packet may wait in its queue, ms.
  // Defaults: 32 and 400.
  std::uint32_t burst_kbit = 32;
  std::uint32_t queue_latency_ms = 400;
  // Random loss of each direction, 0 .. 1. Default: 0.01.
  double loss = 0.01;
  // Added one-way delay on the upload direction, ms; 0: none. Default: 100.
  std::uint32_t delay_ms = 100;
  // Path of tools/wan_delay; required when delay_ms > 0.
  std::string wan_delay_bin;
  // wan_delay stops by itself after this many seconds. Default: 600.
  std::uint32_t max_seconds = 600;
};

// What the impairments did so far, from the iptables rule counters.
struct WanLinkStats {
  std::uint64_t upload_dropped = 0;    // client -> server packets lost
  std::uint64_t download_dropped = 0;  // server -> client packets lost
  std::uint64_t upload_delayed = 0;    // client -> server packets held (after loss)
};

class WanLink {
 public:
  // OK when this process can build a link: root, and the commands (and
  // wan_delay when `delay`) present. Otherwise Unsupported saying what is
  // missing.
  static Status Available(const std::string& wan_delay_bin, bool delay);

  // Builds the link; on failure removes whatever it had made.
  static Result<std::unique_ptr<WanLink>> Create(const WanLinkOptions& options);
  ~WanLink();
  WanLink(const WanLink&) = delete;
  WanLink& operator=(const WanLink&) = delete;

  const std::string& client_ns() const { return client_ns_; }
  const std::string& server_ns() const { return server_ns_; }
  static constexpr const char* kClientAddress = "10.77.0.1";
  static constexpr const char* kServerAddress = "10.77.0.2";
  // "1000 kbit/s, 100 ms one-way delay, 1.00% loss each way".
  std::string Describe() const;
  Result<WanLinkStats> Stats() const;
  // Removes everything now (also done by the destructor); the first error.
  Status Remove();

 private:
  WanLink() = default;
  Status Build();

  WanLinkOptions options_;
  std::string name_, client_ns_, server_ns_, client_dev_, server_dev_;
  bool client_made_ = false, server_made_ = false;
  pid_t delay_pid_ = -1;
  int delay_out_fd_ = -1;
  pid_t guard_pid_ = -1;
  int guard_fd_ = -1;  // write end of the guard's stdin
};

// Runs argv (argv[0] looked up in PATH, /usr/sbin and /sbin), stdout and
// stderr captured; Unavailable with the output when it exits non-zero.
Result<std::string> RunCommand(const std::vector<std::string>& argv);

}  // namespace sluice::wan
