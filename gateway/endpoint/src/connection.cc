#include "connection.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/clock.h"
#include "gateway/endpoint/mqtt_endpoint.h"

namespace sluice::gateway::endpoint {

using mqtt::PacketType;
using mqtt::ProtocolVersion;
using mqtt::ReasonCode;

namespace {

constexpr std::size_t kInitialBuffer = 16 << 10;
constexpr auto kBusyRetry = std::chrono::milliseconds(1);

// The longest session expiry granted, as the protocol's 32-bit seconds.
std::uint32_t MaxSessionExpiry(const EndpointOptions& o) {
  return static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(o.max_session_expiry.count(), 0, UINT32_MAX));
}

std::uint64_t ContentHash(std::string_view topic, std::string_view payload) {
  const std::uint64_t a = std::hash<std::string_view>{}(topic);
  const std::uint64_t b = std::hash<std::string_view>{}(payload);
  return a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
}

}  // namespace

Connection::Connection(EndpointCore& core, std::unique_ptr<Transport> transport,
                       boost::asio::any_io_executor executor)
    : core_(core), transport_(std::move(transport)), retry_(executor), buf_(kInitialBuffer) {
  started_ms_ = last_rx_ms_ = MonotonicMs();
}

void Connection::Start() {
  transport_->Handshake([self = shared_from_this()](const boost::system::error_code& ec) {
    if (self->finished_) return;
    if (ec) {
      self->core_.stats().Add(self->core_.stats().tls_failures);
      self->core_.LogLimited("endpoint: TLS handshake with " + self->peer() +
                             " failed: " + ec.message());
      self->Finish();
      return;
    }
    self->handshaken_ = true;
    self->Read();
  });
}

std::string Connection::Who() const {
  return client_id_.empty() ? peer() : "'" + client_id_ + "' (" + peer() + ")";
}

