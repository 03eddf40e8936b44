#include "series_resolver.h"

#include <algorithm>
#include <string>
#include <vector>

#include "store/store.h"

namespace sluice::gateway::pipeline {

std::optional<store::SeriesRef> SeriesResolver::Find(std::string_view name) const {
  return store_->LookupSeries(name);
}

Result<store::SeriesId> SeriesResolver::Accept(const store::SeriesRef& known,
                                               std::string_view name, store::ValueType type) {
  if (known.type == type) return known.id;
  conflicts_.fetch_add(1, std::memory_order_relaxed);
  return InvalidArgument("series '" + std::string(name) + "' holds " +
                         store::ValueTypeName(known.type) + ", sample is " +
                         store::ValueTypeName(type));
}

Result<store::SeriesId> SeriesResolver::Resolve(std::string_view name, store::ValueType type,
                                                std::string_view unit) {
  if (auto known = Find(name)) return Accept(*known, name, type);
  MutexLock lock(register_mu_);
  if (auto known = Find(name)) return Accept(*known, name, type);  // another shard's
  auto id = store_->RegisterSeries(name, type, unit);
  if (id.ok()) {
    registered_.fetch_add(1, std::memory_order_relaxed);
    return id;
  }
  return id.status();  // a bad name, or the disk
}

void SeriesResolver::Prefetch(std::span<const store::SeriesSpec> specs) {
  MutexLock lock(register_mu_);
  std::vector<store::SeriesSpec> missing;
  for (const auto& spec : specs) {
    if (!Find(spec.name)) missing.push_back(spec);
  }
  if (missing.empty()) return;
  // A name may come twice in one message: count each new id once.
  std::vector<std::uint32_t> added;
  for (const auto& id : store_->RegisterSeriesBatch(missing)) {
    if (id.ok()) added.push_back(id->value);
  }
  std::sort(added.begin(), added.end());
  const auto distinct = std::unique(added.begin(), added.end()) - added.begin();
  registered_.fetch_add(static_cast<std::uint64_t>(distinct), std::memory_order_relaxed);
}

}  // namespace sluice::gateway::pipeline
