// Series name -> id for the shards, in front of the store's registry.
// Registering is durable (a sync), so each new name is registered once,
// and a message naming many new series registers them together. A known
// name costs one probe of the registry under its shared lock: the
// registry is the only map of names in the process, so that 100,000
// series are held once (docs/design.md, "Memory").
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/mutex.h"
#include "base/status.h"
#include "store/types.h"

namespace sluice::store {
class Store;
}

namespace sluice::gateway::pipeline {

class SeriesResolver {
 public:
  explicit SeriesResolver(store::Store* store) : store_(store) {}

  // The series registered under `name`, if any.
  std::optional<store::SeriesRef> Find(std::string_view name) const;
  // The id of `name`, registering it with `type` and `unit` on first use.
  // InvalidArgument when the series exists with another type (the unit of
  // the first registration is kept: a unit change is not an error).
  Result<store::SeriesId> Resolve(std::string_view name, store::ValueType type,
                                  std::string_view unit);
  // `known`, what Find returned for `name`: its id, or the type conflict.
  Result<store::SeriesId> Accept(const store::SeriesRef& known, std::string_view name,
                                 store::ValueType type);
  // Registers the names of `specs` not registered yet in one batch (one
  // sync: Store::RegisterSeriesBatch), so that the Resolve calls that
  // follow find them. Conflicts are left for Resolve to report and count.
  void Prefetch(std::span<const store::SeriesSpec> specs);

  std::uint64_t registered() const { return registered_.load(std::memory_order_relaxed); }
  std::uint64_t conflicts() const { return conflicts_.load(std::memory_order_relaxed); }

 private:
  store::Store* store_;
  // Registrations one at a time, so that two shards meeting one new name
  // register it once and count it once.
  Mutex register_mu_;
  std::atomic<std::uint64_t> registered_{0};
  std::atomic<std::uint64_t> conflicts_{0};
};

}  // namespace sluice::gateway::pipeline
