// Any payload given to the raw decoder, under any rule type, yields one
// sample of that type or a malformed status naming the topic; never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "gateway/ingest/payload_decoders.h"

using namespace sluice;
using namespace sluice::gateway;

namespace {

const RuleSet& Rules() {
  static const RuleSet set = [] {
    IngestOptions o;
    for (RuleValueType t : {RuleValueType::kAuto, RuleValueType::kFloat64, RuleValueType::kInt64,
                            RuleValueType::kBool, RuleValueType::kBytes}) {
      RuleOptions r;
      r.topic = "t/" + std::string(RuleValueTypeName(t)) + "/{x}";
      r.series = "{x}.v";
      r.type = t;
      r.timestamp = TimestampSource::kUserProperty;
      r.timestamp_key = "ts";
      o.rules.push_back(r);
    }
    auto s = RuleSet::Build(o);
    SLUICE_CHECK(s.ok());
    return std::move(*s);
  }();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto& rules = Rules();
  const CompiledRule& rule = rules.rules()[data[0] % rules.rules().size()];
  // Byte 1 splits the rest between a timestamp property and the payload.
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t split = std::min<std::size_t>(data[1], rest.size());
  const UserProperty props[] = {{"ts", rest.substr(0, split)}};
  const std::string topic =
      "t/" + std::string(RuleValueTypeName(rule.options.type)) + "/x";
  Message m;
  m.topic = topic;
  m.payload = rest.substr(split);
  m.user_properties = props;
  RuleMatch match;
  SLUICE_CHECK(rules.Match(topic, match) && match.rule == &rule);
  std::vector<Sample> out;
  DecodeStatus s = DecodeRaw(m, match, out);
  if (s.ok()) {
    SLUICE_CHECK(out.size() == 1 && out[0].series == "x.v");
    SLUICE_CHECK(out[0].type == store::TypeOf(out[0].value));
  } else {
    SLUICE_CHECK(out.empty() && s.reason != MalformedReason::kNone);
    SLUICE_CHECK(s.status.message().starts_with("topic '" + topic + "': "));
  }
  return 0;
}
