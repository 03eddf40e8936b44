// The partitions API of the admin endpoint: the store's partitions with
// their life-cycle state and, from the sync engine, where their upload
// stands (docs/config.md, [admin]):
//
//   GET /v1/partitions?state=&after=&limit=
//
//   {"total":T,"counts":{"open":n,"sealed":n,"synced":n,"reclaimed":n},
//    "partitions":[{"id","window_start_ns","window_start","window_ns","shard",
//      "late","state","records","blocks","bytes","t_min_ns","t_max_ns",
//      "upload":{"state","attempts","last_error"}},...],
//    "next_after":ID|null}
//
// Newest first: by window start, then shard, then the late partition of a
// window before its regular one. `id` is "<window_start_ns>-<shard>-<seq>"
// (seq 0 for the regular partition, 1 for the late one, as in object
// keys): stable for the partition's life and the `after` of the next page.
// `state` (open, sealed, synced, reclaimed) filters; `total` counts the
// filtered set, `counts` every partition. upload.state is "not sealed"
// (open), "waiting", "uploading", "parked" (last_error says why),
// "uploaded" (synced or reclaimed), or "none" when no sink is configured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/admin/admin_server.h"
#include "store/store.h"
#include "sync/engine.h"

namespace sluice::gateway::admin {

struct PartitionsApiLimits {
  std::uint32_t default_partitions = 1000;  // per page without `limit`
  std::uint32_t max_partitions = 10000;
};

// "<window_start_ns>-<shard>-<seq>", and back (nullopt for anything else).
std::string PartitionIdText(const store::PartitionId& id);
std::optional<store::PartitionId> ParsePartitionId(std::string_view text);

// `engine`: null when no sink is configured. `window_ns`: the store's
// partition window, reported per partition. Thread-safe as the store and
// the engine are.
AdminResponse ServePartitions(const store::Store& store, const sync::SyncEngine* engine,
                              std::int64_t window_ns, const AdminRequest& request,
                              const PartitionsApiLimits& limits = {});

}  // namespace sluice::gateway::admin
