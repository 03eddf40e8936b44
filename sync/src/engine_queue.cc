#include "engine_queue.h"

namespace sluice::sync {

void PartitionQueue::Refresh(const std::function<std::vector<store::PartitionInfo>()>& list) {
  MutexLock lock(mu_);
  for (auto& [id, e] : entries_) e.listed = false;
  for (const auto& info : list()) {
    auto [it, added] = entries_.try_emplace(info.id);
    it->second.info = info;
    it->second.listed = true;
  }
  std::erase_if(entries_, [](const auto& kv) { return !kv.second.listed && !kv.second.in_flight; });
}

bool PartitionQueue::Due(const Entry& e, std::int64_t now_ns) const {
  return !e.in_flight && e.listed && e.not_before_ns <= now_ns;
}

std::optional<store::PartitionInfo> PartitionQueue::Claim(Lane lane, std::int64_t now_ns) {
  MutexLock lock(mu_);
  if (now_ns < hold_until_ns_) return std::nullopt;
  const auto take = [&](Entry& e) {
    e.in_flight = true;
    e.parked = false;
    ++e.attempts;
    return e.info;
  };
  if (lane == Lane::kLive) {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (Due(it->second, now_ns)) return take(it->second);
    }
  } else {
    for (auto& [id, e] : entries_) {
      if (Due(e, now_ns)) return take(e);
    }
  }
  return std::nullopt;
}

void PartitionQueue::Finish(const store::PartitionId& id, bool synced, std::int64_t not_before_ns,
                            bool parked) {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (synced || !it->second.listed) {
    entries_.erase(it);
    return;
  }
  it->second.in_flight = false;
  it->second.not_before_ns = not_before_ns;
  it->second.parked = parked;
}

std::uint32_t PartitionQueue::Failures(const store::PartitionId& id) const {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? 0 : it->second.failures;
}

std::uint32_t PartitionQueue::AddFailure(const store::PartitionId& id, std::string error) {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return 1;
  it->second.last_error = std::move(error);
  return ++it->second.failures;
}

void PartitionQueue::HoldAllUntil(std::int64_t not_before_ns) {
  MutexLock lock(mu_);
  hold_until_ns_ = not_before_ns;
}

std::optional<std::int64_t> PartitionQueue::NextBackoffDue(std::int64_t now_ns) const {
  MutexLock lock(mu_);
  std::optional<std::int64_t> next;
  bool any_idle = false;
  for (const auto& [id, e] : entries_) {
    if (e.in_flight || !e.listed) continue;
    any_idle = true;
    if (e.parked || e.not_before_ns <= now_ns) continue;
    if (!next || e.not_before_ns < *next) next = e.not_before_ns;
  }
  if (any_idle && hold_until_ns_ > now_ns && (!next || hold_until_ns_ < *next)) {
    next = hold_until_ns_;
  }
  return next;
}

QueueStats PartitionQueue::stats(std::int64_t now_ns) const {
  MutexLock lock(mu_);
  QueueStats s;
  for (const auto& [id, e] : entries_) {
    // In flight counts until its attempt ends, even once the store lists it
    // as synced: an empty backlog means every outcome was recorded.
    if (!e.listed && !e.in_flight) continue;
    ++s.partitions;
    s.bytes += e.info.block_bytes;
    if (e.parked && e.not_before_ns > now_ns) ++s.parked;
    if (!s.oldest_window_ns || id.window_start_ns < *s.oldest_window_ns) {
      s.oldest_window_ns = id.window_start_ns;
    }
  }
  return s;
}

std::map<store::PartitionId, QueuedPartition> PartitionQueue::Snapshot(std::int64_t now_ns) const {
  MutexLock lock(mu_);
  std::map<store::PartitionId, QueuedPartition> out;
  for (const auto& [id, e] : entries_) {
    if (!e.listed && !e.in_flight) continue;
    QueuedPartition& q = out[id];
    q.in_flight = e.in_flight;
    q.parked = !e.in_flight && e.parked && e.not_before_ns > now_ns;
    q.attempts = e.attempts;
    q.last_error = e.last_error;
  }
  return out;
}

}  // namespace sluice::sync
