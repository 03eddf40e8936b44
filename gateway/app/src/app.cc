#include "gateway/app/app.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "base/clock.h"
#include "gateway/admin/partitions_api.h"
#include "gateway/console/console_assets.h"
#include "gateway/admin/series_api.h"
#include "app_probes.h"
#include "ingest_window.h"

namespace sluice::gateway {

App::App() : window_(std::make_unique<app::IngestWindow>()) {}

Result<std::unique_ptr<App>> App::Start(const Config& config, AppHooks hooks) {
  std::unique_ptr<App> app(new App());
  app->config_ = config;
  app->start_wall_ns_ = WallNs();
  // A bad admin token file refuses the start before anything else opens
  // (the admin endpoint reads it again when it starts, last).
  if (config.admin.enabled && !config.admin.http.token_file.empty()) {
    if (auto token = LoadAdminToken(config.admin.http.token_file); !token.ok()) {
      return token.status().WithContext("admin");
    }
  }

  auto store = store::Store::Open(config.store, std::move(hooks.store_context));
  if (!store.ok()) return store.status().WithContext("store " + config.store.dir);
  app->store_ = std::move(*store);
  const auto st = app->store_->stats();
  spdlog::info("store {} open: {} series, {} records recovered, io {}, recovery {} us ({})",
               config.store.dir, st.series, st.recovered_records, st.io_engine, st.recovery_us,
               st.recovery_path);
  for (const auto& note : st.notes) spdlog::warn("store: {}", note);

  if (config.sync.sink != SinkKind::kNone) {
    sync::SyncEngine::SinkFactory sinks;
    if (config.sync.sink == SinkKind::kS3) {
      sync::S3SinkOptions s3 = config.sync.s3;
      // The bandwidth limit holds uploads back inside curl's read callback,
      // which curl's stall check counts as slowness: keep that check below
      // half of each worker's share of the limit.
      const auto& e = config.sync.engine;
      if (e.bandwidth > 0) {
        const std::uint64_t share = e.bandwidth /
                                    std::max<std::uint32_t>(1, e.live_workers + e.backfill_workers);
        s3.low_speed_limit_bytes_per_s = static_cast<std::uint32_t>(std::min<std::uint64_t>(
            std::max<std::uint64_t>(share / 2, 1), s3.low_speed_limit_bytes_per_s));
      }
      sinks = [o = std::move(s3)] { return sync::OpenS3Sink(o); };
    } else {
      sinks = [o = config.sync.dir] { return sync::OpenDirSink(o); };
    }
    auto engine = sync::SyncEngine::Open(app->store_.get(), std::move(sinks), config.sync.engine);
    if (!engine.ok()) return engine.status().WithContext("sync");
    app->sync_ = std::move(*engine);
    spdlog::info("sync: sealed partitions go to {}",
                 config.sync.sink == SinkKind::kS3
                     ? config.sync.s3.endpoint + "/" + config.sync.s3.bucket
                     : config.sync.dir.root);
  } else {
    spdlog::warn("sync.sink = \"none\": sealed partitions stay on this box");
  }

  if (config.stream.enabled) {
    auto lane = stream::KafkaLane::Start(app->store_.get(), config.stream.kafka);
    if (!lane.ok()) return lane.status().WithContext("stream.kafka");
    app->stream_ = std::move(*lane);
    spdlog::info("stream: durable records to Kafka {} topic {} ({})",
                 config.stream.kafka.bootstrap_servers, app->stream_->stats().topic,
                 stream::MessageFormatName(config.stream.kafka.format));
  }

  PipelineStoreLimits limits;
  limits.max_value_bytes = config.store.max_value_bytes;
  limits.max_batch_bytes = config.store.block_size / 2;
  if (config.store.disk_budget > 0) {
    limits.disk_slow_bytes =
        config.store.disk_budget / 100 * config.store.disk_high_watermark;
  }
  auto pipeline = Pipeline::Create(config.pipeline, config.ingest, limits, app->store_.get());
  if (!pipeline.ok()) return pipeline.status().WithContext("pipeline");
  app->pipeline_ = std::move(*pipeline);
  for (auto& s : hooks.pressure_sources) app->pipeline_->AddPressureSource(std::move(s));
  SLUICE_ASSIGN_OR_RETURN(auto rules, RuleSet::Build(config.ingest));
  app->rules_ = std::move(rules);
  app->StartSampler();

  if (!config.mqtt.brokers.empty()) {
    auto mqtt = MqttFrontend::Start(config.mqtt, app->rules_, app->pipeline_.get());
    if (!mqtt.ok()) return mqtt.status().WithContext("mqtt");
    app->mqtt_ = std::move(*mqtt);
    app->pipeline_->SetPublisher([m = app->mqtt_.get()](MessageSource source,
                                                         const OutboundMessage& msg) {
      // Sparkplug rebirth requests go back through the broker the message
      // came from; the endpoint is not a broker and cannot deliver them.
      if (source.kind == MessageSource::Kind::kFrontend) m->Publish(source.id, msg);
    });
  }
  if (config.endpoint.enabled) {
    SLUICE_ASSIGN_OR_RETURN(auto endpoint,
                            MqttEndpoint::Start(config.endpoint, app->pipeline_.get()));
    app->endpoint_ = std::move(endpoint);
    // Store callbacks may still be running when the endpoint goes away:
    // they reach it through a route that Stop() cuts first.
    app->ack_route_ = std::make_shared<AckRoute>(app->endpoint_.get());
    app->pipeline_->SetAcker([route = app->ack_route_](std::span<const MessageAck> acks) {
      MutexLock lock(route->mu);
      if (route->endpoint != nullptr) route->endpoint->OnAcks(acks);
    });
  }
  if (config.mqtt.brokers.empty() && !config.endpoint.enabled) {
    spdlog::warn("no [[mqtt.broker]] and no [endpoint] configured: nothing will be ingested");
  }

  app->StartProbes();
  if (config.admin.enabled) {
    App* self = app.get();
    AdminHandlers h;
    h.registry = &app->metrics_;
    h.status = [self] { return self->StatusJson(); };
    h.sources = [self] { return self->SourcesJson(); };
    h.unhealthy_reason = [self] { return self->UnhealthyReason(); };
    h.unready_reason = [self] { return self->UnreadyReason(); };
    h.series = [self](const AdminRequest& r) {
      return admin::ServeSeries(*self->store_, r, WallNs());
    };
    // The configured window, as the sync engine records it in objects (the
    // store does not report the window it was created with).
    h.partitions = [self, window_ns = std::chrono::nanoseconds(config.store.partition_window).count()](const AdminRequest& r) {
      return admin::ServePartitions(*self->store_, self->sync_.get(), window_ns, r);
    };
    // The web console's files, embedded in the binary (gateway/console).
    h.asset = [](std::string_view path) -> std::optional<StaticAsset> {
      const console::ConsoleAsset* a = console::FindConsoleAsset(path);
      if (a == nullptr) return std::nullopt;
      return StaticAsset{a->content_type, a->body};
    };
    auto admin = AdminServer::Start(config.admin.http, std::move(h));
    // Observability never stops ingest: a taken port is logged, not fatal.
    // A bad or missing token file is: serving without it would expose the
    // data, and silently serving nothing would hide the mistake.
    if (admin.ok()) {
      app->admin_ = std::move(*admin);
      spdlog::info("admin: {}://{}:{}/metrics, web console at /{}",
                   config.admin.http.tls() ? "https" : "http", config.admin.http.address,
                   app->admin_->port(),
                   config.admin.http.token_file.empty() ? "" : " (bearer token required)");
    } else if (admin.status().code() == StatusCode::kUnavailable) {
      spdlog::error("admin endpoint off: {}", admin.status().ToString());
    } else {
      return admin.status().WithContext("admin");
    }
  }
  return app;
}

App::~App() { (void)Stop(); }

Status App::Stop() {
  if (stopped_) return close_status_;
  stopped_ = true;
  if (admin_) admin_->Stop();
  probes_.reset();  // nothing scrapes any more; the modules below go
  StopSampler();
  // The endpoint stops reading but keeps sending acknowledgements while the
  // pipeline drains, so what became durable is acknowledged.
  if (endpoint_) endpoint_->StopIntake();
  if (mqtt_) mqtt_->Stop(2000);
  // Release any receive thread still waiting in Offer() (the store may be
  // full): its message is counted as closed. Then the clients can go.
  if (pipeline_) pipeline_->CloseIntake();
  if (mqtt_) last_mqtt_ = mqtt_->counters();
  mqtt_.reset();
  if (pipeline_) pipeline_->Drain();
  if (endpoint_) {
    if (ack_route_) {
      MutexLock lock(ack_route_->mu);
      ack_route_->endpoint = nullptr;
    }
    endpoint_->Stop();
    last_endpoint_ = endpoint_->counters();
    endpoint_.reset();
  }
  if (stream_) stream_->Stop();
  if (sync_) sync_->Stop();
  if (store_) close_status_ = store_->Close();
  spdlog::info("stopped: {}", StatsLine());
  return close_status_;
}

void App::SampleIngest(std::int64_t mono_ns) {
  if (pipeline_) window_->Add(app::SampleOf(pipeline_->counters(), mono_ns));
}

// A ticker of its own: nothing else in the App runs once a second, and
// one counters() call and one malloc_trim a second cost next to nothing.
void App::StartSampler() {
  SampleIngest(MonotonicNs());  // the start of every window while the gateway is young
  sampler_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sluice-sampler");
    MutexLock lock(sampler_mu_);
    auto next = std::chrono::steady_clock::now();
    for (;;) {
      next += std::chrono::seconds(1);
      if (sampler_cv_.WaitUntil(lock, next,
                                [this]() SLUICE_REQUIRES(sampler_mu_) { return sampler_stop_; }))
        return;
      lock.Unlock();
      SampleIngest(MonotonicNs());
      // What malloc holds free, in whole pages, back to the system: a
      // burst (100,000 series registered, queues filled during an outage)
      // would otherwise stay resident for good. A few milliseconds at
      // most, on this thread; docs/design.md, "Memory".
      malloc_trim(0);
      lock.Lock();
    }
  });
}

