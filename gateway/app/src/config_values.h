// Value readers shared by the config loader's key tables (config.cc,
// mqtt/broker_config.cc, pipeline/pipeline_config.cc). Internal: toml++.
// Errors carry no position; the loader prefixes file, line, column and key.
#pragma once

#include <chrono>
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
// A duration: a string "<n>us|ms|s", a whole number of at most nine digits.
Status GetDuration(const toml::node& n, std::chrono::microseconds& out);
// The same, into a field of coarser unit: seconds must be whole ("must be
// whole seconds, e.g. \"300s\""); milliseconds drop a finer rest, and
// refuse more than 2^32 - 1 of them.
Status GetDuration(const toml::node& n, std::chrono::milliseconds& out);
Status GetDuration(const toml::node& n, std::chrono::seconds& out);
// A duration in [lo, hi] that is a whole number of `unit`.
Status GetDurationIn(const toml::node& n, std::chrono::microseconds lo,
                     std::chrono::microseconds hi, std::chrono::microseconds unit,
                     std::chrono::microseconds& out);
// GetDurationIn into a field whose unit is the whole-number unit.
template <typename Rep, typename Period>
Status GetDurationIn(const toml::node& n, std::chrono::microseconds lo,
                     std::chrono::microseconds hi, std::chrono::duration<Rep, Period>& out) {
  using Field = std::chrono::duration<Rep, Period>;
  std::chrono::microseconds us{0};
  SLUICE_RETURN_IF_ERROR(GetDurationIn(
      n, lo, hi, std::chrono::duration_cast<std::chrono::microseconds>(Field(1)), us));
  out = std::chrono::duration_cast<Field>(us);
  return Status::Ok();
}

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
