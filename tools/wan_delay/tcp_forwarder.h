// A TCP forwarder that a test or benchmark controls: it sits between a
// client (the S3 sink) and a real server (Ceph RGW) and can be cut, to
// inject an upstream outage without stopping the shared server.
//
//   auto fwd = TcpForwarder::Start({.target_port = 7480});
//   sink endpoint = "http://127.0.0.1:" + std::to_string((*fwd)->port());
//   (*fwd)->Cut();      // every open connection is reset, new ones too
//   (*fwd)->Restore();  // connections are forwarded again
//
// The listening socket may live in another network namespace than the
// forwarder's connections to the target (listen_netns): that is how a client
// inside a namespace reaches a server on the host's loopback.
//
// One thread, poll(2), bytes copied unchanged in both directions, half-close
// and resets passed on. Thread-safe: every method may be called from any
// thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace sluice::wan {

struct TcpForwarderOptions {
  // Where clients connect: an IPv4 address and a port (0: a free one).
  // Default: 127.0.0.1, port 0.
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 0;
  // Network namespace of the listening socket, as named by `ip netns`
  // (/run/netns/<name>). Empty: the caller's. Default: empty.
  std::string listen_netns;
  // The server, reached from the namespace of the thread that called Start.
  // Default: 127.0.0.1, no port (required).
  std::string target_address = "127.0.0.1";
  std::uint16_t target_port = 0;
};

struct TcpForwarderCounters {
  std::uint64_t connections = 0;   // accepted and forwarded
  std::uint64_t refused = 0;       // accepted while cut and reset at once
  std::uint64_t reset = 0;         // forwarded connections reset by Cut()
  std::uint64_t bytes_to_target = 0;
  std::uint64_t bytes_to_client = 0;
  std::uint32_t open = 0;          // forwarded connections open now
};

class TcpForwarder {
 public:
  // Binds, listens and starts the thread.
  static Result<std::unique_ptr<TcpForwarder>> Start(const TcpForwarderOptions& options);
  // Stops the thread and closes every socket.
  virtual ~TcpForwarder() = default;

  virtual std::uint16_t port() const = 0;
  // Resets (RST) every open connection and resets each new one as soon as it
  // is accepted, until Restore(). Returns once the open ones are gone.
  virtual void Cut() = 0;
  virtual void Restore() = 0;
  virtual TcpForwarderCounters counters() const = 0;
};

// Runs the calling thread in the network namespace /run/netns/<name> until
// destroyed, then moves it back. Threads started meanwhile stay in <name>
// for good (a new thread inherits its creator's namespace).
class NetnsScope {
 public:
  static Result<std::unique_ptr<NetnsScope>> Enter(const std::string& name);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  explicit NetnsScope(int back_fd) : back_fd_(back_fd) {}
  int back_fd_;
};

}  // namespace sluice::wan
