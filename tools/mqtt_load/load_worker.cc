#include "load_worker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sluice::mqtt_load::detail {

void Worker::Fail(const Conn& c, const std::string& what) {
  s_.Fail(Unavailable(s_.where + " connection " + std::to_string(c.index) + " (" + c.client_id +
                      "): " + what));
}

void Worker::Run() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    s_.Fail(ErrnoStatus("epoll_create1", errno));
    return;
  }
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.ptr = nullptr;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &wake);
  epoll_event events[256];
  while (!s_.failed.load(std::memory_order_relaxed) && done_ < conns_.size()) {
    std::int64_t now = MonotonicNs();
    StartConnects(now);
    if (!publishing_) {
      start_ns_ = s_.start_ns.load();
      if (start_ns_ != 0) {
        publishing_ = true;
        refilled_ns_ = start_ns_;
        next_progress_ns_ = start_ns_ + o_.progress_interval.count() * 1'000'000;
        if (o_.duration_s > 0) deadline_ns_ = start_ns_ + static_cast<std::int64_t>(o_.duration_s * 1e9);
        for (auto& c : conns_) Enqueue(c);
      }
    }
    if (publishing_ && !stopped_ &&
        ((s_.stop != nullptr && s_.stop->load(std::memory_order_relaxed)) ||
         (deadline_ns_ > 0 && now >= deadline_ns_))) {
      stopped_ = true;  // no more PUBLISH: drain and disconnect every connection
      for (auto& c : conns_) Enqueue(c);
    }
    if (now >= next_housekeeping_ns_) Housekeeping(now);
    if (publishing_ && rate_ > 0) {
      tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now - refilled_ns_) / 1e9);
      refilled_ns_ = now;
      if (tokens_ >= wake_tokens_ || stopped_) {
        for (Conn* c : token_blocked_) {
          c->token_blocked = false;
          Enqueue(*c);
        }
        token_blocked_.clear();
      }
    }
    for (std::size_t k = runnable_.size(); k > 0 && !runnable_.empty(); --k) {
      Conn* c = runnable_.front();
      runnable_.pop_front();
      c->queued = false;
      Pump(*c);
      if (s_.failed.load(std::memory_order_relaxed)) break;
    }
    if (id_ == 0 && publishing_ && o_.on_progress && now >= next_progress_ns_) {
      next_progress_ns_ = now + o_.progress_interval.count() * 1'000'000;
      o_.on_progress({s_.sent.load(), s_.acked.load(), static_cast<double>(now - start_ns_) / 1e9});
    }
    const std::int64_t wait_ns = runnable_.empty() ? TimeoutNs(now) : 0;
    timespec ts{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
    const int n = epoll_pwait2(epfd_, events, 256, &ts, nullptr);
    if (n < 0 && errno != EINTR) {
      s_.Fail(ErrnoStatus("epoll_pwait2", errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        std::uint64_t v;
        (void)!read(wake_fd_, &v, sizeof v);
        continue;
      }
      OnEvents(*static_cast<Conn*>(events[i].data.ptr), events[i].events);
    }
  }
  for (auto& c : conns_) {
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
    drained_ns = std::max(drained_ns, c.drained_ns);
  }
  close(epfd_);
}

std::int64_t Worker::TimeoutNs(std::int64_t now) const {
  std::int64_t until = next_housekeeping_ns_;
  if (publishing_ && !token_blocked_.empty() && rate_ > 0) {
    until = std::min(until, now + static_cast<std::int64_t>((wake_tokens_ - tokens_) / rate_ * 1e9) + 1);
  }
  if (id_ == 0 && publishing_ && o_.on_progress) until = std::min(until, next_progress_ns_);
  if (deadline_ns_ > 0 && !stopped_) until = std::min(until, deadline_ns_);
  return std::max<std::int64_t>(0, until - now);
}

void Worker::StartConnects(std::int64_t now) {
  while (connecting_ < kMaxConnecting && next_connect_ < conns_.size()) {
    Conn& c = conns_[next_connect_++];
    c.fd = socket(s_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return Fail(c, "socket: " + std::string(std::strerror(errno)));
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&s_.addr), s_.addr_len) != 0 &&
        errno != EINPROGRESS) {
      return Fail(c, "connect: " + std::string(std::strerror(errno)));
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
      return Fail(c, "epoll_ctl: " + std::string(std::strerror(errno)));
    }
    c.state = State::kConnecting;
    c.deadline_ns = now + o_.connect_timeout.count() * 1'000'000;
    c.last_io_ns = c.last_send_ns = now;
    ++connecting_;
  }
}

