// What the stream lane shows in /v1/status ("stream") and /readyz, from
// its stats (its metrics are stream/kafka_lane_probe.h's).
#pragma once

#include <string>

#include "gateway/admin/status_schema.h"
#include "stream/kafka_lane.h"

namespace sluice::gateway {

// The "stream" fields of /v1/status.
void StreamStatus(StatusDoc& doc, const stream::KafkaLaneStats& s, std::int64_t now_ns);
// Non-empty while Kafka refuses the lane's credentials or permissions.
std::string StreamUnreadyReason(const stream::KafkaLaneStats& s);

}  // namespace sluice::gateway
