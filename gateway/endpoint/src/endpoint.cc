// The endpoint's code (endpoint_impl.h outlines the class).
#include "endpoint_impl.h"

namespace sluice::gateway {
namespace {

ReasonCode ReasonFor(MessageOutcome outcome) {
  switch (outcome) {
    case MessageOutcome::kStored: return ReasonCode::kSuccess;
    case MessageOutcome::kMalformed: return ReasonCode::kPayloadFormatInvalid;
    case MessageOutcome::kUnmatched: return ReasonCode::kNoMatchingSubscribers;
    case MessageOutcome::kFailed: return ReasonCode::kImplementationSpecificError;
  }
  return ReasonCode::kUnspecifiedError;
}

}  // namespace

Status EndpointImpl::Init() {
  if (!options_.password_file.empty()) {
    auto pw = endpoint::PasswordFile::Load(options_.password_file);
    if (!pw.ok()) return Under("password_file", pw.status());
    passwords_ = std::make_unique<endpoint::PasswordFile>(std::move(*pw));
  }
  if (options_.tls()) SLUICE_RETURN_IF_ERROR(InitTls());
  const std::string where = options_.address + ":" + std::to_string(options_.port);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.address, ec);
  if (ec) return InvalidArgument("address: '" + options_.address + "' is not an IP address");
  const tcp::endpoint ep(address, static_cast<std::uint16_t>(options_.port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("endpoint: cannot listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void EndpointImpl::Run() {
  Accept();
  Tick();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sluice-endpoint");
    io_.run();
  });
}

void EndpointImpl::OnAcks(std::span<const MessageAck> acks) {
  std::vector<MessageAck> mine;
  for (const auto& a : acks) {
    if (a.source.kind == MessageSource::Kind::kEndpoint) mine.push_back(a);
  }
  if (mine.empty()) return;
  asio::post(io_, [this, acks = std::move(mine)] { Settle(acks); });
}

void EndpointImpl::StopIntake() {
  if (intake_stopped_.exchange(true)) return;
  asio::post(io_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& [c, conn] : connections_) conn->StopReading();
  });
}

