// Builds real Sparkplug B payloads with the generated protobuf classes.
#pragma once

#include <string>

#include "ingest_test_util.h"
#include "sparkplug_b.pb.h"

namespace sluice::gateway::testing {

namespace sp = sluice::sparkplug;

inline sp::Payload::Metric* AddMetric(sp::Payload& p, std::string name, std::uint64_t alias,
                                      sp::DataType type) {
  auto* m = p.add_metrics();
  if (!name.empty()) m->set_name(std::move(name));
  m->set_alias(alias);
  m->set_datatype(type);
  return m;
}

// A metric in a data message: by alias only, as edge nodes send them.
inline sp::Payload::Metric* AddAliasMetric(sp::Payload& p, std::uint64_t alias) {
  auto* m = p.add_metrics();
  m->set_alias(alias);
  return m;
}

// One edge node session against one decoder.
class EdgeNode {
 public:
  EdgeNode(SparkplugDecoder& decoder, std::string group = "g1", std::string node = "n1")
      : decoder_(decoder), group_(std::move(group)), node_(std::move(node)) {
    RuleOptions r;
    r.topic = "spBv1.0/#";
    r.format = PayloadFormat::kSparkplugB;
    rule_ = std::make_unique<OneRule>(r);
  }
  EdgeNode(SparkplugDecoder& decoder, RuleOptions rule, std::string group, std::string node)
      : decoder_(decoder), group_(std::move(group)), node_(std::move(node)),
        rule_(std::make_unique<OneRule>(std::move(rule))) {}

  std::string Topic(std::string_view type, std::string_view device = {}) const {
    std::string t = "spBv1.0/" + group_ + "/" + std::string(type) + "/" + node_;
    if (!device.empty()) t += "/" + std::string(device);
    return t;
  }

  // Sends `p` with the next seq (births: 0) unless `p` already has one.
  DecodeStatus Send(std::string_view type, sp::Payload p, std::string_view device = {}) {
    if (type == "NBIRTH") next_seq_ = 0;
    if (type != "NDEATH" && !p.has_seq()) p.set_seq(next_seq_);
    if (p.has_seq()) next_seq_ = (p.seq() + 1) % 256;
    const std::string bytes = p.SerializeAsString();
    return SendBytes(Topic(type, device), bytes);
  }

  DecodeStatus SendBytes(const std::string& topic, std::string_view bytes) {
    Message m = Msg(topic, bytes, now_ns);
    return decoder_.Decode(m, rule_->Match(topic), samples, publish);
  }

  // An NBIRTH with bdSeq and the given metrics already added to `p`.
  DecodeStatus Birth(sp::Payload p, std::uint64_t bd_seq = 0) {
    auto* bd = p.add_metrics();
    bd->set_name("bdSeq");
    bd->set_datatype(sp::Int64);
    bd->set_long_value(bd_seq);
    auto* rebirth = p.add_metrics();
    rebirth->set_name("Node Control/Rebirth");
    rebirth->set_datatype(sp::Boolean);
    rebirth->set_boolean_value(false);
    p.set_timestamp(1'700'000'000'000);
    return Send("NBIRTH", std::move(p));
  }

  void SkipSeq(int n) { next_seq_ = (next_seq_ + n) % 256; }

  std::vector<Sample> samples;
  std::vector<OutboundMessage> publish;
  std::int64_t now_ns = 1'700'000'000'000'000'000;

 private:
  SparkplugDecoder& decoder_;
  std::string group_, node_;
  std::unique_ptr<OneRule> rule_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace sluice::gateway::testing