void Worker::Housekeeping(std::int64_t now) {
  next_housekeeping_ns_ = now + kHousekeepingNs;
  const std::int64_t io_ns = o_.io_timeout.count() * 1'000'000;
  const std::int64_t keep_alive_ns = std::int64_t{o_.keep_alive_s} * 500'000'000;
  for (auto& c : conns_) {
    if (stopped_) Enqueue(c);  // to drain and disconnect
    switch (c.state) {
      case State::kConnecting:
      case State::kAwaitConnack:
        if (now > c.deadline_ns) {
          return Fail(c, (c.state == State::kConnecting ? "TCP connect" : "CONNACK") +
                             std::string(" not done within ") +
                             std::to_string(o_.connect_timeout.count()) + " ms");
        }
        break;
      case State::kReady:
      case State::kDisconnecting:
      case State::kClosing: {
        const bool awaiting = c.inflight > 0 || c.pending_out() > 0 || c.state != State::kReady;
        if (awaiting && now - c.last_io_ns > io_ns) {
          std::string what = c.state == State::kClosing
                                 ? "the server did not close the connection after DISCONNECT"
                             : c.pending_out() > 0 ? "write stalled (" +
                                                         std::to_string(c.pending_out()) +
                                                         " bytes unwritten)"
                                                   : "no acknowledgement (" +
                                                         std::to_string(c.inflight) +
                                                         " messages awaiting one)";
          return Fail(c, what + " for " + std::to_string(o_.io_timeout.count()) + " ms");
        }
        if (c.state == State::kReady && keep_alive_ns > 0 && now - c.last_send_ns >= keep_alive_ns) {
          mq::EncodeEmpty(mq::PacketType::kPingreq, c.out);
          c.last_send_ns = now;
          Enqueue(c);
        }
        break;
      }
      default:
        break;
    }
  }
}

void Worker::Pump(Conn& c) {
  if (c.state == State::kReady && publishing_) {
    if (CanSend(c)) {
      SendBatch(c);
      return;
    }
    if (!Flush(c)) return;
    const bool finished = stopped_ || c.seq >= c.quota;
    if (finished && c.inflight == 0 && c.pending_out() == 0) {
      c.drained_ns = MonotonicNs();
      if (o_.version == mq::ProtocolVersion::kV5) {
        mq::EncodeDisconnect(o_.version, mq::DisconnectPacket{}, c.out);
      } else {
        c.out.append("\xE0\x00", 2);  // 3.1.1 DISCONNECT: fixed header only
      }
      c.state = State::kDisconnecting;
    }
  }
  if (!Flush(c)) return;
  if (c.state == State::kDisconnecting && c.pending_out() == 0) {
    shutdown(c.fd, SHUT_WR);
    c.state = State::kClosing;
    c.last_io_ns = MonotonicNs();
  }
}

void Worker::SendBatch(Conn& c) {
  // A new batch only once the previous one is wholly written, so that each
  // write carries a batch and `out` stays bounded.
  if (c.pending_out() > 0 && (!Flush(c) || c.pending_out() > 0)) return;
  c.out.clear();
  c.out_off = 0;
  const std::int64_t now = MonotonicNs();
  std::uint32_t n = 0;
  bool token_wait = false;
  while (n < o_.batch && CanSend(c)) {
    if (rate_ > 0) {
      if (tokens_ < 1) {
        token_wait = true;
        break;
      }
      tokens_ -= 1;
    }
    s_.generate(c.index, c.seq, msg_);
    pub_.qos = static_cast<std::uint8_t>(o_.qos);
    pub_.retain = o_.retain;
    pub_.topic = msg_.topic;
    pub_.payload = msg_.payload;
    pub_.packet_id = 0;
    if (o_.qos > 0) {
      pub_.packet_id = c.free_ids.back();
      c.free_ids.pop_back();
      c.slots[pub_.packet_id - 1] = Slot{now, 1};
      ++c.inflight;
    }
    if (c.max_packet > 0 && mq::PublishSize(o_.version, pub_) > c.max_packet) {
      return Fail(c, "message " + std::to_string(c.seq) + " is " +
                         std::to_string(mq::PublishSize(o_.version, pub_)) +
                         " bytes; the server's maximum packet size is " +
                         std::to_string(c.max_packet));
    }
    mq::EncodePublish(o_.version, pub_, c.out);
    ++c.seq;
    ++n;
  }
  if (n > 0) {
    c.sent += n;
    c.last_send_ns = now;
    if (o_.qos == 0) c.unflushed_qos0 += n;
    s_.sent.fetch_add(n, std::memory_order_relaxed);
  }
  if (token_wait && !c.token_blocked) {
    // Fairness under a rate limit: a connection that got no token this time
    // goes first next time.
    c.token_blocked = true;
    if (n == 0) {
      token_blocked_.push_front(&c);
    } else {
      token_blocked_.push_back(&c);
    }
  }
  if (!Flush(c)) return;
  if (c.writable && c.pending_out() == 0 && !token_wait) Enqueue(c);  // more to send, or drain
}

