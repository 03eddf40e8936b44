// `[stream.kafka]` keys and the `[stream.kafka.properties]` table
// (KafkaLaneOptions::Validate is the lane's).
#include "config_values.h"
#include "stream/kafka_lane.h"

namespace sluice::gateway {
namespace config {
namespace {

Status GetStrings(const toml::node& n, std::vector<std::string>& out) {
  const auto* a = n.as_array();
  if (a == nullptr) return InvalidArgument("expected an array of strings");
  std::vector<std::string> v;
  for (const auto& e : *a) {
    const auto* s = e.as_string();
    if (s == nullptr) return InvalidArgument("expected an array of strings");
    v.push_back(s->get());
  }
  out = std::move(v);
  return Status::Ok();
}

const KeySpec kKeys[] = {
    {{"stream.kafka.enabled", "boolean"},
     [](Config& c, const toml::node& n) { return GetBool(n, c.stream.enabled); }},
    {{"stream.kafka.bootstrap_servers", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.stream.kafka.bootstrap_servers); }},
    {{"stream.kafka.topic", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.stream.kafka.topic); }},
    {{"stream.kafka.series", "array of strings"},
     [](Config& c, const toml::node& n) { return GetStrings(n, c.stream.kafka.series); }},
    {{"stream.kafka.format", "string"},
     [](Config& c, const toml::node& n) {
       std::string v;
       SLUICE_RETURN_IF_ERROR(GetString(n, v));
       SLUICE_ASSIGN_OR_RETURN(auto f, stream::ParseMessageFormat(v));
       c.stream.kafka.format = f;
       return Status::Ok();
     }},
    {{"stream.kafka.compression", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.stream.kafka.compression); }},
    {{"stream.kafka.linger", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDurationIn(n, std::chrono::microseconds(0), std::chrono::seconds(10),
                            c.stream.kafka.linger);
     }},
    {{"stream.kafka.max_unconfirmed_records", "integer"},
     [](Config& c, const toml::node& n) {
       std::int64_t v = 0;
       SLUICE_RETURN_IF_ERROR(GetInt(n, 1000, 10'000'000, v));
       c.stream.kafka.max_unconfirmed_records = static_cast<std::uint64_t>(v);
       return Status::Ok();
     }},
    {{"stream.kafka.position_interval", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDurationIn(n, std::chrono::milliseconds(10), std::chrono::seconds(60),
                            c.stream.kafka.position_interval);
     }},
    {{"stream.kafka.backlog_disk", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.stream.backlog_disk_bytes); }},
    {{"stream.kafka.backlog_memory", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.stream.backlog_memory_bytes); }},
    // The table itself is walked by the loader (WalkKafkaProperties), so
    // that an error points at the property's own line.
    {{"stream.kafka.properties", "table"}, nullptr},
};

}  // namespace

std::span<const KeySpec> StreamKeys() { return kKeys; }

Status ApplyKafkaProperty(Config& c, std::string_view name, const toml::node& n) {
  std::string value;
  if (const auto* s = n.as_string()) value = s->get();
  else if (const auto* i = n.as_integer()) value = std::to_string(i->get());
  else if (const auto* b = n.as_boolean()) value = b->get() ? "true" : "false";
  else return InvalidArgument("expected a string, integer or boolean (librdkafka takes text)");
  stream::KafkaLaneOptions probe;
  probe.bootstrap_servers = "localhost:9092";
  probe.properties[std::string(name)] = value;
  if (Status s = probe.Validate(); !s.ok()) {
    // "properties.<name>: why": the loader names the key itself.
    const std::string& m = s.message();
    return InvalidArgument(m.substr(std::min(m.size(), m.find(": ") + 2)));
  }
  c.stream.kafka.properties[std::string(name)] = value;
  return Status::Ok();
}

Status FinishStreamConfig(Config& c) {
  if (!c.stream.enabled) return Status::Ok();
  auto& k = c.stream.kafka;
  k.gateway_id = c.gateway.id;
  k.site = c.gateway.site;
  if (Status s = k.Validate(); !s.ok()) {
    const std::string& m = s.message();
    std::string field = m.substr(0, m.find(':'));
    return InvalidArgument("stream.kafka." + field + ": " +
                           m.substr(std::min(m.size(), m.find(':') + 2)));
  }
  const std::uint64_t lo = c.store.wal_file_size, hi = 12 * c.store.wal_file_size;
  if (c.stream.backlog_disk_bytes < lo || c.stream.backlog_disk_bytes > hi) {
    return InvalidArgument("stream.kafka.backlog_disk: must be between one and twelve "
                           "store.wal_file_size (" + std::to_string(lo) + " .. " +
                           std::to_string(hi) + " bytes), got " +
                           std::to_string(c.stream.backlog_disk_bytes));
  }
  if (c.stream.backlog_memory_bytes < (1ull << 20) || c.stream.backlog_memory_bytes > (4ull << 30)) {
    return InvalidArgument("stream.kafka.backlog_memory: must be 1 MiB .. 4 GiB");
  }
  c.store.cursor_retain_bytes = c.stream.backlog_disk_bytes;
  c.store.cursor_memory_bytes = c.stream.backlog_memory_bytes;
  return Status::Ok();
}

}  // namespace config
}  // namespace sluice::gateway
