#include "gateway/admin/partitions_api.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include "api_params.h"
#include "base/civil_time.h"
#include "gateway/admin/admin_util.h"

namespace sluice::gateway::admin {
namespace {

constexpr std::array kStates = {store::PartitionState::kOpen, store::PartitionState::kSealed,
                                store::PartitionState::kSynced, store::PartitionState::kReclaimed};

template <typename T>
bool ParseWhole(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

std::string UploadJson(const store::PartitionInfo& p, const sync::SyncEngine* engine,
                       const std::map<store::PartitionId, sync::PartitionUpload>& uploads) {
  std::string state;
  std::uint32_t attempts = 0;
  std::string error;
  if (engine == nullptr) {
    state = "none";
  } else if (p.state == store::PartitionState::kOpen) {
    state = "not sealed";
  } else if (p.state != store::PartitionState::kSealed) {
    state = "uploaded";
  } else if (auto it = uploads.find(p.id); it != uploads.end()) {
    state = sync::UploadStateName(it->second.state);
    attempts = it->second.attempts;
    error = it->second.last_error;
  } else {
    state = "waiting";  // sealed since the engine last looked
  }
  return "{\"state\":" + JsonString(state) + ",\"attempts\":" + std::to_string(attempts) +
         ",\"last_error\":" + JsonString(error) + "}";
}

}  // namespace

std::string PartitionIdText(const store::PartitionId& id) {
  return std::to_string(id.window_start_ns) + "-" + std::to_string(id.shard) +
         (id.late ? "-1" : "-0");
}

std::optional<store::PartitionId> ParsePartitionId(std::string_view text) {
  // The window may be negative (a leading '-'): split at the last two dashes.
  const auto seq_dash = text.rfind('-');
  if (seq_dash == std::string_view::npos || seq_dash == 0) return std::nullopt;
  const auto shard_dash = text.rfind('-', seq_dash - 1);
  if (shard_dash == std::string_view::npos || shard_dash == 0) return std::nullopt;
  store::PartitionId id;
  const std::string_view seq = text.substr(seq_dash + 1);
  if (seq != "0" && seq != "1") return std::nullopt;
  id.late = seq == "1";
  const std::string_view shard = text.substr(shard_dash + 1, seq_dash - shard_dash - 1);
  if (shard.starts_with('-') || shard.starts_with('+') || !ParseWhole(shard, id.shard)) {
    return std::nullopt;
  }
  if (!ParseWhole(text.substr(0, shard_dash), id.window_start_ns)) return std::nullopt;
  if (PartitionIdText(id) != text) return std::nullopt;  // one spelling per id
  return id;
}

AdminResponse ServePartitions(const store::Store& store, const sync::SyncEngine* engine,
                              std::int64_t window_ns, const AdminRequest& r,
                              const PartitionsApiLimits& l) {
  if (r.path != "/v1/partitions") {
    return Json(404, JsonError("not found: '" + r.path + "'"));
  }
  if (auto bad = OnlyParams(r, {"state", "after", "limit"})) return *bad;
  std::uint32_t limit = 0;
  if (auto bad = GetLimit(r, l.default_partitions, l.max_partitions, "partitions", limit)) {
    return *bad;
  }
  std::optional<store::PartitionState> want;
  if (auto it = r.query.find("state"); it != r.query.end()) {
    for (auto s : kStates) {
      if (it->second == store::PartitionStateName(s)) want = s;
    }
    if (!want) {
      return BadRequest("state: '" + it->second +
                        "' is not a partition state; allowed: open, sealed, synced, reclaimed");
    }
  }
  std::optional<store::PartitionId> after;
  if (auto it = r.query.find("after"); it != r.query.end()) {
    after = ParsePartitionId(it->second);
    if (!after) {
      return BadRequest("after: '" + it->second +
                        "' is not a partition id (<window_start_ns>-<shard>-<0|1>, as in "
                        "next_after)");
    }
  }

  std::vector<store::PartitionInfo> all = store.ListPartitions();
  std::array<std::uint64_t, kStates.size()> counts{};
  for (const auto& p : all) {
    for (std::size_t i = 0; i < kStates.size(); ++i) counts[i] += p.state == kStates[i];
  }
  if (want) std::erase_if(all, [&](const store::PartitionInfo& p) { return p.state != *want; });
  // Newest first; ListPartitions orders by id, but do not rely on it.
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return b.id < a.id; });
  auto first = all.begin();
  if (after) {
    first = std::upper_bound(
        all.begin(), all.end(), *after,
        [](const store::PartitionId& id, const store::PartitionInfo& p) { return p.id < id; });
  }
  const auto count = std::min<std::size_t>(limit, static_cast<std::size_t>(all.end() - first));
  const auto uploads = engine != nullptr ? engine->UploadStates()
                                         : std::map<store::PartitionId, sync::PartitionUpload>{};

  std::string body = "{\"total\":" + std::to_string(all.size()) + ",\"counts\":{";
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    body += (i ? ",\"" : "\"") + std::string(store::PartitionStateName(kStates[i])) +
            "\":" + std::to_string(counts[i]);
  }
  body += "},\"partitions\":[";
  for (std::size_t i = 0; i < count; ++i) {
    const auto& p = first[static_cast<std::ptrdiff_t>(i)];
    body += i ? ",{" : "{";
    body +=
        "\"id\":" + JsonString(PartitionIdText(p.id)) +
        ",\"window_start_ns\":" + std::to_string(p.id.window_start_ns) +
        ",\"window_start\":" +
        JsonString(FormatRfc3339(p.id.window_start_ns, Rfc3339Precision::kNanos)) +
        ",\"window_ns\":" + std::to_string(window_ns) + ",\"shard\":" + std::to_string(p.id.shard) +
        ",\"late\":" + (p.id.late ? "true" : "false") +
        ",\"state\":" + JsonString(store::PartitionStateName(p.state)) +
        ",\"records\":" + std::to_string(p.records) + ",\"blocks\":" + std::to_string(p.blocks) +
        ",\"bytes\":" + std::to_string(p.block_bytes) + ",\"t_min_ns\":" + std::to_string(p.t_min) +
        ",\"t_max_ns\":" + std::to_string(p.t_max) +
        ",\"upload\":" + UploadJson(p, engine, uploads) + "}";
  }
  body += "],\"next_after\":";
  const bool more = first + static_cast<std::ptrdiff_t>(count) != all.end();
  body +=
      more ? JsonString(PartitionIdText(first[static_cast<std::ptrdiff_t>(count) - 1].id)) : "null";
  return Json(200, body + "}\n");
}

}  // namespace sluice::gateway::admin
