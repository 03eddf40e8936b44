// The librdkafka producer configuration of the lane: its own settings, then
// the user's properties, each checked by librdkafka itself.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>

#include "base/status.h"
#include "stream/kafka_lane.h"

namespace sluice::stream {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// InvalidArgument "properties.<name>: <librdkafka's reason>" for a property
// librdkafka refuses or one that would weaken the lane's guarantees;
// "<field>: ..." for the lane's own fields.
Result<ConfPtr> BuildProducerConf(const KafkaLaneOptions& options);

}  // namespace sluice::stream
