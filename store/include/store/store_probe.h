// The store's metrics (sluice_store_*, sluice_clock_jumps_total): work done,
// fill against the disk budget and the file system, recovery, partitions
// by state. Every family reads one snapshot of Store::stats, pressure and
// ListPartitions taken per scrape; a new store counter is one entry in
// store_probe.cc.
#pragma once

#include <cstdint>
#include <iterator>

#include "base/metrics.h"
#include "store/options.h"
#include "store/store.h"

namespace sluice::store {

// The write buffer's files on disk: the store's disk use less its segments.
std::uint64_t WriteBufferBytes(const StorePressure& pressure, const StoreStats& stats);

// Disk use at which synced partitions are reclaimed and intake slows; 0
// without a disk budget.
std::uint64_t DiskHighWatermarkBytes(const Options& options);

// The partition states in order (PartitionState value - 1): open, sealed,
// synced, reclaimed.
inline constexpr PartitionState kPartitionStates[] = {
    PartitionState::kOpen, PartitionState::kSealed, PartitionState::kSynced,
    PartitionState::kReclaimed};

// What one scrape reads of the store.
struct StoreSnapshot {
  StoreStats stats;
  StorePressure pressure;
  // By state, as kPartitionStates.
  std::uint64_t partitions[std::size(kPartitionStates)] = {};
  std::uint64_t partition_bytes[std::size(kPartitionStates)] = {};
  static StoreSnapshot Of(const Store& store);
};

class StoreProbe {
 public:
  // Registers the store's families in `registry` (null: nothing); `store`
  // must outlive the probe.
  StoreProbe(const Store& store, const Options& options, MetricRegistry* registry);

 private:
  MetricSet<StoreSnapshot> metrics_;
};

}  // namespace sluice::store
