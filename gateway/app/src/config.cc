#include "gateway/app/config.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "board/board.h"
#include "config_values.h"
#include "gateway/ingest/topic_rules.h"
#include "rule_config.h"
#include "sync/object_key.h"

namespace sluice::gateway {
namespace {

// Applies one key's value to the Config; returns an error without position,
// which the walker prefixes with file, line, column and key.
using config::KeySpec;

using config::GetDuration;
using config::GetSize;
using config::GetString;

Status ApplyIoEngine(Config& c, const toml::node& n) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(GetString(n, v));
  if (v == "auto") c.store.io_engine = store::IoEngine::kAuto;
  else if (v == "io_uring") c.store.io_engine = store::IoEngine::kIoUring;
  else if (v == "pwrite") c.store.io_engine = store::IoEngine::kPwrite;
  else return InvalidArgument("'" + v + "' is not an io engine; allowed: auto, io_uring, pwrite");
  return Status::Ok();
}

Status ApplyLogLevel(Config& c, const toml::node& n) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(GetString(n, v));
  for (LogLevel l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                     LogLevel::kError}) {
    if (v == LogLevelName(l)) {
      c.log.level = l;
      return Status::Ok();
    }
  }
  return InvalidArgument("'" + v + "' is not a log level; allowed: trace, debug, info, warn, error");
}

const KeySpec kKeys[] = {
    {{"board", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.board.setting); }},
    {{"board_dir", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.board.dir); }},
    {{"gateway.id", "string"},
     [](Config& c, const toml::node& n) {
       SLUICE_RETURN_IF_ERROR(GetString(n, c.gateway.id));
       return sync::ValidateKeyComponent("gateway id", c.gateway.id);
     }},
    {{"gateway.site", "string"},
     [](Config& c, const toml::node& n) {
       SLUICE_RETURN_IF_ERROR(GetString(n, c.gateway.site));
       return sync::ValidateKeyComponent("site", c.gateway.site);
     }},
    {{"log.level", "string"}, ApplyLogLevel},
    {{"store.dir", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.store.dir); }},
    {{"store.io_engine", "string"}, ApplyIoEngine},
    {{"store.wal_file_size", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.store.wal_file_size); }},
    {{"store.wal_max_commit_delay", "duration"},
     [](Config& c, const toml::node& n) {
       std::chrono::microseconds delay{0};
       SLUICE_RETURN_IF_ERROR(GetDuration(n, delay));
       if (delay.count() > UINT32_MAX) return InvalidArgument("duration too long");
       c.store.wal_max_commit_delay = delay;
       return Status::Ok();
     }},
    {{"store.wal_max_group_bytes", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.store.wal_max_group_bytes); }},
    {{"store.max_value_bytes", "size"},
     [](Config& c, const toml::node& n) {
       std::uint64_t v = 0;
       SLUICE_RETURN_IF_ERROR(GetSize(n, v));
       if (v > UINT32_MAX) return InvalidArgument("size too large");
       c.store.max_value_bytes = static_cast<std::uint32_t>(v);
       return Status::Ok();
     }},
    {{"store.large_value_bytes", "size"},
     [](Config& c, const toml::node& n) {
       std::uint64_t v = 0;
       SLUICE_RETURN_IF_ERROR(GetSize(n, v));
       if (v > UINT32_MAX) return InvalidArgument("size too large");
       c.store.large_value_bytes = static_cast<std::uint32_t>(v);
       return Status::Ok();
     }},
    {{"ingest.sparkplug_max_nodes", "integer"},
     [](Config& c, const toml::node& n) {
       return ingest::GetUint32(n, 1, 1'000'000, c.ingest.sparkplug_max_nodes);
     }},
    {{"ingest.sparkplug_max_metrics_per_node", "integer"},
     [](Config& c, const toml::node& n) {
       return ingest::GetUint32(n, 1, 1'000'000, c.ingest.sparkplug_max_metrics_per_node);
     }},
    {{"ingest.malformed_log_per_second", "integer"},
     [](Config& c, const toml::node& n) {
       return ingest::GetUint32(n, 0, 10'000, c.ingest.malformed_log_per_second);
     }},
};

