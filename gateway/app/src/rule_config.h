// The keys of one `[[ingest.rule]]` table, for the config loader
// (gateway/src/config.cc). Internal: exposes toml++ types.
#pragma once

#include <span>
#include <string_view>
#include <toml++/toml.h>

#include "base/status.h"
#include "gateway/app/config.h"
#include "gateway/ingest/ingest_options.h"

namespace sluice::gateway::ingest {

struct RuleKeySpec {
  ConfigKeyInfo info;      // "ingest.rule[].topic"
  std::string_view field;  // "topic": the name inside the table
  // Applies the value; an error has no position (the loader adds it).
  Status (*apply)(RuleOptions& rule, const toml::node& value);
};

std::span<const RuleKeySpec> RuleKeys();
const RuleKeySpec* FindRuleKey(std::string_view field);

// "a string", "an integer", ...: for "expected X, got Y" messages.
std::string_view TomlTypeName(const toml::node& n);

// An integer in [lo, hi]; used for the scalar `[ingest]` keys too.
Status GetUint32(const toml::node& n, std::uint32_t lo, std::uint32_t hi, std::uint32_t& out);

}  // namespace sluice::gateway::ingest