void Connection::Read() {
  if (reading_ || closing_ || finished_ || !handshaken_ || pause_ != Pause::kNone) return;
  if (core_.intake_stopped()) {
    pause_ = Pause::kStopped;
    return;
  }
  if (end_ == buf_.size()) MakeRoom(static_cast<std::uint32_t>(buf_.size() + 1));
  reading_ = true;
  transport_->ReadSome(buf_.data() + end_, buf_.size() - end_,
                       [self = shared_from_this()](const boost::system::error_code& ec,
                                                   std::size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(const boost::system::error_code& ec, std::size_t n) {
  reading_ = false;
  if (finished_) return;
  if (ec) {
    if (!closing_) Finish();  // peer closed or reset: no DISCONNECT to send
    return;
  }
  auto& st = core_.stats();
  st.Add(st.reads);
  st.Add(st.bytes_in, n);
  end_ += n;
  last_rx_ms_ = MonotonicMs();
  Process();
}

// Makes buf_ able to hold `needed` bytes from begin_: moves the unread
// bytes to the front, and grows up to the largest packet allowed.
void Connection::MakeRoom(std::uint32_t needed) {
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (needed > buf_.size()) {
    const std::size_t cap = std::size_t{core_.options().max_packet_size} + 5;
    buf_.resize(std::min(cap, std::max<std::size_t>(needed, buf_.size() * 2)));
  } else if (end_ == 0 && buf_.size() > 4 * kInitialBuffer) {
    buf_.resize(kInitialBuffer);  // a large packet passed: give the memory back
    buf_.shrink_to_fit();
  }
}

void Connection::Process() {
  if (finished_ || closing_) return;
  pause_ = Pause::kNone;
  std::uint32_t want = 0;  // size of an incomplete packet, when known
  while (!closing_) {
    mqtt::FrameHeader h;
    const std::span<const std::uint8_t> avail(buf_.data() + begin_, end_ - begin_);
    const auto fs = mqtt::PeekFrame(avail, core_.options().max_packet_size, h);
    if (fs == mqtt::FrameStatus::kIncomplete) {
      want = h.header_size == 0 ? 0 : h.size();
      break;
    }
    if (fs == mqtt::FrameStatus::kMalformed) {
      ProtocolError(ReasonCode::kMalformedPacket, "malformed fixed header");
      break;
    }
    if (fs == mqtt::FrameStatus::kTooLarge) {
      ProtocolError(ReasonCode::kPacketTooLarge, "packet larger than endpoint.max_packet_size");
      break;
    }
    const Step step = Dispatch(h, avail.subspan(h.header_size, h.remaining_length));
    if (step == Step::kClosed) break;
    if (step == Step::kPause) break;  // the packet stays in the buffer
    begin_ += h.size();
  }
  if (finished_) return;
  FlushAcks();  // duplicates and sheds may have made acknowledgements due
  if (closing_) return;
  if (begin_ == end_) {
    begin_ = end_ = 0;
    MakeRoom(0);
  } else if (buf_.size() - end_ < 4096 || want > buf_.size() - begin_) {
    MakeRoom(std::max<std::uint32_t>(want, static_cast<std::uint32_t>(end_ - begin_)));
  }
  Read();
}

Connection::Step Connection::Dispatch(const mqtt::FrameHeader& h,
                                      std::span<const std::uint8_t> body) {
  if (!connected_) {
    if (h.type != PacketType::kConnect) {
      core_.LogLimited("endpoint: " + peer() + " sent " +
                       std::string(mqtt::PacketTypeName(h.type)) + " before CONNECT; closed");
      core_.stats().Add(core_.stats().protocol_errors);
      Finish();
      return Step::kClosed;
    }
    return HandleConnect(h, body);
  }
  switch (h.type) {
    case PacketType::kPublish:
      return HandlePublish(h, body);
    case PacketType::kPubrel: {
      const auto r = mqtt::DecodeAck(version_, h.type, h.flags, body, ack_);
      if (!r.ok()) return ProtocolError(r.reason, r.what);
      mqtt::AckPacket comp;
      comp.type = PacketType::kPubcomp;
      comp.packet_id = ack_.packet_id;
      comp.reason = session_->Release(ack_.packet_id);
      if (version_ == ProtocolVersion::kV311) comp.reason = ReasonCode::kSuccess;
      mqtt::EncodeAck(version_, comp, out_);
      return Step::kNext;
    }
    case PacketType::kPingreq: {
      const auto r = mqtt::DecodeEmpty(h.type, h.flags, body);
      if (!r.ok()) return ProtocolError(r.reason, r.what);
      mqtt::EncodeEmpty(PacketType::kPingresp, out_);
      return Step::kNext;
    }
    case PacketType::kSubscribe:
    case PacketType::kUnsubscribe: {
      const auto r = mqtt::DecodeSubscribe(version_, h.type, h.flags, body, subscribe_);
      if (!r.ok()) return ProtocolError(r.reason, r.what);
      core_.stats().Add(core_.stats().subscribes_refused);
      if (h.type == PacketType::kSubscribe) {
        core_.LogLimited("endpoint: " + Who() +
                         " tried to SUBSCRIBE; refused: this endpoint ingests only "
                         "(subscribe at a broker beside it)");
      }
      // 0x83 "implementation specific error" is allowed in both SUBACK and
      // UNSUBACK; 3.1.1 SUBACK has only 0x80 for failure.
      const ReasonCode reason = version_ == ProtocolVersion::kV5
                                    ? ReasonCode::kImplementationSpecificError
                                    : ReasonCode::kUnspecifiedError;
      mqtt::EncodeSuback(version_,
                         h.type == PacketType::kSubscribe ? PacketType::kSuback
                                                          : PacketType::kUnsuback,
                         subscribe_.packet_id, subscribe_.filters, reason, out_);
      return Step::kNext;
    }
    case PacketType::kDisconnect: {
      const auto r = mqtt::DecodeDisconnect(version_, h.flags, body, disconnect_);
      if (!r.ok()) return ProtocolError(r.reason, r.what);
      if (disconnect_.session_expiry_s && session_ != nullptr) {
        session_->expiry_s =
            std::min(*disconnect_.session_expiry_s, MaxSessionExpiry(core_.options()));
      }
      closing_ = true;  // the client closes; nothing to send back
      FlushWrites();
      if (!writing_active_) Finish();
      return Step::kClosed;
    }
    case PacketType::kConnect:
      return ProtocolError(ReasonCode::kProtocolError, "second CONNECT on a connection");
    case PacketType::kAuth:
      return ProtocolError(ReasonCode::kProtocolError,
                           "AUTH: enhanced authentication is not supported");
    default:
      // CONNACK, SUBACK, PINGRESP... and PUBACK/PUBREC/PUBCOMP: the
      // endpoint never publishes, so there is nothing they could answer.
      return ProtocolError(ReasonCode::kProtocolError,
                           "a packet only a server sends, or an acknowledgement of nothing");
  }
}

Connection::Step Connection::Refuse(ReasonCode reason, const std::string& why) {
  core_.LogLimited("endpoint: CONNECT from " + Who() + " refused: " + why);
  mqtt::ConnackPacket ack;
  ack.reason = reason;
  mqtt::EncodeConnack(version_, ack, out_);
  closing_ = true;
  FlushWrites();
  return Step::kClosed;
}

Connection::Step Connection::HandleConnect(const mqtt::FrameHeader& h,
                                           std::span<const std::uint8_t> body) {
  const auto r = mqtt::DecodeConnect(h.flags, body, connect_);
  if (!r.ok()) {
    core_.stats().Add(core_.stats().protocol_errors);
    if (r.reason == ReasonCode::kUnsupportedProtocolVersion) {
      version_ = ProtocolVersion::kV311;  // answered in the oldest form (MQTT 5 3.1.4)
      return Refuse(r.reason, r.what);
    }
    version_ = connect_.version;
    return Refuse(r.reason, r.what);
  }
  version_ = connect_.version;
  const auto& opt = core_.options();
  client_id_ = std::string(connect_.client_id);
  if (!connect_.authentication_method.empty()) {
    return Refuse(ReasonCode::kBadAuthenticationMethod,
                  "enhanced authentication is not supported");
  }
  if (!core_.Authenticate(connect_)) {
    core_.stats().Add(core_.stats().auth_failures);
    return Refuse(ReasonCode::kBadUserNameOrPassword,
                  connect_.username ? "bad user name or password for user '" +
                                          std::string(*connect_.username) + "'"
                                    : std::string("no user name given and a password file is set"));
  }
  bool assigned = false;
  if (client_id_.empty()) {
    if (version_ == ProtocolVersion::kV311 && !connect_.clean_start) {
      return Refuse(ReasonCode::kClientIdentifierNotValid,
                    "empty client id needs clean session 1 in MQTT 3.1.1");
    }
    client_id_ = core_.AssignClientId();
    assigned = true;
  }
  std::uint32_t expiry = 0;
  if (version_ == ProtocolVersion::kV5) {
    expiry = std::min(connect_.session_expiry_s, MaxSessionExpiry(opt));
  } else if (!connect_.clean_start) {
    expiry = MaxSessionExpiry(opt);
  }
  const auto attached = core_.AttachSession(this, client_id_, connect_.clean_start, expiry);
  if (attached.session == nullptr) {
    core_.stats().Add(core_.stats().connections_refused);
    return Refuse(attached.refusal, "too many sessions (endpoint.max_sessions)");
  }
  session_ = attached.session;
  keep_alive_s_ = connect_.keep_alive_s;
  connected_ = true;
  connected_ns_ = WallNs();

  mqtt::ConnackPacket ack;
  ack.session_present = attached.present;
  if (version_ == ProtocolVersion::kV5) {
    ack.receive_maximum = static_cast<std::uint16_t>(opt.receive_maximum);
    ack.maximum_packet_size = opt.max_packet_size;
    ack.topic_alias_maximum = static_cast<std::uint16_t>(opt.topic_alias_maximum);
    if (assigned) ack.assigned_client_id = client_id_;
    if (expiry != connect_.session_expiry_s) {
      ack.has_session_expiry = true;
      ack.session_expiry_s = expiry;
    }
    ack.wildcard_subscription_available = false;
    ack.subscription_ids_available = false;
    ack.shared_subscription_available = false;
    aliases_.assign(opt.topic_alias_maximum, std::string());
  }
  mqtt::EncodeConnack(version_, ack, out_);
  return Step::kNext;
}

Connection::Step Connection::HandlePublish(const mqtt::FrameHeader& h,
                                           std::span<const std::uint8_t> body) {
  const auto r = mqtt::DecodePublish(version_, h.flags, body, publish_);
  if (!r.ok()) return ProtocolError(r.reason, r.what);
  std::string_view topic = publish_.topic;
  if (publish_.topic_alias != 0) {
    if (publish_.topic_alias > aliases_.size()) {
      return ProtocolError(ReasonCode::kTopicAliasInvalid,
                           "PUBLISH: topic alias above the Topic Alias Maximum");
    }
    std::string& slot = aliases_[publish_.topic_alias - 1];
    if (!topic.empty()) {
      slot.assign(topic);
    } else if (slot.empty()) {
      return ProtocolError(ReasonCode::kProtocolError, "PUBLISH: topic alias not defined");
    } else {
      topic = slot;
    }
  }
  if (topic.empty()) return ProtocolError(ReasonCode::kProtocolError, "PUBLISH: empty topic");

  auto& st = core_.stats();
  const std::uint8_t qos = publish_.qos;
  InboundMessage m;
  m.topic.assign(topic);
  m.payload.assign(publish_.payload);
  for (const auto& p : publish_.user_properties) {
    m.user_properties.emplace_back(std::string(p.key), std::string(p.value));
  }
  m.qos = qos;
  m.receive_time_ns = WallNs();
  m.source = MessageSource::Endpoint(session_->number());
  Pipeline& pipeline = core_.pipeline();

  if (qos == 0) {
    const auto res = pipeline.TryOffer(m);
    if (res == OfferResult::kBusy || res == OfferResult::kClosed) {
      PauseFor(res == OfferResult::kBusy ? Pause::kPipeline : Pause::kStopped);
      return Step::kPause;
    }
    st.Add(st.publishes[0]);
    ++publishes_;
    return Step::kNext;
  }
  const std::uint64_t hash = ContentHash(topic, publish_.payload);
  switch (session_->Classify(publish_.packet_id, qos, publish_.dup, hash)) {
    case Session::Verdict::kDuplicate:
      st.Add(st.duplicates);
      return Step::kNext;
    case Session::Verdict::kResendPubrec: {
      st.Add(st.duplicates);
      mqtt::AckPacket rec;
      rec.type = PacketType::kPubrec;
      rec.packet_id = publish_.packet_id;
      mqtt::EncodeAck(version_, rec, out_);
      return Step::kNext;
    }
    case Session::Verdict::kIdInUse:
      return ProtocolError(ReasonCode::kPacketIdentifierInUse,
                           "PUBLISH: packet id of an unfinished flow of the other QoS");
    case Session::Verdict::kQuotaExceeded:
      if (version_ == ProtocolVersion::kV5) {
        return ProtocolError(ReasonCode::kReceiveMaximumExceeded,
                             "PUBLISH: more unacknowledged messages than Receive Maximum");
      }
      PauseFor(Pause::kInflight);  // resumed by FlushAcks
      return Step::kPause;
    case Session::Verdict::kNew:
      break;
  }
  m.ack_tag = session_->next_tag();
  switch (pipeline.TryOffer(m)) {
    case OfferResult::kQueued:
      session_->Begin(publish_.packet_id, qos, hash);
      break;
    case OfferResult::kShed:
      // Dropped by the shed policy (counted there). MQTT 5 says so.
      session_->BeginDone(publish_.packet_id, qos, hash,
                          version_ == ProtocolVersion::kV5 ? ReasonCode::kQuotaExceeded
                                                           : ReasonCode::kSuccess);
      st.Add(st.not_stored);
      break;
    case OfferResult::kBusy:
      PauseFor(Pause::kPipeline);
      return Step::kPause;
    case OfferResult::kClosed:
      PauseFor(Pause::kStopped);
      return Step::kPause;
  }
  st.Add(st.publishes[qos]);
  ++publishes_;
  return Step::kNext;
}

EndpointConnectionInfo Connection::Info() const {
  EndpointConnectionInfo i;
  i.peer = peer();
  i.tls = transport_->tls();
  if (connected_) {
    i.client_id = client_id_;
    i.protocol = version_ == ProtocolVersion::kV5 ? "5" : "3.1.1";
    i.connected_ns = connected_ns_;
  }
  i.publishes = publishes_;
  return i;
}

void Connection::PauseFor(Pause why) {
  pause_ = why;
  core_.stats().Add(core_.stats().paused_reads);
  if (why != Pause::kPipeline) return;
  retry_.expires_after(kBusyRetry);
  retry_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->finished_ || self->pause_ != Pause::kPipeline) return;
    self->Process();
  });
}

