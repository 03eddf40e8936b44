#include "paho_connection.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "base/clock.h"
#include "base/paho_library.h"

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sluice::gateway::mqtt_internal {
namespace {

int PahoVersion(MqttVersion v) { return v == MqttVersion::kV5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1; }

// Host and port of "tcp://host:port" or "ssl://host:port" (Validate() made
// sure of the shape); an IPv6 host loses its brackets.
std::pair<std::string, std::string> HostPort(const std::string& uri) {
  const std::string rest = uri.substr(uri.find("://") + 3);
  const auto colon = rest.rfind(':');
  std::string host = rest.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, rest.substr(colon + 1)};
}

// Whether anything accepts TCP connections at host:port. Paho says "TCP/TLS
// connect failure" both when nothing listens and when a TLS session fails
// without an OpenSSL error on our side; this tells the two apart.
Status ProbeTcp(const std::string& host, const std::string& port, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Unavailable("cannot resolve host '" + host + "': " + gai_strerror(rc));
  }
  int err = ECONNREFUSED;
  bool accepted = false;
  for (const addrinfo* a = found; a != nullptr && !accepted; a = a->ai_next) {
    const int fd =
        socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      accepted = true;
    } else if (errno != EINPROGRESS) {
      err = errno;
    } else {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, timeout_ms) == 1) {
        socklen_t len = sizeof err;
        err = 0;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        accepted = err == 0;
      } else {
        err = ETIMEDOUT;
      }
    }
    close(fd);
  }
  freeaddrinfo(found);
  if (accepted) return Status::Ok();
  return Unavailable("nothing accepts TCP connections at " + host + ":" + port + " (" +
                     std::strerror(err) + ")");
}

// Refusals that mean "these credentials are not welcome": MQTT 3.1.1 CONNACK
// return codes 4 and 5; MQTT 5 reasons 0x86, 0x87 and 0x8C.
bool IsCredentialRefusal(MqttVersion v, int code) {
  if (v == MqttVersion::kV311) return code == 4 || code == 5;
  return code == 0x86 || code == 0x87 || code == 0x8C;
}

std::string ConnackText(MqttVersion v, int code) {
  if (v == MqttVersion::kV311) {
    switch (code) {
      case 1: return "unacceptable protocol version";
      case 2: return "client identifier rejected";
      case 3: return "server unavailable";
      case 4: return "bad user name or password";
      case 5: return "not authorized";
      default: return "unknown return code";
    }
  }
  const char* text = MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(code));
  return text != nullptr ? text : "unknown reason code";
}

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
  HoldPahoLibrary();  // connections come and go with App restarts in one process
  try {
    client_ = std::make_unique<mqtt::async_client>(
        broker_.uri, client_id_, mqtt::create_options(PahoVersion(broker_.version)));
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

mqtt::connect_options PahoConnection::ConnectOptions() {
  mqtt::connect_options o;
  o.set_mqtt_version(PahoVersion(broker_.version));
  o.set_keep_alive_interval(broker_.keep_alive);
  o.set_connect_timeout(broker_.connect_timeout);
  o.set_automatic_reconnect(false);  // Supervise() reconnects, with jitter
  if (broker_.version == MqttVersion::kV5) {
    o.set_clean_start(broker_.clean_start);
    mqtt::properties props;
    props.add(mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL,
                             static_cast<int>(broker_.session_expiry.count())));
    props.add(mqtt::property(mqtt::property::RECEIVE_MAXIMUM,
                             static_cast<int>(broker_.receive_maximum)));
    o.set_properties(std::move(props));
  } else {
    o.set_clean_session(broker_.clean_start);
  }
  if (!broker_.username.empty()) o.set_user_name(broker_.username);
  if (!password_.empty()) o.set_password(password_);
  if (broker_.uri.starts_with("ssl://")) {
    // Paho C++ hands OpenSSL a pointer to the ssl_options object that set
    // the error handler, and copies of it keep that pointer: the object must
    // outlive every connect, so it is a member built once, not a local.
    if (!ssl_) {
      ssl_ = std::make_unique<mqtt::ssl_options>();
      // The chain must lead to a trusted CA, and (verify) the certificate
      // must name the host of the uri: Paho checks the chain only unless told.
      ssl_->set_enable_server_cert_auth(true);
      ssl_->set_verify(true);
      if (!broker_.tls_ca_file.empty()) ssl_->set_trust_store(broker_.tls_ca_file);
      if (!broker_.tls_cert_file.empty()) ssl_->set_key_store(broker_.tls_cert_file);
      if (!broker_.tls_key_file.empty()) ssl_->set_private_key(broker_.tls_key_file);
      // No ssl_options::set_error_handler: Paho C++ hands OpenSSL a pointer
      // to an options copy that does not outlive the asynchronous connect
      // (AddressSanitizer: stack-use-after-scope). Failures are described
      // from what Paho reports (DescribeConnectFailure).
    }
    o.set_ssl(*ssl_);
  }
  return o;
}

