// Payload decoders: raw, JSON and Sparkplug B. Each takes one message and the
// rule it matched, appends samples, and returns a DecodeStatus. They never
// throw and never abort on input; a refused payload appends nothing.
// Formats, paths and timestamps: docs/payloads.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "gateway/ingest/ingest_types.h"
#include "gateway/ingest/topic_rules.h"

namespace sluice::gateway {

// Raw: the payload is a number as text (float64 or int64 by the rule's type,
// ASCII whitespace around it ignored), a bool (`true`/`false`/`1`/`0`) or,
// for type bytes, opaque bytes kept as they are.
DecodeStatus DecodeRaw(const Message& message, const RuleMatch& match,
                       std::vector<Sample>& out);

// JSON via simdjson. Holds a reusable parser: one decoder per thread.
class JsonDecoder {
 public:
  // Larger payloads are refused (bad_json) so the parser's memory is bounded.
  static constexpr std::size_t kMaxPayloadBytes = 4u << 20;

  JsonDecoder();
  ~JsonDecoder();
  JsonDecoder(JsonDecoder&&) noexcept;
  JsonDecoder& operator=(JsonDecoder&&) noexcept;

  DecodeStatus Decode(const Message& message, const RuleMatch& match,
                      std::vector<Sample>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct SparkplugLimits {
  std::uint32_t max_nodes = 1024;
  std::uint32_t max_metrics_per_node = 10000;  // definitions plus devices
};

// Events of the Sparkplug session protocol, for metrics. Malformed payloads
// are counted by the caller from the DecodeStatus, not here.
struct SparkplugStats {
  std::atomic<std::uint64_t> node_births{0};
  std::atomic<std::uint64_t> device_births{0};
  std::atomic<std::uint64_t> node_deaths{0};
  std::atomic<std::uint64_t> device_deaths{0};
  std::atomic<std::uint64_t> stale_deaths{0};      // NDEATH whose bdSeq is not current
  std::atomic<std::uint64_t> seq_gaps{0};
  std::atomic<std::uint64_t> rebirth_requests{0};  // NCMD Rebirth produced
  std::atomic<std::uint64_t> limit_refusals{0};    // births refused by SparkplugLimits
};

// Sparkplug B host-side session tracking for the topic namespace
// `spBv1.0/<group>/<type>/<edge node>[/<device>]`: births define metrics and
// aliases, data is resolved against them, deaths forget them, seq (0..255)
// is checked for gaps. When it cannot trust its state (unknown alias, data
// before birth, seq gap) it appends an NCMD `Node Control/Rebirth` to
// `publish`, at most one per node per kRebirthHoldoffNs until a birth.
// Not thread-safe: one per pipeline thread, and all of a node's messages
// must go to the same decoder.
class SparkplugDecoder {
 public:
  static constexpr std::int64_t kRebirthHoldoffNs = 5'000'000'000;

  explicit SparkplugDecoder(SparkplugLimits limits);
  ~SparkplugDecoder();
  SparkplugDecoder(SparkplugDecoder&&) noexcept;
  SparkplugDecoder& operator=(SparkplugDecoder&&) noexcept;

  DecodeStatus Decode(const Message& message, const RuleMatch& match,
                      std::vector<Sample>& out, std::vector<OutboundMessage>& publish);

  const SparkplugStats& stats() const;
  std::size_t node_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The bytes of an NCMD asking `edge node` of `group` to publish its births
// again: a Sparkplug payload with metric `Node Control/Rebirth` = true.
OutboundMessage MakeRebirthRequest(std::string_view group, std::string_view edge_node,
                                   std::int64_t now_ns);

}  // namespace sluice::gateway
