// The endpoint: listener, network thread, session registry, and the way
// back from the pipeline's shard threads (OnAcks) to the connections.
//
// The class is outlined here; its code is in endpoint.cc. The names below
// are this private header's shorthand, seen only by endpoint.cc.
#pragma once

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/rate_limited_log.h"
#include "connection.h"
#include "endpoint_core.h"
#include "gateway/endpoint/mqtt_endpoint.h"
#include "password_file.h"
#include "session.h"

namespace sluice::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;
using endpoint::Connection;
using endpoint::EndpointStats;
using endpoint::Session;
using mqtt::ReasonCode;

class EndpointImpl final : public MqttEndpoint, public endpoint::EndpointCore {
 public:
  EndpointImpl(const EndpointOptions& options, Pipeline* pipeline)
      : options_(options), pipeline_(pipeline), acceptor_(io_), ticker_(io_) {}

  ~EndpointImpl() override { Stop(); }

  Status Init();

  void Run();

  // MqttEndpoint
  std::uint16_t port() const override { return port_; }

  void OnAcks(std::span<const MessageAck> acks) override;

  void StopIntake() override;

  void Stop() override;

  // The connections belong to the network thread and change on it alone.
  // Rather than a registry under a mutex that every connect, disconnect and
  // PUBLISH would have to update (a lock on the ingest path, for a page an
  // operator opens now and then), the snapshot is taken on that thread: the
  // request is posted to it and awaited with a timeout. Ingest pays
  // nothing; the admin request waits for at most one turn of the loop.
  EndpointConnectionList Connections(std::size_t limit) const override;

  EndpointCounters counters() const override;

  // EndpointCore
  const EndpointOptions& options() const override { return options_; }
  Pipeline& pipeline() override { return *pipeline_; }
  EndpointStats& stats() override { return stats_; }
  bool intake_stopped() const override { return intake_stopped_.load(); }

  bool Authenticate(const mqtt::ConnectPacket& connect) const override;

  Attached AttachSession(Connection* connection, const std::string& client_id,
                         bool clean_start, std::uint32_t expiry_s) override;

  void DetachSession(Connection* connection, Session* session) override;

  void Forget(Connection* connection) override;

  std::string AssignClientId() override;

  void LogLimited(const std::string& line) override;

 private:
  static Status Under(std::string_view field, const Status& s) {
    return Status(s.code(), std::string(field) + ": " + s.message());
  }

  Status InitTls();

  void Accept();

  void Tick();

  using SessionMap = std::unordered_map<std::string, std::unique_ptr<Session>>;
  SessionMap::iterator EraseSession(SessionMap::iterator it);

  void Settle(const std::vector<MessageAck>& acks);

  const EndpointOptions options_;
  Pipeline* const pipeline_;
  mutable asio::io_context io_;  // mutable: Connections() posts to it
  tcp::acceptor acceptor_;
  asio::steady_timer ticker_;
  std::optional<asio::ssl::context> ssl_;
  std::unique_ptr<endpoint::PasswordFile> passwords_;  // null: anonymous
  std::uint16_t port_ = 0;
  std::thread thread_;
  EndpointStats stats_;
  std::atomic<bool> intake_stopped_{false};
  bool closing_all_ = false;
  Mutex stop_mu_;
  bool stopped_ SLUICE_GUARDED_BY(stop_mu_) = false;
  mutable Mutex last_error_mu_;  // a leaf lock
  std::string last_error_ SLUICE_GUARDED_BY(last_error_mu_);
  std::int64_t last_error_ns_ SLUICE_GUARDED_BY(last_error_mu_) = 0;
  // Network thread only:
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
  SessionMap sessions_;
  std::unordered_map<std::uint32_t, Session*> by_number_;
  std::uint32_t next_session_ = 0;
  std::vector<Session*> touched_;
  std::minstd_rand rng_{std::random_device{}()};
  // LogLimited: 5 lines a second across all connections.
  RateLimitedLog log_limit_{1'000'000'000, 5};
};

}  // namespace sluice::gateway
