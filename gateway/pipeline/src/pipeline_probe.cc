#include "gateway/pipeline/pipeline_probe.h"

namespace sluice::gateway {
namespace {

using S = const PipelineSnapshot&;

double D(std::uint64_t v) { return static_cast<double>(v); }

}  // namespace

PipelineProbe::PipelineProbe(const Pipeline& pipeline, const RuleSet& rules,
                             const store::Store& store, MetricRegistry* registry)
    : metrics_(registry, [&pipeline, &store] {
        return PipelineSnapshot{pipeline.counters(), store.stats().evicted_records};
      }) {
  // One series pair per configured rule: rules are few (a configuration
  // holds tens, not thousands), so the topic filter is a safe label.
  std::vector<std::string> filters;
  for (const auto& rule : rules.rules()) filters.push_back(rule.pattern.filter());
  std::vector<double> bounds;  // s
  for (auto us : kAckLatencyBoundsUs) bounds.push_back(static_cast<double>(us) / 1e6);
  metrics_
      .Counter("sluice_mqtt_messages_total", "MQTT messages received.",
               [](S s) { return s.counters.messages_in; })
      .Counter("sluice_mqtt_messages_malformed_total", "Messages refused by a decoder.",
               [](S s) { return s.counters.messages_malformed; })
      .Counter("sluice_mqtt_messages_unmatched_total", "Messages no rule matched.",
               [](S s) { return s.counters.messages_unmatched; })
      .Counter("sluice_mqtt_messages_shed_total", "Messages dropped by the shed policy.",
               [](S s) { return s.counters.ShedTotal(); })
      .Counter("sluice_ingest_samples_total", "Samples decoded from messages.",
               [](S s) { return s.counters.samples; })
      .Counter("sluice_ingest_series_registered_total", "Series registered by the pipeline.",
               [](S s) { return s.counters.series_registered; })
      .Counter("sluice_ingest_batches_total", "Store appends issued (retries included).",
               [](S s) { return s.counters.batches; })
      .Counter("sluice_ingest_append_retries_total",
               "Appends refused (no space, I/O error) and retried.",
               [](S s) { return s.counters.append_retries; })
      .Counter("sluice_ingest_rebirth_requests_total", "Sparkplug B rebirth requests sent.",
               [](S s) { return s.counters.rebirth_requests; })
      .Counter("sluice_ingest_slowed_seconds_total",
               "Time Offer spent slowed or stopped by pressure.",
               [](S s) { return s.counters.slowed_us / 1e6; })
      .Counter("sluice_records_stored_total", "Records acknowledged durable by the store.",
               [](S s) { return s.counters.records_stored; })
      .Counter("sluice_records_dropped_total", "Records lost before the store, by any reason.",
               [](S s) { return s.counters.records_dropped; })

      .Family("sluice_ingest_messages_total", MetricType::kCounter,
              "Messages offered to the pipeline, by result: decoded (0 or more samples), "
              "malformed, unmatched (no rule), shed (shed policy), closed (offered while "
              "stopping).",
              {"result"},
              [](S s, MetricSamples& out) {
                const auto& p = s.counters;
                out.Add(D(p.messages_decoded), {"decoded"});
                out.Add(D(p.messages_malformed), {"malformed"});
                out.Add(D(p.messages_unmatched), {"unmatched"});
                out.Add(D(p.ShedTotal()), {"shed"});
                out.Add(D(p.messages_closed), {"closed"});
              })
      .Family("sluice_ingest_malformed_total", MetricType::kCounter,
              "Messages refused by a decoder, by reason.", {"reason"},
              [](S s, MetricSamples& out) {
                const auto& m = s.counters.malformed;
                for (std::size_t r = 1; r < m.size(); ++r) {
                  out.Add(D(m[r]), {MalformedReasonName(static_cast<MalformedReason>(r))});
                }
              })
      .Family("sluice_ingest_shed_total", MetricType::kCounter,
              "Messages dropped by the shed policy, by rule priority class and reason.",
              {"class", "reason"},
              [](S s, MetricSamples& out) {
                const auto& shed = s.counters.shed;
                for (std::size_t c = 0; c < shed.size(); ++c) {
                  for (std::size_t r = 0; r < shed[c].size(); ++r) {
                    out.Add(D(shed[c][r]), {PriorityClassName(static_cast<PriorityClass>(c)),
                                            ShedReasonName(static_cast<ShedReason>(r))});
                  }
                }
              })
      .Family("sluice_ingest_rule_messages_total", MetricType::kCounter,
              "Messages whose topic a rule matched (it won: first match), by rule (its position "
              "from 0 and its topic filter) and result: matched (all), malformed (of those, "
              "refused by the rule's decoder).",
              {"rule", "topic", "result"},
              [filters = std::move(filters)](S s, MetricSamples& out) {
                const auto& r = s.counters.rules;
                for (std::size_t i = 0; i < filters.size() && i < r.size(); ++i) {
                  const std::string rule = std::to_string(i);
                  out.Add(D(r[i].matched), {rule, filters[i], "matched"});
                  out.Add(D(r[i].malformed), {rule, filters[i], "malformed"});
                }
              })
      .Family("sluice_ingest_pressure", MetricType::kGauge,
              "Backpressure level now: 1 for the current level, 0 for the others.", {"level"},
              [](S s, MetricSamples& out) {
                for (auto l : {PressureLevel::kOpen, PressureLevel::kSlow, PressureLevel::kStop}) {
                  out.Add(s.counters.level == l ? 1 : 0, {PressureLevelName(l)});
                }
              })
      .Family("sluice_durable_ack_latency_seconds", MetricType::kHistogram,
              "Store batches from Store::Append until durable and acknowledged, retries "
              "included.",
              {},
              [bounds = std::move(bounds)](S s, MetricSamples& out) {
                out.Histogram(bounds, s.counters.ack_latency,
                              static_cast<double>(s.counters.ack_latency_sum_us) / 1e6);
              })
      .Family("sluice_records_lost_total", MetricType::kCounter,
              "Samples and records that will never reach upstream, by reason: "
              "dropped_before_store (store refused them for good, value too large, abandoned at "
              "shutdown), series_conflict (type differs from the series'), evicted_before_sync "
              "(disk budget).",
              {"reason"}, [](S s, MetricSamples& out) {
                out.Add(D(s.counters.records_dropped), {"dropped_before_store"});
                out.Add(D(s.counters.series_conflicts), {"series_conflict"});
                out.Add(D(s.evicted_records), {"evicted_before_sync"});
              });
  metrics_.Register();
}

}  // namespace sluice::gateway