Status PahoConnection::DescribeConnectFailure(const mqtt::exception& e) {
  const int rc = e.get_return_code();
  if (rc > 0) {
    // The broker answered CONNECT with a refusal (a CONNACK code).
    const std::string why =
        ConnackText(broker_.version, rc) + " (" +
        (broker_.version == MqttVersion::kV5 ? "MQTT 5 CONNACK reason "
                                             : "MQTT 3.1.1 CONNACK return code ") +
        std::to_string(rc) + ")";
    if (IsCredentialRefusal(broker_.version, rc)) {
      if (broker_.username.empty()) {
        return InvalidArgument("the broker refused an anonymous connection: " + why +
                               "; set username and password_file");
      }
      return InvalidArgument(
          "the broker refused the credentials of user '" + broker_.username + "': " + why +
          "; check username and password_file " +
          (broker_.password_file.empty() ? "(none set)" : broker_.password_file));
    }
    return Unavailable("the broker refused the connection: " + why);
  }
  const bool tls = broker_.uri.starts_with("ssl://");
  std::string tls_error;
  {
    MutexLock lock(tls_mu_);
    tls_error = tls_error_;
  }
  if (tls && !tls_error.empty()) {
    if (tls_error.find("certificate verify failed") != std::string::npos) {
      return InvalidArgument("TLS: certificate verification of the broker failed (OpenSSL: " +
                             tls_error + "): its certificate is not signed by a CA in " +
                             (broker_.tls_ca_file.empty() ? "the system's CA store"
                                                          : "tls_ca_file " + broker_.tls_ca_file) +
                             ", or it has expired or is not yet valid");
    }
    return InvalidArgument("TLS handshake failed (OpenSSL: " + tls_error + ")");
  }
  if (rc == MQTTASYNC_FAILURE) {
    const auto [host, port] = HostPort(broker_.uri);
    SLUICE_RETURN_IF_ERROR(ProbeTcp(host, port, 1000));
    if (tls) {
      return InvalidArgument(
          "TLS session failed: the broker's certificate could not be verified (not signed by a "
          "CA in " +
          (broker_.tls_ca_file.empty() ? std::string("the system's CA store")
                                       : "tls_ca_file " + broker_.tls_ca_file) +
          ", expired, or not naming host '" + host +
          "' in its subjectAltName), or the broker refused our client certificate (" +
          (broker_.tls_cert_file.empty() ? "no tls_cert_file is set"
                                         : "tls_cert_file " + broker_.tls_cert_file) +
          ")");
    }
    return Unavailable("connect failed, though " + host + ":" + port +
                       " accepts TCP connections now: the broker was starting, or it closed the "
                       "connection before answering CONNECT (a TLS-only listener needs ssl://)");
  }
  return Unavailable(e.what());
}

Status PahoConnection::ConnectOnce() {
  if (broker_.uri.starts_with("ssl://")) {
    // OpenSSL would only say "system lib" for a file it cannot read.
    for (const auto& [key, file] : {std::pair{"tls_ca_file", &broker_.tls_ca_file},
                                    std::pair{"tls_cert_file", &broker_.tls_cert_file},
                                    std::pair{"tls_key_file", &broker_.tls_key_file}}) {
      if (!file->empty() && ::access(file->c_str(), R_OK) != 0) {
        return InvalidArgument(std::string(key) + " " + *file + ": " + std::strerror(errno));
      }
    }
  }
  {
    MutexLock lock(tls_mu_);
    tls_error_.clear();
  }
  bool session_present = false;
  try {
    auto tok = client_->connect(ConnectOptions());
    if (!tok->wait_for(broker_.connect_timeout + std::chrono::seconds(1))) {
      return Unavailable("connect timed out after " + std::to_string(broker_.connect_timeout.count()) +
                         " ms");
    }
    session_present = tok->get_connect_response().is_session_present();
  } catch (const mqtt::exception& e) {
    return DescribeConnectFailure(e);
  } catch (const std::exception& e) {
    return Unavailable(e.what());
  }
  try {
    if (!subscriptions_.empty()) {
      auto filters = std::make_shared<mqtt::string_collection>();
      std::vector<int> qos;
      for (const auto& s : subscriptions_) {
        filters->push_back(s.filter);
        qos.push_back(s.qos);
      }
      auto sub = client_->subscribe(filters, qos);
      if (!sub->wait_for(broker_.connect_timeout)) {
        return Unavailable("subscribe timed out");
      }
      if (broker_.version == MqttVersion::kV5) {
        const auto codes = sub->get_subscribe_response().get_reason_codes();
        for (std::size_t i = 0; i < codes.size() && i < subscriptions_.size(); ++i) {
          if (codes[i] >= 0x80) {
            spdlog::error("mqtt {}: broker refused subscription '{}' (reason {})", client_id_,
                          subscriptions_[i].filter, static_cast<int>(codes[i]));
            RecordError("broker refused subscription '" + subscriptions_[i].filter + "' (reason " +
                        std::to_string(static_cast<int>(codes[i])) + ")");
          }
        }
      }
    }
  } catch (const std::exception& e) {
    return Unavailable(std::string("subscribe: ") + e.what());
  }
  spdlog::info("mqtt {}: connected to {} ({} session, {} subscriptions)", client_id_,
               broker_.uri, session_present ? "resumed" : "new", subscriptions_.size());
  return Status::Ok();
}

