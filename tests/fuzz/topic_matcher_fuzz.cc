// Topic patterns and series templates from arbitrary bytes: parsing never
// crashes, and a parsed pattern matches exactly the topics its MQTT filter
// matches under a plain reference implementation of MQTT 3.1.1 4.7.
//
// Input: pattern '\n' topic '\n' template.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gateway/ingest/topic_rules.h"

using namespace sluice;
using namespace sluice::gateway;

namespace {

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = s.find('/', begin);
    out.push_back(s.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (end == std::string_view::npos) return out;
    begin = end + 1;
  }
}

bool ReferenceMatch(std::string_view filter, std::string_view topic) {
  const auto f = Split(filter);
  const auto t = Split(topic);
  if (!topic.empty() && topic[0] == '$' && (f[0] == "+" || f[0] == "#")) return false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  const std::string_view pattern = in.substr(0, nl);
  std::string_view topic, tmpl;
  if (nl != std::string_view::npos) {
    topic = in.substr(nl + 1);
    const std::size_t nl2 = topic.find('\n');
    if (nl2 != std::string_view::npos) {
      tmpl = topic.substr(nl2 + 1);
      topic = topic.substr(0, nl2);
    }
  }
  auto p = TopicPattern::Parse(pattern);
  if (!p.ok()) {
    SLUICE_CHECK(p.status().code() == StatusCode::kInvalidArgument);
    return 0;
  }
  std::vector<std::string_view> captures;
  const bool matched = p->Match(topic, captures);
  SLUICE_CHECK(captures.size() == p->capture_names().size());
  SLUICE_CHECK(matched == ReferenceMatch(p->filter(), topic));
  for (std::string_view c : captures) {
    // Every capture is a view into the topic.
    SLUICE_CHECK(c.empty() || (c.data() >= topic.data() &&
                               c.data() + c.size() <= topic.data() + topic.size()));
  }
  const TemplateVar vars[] = {TemplateVar::kTopic, TemplateVar::kField};
  auto t = SeriesTemplate::Parse(tmpl, p->capture_names(), vars);
  if (t.ok() && matched) {
    TemplateValues v;
    v.captures = captures;
    v.topic = topic;
    v.field = "f";
    std::string out;
    t->Render(v, out);
  }
  return 0;
}
