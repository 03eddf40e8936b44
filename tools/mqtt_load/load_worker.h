// Internal to mqtt_load: the I/O threads. One Worker owns a fixed set of
// connections and one epoll instance; Shared is what the workers share
// (counters, the first error, the start barrier). See mqtt_load.h for the
// behaviour callers rely on.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "latency_histogram.h"
#include "mqtt_load/mqtt_load.h"

namespace sluice::mqtt_load::detail {

namespace mq = gateway::mqtt;

constexpr std::uint32_t kMaxInboundPacket = 1u << 20;  // what the server may send us
constexpr std::size_t kReadChunk = 16 * 1024;  // first read buffer; grows for larger packets
constexpr std::size_t kMaxConnecting = 128;  // per thread: handshakes in progress at once
constexpr std::int64_t kHousekeepingNs = 100'000'000;  // timeouts, keep-alive, stop flag
constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

// State shared by the I/O threads.
struct Shared {
  const LoadOptions& o;
  const MessageGenerator& generate;
  const std::atomic<bool>* stop;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string where;  // "host:port"
  std::vector<int> wake_fds;  // one eventfd per thread

  std::atomic<bool> failed{false};
  Mutex mu;
  Status error SLUICE_GUARDED_BY(mu);  // the first failure
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint32_t> connected{0};
  std::atomic<std::int64_t> start_ns{0};  // publishing began; 0: not yet

  Shared(const LoadOptions& options, const MessageGenerator& g, const std::atomic<bool>* s)
      : o(options), generate(g), stop(s) {}

  void WakeAll() {
    const std::uint64_t one = 1;
    for (int fd : wake_fds) (void)!write(fd, &one, sizeof one);
  }
  void Fail(Status s) {
    {
      MutexLock lock(mu);
      if (error.ok()) error = std::move(s);
    }
    failed.store(true);
    WakeAll();
  }
};

enum class State : std::uint8_t {
  kIdle,           // not started
  kConnecting,     // TCP connect in progress
  kAwaitConnack,   // CONNECT sent
  kReady,          // connected: waiting for the others, publishing, or collecting acks
  kDisconnecting,  // DISCONNECT queued
  kClosing,        // write side shut; waiting for the server to close
  kDone,
};

struct Slot {
  std::int64_t sent_ns = 0;
  std::uint8_t stage = 0;  // 0 free, 1 awaiting PUBACK or PUBREC, 2 awaiting PUBCOMP
};

struct Conn {
  std::uint32_t index = 0;
  std::string client_id;
  int fd = -1;
  State state = State::kIdle;
  std::uint64_t quota = kUnlimited;  // messages this connection sends
  std::uint64_t seq = 0;             // next sequence number
  std::string out;                   // bytes to write, from out_off
  std::size_t out_off = 0;
  std::uint64_t unflushed_qos0 = 0;  // QoS 0 messages in `out`
  std::vector<std::uint8_t> in;      // bytes read, [0, in_len)
  std::size_t in_len = 0;
  bool writable = false;
  bool queued = false;         // in the runnable list
  bool token_blocked = false;  // in the list waiting for rate tokens
  std::uint32_t window = 0;
  std::uint8_t max_qos = 2;
  std::uint32_t max_packet = 0;  // 0: no limit
  std::vector<Slot> slots;       // packet id i + 1
  std::vector<std::uint16_t> free_ids;
  std::uint32_t inflight = 0;
  std::int64_t deadline_ns = 0;  // connect + CONNACK
  std::int64_t last_io_ns = 0;
  std::int64_t last_send_ns = 0;
  std::int64_t drained_ns = 0;  // everything sent and acknowledged
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;

  std::size_t pending_out() const { return out.size() - out_off; }
};

class Worker {
 public:
  Worker(Shared& shared, std::uint32_t id, std::uint32_t threads)
      : s_(shared), o_(shared.o), id_(id), wake_fd_(shared.wake_fds[id]) {
    for (std::uint32_t i = id; i < o_.connections; i += threads) {
      Conn c;
      c.index = i;
      c.client_id = o_.client_id_prefix + "-" + std::to_string(i);
      if (o_.count > 0) c.quota = o_.count / o_.connections + (i < o_.count % o_.connections);
      conns_.push_back(std::move(c));
    }
    rate_ = o_.rate * static_cast<double>(conns_.size()) / o_.connections;
    burst_ = std::max(1.0, rate_ * 0.01);
    wake_tokens_ = std::min<double>(o_.batch, std::max(1.0, rate_ * 0.001));
  }

  void Run();

  LatencyHistogram histogram;
  std::uint64_t errors = 0, bytes = 0, writes = 0;
  std::int64_t connected_ns = 0, drained_ns = 0;
  std::uint32_t min_window = std::numeric_limits<std::uint32_t>::max();

 private:
  void StartConnects(std::int64_t now);
  void Housekeeping(std::int64_t now);
  void Pump(Conn& c);
  void SendBatch(Conn& c);
  bool Flush(Conn& c);
  void OnEvents(Conn& c, std::uint32_t events);
  void Read(Conn& c);
  bool Parse(Conn& c, std::int64_t now);
  bool Handle(Conn& c, const mq::FrameHeader& h, std::span<const std::uint8_t> body,
              std::int64_t now);
  void OnConnack(Conn& c, const mq::ConnackPacket& ack, std::int64_t now);
  bool Complete(Conn& c, mq::PacketType type, const mq::AckPacket& ack, std::int64_t now);
  bool CanSend(const Conn& c) const {
    return publishing_ && !stopped_ && c.seq < c.quota && (o_.qos == 0 || c.inflight < c.window);
  }
  void Enqueue(Conn& c) {
    if (!c.queued && c.state != State::kDone && c.fd >= 0) {
      c.queued = true;
      runnable_.push_back(&c);
    }
  }
  void Finish(Conn& c);
  void Fail(const Conn& c, const std::string& what);
  std::int64_t TimeoutNs(std::int64_t now) const;

  Shared& s_;
  const LoadOptions& o_;
  const std::uint32_t id_;
  const int wake_fd_;
  int epfd_ = -1;
  std::vector<Conn> conns_;  // never resized after construction: epoll holds pointers
  std::deque<Conn*> runnable_;
  std::deque<Conn*> token_blocked_;  // starved ones first
  std::size_t next_connect_ = 0, connecting_ = 0, done_ = 0;
  bool publishing_ = false, stopped_ = false;
  std::int64_t start_ns_ = 0, deadline_ns_ = 0, next_housekeeping_ns_ = 0, next_progress_ns_ = 0;
  double rate_ = 0, burst_ = 0, wake_tokens_ = 1, tokens_ = 0;
  std::int64_t refilled_ns_ = 0;
  LoadMessage msg_;
  mq::PublishPacket pub_;
};

}  // namespace sluice::mqtt_load::detail