bool Worker::Flush(Conn& c) {
  while (c.pending_out() > 0) {
    if (!c.writable) return true;
    const ssize_t n = send(c.fd, c.out.data() + c.out_off, c.pending_out(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<std::size_t>(n);
      bytes += static_cast<std::uint64_t>(n);
      ++writes;
      c.last_io_ns = MonotonicNs();
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.writable = false;
      return true;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      Fail(c, "write: " + std::string(std::strerror(errno)) + " after " + std::to_string(c.sent) +
                  " PUBLISH sent, " + std::to_string(c.acked) + " acknowledged");
      return false;
    }
  }
  c.out.clear();
  c.out_off = 0;
  if (c.unflushed_qos0 > 0) {
    c.acked += c.unflushed_qos0;
    s_.acked.fetch_add(c.unflushed_qos0, std::memory_order_relaxed);
    c.unflushed_qos0 = 0;
  }
  return true;
}

void Worker::OnEvents(Conn& c, std::uint32_t events) {
  if (c.state == State::kDone || c.fd < 0) return;
  if (c.state == State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) {
      return Fail(c, "connect: " + std::string(std::strerror(err != 0 ? err : ECONNREFUSED)));
    }
    mq::ConnectPacket p;
    p.version = o_.version;
    p.clean_start = o_.clean_start;
    p.keep_alive_s = o_.keep_alive_s;
    p.client_id = c.client_id;
    if (o_.username) p.username = *o_.username;
    if (o_.password) p.password = *o_.password;
    p.session_expiry_s = o_.version == mq::ProtocolVersion::kV5 ? o_.session_expiry_s : 0;
    mq::EncodeConnect(p, c.out);
    c.state = State::kAwaitConnack;
    c.writable = true;
    c.last_send_ns = MonotonicNs();
    Flush(c);
    return;
  }
  if ((events & EPOLLOUT) != 0) {
    c.writable = true;
    Enqueue(c);
  }
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0) Read(c);
}

