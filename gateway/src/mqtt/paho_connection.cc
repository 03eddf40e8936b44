#include "paho_connection.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace sluice::gateway::mqtt_internal {
namespace {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int PahoVersion(MqttVersion v) { return v == MqttVersion::kV5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1; }

}  // namespace

PahoConnection::PahoConnection(const MqttBrokerOptions& broker, std::string client_id,
                               std::string password,
                               std::vector<MqttSubscription> subscriptions, std::uint32_t source,
                               Pipeline* pipeline, SharedCounters* counters)
    : broker_(broker),
      client_id_(std::move(client_id)),
      password_(std::move(password)),
      subscriptions_(std::move(subscriptions)),
      source_(source),
      pipeline_(pipeline),
      counters_(counters),
      rng_(std::random_device{}()) {}

PahoConnection::~PahoConnection() { Stop(1000); }

Status PahoConnection::Start() {
  try {
    client_ = std::make_unique<mqtt::async_client>(broker_.uri, client_id_,
                                                   mqtt::create_options(PahoVersion(broker_.version)));
    client_->set_message_callback([this](mqtt::const_message_ptr m) { OnMessage(m); });
    client_->set_connection_lost_handler([this](const std::string& cause) { OnLost(cause); });
    client_->set_disconnected_handler([this](const mqtt::properties&, mqtt::ReasonCode rc) {
      OnLost("broker sent DISCONNECT, reason " + std::to_string(static_cast<int>(rc)));
    });
  } catch (const std::exception& e) {
    return InvalidArgument("mqtt client " + client_id_ + " for " + broker_.uri + ": " + e.what());
  }
  supervisor_ = std::thread([this] { Supervise(); });
  return Status::Ok();
}

mqtt::connect_options PahoConnection::ConnectOptions() const {
  mqtt::connect_options o;
  o.set_mqtt_version(PahoVersion(broker_.version));
  o.set_keep_alive_interval(static_cast<int>(broker_.keep_alive_s));
  o.set_connect_timeout(std::chrono::milliseconds(broker_.connect_timeout_ms));
  o.set_automatic_reconnect(false);  // Supervise() reconnects, with jitter
  if (broker_.version == MqttVersion::kV5) {
    o.set_clean_start(broker_.clean_start);
    mqtt::properties props;
    props.add(mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL,
                             static_cast<int>(broker_.session_expiry_s)));
    props.add(mqtt::property(mqtt::property::RECEIVE_MAXIMUM,
                             static_cast<int>(broker_.receive_maximum)));
    o.set_properties(std::move(props));
  } else {
    o.set_clean_session(broker_.clean_start);
  }
  if (!broker_.username.empty()) o.set_user_name(broker_.username);
  if (!password_.empty()) o.set_password(password_);
  if (broker_.uri.starts_with("ssl://")) {
    mqtt::ssl_options ssl;
    ssl.set_enable_server_cert_auth(true);
    if (!broker_.tls_ca_file.empty()) ssl.set_trust_store(broker_.tls_ca_file);
    if (!broker_.tls_cert_file.empty()) ssl.set_key_store(broker_.tls_cert_file);
    if (!broker_.tls_key_file.empty()) ssl.set_private_key(broker_.tls_key_file);
    ssl.set_error_handler([id = client_id_](const std::string& msg) {
      spdlog::warn("mqtt {}: TLS: {}", id, msg);
    });
    o.set_ssl(std::move(ssl));
  }
  return o;
}

Status PahoConnection::ConnectOnce() {
  try {
    auto tok = client_->connect(ConnectOptions());
    if (!tok->wait_for(std::chrono::milliseconds(broker_.connect_timeout_ms + 1000))) {
      return Unavailable("connect timed out");
    }
    const bool session_present = tok->get_connect_response().is_session_present();
    if (!subscriptions_.empty()) {
      auto filters = std::make_shared<mqtt::string_collection>();
      std::vector<int> qos;
      for (const auto& s : subscriptions_) {
        filters->push_back(s.filter);
        qos.push_back(s.qos);
      }
      auto sub = client_->subscribe(filters, qos);
      if (!sub->wait_for(std::chrono::milliseconds(broker_.connect_timeout_ms))) {
        return Unavailable("subscribe timed out");
      }
      if (broker_.version == MqttVersion::kV5) {
        const auto codes = sub->get_subscribe_response().get_reason_codes();
        for (std::size_t i = 0; i < codes.size() && i < subscriptions_.size(); ++i) {
          if (codes[i] >= 0x80) {
            spdlog::error("mqtt {}: broker refused subscription '{}' (reason {})", client_id_,
                          subscriptions_[i].filter, static_cast<int>(codes[i]));
          }
        }
      }
    }
    spdlog::info("mqtt {}: connected to {} ({} session, {} subscriptions)", client_id_,
                 broker_.uri, session_present ? "resumed" : "new", subscriptions_.size());
    return Status::Ok();
  } catch (const mqtt::exception& e) {
    return Unavailable(e.what());
  } catch (const std::exception& e) {
    return Unavailable(e.what());
  }
}