// The table array of mapping rules: `[[ingest.rule]]`, keys in RuleKeys().
constexpr std::string_view kRuleArray = "ingest.rule";
// The table array of brokers: `[[mqtt.broker]]`, keys in BrokerKeys().
constexpr std::string_view kBrokerArray = "mqtt.broker";
// The table of librdkafka properties: any name, each checked by librdkafka.
constexpr std::string_view kKafkaProperties = "stream.kafka.properties";

const KeySpec* FindKey(std::string_view name) {
  for (const auto& k : kKeys) {
    if (k.info.key == name) return &k;
  }
  for (const auto& k : config::PipelineKeys()) {
    if (k.info.key == name) return &k;
  }
  for (const auto& k : config::ApplianceKeys()) {
    if (k.info.key == name) return &k;
  }
  for (const auto& k : config::EndpointKeys()) {
    if (k.info.key == name) return &k;
  }
  for (const auto& k : config::StreamKeys()) {
    if (k.info.key == name && k.apply != nullptr) return &k;
  }
  return nullptr;
}

// True when some key lives under `section` ("store" for "store.dir").
bool IsSection(std::string_view section) {
  const auto keys = ConfigKeys();
  return std::any_of(keys.begin(), keys.end(), [&](const ConfigKeyInfo& k) {
    return k.key.size() > section.size() && k.key.starts_with(section) &&
           k.key[section.size()] == '.';
  });
}