void Connection::FlushAcks() {
  if (session_ == nullptr || finished_) return;
  const auto w = session_->TakeDueAcks(version_, out_);
  if (w.acks > 0) {
    auto& st = core_.stats();
    st.Add(st.acks_sent, w.acks);
    st.Add(st.acks_negative, w.negative);
  }
  FlushWrites();
  if (pause_ == Pause::kInflight && session_->unacked() < session_->receive_maximum()) {
    Process();
  }
}

Connection::Step Connection::ProtocolError(ReasonCode reason, const char* what) {
  core_.stats().Add(core_.stats().protocol_errors);
  core_.LogLimited("endpoint: closing " + Who() + ": " + std::string(what ? what : "?") + " (" +
                   std::string(mqtt::ReasonCodeName(reason)) + ")");
  Close(reason);
  return Step::kClosed;
}

void Connection::Close(ReasonCode reason) {
  if (closing_ || finished_) return;
  closing_ = true;
  retry_.cancel();
  if (connected_ && version_ == ProtocolVersion::kV5) {
    mqtt::DisconnectPacket d;
    d.reason = reason;
    mqtt::EncodeDisconnect(version_, d, out_);
  }
  FlushWrites();
  if (!writing_active_) Finish();
}

void Connection::LoseSession() {
  if (session_ != nullptr) session_->Detach();
  session_ = nullptr;
  core_.stats().Add(core_.stats().sessions_taken_over);
  Close(ReasonCode::kSessionTakenOver);
}