std::chrono::milliseconds PahoConnection::NextBackoff() {
  using std::chrono::milliseconds;
  backoff_ = backoff_.count() == 0 ? broker_.reconnect_min
                                   : std::min(backoff_ * 2, broker_.reconnect_max);
  // Full jitter over the upper half: spreads reconnect storms of many boxes.
  std::uniform_int_distribution<std::int64_t> d(backoff_.count() / 2, backoff_.count());
  return milliseconds(d(rng_));
}

void PahoConnection::Supervise() {
  MutexLock lock(mu_);
  while (!stop_) {
    lost_ = false;
    lock.Unlock();
    const Status s = ConnectOnce();
    lock.Lock();
    if (stop_) break;
    if (s.ok()) {
      counters_->connects.fetch_add(1, std::memory_order_relaxed);
      connects_.fetch_add(1, std::memory_order_relaxed);
      connected_.store(true, std::memory_order_relaxed);
      backoff_ = std::chrono::milliseconds(0);
      cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) { return stop_ || lost_; });
      connected_.store(false, std::memory_order_relaxed);
      if (stop_) break;
    } else {
      counters_->connect_failures.fetch_add(1, std::memory_order_relaxed);
      connect_failures_.fetch_add(1, std::memory_order_relaxed);
      RecordError("cannot connect: " + s.message());
      // Paho may hold a half-open connection after a failed subscribe.
      lock.Unlock();
      try {
        if (client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(1));
      } catch (const std::exception&) {
      }
      lock.Lock();
    }
    const auto wait = NextBackoff();
    if (!s.ok()) {
      // Our configuration at fault (credentials, certificates): an error,
      // though the broker's side may change too, so we keep trying.
      spdlog::log(
          s.code() == StatusCode::kInvalidArgument ? spdlog::level::err : spdlog::level::warn,
          "mqtt {}: cannot connect to {}: {}; retrying in {} ms", client_id_, broker_.uri,
          s.message(), wait.count());
    }
    cv_.WaitFor(lock, wait, [&]() SLUICE_REQUIRES(mu_) { return stop_; });
  }
}

void PahoConnection::RecordError(std::string error) {
  const std::int64_t now = WallNs();
  MutexLock lock(info_mu_);
  last_error_ = std::move(error);
  last_error_ns_ = now;
}

MqttConnectionInfo PahoConnection::info() const {
  MqttConnectionInfo i;
  i.index = source_;
  i.uri = broker_.uri;
  i.client_id = client_id_;
  i.connected = connected();
  i.messages = messages_.load(std::memory_order_relaxed);
  i.connects = connects_.load(std::memory_order_relaxed);
  i.connect_failures = connect_failures_.load(std::memory_order_relaxed);
  i.connections_lost = lost_count_.load(std::memory_order_relaxed);
  for (const auto& s : subscriptions_) i.subscriptions.push_back(s.filter);
  MutexLock lock(info_mu_);
  i.last_error = last_error_;
  i.last_error_ns = last_error_ns_;
  return i;
}

void PahoConnection::OnLost(const std::string& cause) {
  counters_->lost.fetch_add(1, std::memory_order_relaxed);
  lost_count_.fetch_add(1, std::memory_order_relaxed);
  RecordError("connection lost: " + (cause.empty() ? std::string("no reason given") : cause));
  spdlog::warn("mqtt {}: connection to {} lost: {}", client_id_, broker_.uri,
               cause.empty() ? "no reason given" : cause);
  MutexLock lock(mu_);
  lost_ = true;
  cv_.NotifyAll();
}

void PahoConnection::OnMessage(const mqtt::const_message_ptr& m) {
  // Runs on Paho's receive thread. Offer() may wait (backpressure): while it
  // does, Paho reads nothing more from this socket.
  try {
    counters_->messages.fetch_add(1, std::memory_order_relaxed);
    messages_.fetch_add(1, std::memory_order_relaxed);
    InboundMessage in;
    in.topic = m->get_topic();
    const auto& payload = m->get_payload_ref();
    in.payload.assign(payload.data(), payload.size());
    in.qos = m->get_qos();
    in.receive_time_ns = WallNs();
    in.source = MessageSource::Frontend(source_);
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
    MutexLock lock(mu_);
    if (stop_ && !supervisor_.joinable()) return;
    stop_ = true;
    cv_.NotifyAll();
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
