// Series name -> id, in front of Store::RegisterSeries, which is durable
// (it syncs) and so too slow to call per sample. Each new name is
// registered once; later samples are a shared-lock lookup. Thread-safe: the
// shards share one cache. Its size follows the store's registry, which is
// where the bound on series lives.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/mutex.h"
#include "base/status.h"
#include "store/types.h"

namespace sluice::store {
class Store;
}

namespace sluice::gateway::pipeline {

class SeriesCache {
 public:
  explicit SeriesCache(store::Store* store) : store_(store) {}

  // The id of `name`, registering it with `type` and `unit` on first use.
  // InvalidArgument when the series exists with another type (the unit of
  // the first registration is kept: a unit change is not an error).
  Result<store::SeriesId> Resolve(std::string_view name, store::ValueType type,
                                  std::string_view unit);
  // Registers the names of `specs` it does not know in one batch (one
  // sync: Store::RegisterSeriesBatch), so that the Resolve calls that
  // follow find them. Conflicts are left for Resolve to report and count.
  void Prefetch(std::span<const store::SeriesSpec> specs);

  std::uint64_t registered() const { return registered_.load(std::memory_order_relaxed); }
  std::uint64_t conflicts() const { return conflicts_.load(std::memory_order_relaxed); }
  std::size_t size() const;

 private:
  struct Entry {
    store::SeriesId id;
    store::ValueType type;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Status Conflict(std::string_view name, store::ValueType want, store::ValueType have);

  friend class LocalSeriesCache;

  store::Store* store_;
  mutable SharedMutex mu_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> map_ SLUICE_GUARDED_BY(mu_);
  std::atomic<std::uint64_t> registered_{0};
  std::atomic<std::uint64_t> conflicts_{0};
};

// One shard's copy of the names it has resolved, in front of the shared
// cache: a hit takes no lock and touches no shared cache line. Only
// successes are kept (a type conflict goes to the shared cache, which counts
// it). Not thread-safe: one per shard. Bounded like the shared cache.
class LocalSeriesCache {
 public:
  explicit LocalSeriesCache(SeriesCache* shared) : shared_(shared) {}

  bool Has(std::string_view name, store::ValueType type) const {
    auto it = map_.find(name);
    return it != map_.end() && it->second.type == type;
  }

  // A message naming many series this shard has not seen: the new ones are
  // registered together (a Sparkplug NBIRTH, a new line's first scan).
  // `keep(sample)` says which samples will be stored.
  template <typename Sample, typename Keep>
  void Prefetch(std::span<const Sample> samples, Keep&& keep) {
    std::vector<store::SeriesSpec> specs;
    for (const Sample& s : samples) {
      if (!Has(s.series, s.type) && keep(s)) specs.push_back({s.series, s.type, s.unit});
    }
    if (specs.size() > 1) shared_->Prefetch(specs);
  }

  Result<store::SeriesId> Resolve(std::string_view name, store::ValueType type,
                                  std::string_view unit) {
    auto it = map_.find(name);
    if (it != map_.end() && it->second.type == type) return it->second.id;
    auto id = shared_->Resolve(name, type, unit);
    if (id.ok() && it == map_.end())
      map_.try_emplace(std::string(name), SeriesCache::Entry{*id, type});
    return id;
  }

 private:
  SeriesCache* shared_;
  std::unordered_map<std::string, SeriesCache::Entry, SeriesCache::Hash, std::equal_to<>> map_;
};

}  // namespace sluice::gateway::pipeline
