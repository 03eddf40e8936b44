#include "gateway/config.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "gateway/topic_rules.h"
#include "ingest/rule_config.h"
#include "sync/object_key.h"

namespace sluice::gateway {
namespace {

// Applies one key's value to the Config; returns an error without position,
// which the walker prefixes with file, line, column and key.
using Apply = Status (*)(Config&, const toml::node&);

struct KeySpec {
  ConfigKeyInfo info;
  Apply apply;
};

std::string_view TypeName(const toml::node& n) { return ingest::TomlTypeName(n); }

Status GetString(const toml::node& n, std::string& out) {
  const auto* s = n.as_string();
  if (s == nullptr) return InvalidArgument("expected a string, got " + std::string(TypeName(n)));
  out = s->get();
  return Status::Ok();
}

// A size: an integer number of bytes, or a string "<n>B|KiB|MiB|GiB".
Status GetSize(const toml::node& n, std::uint64_t& out) {
  if (const auto* i = n.as_integer()) {
    if (i->get() < 0) return InvalidArgument("a size cannot be negative");
    out = static_cast<std::uint64_t>(i->get());
    return Status::Ok();
  }
  const auto* s = n.as_string();
  if (s == nullptr) {
    return InvalidArgument("expected a size (bytes, or a string such as \"64MiB\"), got " +
                           std::string(TypeName(n)));
  }
  const std::string& v = s->get();
  std::size_t digits = 0;
  while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
  const std::string unit = v.substr(digits);
  std::uint64_t mult = 0;
  if (unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1ull << 10;
  else if (unit == "MiB") mult = 1ull << 20;
  else if (unit == "GiB") mult = 1ull << 30;
  if (digits == 0 || digits > 12 || mult == 0) {
    return InvalidArgument("'" + v + "' is not a size; write a whole number and one of B, KiB, MiB, GiB");
  }
  out = std::stoull(v.substr(0, digits)) * mult;
  return Status::Ok();
}

// A duration: a string "<n>us|ms|s"; stored in microseconds.
Status GetDurationUs(const toml::node& n, std::uint64_t& out) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    return InvalidArgument("expected a duration string such as \"1ms\", got " +
                           std::string(TypeName(n)));
  }
  const std::string& v = s->get();
  std::size_t digits = 0;
  while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
  const std::string unit = v.substr(digits);
  std::uint64_t mult = 0;
  if (unit == "us") mult = 1;
  else if (unit == "ms") mult = 1000;
  else if (unit == "s") mult = 1000000;
  if (digits == 0 || digits > 9 || mult == 0) {
    return InvalidArgument("'" + v + "' is not a duration; write a whole number and one of us, ms, s");
  }
  out = std::stoull(v.substr(0, digits)) * mult;
  return Status::Ok();
}

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
       std::uint64_t us = 0;
       SLUICE_RETURN_IF_ERROR(GetDurationUs(n, us));
       if (us > UINT32_MAX) return InvalidArgument("duration too long");
       c.store.wal_max_commit_delay_us = static_cast<std::uint32_t>(us);
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

const KeySpec* FindKey(std::string_view name) {
  for (const auto& k : kKeys) {
    if (k.info.key == name) return &k;
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

  Status Error(const toml::source_region& where, std::string_view key,
               std::string_view why) const {
    return InvalidArgument(Position(source_, where) + ": key '" + std::string(key) + "': " +
                           std::string(why));
  }

 private:
  std::string_view source_;
  Config& config_;
};

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
    return v;
  }();
  return keys;
}

Result<Config> ParseConfig(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(Position(source, e.source()) + ": " + std::string(e.description()));
  }

  Config config;
  Walker walker(source, config);
  SLUICE_RETURN_IF_ERROR(walker.Walk(root, ""));

  if (config.gateway.id.empty()) config.gateway.id = HostName();

  // Module-level checks. Their messages start with the field name ("dir: ..."),
  // which maps back to the key and, when the file sets it, its line.
  Status s = config.store.Validate();
  if (!s.ok()) {
    const std::string& m = s.message();
    std::string field = m.substr(0, m.find(':'));
    if (field == "wal_max_commit_delay_us") field = "wal_max_commit_delay";
    const std::string key = "store." + field;
    const std::string why = m.substr(std::min(m.size(), m.find(':') + 2));
    toml::source_region where;
    where.begin = {1, 1};
    if (const toml::node* n = root.at_path(key).node()) where = n->source();
    return walker.Error(where, key, why);
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
