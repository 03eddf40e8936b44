// Sparkplug B host-side session tracking: births, deaths, aliases, seq.
// Specification: Eclipse Sparkplug 3.0, chapters "Topics" and "Operational
// Behavior". What Sluice does where the specification leaves room is in
// docs/payloads.md.
#include <climits>
#include <unordered_map>

#include "decode_util.h"
#include "gateway/ingest/payload_decoders.h"
#include "sparkplug_values.h"

namespace sluice::gateway {
namespace {

namespace sp = sluice::sparkplug;
using Metric = sp::Payload::Metric;

enum class Kind : std::uint8_t { kNBirth, kNDeath, kDBirth, kDDeath, kNData, kDData, kIgnored };

struct Topic {
  Kind kind = Kind::kIgnored;
  std::string_view group, node, device;
};

// spBv1.0/<group>/<type>/<edge node>[/<device>], or spBv1.0/STATE/<host>.
bool ParseTopic(std::string_view topic, Topic& t, std::string& why) {
  std::string_view levels[6];
  std::size_t n = 0, begin = 0;
  while (n < 6) {
    const std::size_t end = std::min(topic.find('/', begin), topic.size());
    levels[n++] = topic.substr(begin, end - begin);
    if (end == topic.size()) break;
    begin = end + 1;
    if (n == 6) n = 7;  // too many levels
  }
  if (n < 1 || levels[0] != "spBv1.0") {
    why = "not in the Sparkplug B namespace spBv1.0/";
    return false;
  }
  if (n == 3 && levels[1] == "STATE") return true;  // host application state
  if (n != 4 && n != 5) {
    why = "expected spBv1.0/<group>/<type>/<edge node>[/<device>]";
    return false;
  }
  static constexpr struct {
    std::string_view name;
    Kind kind;
    bool device;
  } kTypes[] = {{"NBIRTH", Kind::kNBirth, false}, {"NDEATH", Kind::kNDeath, false},
                {"NDATA", Kind::kNData, false},   {"NCMD", Kind::kIgnored, false},
                {"DBIRTH", Kind::kDBirth, true},  {"DDEATH", Kind::kDDeath, true},
                {"DDATA", Kind::kDData, true},    {"DCMD", Kind::kIgnored, true}};
  for (const auto& type : kTypes) {
    if (levels[2] != type.name) continue;
    if ((n == 5) != type.device) {
      why = std::string(type.name) + (type.device ? " needs" : " takes no") + " device level";
      return false;
    }
    t = {type.kind, levels[1], levels[3], n == 5 ? levels[4] : std::string_view()};
    if (t.group.empty() || t.node.empty() || (type.device && t.device.empty())) {
      why = "empty group, edge node or device id";
      return false;
    }
    return true;
  }
  why = "unknown message type '" + std::string(levels[2].substr(0, 16)) + "'";
  return false;
}

// Metrics that carry session state rather than process data.
bool IsControlMetric(std::string_view name) {
  return name == "bdSeq" || name.starts_with("Node Control/") ||
         name.starts_with("Device Control/");
}

struct MetricDef {
  std::string name;
  std::uint32_t datatype = 0;
  std::string unit;  // the birth's "engUnit" property, if any
};

struct Scope {
  std::vector<MetricDef> defs;
  std::unordered_map<std::uint64_t, std::uint32_t> by_alias;
  std::unordered_map<std::string, std::uint32_t> by_name;

  // Data messages name a metric by name or, once defined, by alias alone.
  const MetricDef* Find(const Metric& m) const {
    if (m.has_name() && !m.name().empty()) {
      auto it = by_name.find(m.name());
      return it == by_name.end() ? nullptr : &defs[it->second];
    }
    if (m.has_alias()) {
      auto it = by_alias.find(m.alias());
      return it == by_alias.end() ? nullptr : &defs[it->second];
    }
    return nullptr;
  }
};

struct NodeState {
  Scope scope;
  std::unordered_map<std::string, Scope> devices;  // born devices
  std::optional<std::uint64_t> bd_seq;
  int last_seq = -1;
  std::optional<std::int64_t> rebirth_sent_ns;