void Worker::Read(Conn& c) {
  for (;;) {
    if (c.in.size() - c.in_len < kReadChunk / 4) c.in.resize(std::max(c.in.size() * 2, kReadChunk));
    const ssize_t n = recv(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len, 0);
    if (n > 0) {
      c.in_len += static_cast<std::size_t>(n);
      const std::int64_t now = MonotonicNs();
      c.last_io_ns = now;
      if (!Parse(c, now)) return;
    } else if (n == 0) {
      if (c.state == State::kClosing) return Finish(c);
      return Fail(c, "the server closed the connection after " + std::to_string(c.sent) +
                         " PUBLISH sent, " + std::to_string(c.acked) + " acknowledged" +
                         (c.state == State::kAwaitConnack ? " (before CONNACK)" : ""));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else if (errno != EINTR) {
      return Fail(c, "read: " + std::string(std::strerror(errno)) + " after " +
                         std::to_string(c.sent) + " PUBLISH sent, " + std::to_string(c.acked) +
                         " acknowledged");
    }
  }
}

void Worker::Finish(Conn& c) {
  close(c.fd);
  c.fd = -1;
  c.state = State::kDone;
  ++done_;
}

bool Worker::Parse(Conn& c, std::int64_t now) {
  std::size_t pos = 0;
  const std::uint64_t acked_before = c.acked;
  bool ok = true;
  while (ok) {
    mq::FrameHeader h;
    const auto st = mq::PeekFrame(std::span<const std::uint8_t>(c.in.data() + pos, c.in_len - pos),
                                  kMaxInboundPacket, h);
    if (st == mq::FrameStatus::kIncomplete) break;
    if (st != mq::FrameStatus::kComplete) {
      Fail(c, st == mq::FrameStatus::kTooLarge
                  ? "the server sent a packet of " + std::to_string(h.size()) + " bytes"
                  : "the server sent a malformed fixed header");
      return false;
    }
    ok = Handle(c, h,
                std::span<const std::uint8_t>(c.in.data() + pos + h.header_size, h.remaining_length),
                now);
    pos += h.size();
  }
  if (c.acked > acked_before) s_.acked.fetch_add(c.acked - acked_before, std::memory_order_relaxed);
  if (!ok) return false;
  if (pos > 0) {
    std::memmove(c.in.data(), c.in.data() + pos, c.in_len - pos);
    c.in_len -= pos;
  }
  return true;
}

bool Worker::Handle(Conn& c, const mq::FrameHeader& h, std::span<const std::uint8_t> body,
                    std::int64_t now) {
  const std::string type(mq::PacketTypeName(h.type));
  auto bad = [&](const char* what) {
    Fail(c, what != nullptr ? std::string(what) : type + " from the server is not valid");
    return false;
  };
  switch (h.type) {
    case mq::PacketType::kConnack: {
      if (c.state != State::kAwaitConnack) return bad("a second CONNACK from the server");
      mq::ConnackPacket ack;
      if (auto r = mq::DecodeConnack(o_.version, h.flags, body, ack); !r.ok()) return bad(r.what);
      if (ack.reason != mq::ReasonCode::kSuccess) {
        Fail(c, "the server refused the connection: " + std::string(mq::ReasonCodeName(ack.reason)) +
                    (ack.reason_string.empty() ? "" : " (" + std::string(ack.reason_string) + ")"));
        return false;
      }
      if (o_.qos > ack.maximum_qos) {
        Fail(c, "the server allows QoS " + std::to_string(ack.maximum_qos) + " at most; asked " +
                    std::to_string(o_.qos));
        return false;
      }
      OnConnack(c, ack, now);
      return true;
    }
    case mq::PacketType::kPuback:
    case mq::PacketType::kPubrec:
    case mq::PacketType::kPubcomp: {
      mq::AckPacket ack;
      if (auto r = mq::DecodeAck(o_.version, h.type, h.flags, body, ack); !r.ok()) return bad(r.what);
      return Complete(c, h.type, ack, now);
    }
    case mq::PacketType::kPingresp:
      if (auto r = mq::DecodeEmpty(h.type, h.flags, body); !r.ok()) return bad(r.what);
      return true;
    case mq::PacketType::kDisconnect: {
      mq::DisconnectPacket d;
      if (auto r = mq::DecodeDisconnect(o_.version, h.flags, body, d); !r.ok()) return bad(r.what);
      Fail(c, "the server sent DISCONNECT: " + std::string(mq::ReasonCodeName(d.reason)) +
                  (d.reason_string.empty() ? "" : " (" + std::string(d.reason_string) + ")") +
                  " after " + std::to_string(c.sent) + " PUBLISH sent, " +
                  std::to_string(c.acked) + " acknowledged");
      return false;
    }
    default:
      Fail(c, "unexpected " + type + " from the server");
      return false;
  }
}

void Worker::OnConnack(Conn& c, const mq::ConnackPacket& ack, std::int64_t now) {
  c.window = o_.window;
  if (o_.version == mq::ProtocolVersion::kV5 && ack.receive_maximum > 0) {
    c.window = std::min<std::uint32_t>(c.window, ack.receive_maximum);
  }
  c.max_qos = ack.maximum_qos;
  c.max_packet = ack.maximum_packet_size;
  if (o_.qos > 0) {
    c.slots.assign(c.window, Slot{});
    c.free_ids.clear();
    for (std::uint32_t id = c.window; id >= 1; --id) c.free_ids.push_back(static_cast<std::uint16_t>(id));
  }
  min_window = std::min(min_window, c.window);
  c.state = State::kReady;
  --connecting_;
  connected_ns = std::max(connected_ns, now);
  if (s_.connected.fetch_add(1) + 1 == o_.connections) {
    s_.start_ns.store(MonotonicNs());
    s_.WakeAll();
  }
}

bool Worker::Complete(Conn& c, mq::PacketType type, const mq::AckPacket& ack, std::int64_t now) {
  const std::string name(mq::PacketTypeName(type));
  const bool expected = (o_.qos == 1 && type == mq::PacketType::kPuback) ||
                        (o_.qos == 2 && type != mq::PacketType::kPuback);
  if (!expected || ack.packet_id == 0 || ack.packet_id > c.slots.size()) {
    Fail(c, "unexpected " + name + " for packet id " + std::to_string(ack.packet_id) + " at QoS " +
                std::to_string(o_.qos));
    return false;
  }
  Slot& slot = c.slots[ack.packet_id - 1];
  const std::uint8_t want = type == mq::PacketType::kPubcomp ? 2 : 1;
  if (slot.stage != want) {
    Fail(c, name + " for packet id " + std::to_string(ack.packet_id) +
                ", which is not awaiting one");
    return false;
  }
  const bool success = static_cast<std::uint8_t>(ack.reason) < 0x80;
  if (type == mq::PacketType::kPubrec && success) {
    slot.stage = 2;
    mq::AckPacket rel;
    rel.type = mq::PacketType::kPubrel;
    rel.packet_id = ack.packet_id;
    mq::EncodeAck(o_.version, rel, c.out);
    Enqueue(c);
    return true;
  }
  if (success) {
    ++c.acked;
    histogram.Record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - slot.sent_ns)));
  } else {
    ++errors;  // a failure code ends the flow (MQTT 5 4.3.3): the id is free again
  }
  slot.stage = 0;
  c.free_ids.push_back(ack.packet_id);
  --c.inflight;
  Enqueue(c);
  return true;
}

}  // namespace sluice::mqtt_load::detail
