// What the stream lane shows in /metrics (sluice_stream_*), /v1/status
// ("stream") and /readyz, from its stats. Kept apart from app_metrics.cc.
#pragma once

#include <string>

#include "gateway/admin/admin_server.h"
#include "stream/kafka_lane.h"

namespace sluice::gateway {

void AppendStreamMetrics(MetricsText& m, const stream::KafkaLaneStats& s, std::int64_t now_ns);
// `,"stream":{...}`, to follow another member of the status object.
std::string StreamStatusJson(const stream::KafkaLaneStats& s, std::int64_t now_ns);
// Non-empty while Kafka refuses the lane's credentials or permissions.
std::string StreamUnreadyReason(const stream::KafkaLaneStats& s);

}  // namespace sluice::gateway