std::chrono::milliseconds PahoConnection::NextBackoff() {
  using std::chrono::milliseconds;
  backoff_ = backoff_.count() == 0 ? milliseconds(broker_.reconnect_min_ms)
                                   : std::min(backoff_ * 2, milliseconds(broker_.reconnect_max_ms));
  // Full jitter over the upper half: spreads reconnect storms of many boxes.
  std::uniform_int_distribution<std::int64_t> d(backoff_.count() / 2, backoff_.count());
  return milliseconds(d(rng_));
}

void PahoConnection::Supervise() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lost_ = false;
    lock.unlock();
    const Status s = ConnectOnce();
    lock.lock();
    if (stop_) break;
    if (s.ok()) {
      counters_->connects.fetch_add(1, std::memory_order_relaxed);
      connected_.store(true, std::memory_order_relaxed);
      backoff_ = std::chrono::milliseconds(0);
      cv_.wait(lock, [&] { return stop_ || lost_; });
      connected_.store(false, std::memory_order_relaxed);
      if (stop_) break;
    } else {
      counters_->connect_failures.fetch_add(1, std::memory_order_relaxed);
      // Paho may hold a half-open connection after a failed subscribe.
      lock.unlock();
      try {
        if (client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(1));
      } catch (const std::exception&) {
      }
      lock.lock();
    }
    const auto wait = NextBackoff();
    if (!s.ok()) {
      spdlog::warn("mqtt {}: cannot connect to {}: {}; retrying in {} ms", client_id_,
                   broker_.uri, s.message(), wait.count());
    }
    cv_.wait_for(lock, wait, [&] { return stop_; });
  }
}

void PahoConnection::OnLost(const std::string& cause) {
  counters_->lost.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("mqtt {}: connection to {} lost: {}", client_id_, broker_.uri,
               cause.empty() ? "no reason given" : cause);
  std::lock_guard lock(mu_);
  lost_ = true;
  cv_.notify_all();
}

void PahoConnection::OnMessage(const mqtt::const_message_ptr& m) {
  // Runs on Paho's receive thread. Offer() may wait (backpressure): while it
  // does, Paho reads nothing more from this socket.
  try {
    counters_->messages.fetch_add(1, std::memory_order_relaxed);
    InboundMessage in;
    in.topic = m->get_topic();
    const auto& payload = m->get_payload_ref();
    in.payload.assign(payload.data(), payload.size());
    in.qos = m->get_qos();
    in.receive_time_ns = NowNs();
    in.source = source_;
    const MQTTProperties& props = m->get_properties().c_struct();
    for (int i = 0; i < props.count; ++i) {
      const MQTTProperty& p = props.array[i];
      if (p.identifier != MQTTPROPERTY_CODE_USER_PROPERTY) continue;
      in.user_properties.emplace_back(std::string(p.value.data.data, p.value.data.len),
                                      std::string(p.value.value.data, p.value.value.len));
    }
    (void)pipeline_->Offer(std::move(in));
  } catch (const std::exception& e) {
    spdlog::error("mqtt {}: message on '{}' not handled: {}", client_id_, m->get_topic(),
                  e.what());
  }
}

void PahoConnection::Publish(const OutboundMessage& out) {
  try {
    if (!client_ || !client_->is_connected()) {
      counters_->publish_failures.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto msg = mqtt::make_message(out.topic, out.payload, out.qos, out.retain);
    (void)client_->publish(msg);  // QoS 0 rebirth requests: fire and forget
  } catch (const std::exception& e) {
    counters_->publish_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("mqtt {}: publish to '{}' failed: {}", client_id_, out.topic, e.what());
  }
}

void PahoConnection::Stop(int timeout_ms) {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !supervisor_.joinable()) return;
    stop_ = true;
    cv_.notify_all();
  }
  if (supervisor_.joinable()) supervisor_.join();
  connected_.store(false, std::memory_order_relaxed);
  if (!client_) return;
  try {
    if (client_->is_connected()) {
      // A normal DISCONNECT keeps the session: the broker queues for us.
      client_->disconnect(timeout_ms)->wait_for(std::chrono::milliseconds(timeout_ms + 500));
    }
  } catch (const std::exception& e) {
    spdlog::warn("mqtt {}: disconnect: {}", client_id_, e.what());
  }
}

}  // namespace sluice::gateway::mqtt_internal