void EndpointImpl::Stop() {
  MutexLock lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (!thread_.joinable()) return;  // never started
  StopIntake();
  // Say goodbye and let the DISCONNECTs go out, for a second at most.
  Mutex mu;
  CondVar cv;
  bool closed = false;
  asio::post(io_, [&] {
    closing_all_ = true;
    std::vector<std::shared_ptr<Connection>> all;
    for (auto& [c, conn] : connections_) all.push_back(conn);
    for (auto& conn : all) conn->Close(ReasonCode::kServerShuttingDown);
    MutexLock l(mu);
    closed = true;
    cv.NotifyOne();
  });
  {
    MutexLock l(mu);
    cv.WaitFor(l, std::chrono::seconds(2), [&]() SLUICE_REQUIRES(mu) { return closed; });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (stats_.connections_active.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // DISCONNECT writes draining
  }
  io_.stop();
  if (thread_.joinable()) thread_.join();
  connections_.clear();
}

EndpointConnectionList EndpointImpl::Connections(std::size_t limit) const {
  struct Reply {
    Mutex mu;
    CondVar cv;
    bool done = false;
    EndpointConnectionList list;
  };
  auto reply = std::make_shared<Reply>();
  asio::post(io_, [this, reply, limit] {
    EndpointConnectionList list;
    list.total = connections_.size();
    for (const auto& [c, conn] : connections_) {
      if (list.connections.size() >= limit) break;
      if (!conn->finished()) list.connections.push_back(conn->Info());
    }
    MutexLock lock(reply->mu);
    reply->list = std::move(list);
    reply->done = true;
    reply->cv.NotifyOne();
  });
  MutexLock lock(reply->mu);
  if (!reply->cv.WaitFor(lock, std::chrono::milliseconds(500),
                         [&]() SLUICE_REQUIRES(reply->mu) { return reply->done; })) {
    EndpointConnectionList partial;
    partial.total = stats_.connections_active.load(std::memory_order_relaxed);
    partial.complete = false;
    return partial;
  }
  return std::move(reply->list);
}

EndpointCounters EndpointImpl::counters() const {
  EndpointCounters c;
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  c.connections_accepted = get(stats_.connections_accepted);
  c.connections_active = get(stats_.connections_active);
  c.connections_refused = get(stats_.connections_refused);
  c.auth_failures = get(stats_.auth_failures);
  c.tls_failures = get(stats_.tls_failures);
  c.protocol_errors = get(stats_.protocol_errors);
  c.keepalive_timeouts = get(stats_.keepalive_timeouts);
  c.sessions_active = get(stats_.sessions_active);
  c.sessions_resumed = get(stats_.sessions_resumed);
  c.sessions_taken_over = get(stats_.sessions_taken_over);
  c.sessions_expired = get(stats_.sessions_expired);
  for (int q = 0; q < 3; ++q) c.publishes[q] = get(stats_.publishes[q]);
  {
    MutexLock lock(last_error_mu_);
    c.last_error = last_error_;
    c.last_error_ns = last_error_ns_;
  }
  c.duplicates = get(stats_.duplicates);
  c.acks_sent = get(stats_.acks_sent);
  c.acks_negative = get(stats_.acks_negative);
  c.not_stored = get(stats_.not_stored);
  c.subscribes_refused = get(stats_.subscribes_refused);
  c.reads = get(stats_.reads);
  c.writes = get(stats_.writes);
  c.bytes_in = get(stats_.bytes_in);
  c.bytes_out = get(stats_.bytes_out);
  c.paused_reads = get(stats_.paused_reads);
  return c;
}

bool EndpointImpl::Authenticate(const mqtt::ConnectPacket& connect) const {
  if (!passwords_) return true;
  if (!connect.username || !connect.password) return false;
  return passwords_->Check(*connect.username, *connect.password);
}

EndpointImpl::Attached EndpointImpl::AttachSession(Connection* connection,
                                                   const std::string& client_id,
                                                   bool clean_start, std::uint32_t expiry_s) {
  Attached out;
  auto it = sessions_.find(client_id);
  if (it != sessions_.end()) {
    Session* s = it->second.get();
    if (s->connection != nullptr) {
      // MQTT 3.1.4-3: the existing connection of that client id is closed.
      Connection* old = s->connection;
      old->LoseSession();
    }
    if (clean_start) {
      EraseSession(it);
      it = sessions_.end();
    } else {
      stats_.Add(stats_.sessions_resumed);
      out.present = true;
    }
  }
  if (it == sessions_.end()) {
    if (sessions_.size() >= options_.max_sessions) {
      out.refusal = ReasonCode::kServerBusy;
      return out;
    }
    auto s = std::make_unique<Session>(client_id, next_session_++, options_.receive_maximum);
    by_number_[s->number()] = s.get();
    it = sessions_.emplace(client_id, std::move(s)).first;
    stats_.sessions_active.store(sessions_.size(), std::memory_order_relaxed);
  }
  Session* s = it->second.get();
  s->connection = connection;
  s->expiry_s = expiry_s;
  s->expires_at_ms = 0;
  out.session = s;
  return out;
}

void EndpointImpl::DetachSession(Connection* connection, Session* session) {
  if (session->connection != connection) return;
  session->Detach();
  if (session->expiry_s == 0) {
    auto it = sessions_.find(session->client_id());
    if (it != sessions_.end()) EraseSession(it);
    return;
  }
  session->expires_at_ms = MonotonicMs() + std::int64_t{session->expiry_s} * 1000;
}

void EndpointImpl::Forget(Connection* connection) {
  // Erasing may drop the last reference while this connection's own
  // handler runs: let the handler finish first.
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  auto keep = std::move(it->second);
  connections_.erase(it);
  stats_.connections_active.store(connections_.size(), std::memory_order_relaxed);
  asio::post(io_, [keep = std::move(keep)] {});
}

std::string EndpointImpl::AssignClientId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "sluice-auto-";
  for (int i = 0; i < 16; ++i) id += kHex[rng_() & 15];
  return id;
}

void EndpointImpl::LogLimited(const std::string& line) {
  {
    // Only refusals and closures come here, never a PUBLISH that went well.
    const std::int64_t wall = WallNs();
    MutexLock lock(last_error_mu_);
    last_error_ = line;
    last_error_ns_ = wall;
  }
  const RateLimitedLog::Verdict v = log_limit_.Check(MonotonicNs());
  if (v.suppressed > 0) spdlog::warn("endpoint: {} similar lines suppressed", v.suppressed);
  if (v.log) spdlog::warn("{}", line);
}