// "a, b, c": the keys directly under `section`, or the top-level sections.
// A table array is listed by its name ("rule", not "rule[]").
std::string AllowedUnder(std::string_view section) {
  std::vector<std::string> names;
  for (const auto& k : ConfigKeys()) {
    std::string_view rest = k.key;
    if (!section.empty()) {
      if (!rest.starts_with(section) || rest.size() <= section.size() ||
          rest[section.size()] != '.') {
        continue;
      }
      rest.remove_prefix(section.size() + 1);
    }
    rest = rest.substr(0, rest.find('.'));
    if (rest.ends_with("[]")) rest.remove_suffix(2);
    std::string first(rest);
    if (std::find(names.begin(), names.end(), first) == names.end()) names.push_back(first);
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string Position(std::string_view source, const toml::source_region& r) {
  std::ostringstream o;
  o << source << ':' << r.begin.line << ':' << r.begin.column;
  return o.str();
}

class Walker {
 public:
  Walker(std::string_view source, Config& config) : source_(source), config_(config) {}

  Status Walk(const toml::table& table, const std::string& section) {
    for (auto&& [key, node] : table) {
      const std::string name =
          section.empty() ? std::string(key.str()) : section + "." + std::string(key.str());
      if (const KeySpec* spec = FindKey(name)) {
        Status s = spec->apply(config_, node);
        if (!s.ok()) return Error(node.source(), name, s.message());
        continue;
      }
      if (name == kRuleArray) {
        SLUICE_RETURN_IF_ERROR(WalkRules(node, name));
        continue;
      }
      if (name == kBrokerArray) {
        SLUICE_RETURN_IF_ERROR(WalkBrokers(node, name));
        continue;
      }
      if (name == kKafkaProperties) {
        SLUICE_RETURN_IF_ERROR(WalkKafkaProperties(node, name));
        continue;
      }
      if (node.is_table() && IsSection(name)) {
        SLUICE_RETURN_IF_ERROR(Walk(*node.as_table(), name));
        continue;
      }
      if (section.empty()) {
        return Error(key.source(), name,
                     "unknown section or key; allowed sections: " + AllowedUnder(""));
      }
      return Error(key.source(), name,
                   "unknown key; allowed in [" + section + "]: " + AllowedUnder(section));
    }
    return Status::Ok();
  }

  // `[[ingest.rule]]` tables, each read, then checked as a whole (captures
  // against templates, keys against the format) with the key at fault named.
  Status WalkRules(const toml::node& node, const std::string& name) {
    const toml::array* rules = node.as_array();
    if (rules == nullptr || !rules->is_array_of_tables()) {
      return Error(node.source(), name,
                   "write each rule as a [[" + name + "]] table (an array of tables)");
    }
    for (std::size_t i = 0; i < rules->size(); ++i) {
      const toml::table& table = *rules->get(i)->as_table();
      const std::string prefix = name + "[" + std::to_string(i + 1) + "].";
      RuleOptions rule;
      for (auto&& [key, value] : table) {
        const ingest::RuleKeySpec* spec = ingest::FindRuleKey(key.str());
        if (spec == nullptr) {
          return Error(key.source(), prefix + std::string(key.str()),
                       "unknown key; allowed in [[" + name + "]]: " + AllowedUnder(name + "[]"));
        }
        Status s = spec->apply(rule, value);
        if (!s.ok()) return Error(value.source(), prefix + std::string(key.str()), s.message());
      }
      if (!table.contains("topic")) {
        return Error(table.source(), prefix + "topic",
                     "required: every rule needs a topic pattern");
      }
      auto compiled = CompileRule(rule);
      if (!compiled.ok()) {
        // The message starts with the field at fault: "series: ...".
        const std::string& m = compiled.status().message();
        const std::string field = m.substr(0, m.find(':'));
        const toml::node* at = table.get(field);
        return Error(at != nullptr ? at->source() : table.source(), prefix + field,
                     m.substr(std::min(m.size(), field.size() + 2)));
      }
      config_.ingest.rules.push_back(std::move(rule));
    }
    return Status::Ok();
  }

  // `[[mqtt.broker]]` tables, each read, then checked as a whole.
  Status WalkBrokers(const toml::node& node, const std::string& name) {
    const toml::array* brokers = node.as_array();
    if (brokers == nullptr || !brokers->is_array_of_tables()) {
      return Error(node.source(), name,
                   "write each broker as a [[" + name + "]] table (an array of tables)");
    }
    for (std::size_t i = 0; i < brokers->size(); ++i) {
      const toml::table& table = *brokers->get(i)->as_table();
      const std::string prefix = name + "[" + std::to_string(i + 1) + "].";
      MqttBrokerOptions broker;
      for (auto&& [key, value] : table) {
        const config::BrokerKeySpec* spec = config::FindBrokerKey(key.str());
        if (spec == nullptr) {
          return Error(key.source(), prefix + std::string(key.str()),
                       "unknown key; allowed in [[" + name + "]]: " + AllowedUnder(name + "[]"));
        }
        Status s = spec->apply(broker, value);
        if (!s.ok()) return Error(value.source(), prefix + std::string(key.str()), s.message());
      }
      Status s = broker.Validate();
      if (!s.ok()) {
        const std::string& m = s.message();
        const std::string field = m.substr(0, m.find(':'));
        const toml::node* at = table.get(field);
        return Error(at != nullptr ? at->source() : table.source(), prefix + field,
                     m.substr(std::min(m.size(), field.size() + 2)));
      }
      config_.mqtt.brokers.push_back(std::move(broker));
    }
    return Status::Ok();
  }

  // `[stream.kafka.properties]`: each entry handed to librdkafka, an error
  // naming the property and its line.
  Status WalkKafkaProperties(const toml::node& node, const std::string& name) {
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return Error(node.source(), name, "write the properties as a [" + name + "] table");
    }
    for (auto&& [key, value] : *table) {
      const std::string prop(key.str());
      Status s = config::ApplyKafkaProperty(config_, prop, value);
      if (!s.ok()) return Error(value.source(), name + "." + prop, s.message());
    }
    return Status::Ok();
  }

  Status Error(const toml::source_region& where, std::string_view key,
               std::string_view why) const {
    return InvalidArgument(Position(source_, where) + ": key '" + std::string(key) + "': " +
                           std::string(why));
  }

 private:
  std::string_view source_;
  Config& config_;
};

// Reads `board` and `board_dir` from the user's file, then walks the profile
// they name into `config`, with errors naming the profile file's line and key.
// `profile` keeps the table, so that later whole-config checks can point
// into the profile file for keys the user did not set.
Status LoadProfile(const toml::table& root, std::string_view source, const ParseContext& context,
                   const Walker& user, Config& config, toml::table& profile) {
  for (const char* key : {"board", "board_dir"}) {
    if (const toml::node* n = root.get(key)) {
      Status s = FindKey(key)->apply(config, *n);
      if (!s.ok()) return user.Error(n->source(), key, s.message());
    }
  }
  const std::string dir = board::EffectiveBoardsDir(config.board.dir);
  const std::string config_dir = std::filesystem::path(source).parent_path().string();
  auto choice = board::Resolve(config.board.setting, dir, config_dir, context.root);
  if (!choice.ok()) {
    toml::source_region where;
    where.begin = {1, 1};
    if (const toml::node* n = root.get("board")) where = n->source();
    return user.Error(where, "board", choice.status().message());
  }
  config.board.profile = choice->name;
  config.board.profile_path = choice->path;
  config.board.reason = choice->reason;
  if (choice->path.empty()) return Status::Ok();

  std::ifstream in(choice->path, std::ios::binary);
  std::ostringstream read;
  read << in.rdbuf();
  if (!in) return IoError(choice->path + ": cannot read profile");
  try {
    profile = toml::parse(read.str(), choice->path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(Position(choice->path, e.source()) + ": " +
                           std::string(e.description()));
  }
  Walker walker(choice->path, config);
  // A profile describes hardware: identity, selection and data mapping stay
  // in the user's file (and table arrays would add to the user's, not yield).
  for (auto&& [key, node] : profile) {
    const std::string_view k = key.str();
    if (k == "board" || k == "board_dir" || k == "gateway" || k == "ingest" || k == "mqtt") {
      return walker.Error(key.source(), k, "not allowed in a board profile");
    }
  }
  return walker.Walk(profile, "");
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "sluice";
  return buf;
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::span<const ConfigKeyInfo> ConfigKeys() {
  static const std::vector<ConfigKeyInfo> keys = [] {
    std::vector<ConfigKeyInfo> v;
    for (const auto& k : kKeys) v.push_back(k.info);
    for (const auto& k : ingest::RuleKeys()) v.push_back(k.info);
    for (const auto& k : config::BrokerKeys()) v.push_back(k.info);
    for (const auto& k : config::PipelineKeys()) v.push_back(k.info);
    for (const auto& k : config::ApplianceKeys()) v.push_back(k.info);
    for (const auto& k : config::EndpointKeys()) v.push_back(k.info);
    for (const auto& k : config::StreamKeys()) v.push_back(k.info);
    return v;
  }();
  return keys;
}

Result<Config> ParseConfig(std::string_view text, std::string_view source) {
  return ParseConfig(text, source, ParseContext{});
}

Result<Config> ParseConfig(std::string_view text, std::string_view source,
                           const ParseContext& context) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(Position(source, e.source()) + ": " + std::string(e.description()));
  }

  Config config;
  Walker walker(source, config);
  // Profile first, then every user key over it: the user's explicit keys win.
  toml::table profile;
  SLUICE_RETURN_IF_ERROR(LoadProfile(root, source, context, walker, config, profile));
  SLUICE_RETURN_IF_ERROR(walker.Walk(root, ""));

  if (config.gateway.id.empty()) config.gateway.id = HostName();
  for (auto& b : config.mqtt.brokers) {
    if (b.client_id_prefix.empty()) b.client_id_prefix = "sluice-" + config.gateway.id;
  }

  // Module-level checks. Their messages start with the field name ("dir: ..."),
  // which maps back to the key and, when the file sets it, its line.
  auto located = [&](const std::string& key, const std::string& why) {
    toml::source_region where;
    where.begin = {1, 1};
    if (const toml::node* n = root.at_path(key).node()) return walker.Error(n->source(), key, why);
    if (const toml::node* n = profile.at_path(key).node()) {
      return Walker(config.board.profile_path, config).Error(n->source(), key, why);
    }
    return walker.Error(where, key, why);
  };
  // A value the user did not set (a built-in default or a board profile's)
  // that depends on a key the user did set is derived from that key: a 3 MiB
  // wal_file_size lowers the profile's 1 MiB wal_max_group_bytes to a
  // quarter of it, a 16 MiB block_size raises open_blocks_bytes and
  // segment_size to their minimums, and a small wal_file_size lowers
  // stream.kafka.backlog_disk to twelve of it. Only keys the user set both of
  // can conflict, and those errors name the user's file.
  auto user_set = [&](const char* key) { return root.at_path(key).node() != nullptr; };
  {
    store::Options& so = config.store;
    if (!user_set("store.wal_max_group_bytes") && so.wal_max_group_bytes > so.wal_file_size / 4) {
      so.wal_max_group_bytes = so.wal_file_size / 4;
    }
    if (!user_set("store.open_blocks_bytes") && so.open_blocks_bytes < 2ull * so.block_size) {
      so.open_blocks_bytes = 2ull * so.block_size;
    }
    if (!user_set("store.segment_size") && so.segment_size < 4ull * so.block_size) {
      so.segment_size = 4ull * so.block_size;
    }
    if (!user_set("stream.kafka.backlog_disk") && so.wal_file_size <= (4ull << 30)) {
      config.stream.backlog_disk_bytes =
          std::clamp(config.stream.backlog_disk_bytes, so.wal_file_size, 12 * so.wal_file_size);
    }
  }
  // late_grace defaults to 300 s, but never to more than the partition
  // window. When the user set both and they conflict, the error names both
  // and where.
  {
    auto set_at = [&](const char* key) -> std::string {
      if (const toml::node* n = root.at_path(key).node()) return Position(source, n->source());
      if (const toml::node* n = profile.at_path(key).node()) {
        return Position(config.board.profile_path, n->source());
      }
      return "";
    };
    store::Options& so = config.store;
    if (!user_set("store.late_grace") && so.late_grace > so.partition_window) {
      so.late_grace = so.partition_window;
    } else if (so.late_grace > so.partition_window) {
      const std::string window_at = set_at("store.partition_window");
      return located("store.late_grace",
                     std::to_string(so.late_grace.count()) +
                         " s is longer than store.partition_window (" +
                         std::to_string(so.partition_window.count()) + " s, " +
                         (window_at.empty() ? std::string("its default") : "set at " + window_at) +
                         "); a partition takes late records for at most one window: lower "
                         "store.late_grace or widen store.partition_window");
    }
  }
  // Options fields carry their key's name and Validate() messages start
  // with it ("late_grace: ..."), so a message maps to its key directly.
  auto field_error = [&](std::string_view section, const Status& s) {
    const std::string& m = s.message();
    return located(std::string(section) + "." + m.substr(0, m.find(':')),
                   m.substr(std::min(m.size(), m.find(':') + 2)));
  };
  Status s = config.store.Validate();
  if (!s.ok()) return field_error("store", s);
  s = config.endpoint.Validate();
  if (!s.ok()) return field_error("endpoint", s);
  s = config::FinishSyncConfig(config);
  if (!s.ok()) {
    const std::string& m = s.message();
    return located(m.substr(0, m.find(':')), m.substr(std::min(m.size(), m.find(':') + 2)));
  }
  s = config::FinishStreamConfig(config);
  if (!s.ok()) {
    const std::string& m = s.message();
    const std::string key = m.substr(0, m.find(':'));
    const std::string why = m.substr(std::min(m.size(), m.find(':') + 2));
    // A property refused as a whole ("stream.kafka.properties.acks") sits in
    // a table the TOML path cannot address by its dotted name.
    const std::string props = std::string(kKafkaProperties) + ".";
    if (key.starts_with(props)) {
      const toml::node* table = root.at_path(kKafkaProperties).node();
      const toml::node* at = table != nullptr && table->is_table()
                                 ? table->as_table()->get(key.substr(props.size()))
                                 : nullptr;
      toml::source_region where;
      where.begin = {1, 1};
      return walker.Error(at != nullptr ? at->source() : where, key, why);
    }
    return located(key, why);
  }
  return config;
}

Result<Config> LoadConfigFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path.string() + ": cannot open configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError(path.string() + ": read failed");
  return ParseConfig(text.str(), path.string());
}

}  // namespace sluice::gateway
