// The stream lane's metrics (sluice_stream_*): records sent, delivered and
// lost, the backlog in the store, delivery errors by kind, the spill log,
// latency. Every family reads one KafkaLane::stats() per scrape; a new lane
// counter is one entry in kafka_lane_probe.cc. Registered only while a lane
// runs ([stream.kafka] enabled).
#pragma once

#include <cstdint>

#include "base/metrics.h"
#include "stream/kafka_lane.h"

namespace sluice::stream {

// Age of the oldest durable record not yet confirmed, s; 0 when none.
double OldestUnconfirmedAgeS(const KafkaLaneStats& stats, std::int64_t now_wall_ns);

// What one scrape reads of the lane.
struct KafkaLaneSnapshot {
  KafkaLaneStats stats;
  std::int64_t now_wall_ns = 0;
};

class KafkaLaneProbe {
 public:
  // Registers the lane's families in `registry` (null: nothing); `lane`
  // must outlive the probe.
  KafkaLaneProbe(const KafkaLane& lane, MetricRegistry* registry);

 private:
  MetricSet<KafkaLaneSnapshot> metrics_;
};

}  // namespace sluice::stream