void Connection::StopReading() {
  if (pause_ == Pause::kNone) pause_ = Pause::kStopped;
  retry_.cancel();
}

void Connection::Tick(std::int64_t now_ms) {
  if (finished_) return;
  if (!connected_) {
    if (now_ms - started_ms_ > core_.options().connect_timeout.count()) {
      core_.LogLimited("endpoint: " + peer() + " sent no CONNECT in time; closed");
      Finish();
    }
    return;
  }
  // MQTT 3.1.2.10: one and a half times the keep alive without a packet.
  if (keep_alive_s_ > 0 && !closing_ && now_ms - last_rx_ms_ > keep_alive_s_ * 1500) {
    core_.stats().Add(core_.stats().keepalive_timeouts);
    core_.LogLimited("endpoint: " + Who() + " silent past its keep alive; closed");
    Close(ReasonCode::kKeepAliveTimeout);
  }
}

void Connection::FlushWrites() {
  if (writing_active_ || out_.empty() || finished_) return;
  writing_.swap(out_);
  out_.clear();
  writing_active_ = true;
  transport_->Write(writing_.data(), writing_.size(),
                    [self = shared_from_this()](const boost::system::error_code& ec,
                                                std::size_t n) { self->OnWrite(ec, n); });
}

void Connection::OnWrite(const boost::system::error_code& ec, std::size_t n) {
  writing_active_ = false;
  if (finished_) return;
  if (ec) {
    Finish();
    return;
  }
  auto& st = core_.stats();
  st.Add(st.writes);
  st.Add(st.bytes_out, n);
  writing_.clear();
  FlushWrites();
  if (closing_ && !writing_active_) Finish();
}

void Connection::Finish() {
  if (finished_) return;
  finished_ = true;
  closing_ = true;
  retry_.cancel();
  transport_->Close();
  if (session_ != nullptr) core_.DetachSession(this, session_);
  session_ = nullptr;
  core_.Forget(this);
}

}  // namespace sluice::gateway::endpoint
