// The pipeline's metrics: what became of every offered message
// (sluice_ingest_*, and the older sluice_mqtt_messages_* names), per rule,
// shed and malformed by reason, backpressure, the durable-acknowledgement
// latency histogram, and records stored and lost (sluice_records_*). Every
// family reads one Pipeline::counters() per scrape (and the store's evicted
// records, for sluice_records_lost_total); a new pipeline counter is one
// entry in pipeline_probe.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/metrics.h"
#include "gateway/ingest/topic_rules.h"
#include "gateway/pipeline/pipeline.h"
#include "store/store.h"

namespace sluice::gateway {

// What one scrape reads of the pipeline.
struct PipelineSnapshot {
  PipelineCounters counters;
  std::uint64_t evicted_records = 0;  // the store's, lost before sync
};

class PipelineProbe {
 public:
  // Registers the pipeline's families in `registry` (null: nothing).
  // `pipeline` and `store` must outlive the probe; `rules` are the rules the
  // pipeline decodes with (their topic filters label the per-rule family).
  PipelineProbe(const Pipeline& pipeline, const RuleSet& rules, const store::Store& store,
                MetricRegistry* registry);

 private:
  MetricSet<PipelineSnapshot> metrics_;
};

}  // namespace sluice::gateway
