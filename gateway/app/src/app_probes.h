// The probes of a running App: one per module, each registering that
// module's metric families in App::metrics_, plus the App's own (build,
// board, start time). Built by App::StartProbes once every module is up;
// destroyed by App::Stop before any module goes.
#pragma once

#include <memory>

#include "gateway/app/app.h"
#include "gateway/endpoint/endpoint_probe.h"
#include "gateway/frontend/frontend_probe.h"
#include "gateway/pipeline/pipeline_probe.h"
#include "store/store_probe.h"
#include "stream/kafka_lane_probe.h"
#include "sync/sync_probe.h"

namespace sluice::gateway {

struct App::Probes {
  explicit Probes(App& app);

  MetricRegistration app;  // sluice_build_info, sluice_board_info, sluice_start_time_seconds
  PipelineProbe pipeline;
  MqttFrontendProbe frontend;
  EndpointProbe endpoint;
  store::StoreProbe store;
  sync::SyncProbe sync;
  std::unique_ptr<stream::KafkaLaneProbe> stream;  // with [stream.kafka] only
};

}  // namespace sluice::gateway