  std::size_t Used() const {
    std::size_t n = scope.defs.size() + devices.size();
    for (const auto& [name, d] : devices) n += d.defs.size();
    return n;
  }
};

std::optional<std::uint64_t> BdSeqOf(const sp::Payload& p) {
  for (const Metric& m : p.metrics()) {
    if (m.name() != "bdSeq") continue;
    if (m.value_case() == Metric::kLongValue) return m.long_value();
    if (m.value_case() == Metric::kIntValue) return m.int_value();
  }
  return std::nullopt;
}

std::string EngUnitOf(const Metric& m) {
  if (!m.has_properties()) return {};
  const auto& props = m.properties();
  for (int i = 0; i < props.keys_size() && i < props.values_size(); ++i) {
    if (props.keys(i) == "engUnit" &&
        props.values(i).value_case() == sp::Payload::PropertyValue::kStringValue) {
      return props.values(i).string_value();
    }
  }
  return {};
}

}  // namespace

struct SparkplugDecoder::Impl {
  SparkplugLimits limits;
  SparkplugStats stats;
  sp::Payload payload;  // reused: parsing into a cleared message keeps its memory
  std::unordered_map<std::string, NodeState> nodes;  // key "<group>/<node>"
  // Rebirth hold-off for nodes without state (data before any birth). Bounded
  // by clearing when full: forgetting costs at most an extra request.
  std::unordered_map<std::string, std::int64_t> unborn_rebirths;

  DecodeStatus Decode(const Message& m, const RuleMatch& match, std::vector<Sample>& out,
                      std::vector<OutboundMessage>& publish);

 private:
  // Holds what every step needs about the message being decoded.
  struct Ctx {
    const Message& m;
    const RuleMatch& match;
    const Topic& t;
    std::vector<Sample>& out;
    std::vector<OutboundMessage>& publish;
    std::uint32_t nulls = 0;
  };

