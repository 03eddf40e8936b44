// The engine's view of the sealed partitions waiting for upload: which are
// idle, in flight, backing off or parked, and which one each lane takes next.
// It mirrors Store::ListPartitions(kSealed), so its size is bounded by the
// store's partitions; nothing is queued beyond that.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "store/store.h"

namespace sluice::sync {

enum class Lane : std::uint8_t { kLive = 0, kBackfill = 1 };

// One partition's place in the queue (PartitionQueue::Snapshot).
struct QueuedPartition {
  bool in_flight = false;
  bool parked = false;         // failed permanently and still cooling down
  std::uint32_t attempts = 0;  // claims since it entered the queue
  std::string last_error;      // of its last failed attempt; empty when none
};

struct QueueStats {
  std::uint64_t partitions = 0;  // sealed, not synced
  std::uint64_t bytes = 0;       // their block bytes
  std::uint64_t parked = 0;
  std::optional<std::int64_t> oldest_window_ns;
};

class PartitionQueue {
 public:
  // Replaces the known set with `list()` (the sealed partitions), called
  // under the queue's lock so that a partition marked synced and finished
  // (Finish) between listing and applying cannot come back as new. Entries no
  // longer listed are dropped, except those in flight, dropped when they end.
  void Refresh(const std::function<std::vector<store::PartitionInfo>()>& list);

  // Claims the partition the lane takes next among those idle and due at
  // `now_ns`: the newest (greatest id) for kLive, the oldest for kBackfill.
  // A claimed partition is in flight until Finish; nobody else gets it.
  std::optional<store::PartitionInfo> Claim(Lane lane, std::int64_t now_ns);

  // Ends the attempt on a claimed partition. `synced`: done, forgotten.
  // Otherwise it becomes due again at `not_before_ns`; `parked` marks a
  // permanent failure (counted in stats until it is due again).
  void Finish(const store::PartitionId& id, bool synced, std::int64_t not_before_ns = 0,
              bool parked = false);

  // Consecutive failures of a partition so far (0 when unknown).
  std::uint32_t Failures(const store::PartitionId& id) const;
  // Records one more failure of `id`, with its reason, and returns the count.
  std::uint32_t AddFailure(const store::PartitionId& id, std::string error = {});

  // No partition is claimed before `not_before_ns` (the sink-wide backoff
  // after a retryable failure).
  void HoldAllUntil(std::int64_t not_before_ns);

  // The earliest time a backing-off (not parked) partition, or the
  // sink-wide hold, becomes due, if that is after `now_ns`; nullopt when
  // nothing is waiting for a backoff to expire.
  std::optional<std::int64_t> NextBackoffDue(std::int64_t now_ns) const;

  QueueStats stats(std::int64_t now_ns) const;

  // Every partition the queue knows (sealed at the last Refresh, or in
  // flight), as of `now_ns`. One pass under the lock; no store access.
  std::map<store::PartitionId, QueuedPartition> Snapshot(std::int64_t now_ns) const;

 private:
  struct Entry {
    store::PartitionInfo info;
    bool in_flight = false;
    bool listed = true;        // still sealed at the last Refresh
    bool parked = false;
    std::uint32_t failures = 0;
    std::uint32_t attempts = 0;
    std::int64_t not_before_ns = 0;
    std::string last_error;
  };
  bool Due(const Entry& e, std::int64_t now_ns) const SLUICE_REQUIRES(mu_);

  mutable Mutex mu_;
  std::map<store::PartitionId, Entry> entries_ SLUICE_GUARDED_BY(mu_);
  std::int64_t hold_until_ns_ SLUICE_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::sync
