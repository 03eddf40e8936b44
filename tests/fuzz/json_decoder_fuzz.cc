// Any payload given to the JSON decoder, under rules exercising fields,
// arrays of samples and field timestamps, yields samples or a malformed
// status naming the topic, with nothing appended on failure.
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
    RuleOptions scalar;
    scalar.topic = "j/0";
    scalar.format = PayloadFormat::kJson;
    o.rules.push_back(scalar);

    RuleOptions fields = scalar;
    fields.topic = "j/1";
    fields.fields = {"a", "b.c", "d.0", "/e~1f"};
    o.rules.push_back(fields);

    RuleOptions samples = fields;
    samples.topic = "j/2";
    samples.samples = "s";
    samples.timestamp = TimestampSource::kField;
    samples.timestamp_key = "t";
    samples.timestamp_unit = TimeUnit::kSeconds;
    o.rules.push_back(samples);

    RuleOptions ints = scalar;
    ints.topic = "j/3";
    ints.samples = "";
    ints.type = RuleValueType::kInt64;
    o.rules.push_back(ints);

    RuleOptions typed = fields;
    typed.topic = "j/4";
    typed.type = RuleValueType::kBytes;
    typed.timestamp = TimestampSource::kField;
    typed.timestamp_key = "a";
    o.rules.push_back(typed);

    auto s = RuleSet::Build(o);
    SLUICE_CHECK(s.ok());
    return std::move(*s);
  }();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static JsonDecoder decoder;  // reused, as in the pipeline
  const auto& rules = Rules();
  const std::string topic = "j/" + std::to_string(data[0] % rules.rules().size());
  Message m;
  m.topic = topic;
  m.payload = std::string_view(reinterpret_cast<const char*>(data + 1), size - 1);
  RuleMatch match;
  SLUICE_CHECK(rules.Match(topic, match));
  std::vector<Sample> out;
  out.emplace_back();  // a sample from an earlier message must survive a failure
  DecodeStatus s = decoder.Decode(m, match, out);
  if (s.ok()) {
    for (std::size_t i = 1; i < out.size(); ++i) {
      SLUICE_CHECK(out[i].type == store::TypeOf(out[i].value));
      SLUICE_CHECK(!out[i].series.empty());
    }
  } else {
    SLUICE_CHECK(out.size() == 1 && s.reason != MalformedReason::kNone);
    SLUICE_CHECK(s.status.message().starts_with("topic '" + topic + "': "));
  }
  return 0;
}