  DecodeStatus NodeBirth(Ctx& c, const std::string& key);
  void NodeDeath(const std::string& key);
  DecodeStatus Data(Ctx& c, NodeState& node, const Scope& scope);
  DecodeStatus DeviceBirth(Ctx& c, NodeState& node);
  // Builds the scope a birth defines and emits its values.
  DecodeStatus Birth(Ctx& c, Scope& scope, std::size_t budget);
  DecodeStatus Emit(Ctx& c, const Metric& metric, const MetricDef& def);
  void RequestRebirth(Ctx& c, std::optional<std::int64_t>* sent);
  void CheckSeq(Ctx& c, NodeState& node);
};

void SparkplugDecoder::Impl::RequestRebirth(Ctx& c, std::optional<std::int64_t>* sent) {
  const std::int64_t now = c.m.receive_time_ns;
  if (sent == nullptr) {
    const std::string key = std::string(c.t.group) + "/" + std::string(c.t.node);
    auto it = unborn_rebirths.find(key);
    if (it != unborn_rebirths.end() && now - it->second < kRebirthHoldoffNs && now >= it->second)
      return;
    if (it == unborn_rebirths.end() && unborn_rebirths.size() >= limits.max_nodes) {
      unborn_rebirths.clear();
    }
    unborn_rebirths[key] = now;
  } else {
    if (*sent && now - **sent < kRebirthHoldoffNs && now >= **sent) return;
    *sent = now;
  }
  stats.rebirth_requests.fetch_add(1, std::memory_order_relaxed);
  c.publish.push_back(MakeRebirthRequest(c.t.group, c.t.node, now));
}

void SparkplugDecoder::Impl::CheckSeq(Ctx& c, NodeState& node) {
  if (!payload.has_seq()) return;  // some senders omit it; nothing to check
  const std::uint64_t seq = payload.seq();
  const int expected = (node.last_seq + 1) % 256;
  if (seq != static_cast<std::uint64_t>(expected)) {
    // The data itself is intact and stored; the lost messages are not, and
    // a rebirth resynchronises the session.
    stats.seq_gaps.fetch_add(1, std::memory_order_relaxed);
    RequestRebirth(c, &node.rebirth_sent_ns);
  }
  node.last_seq = static_cast<int>(seq % 256);
}

DecodeStatus SparkplugDecoder::Impl::Emit(Ctx& c, const Metric& metric, const MetricDef& def) {
  if (IsControlMetric(def.name)) return {};
  if (metric.is_null()) {
    ++c.nulls;
    return {};
  }
  Sample s;
  std::string why;
  if (!ingest::MetricValue(metric, def.datatype, s.value, why)) {
    return DecodeStatus::Malformed(MalformedReason::kBadValue, c.m.topic,
                                   "metric '" + def.name + "': " + why);
  }
  s.type = store::TypeOf(s.value);
  const RuleOptions& o = c.match.rule->options;
  if (*o.timestamp == TimestampSource::kPayload) {
    const std::uint64_t ms = metric.has_timestamp()    ? metric.timestamp()
                             : payload.has_timestamp() ? payload.timestamp()
                                                       : 0;
    if (!metric.has_timestamp() && !payload.has_timestamp()) {
      s.timestamp_ns = c.m.receive_time_ns;
    } else if (ms > static_cast<std::uint64_t>(INT64_MAX / 1'000'000)) {
      return DecodeStatus::Malformed(
          MalformedReason::kBadTimestamp, c.m.topic,
          "metric '" + def.name + "': timestamp " + std::to_string(ms) + " ms is out of range");
    } else {
      s.timestamp_ns = static_cast<std::int64_t>(ms) * 1'000'000;
    }
  } else {
    auto ts = ingest::MessageTimestamp(c.m, *o.timestamp, o.timestamp_key, o.timestamp_unit);
    if (!ts) {
      return DecodeStatus::Malformed(
          MalformedReason::kBadTimestamp, c.m.topic,
          "user property '" + o.timestamp_key + "' is missing or not a timestamp");
    }
    s.timestamp_ns = *ts;
  }
  if (c.match.rule->series) {
    TemplateValues v;
    v.captures = c.match.captures;
    v.topic = c.m.topic;
    v.group = c.t.group;
    v.node = c.t.node;
    v.device = c.t.device;
    v.metric = def.name;
    c.match.rule->series->Render(v, s.series);
  } else {
    s.series.reserve(c.t.group.size() + c.t.node.size() + c.t.device.size() + def.name.size() + 3);
    s.series.append(c.t.group).append("/").append(c.t.node).append("/");
    if (!c.t.device.empty()) s.series.append(c.t.device).append("/");
    s.series.append(def.name);
  }
  s.unit = def.unit.empty() ? o.unit : def.unit;
  c.out.push_back(std::move(s));
  return {};
}

DecodeStatus SparkplugDecoder::Impl::Birth(Ctx& c, Scope& scope, std::size_t budget) {
  for (const Metric& m : payload.metrics()) {
    if (!m.has_name() || m.name().empty()) {
      return DecodeStatus::Malformed(MalformedReason::kBadValue, c.m.topic,
                                     "a birth metric has no name");
    }
    store::ValueType type;
    if (!m.has_datatype() || !ingest::StoreTypeOf(m.datatype(), type)) {
      return DecodeStatus::Malformed(
          MalformedReason::kBadValue, c.m.topic,
          "birth metric '" + m.name() + "' has " +
              (m.has_datatype() ? "unsupported " + ingest::DataTypeName(m.datatype())
                                : std::string("no datatype")));
    }
    if (scope.defs.size() >= budget) {
      stats.limit_refusals.fetch_add(1, std::memory_order_relaxed);
      return DecodeStatus::Malformed(MalformedReason::kStateLimit, c.m.topic,
                                     "birth defines more metrics than the " +
                                         std::to_string(limits.max_metrics_per_node) +
                                         " allowed per edge node");
    }
    const auto index = static_cast<std::uint32_t>(scope.defs.size());
    if (m.has_alias() && !scope.by_alias.emplace(m.alias(), index).second) {
      return DecodeStatus::Malformed(MalformedReason::kBadValue, c.m.topic,
                                     "alias " + std::to_string(m.alias()) + " defined twice");
    }
    // A repeated name keeps its first definition; later ones only add aliases.
    scope.by_name.emplace(m.name(), index);
    scope.defs.push_back({m.name(), m.datatype(), EngUnitOf(m)});
  }
  for (int i = 0; i < payload.metrics_size(); ++i) {
    DecodeStatus s = Emit(c, payload.metrics(i), scope.defs[static_cast<std::size_t>(i)]);
    if (!s.ok()) return s;
  }
  return {};
}

DecodeStatus SparkplugDecoder::Impl::NodeBirth(Ctx& c, const std::string& key) {
  auto it = nodes.find(key);
  if (it == nodes.end() && nodes.size() >= limits.max_nodes) {
    stats.limit_refusals.fetch_add(1, std::memory_order_relaxed);
    return DecodeStatus::Malformed(
        MalformedReason::kStateLimit, c.m.topic,
        "already tracking " + std::to_string(limits.max_nodes) + " edge nodes");
  }
  Scope scope;
  if (DecodeStatus s = Birth(c, scope, limits.max_metrics_per_node); !s.ok()) return s;
  NodeState& node = nodes[key];
  // A new session: devices must be born again (the specification requires
  // edge nodes to republish DBIRTHs after every NBIRTH).
  node = NodeState{};
  node.scope = std::move(scope);
  node.bd_seq = BdSeqOf(payload);
  node.last_seq = payload.has_seq() ? static_cast<int>(payload.seq() % 256) : 0;
  unborn_rebirths.erase(key);
  stats.node_births.fetch_add(1, std::memory_order_relaxed);
  return {};
}

void SparkplugDecoder::Impl::NodeDeath(const std::string& key) {
  auto it = nodes.find(key);
  if (it == nodes.end()) return;
  const auto bd_seq = BdSeqOf(payload);
  // The broker publishes an NDEATH registered by an earlier connection late:
  // one whose bdSeq is not the current birth's must not end the new session.
  if (bd_seq && it->second.bd_seq && *bd_seq != *it->second.bd_seq) {
    stats.stale_deaths.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  nodes.erase(it);
  stats.node_deaths.fetch_add(1, std::memory_order_relaxed);
}

DecodeStatus SparkplugDecoder::Impl::DeviceBirth(Ctx& c, NodeState& node) {
  const std::string device(c.t.device);
  auto old = node.devices.find(device);
  const std::size_t used =
      node.Used() - (old == node.devices.end() ? 0 : old->second.defs.size() + 1);
  if (used + 1 > limits.max_metrics_per_node) {
    stats.limit_refusals.fetch_add(1, std::memory_order_relaxed);
    return DecodeStatus::Malformed(MalformedReason::kStateLimit, c.m.topic,
                                   "edge node is at its limit of " +
                                       std::to_string(limits.max_metrics_per_node) +
                                       " metrics and devices");
  }
  Scope scope;
  if (DecodeStatus s = Birth(c, scope, limits.max_metrics_per_node - used - 1); !s.ok()) {
    return s;
  }
  node.devices[device] = std::move(scope);
  stats.device_births.fetch_add(1, std::memory_order_relaxed);
  return {};
}

DecodeStatus SparkplugDecoder::Impl::Data(Ctx& c, NodeState& node, const Scope& scope) {
  for (const Metric& m : payload.metrics()) {
    const MetricDef* def = scope.Find(m);
    if (def == nullptr) {
      RequestRebirth(c, &node.rebirth_sent_ns);
      return DecodeStatus::Malformed(
          MalformedReason::kUnknownMetric, c.m.topic,
          m.has_name() && !m.name().empty()
              ? "metric '" + m.name().substr(0, 128) + "' was not in the birth"
              : (m.has_alias() ? "alias " + std::to_string(m.alias()) + " was not in the birth"
                               : std::string("metric has neither name nor alias")));
    }
    DecodeStatus s = Emit(c, m, *def);
    if (!s.ok()) return s;
  }
  return {};
}

DecodeStatus SparkplugDecoder::Impl::Decode(const Message& m, const RuleMatch& match,
                                            std::vector<Sample>& out,
                                            std::vector<OutboundMessage>& publish) {
  Topic t;
  std::string why;
  if (!ParseTopic(m.topic, t, why)) {
    return DecodeStatus::Malformed(MalformedReason::kBadTopic, m.topic, why);
  }
  if (t.kind == Kind::kIgnored) return {};  // commands and host state carry no data
  payload.Clear();
  if (m.payload.size() > INT_MAX ||
      !payload.ParseFromArray(m.payload.data(), static_cast<int>(m.payload.size()))) {
    return DecodeStatus::Malformed(MalformedReason::kBadProtobuf, m.topic,
                                   "payload is not a Sparkplug B protobuf");
  }
  Ctx c{m, match, t, out, publish};
  const std::size_t start = out.size();
  const std::string key = std::string(t.group) + "/" + std::string(t.node);
  DecodeStatus result;
  if (t.kind == Kind::kNBirth) {
    result = NodeBirth(c, key);
  } else if (t.kind == Kind::kNDeath) {
    NodeDeath(key);
  } else {
    auto it = nodes.find(key);
    if (it == nodes.end()) {
      RequestRebirth(c, nullptr);
      return DecodeStatus::Malformed(MalformedReason::kNotBorn, m.topic,
                                     "edge node has not sent NBIRTH");
    }
    NodeState& node = it->second;
    CheckSeq(c, node);
    if (t.kind == Kind::kNData) {
      result = Data(c, node, node.scope);
    } else if (t.kind == Kind::kDBirth) {
      result = DeviceBirth(c, node);
    } else {
      auto dev = node.devices.find(std::string(t.device));
      if (t.kind == Kind::kDDeath) {
        if (dev != node.devices.end()) {
          node.devices.erase(dev);
          stats.device_deaths.fetch_add(1, std::memory_order_relaxed);
        }
      } else if (dev == node.devices.end()) {
        RequestRebirth(c, &node.rebirth_sent_ns);
        result = DecodeStatus::Malformed(MalformedReason::kNotBorn, m.topic,
                                         "device has not sent DBIRTH");
      } else {
        result = Data(c, node, dev->second);
      }
    }
  }
  if (!result.ok()) {
    out.resize(start);
    return result;
  }
  result.nulls = c.nulls;
  return result;
}

SparkplugDecoder::SparkplugDecoder(SparkplugLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
}
SparkplugDecoder::~SparkplugDecoder() = default;
SparkplugDecoder::SparkplugDecoder(SparkplugDecoder&&) noexcept = default;
SparkplugDecoder& SparkplugDecoder::operator=(SparkplugDecoder&&) noexcept = default;

DecodeStatus SparkplugDecoder::Decode(const Message& message, const RuleMatch& match,
                                      std::vector<Sample>& out,
                                      std::vector<OutboundMessage>& publish) {
  return impl_->Decode(message, match, out, publish);
}

const SparkplugStats& SparkplugDecoder::stats() const { return impl_->stats; }
std::size_t SparkplugDecoder::node_count() const { return impl_->nodes.size(); }

}  // namespace sluice::gateway
