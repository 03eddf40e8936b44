#include "series_cache.h"


#include "store/store.h"

namespace sluice::gateway::pipeline {

Status SeriesCache::Conflict(std::string_view name, store::ValueType want,
                             store::ValueType have) {
  conflicts_.fetch_add(1, std::memory_order_relaxed);
  return InvalidArgument("series '" + std::string(name) + "' holds " +
                         store::ValueTypeName(have) + ", sample is " +
                         store::ValueTypeName(want));
}

Result<store::SeriesId> SeriesCache::Resolve(std::string_view name, store::ValueType type,
                                             std::string_view unit) {
  {
    ReaderLock lock(mu_);
    auto it = map_.find(name);
    if (it != map_.end()) {
      if (it->second.type != type) return Conflict(name, type, it->second.type);
      return it->second.id;
    }
  }
  // Outside the lock: registration syncs. Two shards racing on one new name
  // both register it; the store returns the same id to both.
  Entry entry{};
  auto id = store_->RegisterSeries(name, type, unit);
  if (id.ok()) {
    registered_.fetch_add(1, std::memory_order_relaxed);
    entry = {*id, type};
  } else {
    // Known under another type or unit: cache what the store holds.
    auto info = store_->FindSeries(name);
    if (!info) return id.status();
    entry = {info->id, info->type};
  }
  {
    WriterLock lock(mu_);
    map_.try_emplace(std::string(name), entry);
  }
  if (entry.type != type) return Conflict(name, type, entry.type);
  return entry.id;
}

void SeriesCache::Prefetch(std::span<const store::SeriesSpec> specs) {
  std::vector<store::SeriesSpec> missing;
  {
    ReaderLock lock(mu_);
    for (const auto& spec : specs) {
      if (map_.find(spec.name) == map_.end()) missing.push_back(spec);
    }
  }
  if (missing.empty()) return;
  const auto ids = store_->RegisterSeriesBatch(missing);
  WriterLock lock(mu_);
  for (std::size_t i = 0; i < missing.size(); ++i) {
    if (!ids[i].ok()) continue;
    if (map_.try_emplace(std::string(missing[i].name), Entry{*ids[i], missing[i].type}).second) {
      registered_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

std::size_t SeriesCache::size() const {
  ReaderLock lock(mu_);
  return map_.size();
}

}  // namespace sluice::gateway::pipeline
