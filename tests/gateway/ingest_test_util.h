// Helpers for the ingest tests: a compiled rule matched against a topic.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/ingest/payload_decoders.h"
#include "gateway/ingest/topic_rules.h"

namespace sluice::gateway::testing {

// Owns a rule set of one rule; Match() gives the RuleMatch decoders take.
class OneRule {
 public:
  explicit OneRule(RuleOptions options) {
    IngestOptions o;
    o.rules.push_back(std::move(options));
    auto set = RuleSet::Build(o);
    REQUIRE_MESSAGE(set.ok(), set.status().ToString());
    set_ = std::make_unique<RuleSet>(std::move(*set));
  }

  // REQUIRES: the rule matches `topic`; `topic` outlives the result.
  const RuleMatch& Match(std::string_view topic) {
    REQUIRE(set_->Match(topic, match_));
    return match_;
  }

 private:
  std::unique_ptr<RuleSet> set_;
  RuleMatch match_;
};

inline Message Msg(std::string_view topic, std::string_view payload,
                   std::int64_t receive_ns = 1'700'000'000'000'000'000) {
  Message m;
  m.topic = topic;
  m.payload = payload;
  m.receive_time_ns = receive_ns;
  return m;
}

inline bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace sluice::gateway::testing
