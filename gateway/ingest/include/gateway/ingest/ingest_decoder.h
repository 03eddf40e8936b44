// The pure half of the ingest pipeline: an MQTT message in, samples and
// messages to publish out. Matches the topic against the rules (first match
// wins), runs the rule's decoder, counts and logs (rate-limited) what it
// refuses. No I/O besides log lines; the MQTT front-end and the store
// hand-off sit around it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "gateway/ingest/ingest_options.h"
#include "gateway/ingest/ingest_types.h"
#include "gateway/ingest/malformed_log.h"
#include "gateway/ingest/payload_decoders.h"
#include "gateway/ingest/topic_rules.h"

namespace sluice::gateway {

class IngestDecoder {
 public:
  // The store's limit on series names (store/src/registry.h).
  static constexpr std::size_t kMaxSeriesNameBytes = 1024;

  // Fails (InvalidArgument "rule N: field: why") when a rule does not compile;
  // a Config from the loader never does.
  static Result<std::unique_ptr<IngestDecoder>> Create(const IngestOptions& options,
                                                       MalformedLog::Sink log_sink = {});

  // Appends the message's samples to `out` and any message to publish back
  // (Sparkplug rebirth requests) to `publish`; `priority` receives the
  // matched rule's class. A topic no rule matches gives NotFound and is
  // counted in unmatched(); a malformed payload gives InvalidArgument, is
  // counted by reason and per rule, and logged. Not thread-safe.
  DecodeStatus Decode(const Message& message, std::vector<Sample>& out,
                      std::vector<OutboundMessage>& publish, PriorityClass* priority = nullptr);

  const RuleSet& rules() const { return rules_; }
  const MalformedCounters& malformed() const { return malformed_; }
  const SparkplugStats& sparkplug() const { return sparkplug_.stats(); }
  std::uint64_t unmatched() const { return unmatched_.load(std::memory_order_relaxed); }
  std::uint64_t nulls() const { return nulls_.load(std::memory_order_relaxed); }
  // One entry per rule, in configuration order. Thread-safe (relaxed
  // reads of counters the decoding thread writes).
  std::vector<RuleCounts> rule_counts() const;
  // The last refusal (its status text, naming topic and reason) and the
  // message's receive time; empty and 0 while there was none. Thread-safe.
  std::pair<std::string, std::int64_t> last_malformed() const;

 private:
  IngestDecoder(RuleSet rules, const IngestOptions& options, MalformedLog::Sink sink);

  RuleSet rules_;
  JsonDecoder json_;
  SparkplugDecoder sparkplug_;
  MalformedLog log_;
  MalformedCounters malformed_;
  std::atomic<std::uint64_t> unmatched_{0};
  std::atomic<std::uint64_t> nulls_{0};
  // Per rule, indexed like rules_.rules(). Written by the decoding thread
  // only (relaxed), so matching stays free of contention.
  struct RuleCounters {
    std::atomic<std::uint64_t> matched{0}, malformed{0}, samples{0};
  };
  std::unique_ptr<RuleCounters[]> rule_counters_;
  // Written on refusals only (never for a message that decodes), read by
  // the admin endpoint: a leaf lock, uncontended in practice.
  mutable Mutex last_mu_;
  std::string last_malformed_ SLUICE_GUARDED_BY(last_mu_);
  std::int64_t last_malformed_ns_ SLUICE_GUARDED_BY(last_mu_) = 0;
  RuleMatch match_;  // reused: its capture vector keeps its capacity
};

}  // namespace sluice::gateway
