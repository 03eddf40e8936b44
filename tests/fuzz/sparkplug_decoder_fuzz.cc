// A random sequence of Sparkplug B messages (births, data, deaths for a few
// nodes and devices, random payload bytes) through one decoder with small
// limits: every message yields samples or a malformed status, state stays
// within its limits, and every publish is a well-formed rebirth request.
//
// Input: records of [topic selector u8][length u8][payload bytes].
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "gateway/ingest/payload_decoders.h"

using namespace sluice;
using namespace sluice::gateway;

namespace {

constexpr SparkplugLimits kLimits{3, 12};

const RuleSet& Rules() {
  static const RuleSet set = [] {
    IngestOptions o;
    RuleOptions r;
    r.topic = "spBv1.0/#";
    r.format = PayloadFormat::kSparkplugB;
    o.rules.push_back(r);
    auto s = RuleSet::Build(o);
    SLUICE_CHECK(s.ok());
    return std::move(*s);
  }();
  return set;
}

std::string TopicFor(std::uint8_t selector) {
  static constexpr std::string_view kTypes[] = {"NBIRTH", "NDATA", "NDEATH", "DBIRTH",
                                                "DDATA",  "DDEATH", "NCMD",  "BOGUS"};
  static constexpr std::string_view kNodes[] = {"n0", "n1", "n2", "n3"};
  const std::string_view type = kTypes[selector & 7];
  std::string t = "spBv1.0/g/" + std::string(type) + "/" + std::string(kNodes[(selector >> 3) & 3]);
  if (type.starts_with('D') || (selector & 0x80)) t += (selector & 0x20) ? "/d1" : "/d0";
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SparkplugDecoder decoder(kLimits);
  const auto& rules = Rules();
  std::int64_t now = 1'700'000'000'000'000'000;
  std::size_t pos = 0;
  while (pos + 2 <= size) {
    const std::string topic = TopicFor(data[pos]);
    const std::size_t len = std::min<std::size_t>(data[pos + 1], size - pos - 2);
    Message m;
    m.topic = topic;
    m.payload = std::string_view(reinterpret_cast<const char*>(data + pos + 2), len);
    m.receive_time_ns = now;
    now += 1'000'000'000;
    pos += 2 + len;

    RuleMatch match;
    SLUICE_CHECK(rules.Match(topic, match));
    std::vector<Sample> out;
    std::vector<OutboundMessage> publish;
    DecodeStatus s = decoder.Decode(m, match, out, publish);
    if (!s.ok()) {
      SLUICE_CHECK(out.empty() && s.reason != MalformedReason::kNone);
      SLUICE_CHECK(s.status.message().starts_with("topic '" + topic + "': "));
    }
    for (const Sample& sample : out) {
      SLUICE_CHECK(sample.type == store::TypeOf(sample.value));
      SLUICE_CHECK(sample.series.starts_with("g/"));
    }
    SLUICE_CHECK(publish.size() <= 1);
    for (const OutboundMessage& p : publish) {
      SLUICE_CHECK(p.topic.starts_with("spBv1.0/g/NCMD/n"));
      SLUICE_CHECK(!p.payload.empty());
    }
    SLUICE_CHECK(decoder.node_count() <= kLimits.max_nodes);
  }
  return 0;
}
