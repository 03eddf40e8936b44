#include "gateway/frontend/mqtt_frontend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "paho_connection.h"

namespace sluice::gateway {

std::vector<std::vector<MqttSubscription>> PlanSubscriptions(const MqttBrokerOptions& broker,
                                                             const RuleSet& rules) {
  std::vector<std::string> shared, sparkplug;
  for (const auto& rule : rules.rules()) {
    auto& list = rule.options.format == PayloadFormat::kSparkplugB ? sparkplug : shared;
    const std::string& f = rule.pattern.filter();
    if (std::find(list.begin(), list.end(), f) == list.end()) list.push_back(f);
  }
  const int qos = static_cast<int>(broker.qos);
  std::vector<std::vector<MqttSubscription>> plan(broker.connections);
  for (std::uint32_t i = 0; i < broker.connections; ++i) {
    for (const auto& f : shared) {
      plan[i].push_back({broker.connections > 1 ? "$share/" + broker.share_group + "/" + f : f, qos});
    }
    // In order, on one client: a node's births and data must not be split.
    if (i == 0) {
      for (const auto& f : sparkplug) plan[i].push_back({f, qos});
    }
  }
  return plan;
}

namespace {

using mqtt_internal::PahoConnection;

Result<std::string> ReadPassword(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("password_file " + path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  std::string pw = s.str();
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  // Never echo the contents, not even their length.
  if (pw.empty()) return InvalidArgument("password_file " + path + ": empty");
  return pw;
}

class MqttFrontendImpl final : public MqttFrontend {
 public:
  ~MqttFrontendImpl() override { Stop(1000); }

  Status Init(const MqttOptions& options, const RuleSet& rules, Pipeline* pipeline) {
    std::uint32_t source = 0;
    for (std::uint32_t b = 0; b < options.brokers.size(); ++b) {
      const auto& broker = options.brokers[b];
      std::string password;
      if (!broker.password_file.empty()) {
        SLUICE_ASSIGN_OR_RETURN(auto pw, ReadPassword(broker.password_file));
        password = std::move(pw);
      }
      auto plan = PlanSubscriptions(broker, rules);
      for (std::uint32_t i = 0; i < broker.connections; ++i) {
        conns_.push_back(std::make_unique<PahoConnection>(
            broker, broker.client_id_prefix + "-" + std::to_string(i), password, plan[i],
            source++, pipeline, &counters_));
        broker_of_.push_back(b);
      }
    }
    for (auto& c : conns_) SLUICE_RETURN_IF_ERROR(c->Start());
    return Status::Ok();
  }

  void Stop(int timeout_ms) override {
    for (auto& c : conns_) c->Stop(timeout_ms);
  }

  void Publish(std::uint32_t source, const OutboundMessage& message) override {
    if (source < conns_.size()) {
      conns_[source]->Publish(message);
    } else {
      counters_.publish_failures.fetch_add(1, std::memory_order_relaxed);
    }
  }

  MqttFrontendCounters counters() const override {
    MqttFrontendCounters c;
    c.connects = counters_.connects.load(std::memory_order_relaxed);
    c.connect_failures = counters_.connect_failures.load(std::memory_order_relaxed);
    c.connections_lost = counters_.lost.load(std::memory_order_relaxed);
    c.messages = counters_.messages.load(std::memory_order_relaxed);
    c.publish_failures = counters_.publish_failures.load(std::memory_order_relaxed);
    c.total = static_cast<std::uint32_t>(conns_.size());
    for (const auto& conn : conns_) c.connected += conn->connected() ? 1 : 0;
    return c;
  }

  std::vector<MqttConnectionInfo> connections() const override {
    std::vector<MqttConnectionInfo> out;
    out.reserve(conns_.size());
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      out.push_back(conns_[i]->info());
      out.back().broker = broker_of_[i];
    }
    return out;
  }

 private:
  mqtt_internal::SharedCounters counters_;
  std::vector<std::unique_ptr<PahoConnection>> conns_;
  std::vector<std::uint32_t> broker_of_;  // per connection: its broker's position
};

}  // namespace

Result<std::unique_ptr<MqttFrontend>> MqttFrontend::Start(const MqttOptions& options,
                                                          const RuleSet& rules,
                                                          Pipeline* pipeline) {
  auto f = std::make_unique<MqttFrontendImpl>();
  SLUICE_RETURN_IF_ERROR(f->Init(options, rules, pipeline));
  return std::unique_ptr<MqttFrontend>(std::move(f));
}

}  // namespace sluice::gateway
