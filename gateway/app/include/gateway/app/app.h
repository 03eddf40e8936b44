// The running gateway: store, ingest pipeline and MQTT front-end wired
// together in the order they must start and stop. `sluice run` is a thin
// shell around it; tests run it in-process.
//
// Start: store -> sync engine -> stream lane -> pipeline -> MQTT front-end -> endpoint
//        -> admin HTTP
// Stop:  admin HTTP -> endpoint stops reading -> MQTT disconnect ->
//        pipeline intake closed -> pipeline drained (every queued message
//        appended and durable, its acknowledgements sent) -> endpoint closed
//        -> stream lane (flushes what is in flight) -> sync engine -> Store::Close
//
// Adding a service: give it a member below, start it in App::Start where
// the comment marks its place, stop it in App::Stop in reverse order, and
// register its module's probe in App::Probes (app_probes.h), which puts
// its metrics on /metrics. A service that should push back on ingest (the
// sync backlog) adds a Pipeline::PressureSource.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "gateway/admin/admin_server.h"
#include "gateway/app/config.h"
#include "gateway/endpoint/mqtt_endpoint.h"
#include "gateway/frontend/mqtt_frontend.h"
#include "gateway/pipeline/pipeline.h"
#include "store/store.h"
#include "stream/kafka_lane.h"

namespace sluice::gateway {

namespace app {
class IngestWindow;
}

struct AppHooks {
  store::StoreContext store_context;  // tests: fault-injecting env, clock
  std::vector<Pipeline::PressureSource> pressure_sources;  // tests; later the sync backlog
};

struct AppStats {
  PipelineCounters pipeline;
  MqttFrontendCounters mqtt;
  EndpointCounters endpoint;
  store::StoreStats store;
  sync::SyncHealth sync;  // running = false when no sink is configured
};

class App {
 public:
  static Result<std::unique_ptr<App>> Start(const Config& config, AppHooks hooks = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Drains and closes everything; the store's Close status. Idempotent.
  Status Stop();

  AppStats stats() const;
  // One line of the main counters, for logs.
  std::string StatsLine() const;
  // What /metrics serves: every family the modules' probes and the App
  // registered (app families: sluice_build_info, sluice_board_info,
  // sluice_start_time_seconds).
  const MetricRegistry& metrics() const { return metrics_; }
  // A JSON summary (/v1/status).
  std::string StatusJson() const;
  // Brokers, endpoint connections and rules, as JSON (/v1/sources).
  std::string SourcesJson() const;
  // Takes one sample for the rate and latency windows of /v1/status; the
  // sampler thread calls it once a second, tests may call it themselves.
  // `mono_ns`: the monotonic clock, any epoch, in increasing order.
  void SampleIngest(std::int64_t mono_ns);
  // Empty when live, else why not (/healthz): the store open, sync not
  // stuck past admin.sync_stuck_after. A full store is not a liveness
  // failure: restarting would meet the same full disk.
  std::string UnhealthyReason() const;
  // Empty when ready, else why not (/readyz): the store open and taking
  // appends ("appends refused: no space (<why>)" while it is full, for the
  // disk budget or the file system), and, with brokers configured, at least
  // one broker connection up.
  std::string UnreadyReason() const;
  // The admin endpoint's port; 0 when it is off.
  std::uint16_t admin_port() const { return admin_ ? admin_->port() : 0; }
  // The native MQTT endpoint's port; 0 when it is off.
  std::uint16_t endpoint_port() const { return endpoint_ ? endpoint_->port() : 0; }

  store::Store& store() { return *store_; }
  Pipeline& pipeline() { return *pipeline_; }

 private:
  struct Probes;  // app_probes.h

  App();
  void StartSampler();
  void StopSampler();
  // Registers the App's families and every module's probe in metrics_.
  void StartProbes();

  Config config_;
  MetricRegistry metrics_;  // before every module and probe: it outlives them
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<sync::SyncEngine> sync_;  // after the store, stopped before it closes
  std::unique_ptr<stream::KafkaLane> stream_;  // [stream.kafka]; after sync, stopped before it
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<MqttFrontend> mqtt_;
  std::unique_ptr<MqttEndpoint> endpoint_;  // native MQTT ingest, if enabled
  // How acknowledgements from store callbacks reach the endpoint.
  struct AckRoute {
    explicit AckRoute(MqttEndpoint* e) : endpoint(e) {}
    Mutex mu;
    MqttEndpoint* endpoint SLUICE_GUARDED_BY(mu);
  };
  std::shared_ptr<AckRoute> ack_route_;
  std::unique_ptr<Probes> probes_;  // read the modules above; gone before any of them
  std::unique_ptr<AdminServer> admin_;  // started last, stopped first
  MqttFrontendCounters last_mqtt_;  // kept when the front-end is gone
  EndpointCounters last_endpoint_;
  bool stopped_ = false;
  Status close_status_;
  std::int64_t start_wall_ns_ = 0;  // when Start began: uptime, "sync stuck since"
  RuleSet rules_;  // the ingest rules, for what /v1/sources and /metrics say of them

  // Once-a-second samples of the pipeline's counters (ingest rates, the
  // 60 s ack-latency window of /v1/status).
  std::unique_ptr<app::IngestWindow> window_;
  std::thread sampler_;
  Mutex sampler_mu_;
  CondVar sampler_cv_;
  bool sampler_stop_ SLUICE_GUARDED_BY(sampler_mu_) = false;
};

}  // namespace sluice::gateway
