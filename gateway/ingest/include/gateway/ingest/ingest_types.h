// What the payload decoders take and give: an MQTT message in, samples (and
// for Sparkplug B, messages to publish back) out, or a malformed-payload
// status with its reason.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/types.h"

namespace sluice::gateway {

struct UserProperty {
  std::string_view key;
  std::string_view value;
};

// One received MQTT message. Views: the caller keeps the bytes alive for the
// duration of the decode call only.
struct Message {
  std::string_view topic;
  std::string_view payload;
  std::int64_t receive_time_ns = 0;             // gateway clock, ns since epoch
  std::span<const UserProperty> user_properties;  // MQTT 5; empty for 3.1.1
};

// One decoded value, ready to be registered and appended to the store.
struct Sample {
  std::string series;
  std::int64_t timestamp_ns = 0;
  store::Value value;
  store::ValueType type = store::ValueType::kFloat64;
  std::string unit;
};

// A message the MQTT front-end should publish (Sparkplug rebirth requests).
struct OutboundMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

// Why a payload was refused. Appears in metrics and logs: never renumber,
// append new reasons before kCount.
enum class MalformedReason : std::uint8_t {
  kNone = 0,
  kNotANumber,       // raw: text is not a number (or bool) of the rule's type
  kBadJson,          // JSON syntax, or too large to parse
  kMissingField,     // a configured path is absent
  kWrongType,        // a value's type does not fit the rule's type
  kBadTimestamp,     // missing, unparsable or out-of-range timestamp
  kBadProtobuf,      // Sparkplug payload is not a valid protobuf
  kBadTopic,         // topic outside the Sparkplug namespace
  kUnknownMetric,    // Sparkplug alias or name not defined by a birth
  kNotBorn,          // Sparkplug data from a node or device without a birth
  kBadValue,         // Sparkplug datatype/value mismatch or out of range
  kStateLimit,       // Sparkplug node or metric limit reached
  kBadSeriesName,    // rendered series name empty or above the store's limit
  kCount,
};

std::string_view MalformedReasonName(MalformedReason reason);  // "bad_json"

// Outcome of decoding one message. On error nothing was appended to the
// sample output; `status` is InvalidArgument "topic 'a/b': <reason>: why",
// or, when no rule matched the topic, NotFound with `unmatched` set.
struct [[nodiscard]] DecodeStatus {
  Status status;
  MalformedReason reason = MalformedReason::kNone;
  std::uint32_t nulls = 0;  // null values skipped (no sample; not an error)
  bool unmatched = false;   // no rule matched the topic

  bool ok() const { return status.ok(); }
  static DecodeStatus Malformed(MalformedReason reason, std::string_view topic,
                                std::string_view why);
};

// Malformed payloads by reason. Relaxed atomics: the pipeline thread counts,
// the metrics endpoint reads at any time.
// What one rule did, by its position in the configuration
// (CompiledRule::index).
struct RuleCounts {
  std::uint64_t matched = 0;    // messages whose topic this rule won
  std::uint64_t malformed = 0;  // of those, refused by its decoder
  std::uint64_t samples = 0;    // samples decoded from the others
};

class MalformedCounters {
 public:
  void Add(MalformedReason reason) {
    counts_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t Get(MalformedReason reason) const {
    return counts_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
  }
  std::uint64_t Total() const;

 private:
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(MalformedReason::kCount)>
      counts_{};
};

}  // namespace sluice::gateway
