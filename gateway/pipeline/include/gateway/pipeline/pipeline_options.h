// Options of the ingest pipeline between the MQTT front-end and the store:
// decoder shards, bounded queues, batching, backpressure and shedding.
// Filled by the config loader from `[pipeline]` (docs/config.md).
#pragma once

#include <chrono>
#include <cstdint>

#include "base/status.h"

namespace sluice::gateway {

// What may be dropped instead of pushing back on the broker. Cumulative:
// each level also sheds what the levels before it shed. Never renumber.
enum class ShedPolicy : std::uint8_t {
  kNone = 0,    // never drop; always push back (the default)
  kQos0 = 1,    // QoS 0 messages while the pipeline is slowed or stopped
  kLow = 2,     // and, while stopped, messages of rules with priority "low"
  kNormal = 3,  // and, while stopped, priority "normal" too ("high" never)
};

struct PipelineOptions {
  // Decoder threads. A message goes to the shard of its routing key (the
  // Sparkplug edge node, else the topic), so one key is decoded in order.
  // Default: 2. 1 to 64.
  std::uint32_t shards = 2;
  // Messages waiting per shard. Bounds what Paho has acknowledged but the
  // store does not hold yet. Default: 256. 1 to 65536.
  std::uint32_t queue_capacity = 256;
  // A batch is appended when it holds this many records... Default: 512.
  // 1 to 65536.
  std::uint32_t batch_max_records = 512;
  // ...or when its first record has waited this long. Default: 2 ms.
  // At most 1 s.
  std::chrono::microseconds batch_linger{2000};
  // Appends per shard waiting for their durable ticket. Default: 2. 1 to 64.
  std::uint32_t max_inflight_batches = 2;
  // How often pressure (store, queues, extra sources) is sampled.
  // Default: 10 ms. 1 ms to 1 s.
  std::chrono::microseconds pressure_poll{10000};
  // While slowed, each message is held this long before it is queued.
  // Default: 1 ms. At most 1 s.
  std::chrono::microseconds slow_delay{1000};
  // Queue fill, percent of capacity, at which the pipeline counts as slowed
  // (sheds QoS 0 under the shed policy). Default: 75. 1 to 100.
  std::uint32_t slow_queue_pct = 75;
  ShedPolicy shed = ShedPolicy::kNone;

  Status Validate() const;
};

std::string_view ShedPolicyName(ShedPolicy policy);

}  // namespace sluice::gateway
