#include "gateway/ingest/ingest_decoder.h"

namespace sluice::gateway {

Result<std::unique_ptr<IngestDecoder>> IngestDecoder::Create(const IngestOptions& options,
                                                             MalformedLog::Sink log_sink) {
  SLUICE_ASSIGN_OR_RETURN(auto rules, RuleSet::Build(options));
  return std::unique_ptr<IngestDecoder>(
      new IngestDecoder(std::move(rules), options, std::move(log_sink)));
}

IngestDecoder::IngestDecoder(RuleSet rules, const IngestOptions& options, MalformedLog::Sink sink)
    : rules_(std::move(rules)),
      sparkplug_(
          SparkplugLimits{options.sparkplug_max_nodes, options.sparkplug_max_metrics_per_node}),
      log_(options.malformed_log_per_second, std::move(sink)),
      rule_counters_(std::make_unique<RuleCounters[]>(rules_.rules().size())) {}

std::vector<RuleCounts> IngestDecoder::rule_counts() const {
  std::vector<RuleCounts> out(rules_.rules().size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const RuleCounters& c = rule_counters_[i];
    out[i].matched = c.matched.load(std::memory_order_relaxed);
    out[i].malformed = c.malformed.load(std::memory_order_relaxed);
    out[i].samples = c.samples.load(std::memory_order_relaxed);
  }
  return out;
}

std::pair<std::string, std::int64_t> IngestDecoder::last_malformed() const {
  MutexLock lock(last_mu_);
  return {last_malformed_, last_malformed_ns_};
}

DecodeStatus IngestDecoder::Decode(const Message& message, std::vector<Sample>& out,
                                   std::vector<OutboundMessage>& publish,
                                   PriorityClass* priority) {
  if (!rules_.Match(message.topic, match_)) {
    unmatched_.fetch_add(1, std::memory_order_relaxed);
    return DecodeStatus{NotFound("topic '" + std::string(message.topic.substr(0, 256)) +
                                 "': no rule matches"),
                        MalformedReason::kNone, 0, true};
  }
  // The rule's position in rules_ (its index: RuleSet keeps configuration
  // order).
  RuleCounters& counts = rule_counters_[match_.rule->index];
  counts.matched.fetch_add(1, std::memory_order_relaxed);
  if (priority != nullptr) *priority = match_.rule->options.priority;
  const std::size_t start = out.size();
  DecodeStatus s;
  switch (match_.rule->options.format) {
    case PayloadFormat::kRaw: s = DecodeRaw(message, match_, out); break;
    case PayloadFormat::kJson: s = json_.Decode(message, match_, out); break;
    case PayloadFormat::kSparkplugB: s = sparkplug_.Decode(message, match_, out, publish); break;
  }
  if (s.nulls > 0) nulls_.fetch_add(s.nulls, std::memory_order_relaxed);
  // Checked here, once for every format, so that the store's registration
  // never sees a name it must refuse (a capture may be empty, a topic long).
  for (std::size_t i = start; s.ok() && i < out.size(); ++i) {
    if (out[i].series.empty() || out[i].series.size() > kMaxSeriesNameBytes) {
      s = DecodeStatus::Malformed(MalformedReason::kBadSeriesName, message.topic,
                                  "series name of " + std::to_string(out[i].series.size()) +
                                      " bytes; allowed 1 to " +
                                      std::to_string(kMaxSeriesNameBytes));
      out.resize(start);
    }
  }
  if (s.ok()) {
    counts.samples.fetch_add(out.size() - start, std::memory_order_relaxed);
  } else {
    counts.malformed.fetch_add(1, std::memory_order_relaxed);
    malformed_.Add(s.reason);
    {
      MutexLock lock(last_mu_);
      last_malformed_ = s.status.message();
      last_malformed_ns_ = message.receive_time_ns;
    }
    log_.Log(s.reason, s.status, message.receive_time_ns);
  }
  return s;
}

}  // namespace sluice::gateway
