// `[pipeline]` keys (PipelineOptions::Validate is the pipeline's).
#include "config_values.h"
#include "gateway/pipeline/pipeline_options.h"
#include "rule_config.h"

namespace sluice::gateway {
namespace config {
namespace {

Status U32(const toml::node& n, std::uint32_t lo, std::uint32_t hi, std::uint32_t& out) {
  return ingest::GetUint32(n, lo, hi, out);
}

Status ApplyShed(Config& c, const toml::node& n) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(GetString(n, v));
  for (ShedPolicy p : {ShedPolicy::kNone, ShedPolicy::kQos0, ShedPolicy::kLow, ShedPolicy::kNormal}) {
    if (v == ShedPolicyName(p)) {
      c.pipeline.shed = p;
      return Status::Ok();
    }
  }
  return InvalidArgument("'" + v + "' is not a shed policy; allowed: none, qos0, low, normal");
}

const KeySpec kPipelineKeys[] = {
    {{"pipeline.shards", "integer"},
     [](Config& c, const toml::node& n) { return U32(n, 1, 64, c.pipeline.shards); }},
    {{"pipeline.queue_capacity", "integer"},
     [](Config& c, const toml::node& n) { return U32(n, 1, 65536, c.pipeline.queue_capacity); }},
    {{"pipeline.batch_max_records", "integer"},
     [](Config& c, const toml::node& n) {
       return U32(n, 1, 65536, c.pipeline.batch_max_records);
     }},
    {{"pipeline.batch_linger", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDurationIn(n, std::chrono::microseconds(0), std::chrono::seconds(1),
                            c.pipeline.batch_linger);
     }},
    {{"pipeline.max_inflight_batches", "integer"},
     [](Config& c, const toml::node& n) {
       return U32(n, 1, 64, c.pipeline.max_inflight_batches);
     }},
    {{"pipeline.pressure_poll", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDurationIn(n, std::chrono::milliseconds(1), std::chrono::seconds(1),
                            c.pipeline.pressure_poll);
     }},
    {{"pipeline.slow_delay", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDurationIn(n, std::chrono::microseconds(0), std::chrono::seconds(1),
                            c.pipeline.slow_delay);
     }},
    {{"pipeline.slow_queue_percent", "integer"},
     [](Config& c, const toml::node& n) { return U32(n, 1, 100, c.pipeline.slow_queue_pct); }},
    {{"pipeline.shed", "string"}, ApplyShed},
};

}  // namespace

std::span<const KeySpec> PipelineKeys() { return kPipelineKeys; }

}  // namespace config
}  // namespace sluice::gateway