Status EndpointImpl::InitTls() {
  try {
    ssl_.emplace(asio::ssl::context::tls_server);
    ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  } catch (const boost::system::system_error& e) {
    return Unavailable(std::string("TLS: ") + e.what());
  }
  auto load = [&](std::string_view field, const std::string& file, auto&& fn) -> Status {
    boost::system::error_code ec;
    fn(file, ec);
    if (ec) return InvalidArgument(std::string(field) + ": " + file + ": " + ec.message());
    return Status::Ok();
  };
  SLUICE_RETURN_IF_ERROR(load("tls_cert_file", options_.tls_cert_file,
                              [&](const std::string& f, boost::system::error_code& ec) {
                                ssl_->use_certificate_chain_file(f, ec);
                              }));
  SLUICE_RETURN_IF_ERROR(load("tls_key_file", options_.tls_key_file,
                              [&](const std::string& f, boost::system::error_code& ec) {
                                ssl_->use_private_key_file(f, asio::ssl::context::pem, ec);
                              }));
  if (!options_.tls_ca_file.empty()) {
    SLUICE_RETURN_IF_ERROR(load("tls_ca_file", options_.tls_ca_file,
                                [&](const std::string& f, boost::system::error_code& ec) {
                                  ssl_->load_verify_file(f, ec);
                                }));
    int mode = asio::ssl::verify_peer;
    if (options_.require_client_cert) mode |= asio::ssl::verify_fail_if_no_peer_cert;
    ssl_->set_verify_mode(mode);
  }
  return Status::Ok();
}

void EndpointImpl::Accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      LogLimited("endpoint: accept failed: " + ec.message());
    } else if (intake_stopped_ || closing_all_) {
      return;
    } else if (connections_.size() >= options_.max_connections) {
      stats_.Add(stats_.connections_refused);
      LogLimited("endpoint: connection refused: endpoint.max_connections (" +
                 std::to_string(options_.max_connections) + ") reached");
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      stats_.Add(stats_.connections_accepted);
      auto transport = ssl_ ? endpoint::Transport::Tls(std::move(socket), *ssl_)
                            : endpoint::Transport::Plain(std::move(socket));
      auto conn = std::make_shared<Connection>(*this, std::move(transport), io_.get_executor());
      connections_.emplace(conn.get(), conn);
      stats_.connections_active.store(connections_.size(), std::memory_order_relaxed);
      conn->Start();
    }
    Accept();
  });
}

void EndpointImpl::Tick() {
  ticker_.expires_after(std::chrono::seconds(1));
  ticker_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const auto now = MonotonicMs();
    std::vector<std::shared_ptr<Connection>> all;
    for (auto& [c, conn] : connections_) all.push_back(conn);
    for (auto& conn : all) conn->Tick(now);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      Session* s = it->second.get();
      if (s->connection == nullptr && s->expires_at_ms != 0 && s->expires_at_ms <= now) {
        stats_.Add(stats_.sessions_expired);
        it = EraseSession(it);
      } else {
        ++it;
      }
    }
    Tick();
  });
}

EndpointImpl::SessionMap::iterator EndpointImpl::EraseSession(SessionMap::iterator it) {
  // Outcomes still on their way for it find no session and are dropped;
  // a client that comes back resends what it has not seen acknowledged.
  by_number_.erase(it->second->number());
  auto next = sessions_.erase(it);
  stats_.sessions_active.store(sessions_.size(), std::memory_order_relaxed);
  return next;
}

void EndpointImpl::Settle(const std::vector<MessageAck>& acks) {
  touched_.clear();
  for (const auto& a : acks) {
    auto it = by_number_.find(a.source.id);
    if (it == by_number_.end()) continue;
    if (a.outcome != MessageOutcome::kStored) stats_.Add(stats_.not_stored);
    if (!it->second->Settle(a.tag, ReasonFor(a.outcome))) continue;
    if (touched_.empty() || touched_.back() != it->second) touched_.push_back(it->second);
  }
  for (Session* s : touched_) {
    // A session in touched_ may have been erased by an earlier FlushAcks
    // closing its connection; look it up again.
    if (!by_number_.contains(s->number())) continue;
    if (s->connection != nullptr) s->connection->FlushAcks();
  }
}

Result<std::unique_ptr<MqttEndpoint>> MqttEndpoint::Start(const EndpointOptions& options,
                                                          Pipeline* pipeline) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  SLUICE_RETURN_IF_ERROR(options.CheckExposure());
  auto ep = std::make_unique<EndpointImpl>(options, pipeline);
  Status s = ep->Init();
  if (!s.ok()) {
    return Status(s.code(), "endpoint " + options.address + ":" + std::to_string(options.port) +
                                ": " + s.message());
  }
  ep->Run();
  spdlog::info("endpoint: MQTT {} on {}:{} (receive maximum {}, acknowledged when durable)",
               options.tls() ? "over TLS" : "over TCP", options.address, ep->port(),
               options.receive_maximum);
  return std::unique_ptr<MqttEndpoint>(std::move(ep));
}

}  // namespace sluice::gateway
