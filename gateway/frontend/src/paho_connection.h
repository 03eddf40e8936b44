// One Paho C++ client: connect, subscribe, reconnect with backoff and
// jitter, hand messages to the pipeline. Internal: includes Paho. No Paho
// exception leaves this class.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <mqtt/async_client.h>

#include "base/mutex.h"
#include "gateway/frontend/mqtt_frontend.h"
#include "gateway/pipeline/pipeline.h"

namespace sluice::gateway::mqtt_internal {

struct SharedCounters {
  std::atomic<std::uint64_t> connects{0}, connect_failures{0}, lost{0}, messages{0},
      publish_failures{0};
};

class PahoConnection {
 public:
  PahoConnection(const MqttBrokerOptions& broker, std::string client_id, std::string password,
                 std::vector<MqttSubscription> subscriptions, std::uint32_t source,
                 Pipeline* pipeline, SharedCounters* counters);
  ~PahoConnection();

  // Creates the client and starts the supervisor thread.
  Status Start();
  // Stops the supervisor and disconnects (waiting at most timeout_ms).
  void Stop(int timeout_ms);
  void Publish(const OutboundMessage& message);
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  // This connection's counters and last error. Takes only info_mu_, which
  // no Paho call is ever made under, so it cannot wait on Paho's threads.
  MqttConnectionInfo info() const;

 private:
  void Supervise();
  // One connect + subscribe attempt. The message says what failed, for an
  // operator: InvalidArgument when our configuration or credentials are at
  // fault (refused by the broker, certificate checks, unreadable files),
  // Unavailable otherwise. Never contains the password.
  Status ConnectOnce();
  void OnMessage(const mqtt::const_message_ptr& m);
  void OnLost(const std::string& cause);
  mqtt::connect_options ConnectOptions();
  // Why a connect attempt failed, from Paho's exception and the TLS errors
  // OpenSSL reported during it.
  Status DescribeConnectFailure(const mqtt::exception& e);
  std::chrono::milliseconds NextBackoff();
  void RecordError(std::string error);

  const MqttBrokerOptions broker_;
  const std::string client_id_;
  const std::string password_;  // never logged
  const std::vector<MqttSubscription> subscriptions_;
  const std::uint32_t source_;
  Pipeline* pipeline_;
  SharedCounters* counters_;

  // OpenSSL errors of the current connect attempt; Paho reports them on its
  // own thread. Declared before client_ so that they outlive it.
  Mutex tls_mu_;
  std::string tls_error_ SLUICE_GUARDED_BY(tls_mu_);

  std::unique_ptr<mqtt::ssl_options> ssl_;  // see ConnectOptions(); before client_
  std::unique_ptr<mqtt::async_client> client_;
  std::thread supervisor_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ SLUICE_GUARDED_BY(mu_) = false;
  bool lost_ SLUICE_GUARDED_BY(mu_) = false;
  std::atomic<bool> connected_{false};
  // Per connection, besides the shared totals; relaxed.
  std::atomic<std::uint64_t> messages_{0}, connects_{0}, connect_failures_{0}, lost_count_{0};
  // A leaf lock: nothing else is taken and no Paho call is made under it.
  mutable Mutex info_mu_;
  std::string last_error_ SLUICE_GUARDED_BY(info_mu_);
  std::int64_t last_error_ns_ SLUICE_GUARDED_BY(info_mu_) = 0;
  std::chrono::milliseconds backoff_{0};
  std::minstd_rand rng_;
};

}  // namespace sluice::gateway::mqtt_internal
