// Value readers shared by the config loader's key tables (config.cc,
// mqtt/broker_config.cc, pipeline/pipeline_config.cc). Internal: toml++.
// Errors carry no position; the loader prefixes file, line, column and key.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <toml++/toml.h>

#include "base/status.h"
#include "gateway/app/config.h"
#include "gateway/frontend/mqtt_options.h"

namespace sluice::gateway::config {

Status GetString(const toml::node& n, std::string& out);
Status GetBool(const toml::node& n, bool& out);
// A size: an integer number of bytes, or a string "<n>B|KiB|MiB|GiB".
Status GetSize(const toml::node& n, std::uint64_t& out);
// A duration: a string "<n>us|ms|s", in microseconds.
Status GetDurationUs(const toml::node& n, std::uint64_t& out);
// A duration in [lo_us, hi_us], stored in `scale_us` units (1000: ms).
Status GetDuration32(const toml::node& n, std::uint64_t lo_us, std::uint64_t hi_us,
                     std::uint32_t scale_us, std::uint32_t& out);

// A key of the top-level tables.
struct KeySpec {
  ConfigKeyInfo info;
  Status (*apply)(Config&, const toml::node&);
};
std::span<const KeySpec> PipelineKeys();  // [pipeline]
std::span<const KeySpec> ApplianceKeys();
std::span<const KeySpec> EndpointKeys();   // [endpoint]  // more [store], [sync], [sync.s3], [sync.dir], [admin]
std::span<const KeySpec> StreamKeys();     // [stream.kafka]; "stream.kafka.properties" has no apply
// One entry of [stream.kafka.properties], checked by librdkafka; the message
// says why without the key, which the loader adds.
Status ApplyKafkaProperty(Config& config, std::string_view name, const toml::node& n);
// Checks [stream.kafka] as a whole and sets the store's cursor options; the
// message starts with the key ("stream.kafka.topic: ...").
Status FinishStreamConfig(Config& config);
// Checks [sync] as a whole once every key is read; the message names the key.
Status FinishSyncConfig(Config& config);
// An integer in [lo, hi].
Status GetInt(const toml::node& n, std::int64_t lo, std::int64_t hi, std::int64_t& out);

// A key of one `[[mqtt.broker]]` table.
struct BrokerKeySpec {
  ConfigKeyInfo info;      // "mqtt.broker[].uri"
  std::string_view field;  // "uri"
  Status (*apply)(MqttBrokerOptions&, const toml::node&);
};
std::span<const BrokerKeySpec> BrokerKeys();
const BrokerKeySpec* FindBrokerKey(std::string_view field);

}  // namespace sluice::gateway::config