void App::StopSampler() {
  {
    MutexLock lock(sampler_mu_);
    sampler_stop_ = true;
  }
  sampler_cv_.NotifyAll();
  if (sampler_.joinable()) sampler_.join();
}

AppStats App::stats() const {
  AppStats s;
  if (pipeline_) s.pipeline = pipeline_->counters();
  s.mqtt = mqtt_ ? mqtt_->counters() : last_mqtt_;
  s.endpoint = endpoint_ ? endpoint_->counters() : last_endpoint_;
  if (store_) s.store = store_->stats();
  if (sync_) s.sync = sync_->health();
  return s;
}

std::string App::StatsLine() const {
  const AppStats s = stats();
  const auto& p = s.pipeline;
  std::ostringstream o;
  o << "messages_in=" << p.messages_in << " decoded=" << p.messages_decoded
    << " malformed=" << p.messages_malformed << " unmatched=" << p.messages_unmatched
    << " shed=" << p.ShedTotal() << " closed=" << p.messages_closed
    << " records_stored=" << p.records_stored << " records_dropped=" << p.records_dropped
    << " series_registered=" << p.series_registered << " series_conflicts=" << p.series_conflicts
    << " batches=" << p.batches << " append_retries=" << p.append_retries
    << " slowed_ms=" << p.slowed_us / 1000 << " pressure=" << PressureLevelName(p.level)
    << " mqtt_connected=" << s.mqtt.connected << "/" << s.mqtt.total
    << " mqtt_connects=" << s.mqtt.connects << " mqtt_lost=" << s.mqtt.connections_lost
    << " endpoint_connections=" << s.endpoint.connections_active
    << " endpoint_acks=" << s.endpoint.acks_sent
    << " store_records=" << s.store.records << " blocks=" << s.store.blocks_written
    << " block_bytes=" << s.store.block_bytes_written
    << " synced_objects=" << s.sync.live.uploaded_objects + s.sync.backfill.uploaded_objects
    << " synced_bytes=" << s.sync.live.uploaded_bytes + s.sync.backfill.uploaded_bytes;
  if (stream_) o << " streamed_records=" << stream_->stats().records_delivered;
  return o.str();
}

}  // namespace sluice::gateway
