#include "store/store_probe.h"

#include <iterator>

namespace sluice::store {
namespace {

// One sample per partition state, from `v` indexed by state - 1.
void ByState(const std::uint64_t (&v)[std::size(kPartitionStates)], MetricSamples& out) {
  for (std::size_t i = 0; i < std::size(kPartitionStates); ++i) {
    out.Add(static_cast<double>(v[i]), {PartitionStateName(kPartitionStates[i])});
  }
}

}  // namespace

std::uint64_t WriteBufferBytes(const StorePressure& p, const StoreStats& st) {
  return p.disk_used_bytes > st.segment_bytes ? p.disk_used_bytes - st.segment_bytes : 0;
}

std::uint64_t DiskHighWatermarkBytes(const Options& o) {
  return o.disk_budget / 100 * o.disk_high_watermark;
}

StoreSnapshot StoreSnapshot::Of(const Store& store) {
  StoreSnapshot s;
  s.stats = store.stats();
  s.pressure = store.pressure();
  for (const auto& info : store.ListPartitions()) {
    const auto i = static_cast<std::size_t>(info.state) - 1;
    if (i >= std::size(kPartitionStates)) continue;
    ++s.partitions[i];
    s.partition_bytes[i] += info.block_bytes;
  }
  return s;
}

StoreProbe::StoreProbe(const Store& store, const Options& options, MetricRegistry* registry)
    : metrics_(registry, [&store] { return StoreSnapshot::Of(store); }) {
  using S = const StoreSnapshot&;
  metrics_
      .Counter("sluice_store_appends_total", "Batches acknowledged durable.",
               [](S s) { return s.stats.appends; })
      .Counter("sluice_store_records_total", "Records acknowledged durable.",
               [](S s) { return s.stats.records; })
      .Counter("sluice_store_bytes_total", "Write-buffer payload bytes acknowledged durable.",
               [](S s) { return s.stats.bytes; })
      .Counter("sluice_store_commit_groups_total", "Write-buffer syncs.",
               [](S s) { return s.stats.commit_groups; })
      .Counter("sluice_store_rejected_batches_total", "Batches refused as bad input.",
               [](S s) { return s.stats.rejected_batches; })
      .Counter("sluice_store_failed_batches_total",
               "Batches the write buffer failed to make durable.",
               [](S s) { return s.stats.failed_batches; })
      .Counter("sluice_store_blocks_written_total", "Blocks written to segments.",
               [](S s) { return s.stats.blocks_written; })
      .Counter("sluice_store_block_bytes_written_total", "Bytes of blocks written.",
               [](S s) { return s.stats.block_bytes_written; })
      .Counter("sluice_store_block_write_failures_total",
               "Block writes that failed (retried; the write buffer keeps the records).",
               [](S s) { return s.stats.block_write_failures; })
      .Counter("sluice_store_quarantined_blocks_total", "Blocks that failed their CRC.",
               [](S s) { return s.stats.quarantined_blocks; })
      .Counter("sluice_store_direct_batches_total",
               "Batches of large values written straight to blocks.",
               [](S s) { return s.stats.direct_batches; })
      .Counter("sluice_store_direct_groups_total",
               "Flush groups of direct blocks (large values) written.",
               [](S s) { return s.stats.direct_groups; })
      .Gauge("sluice_store_direct_blocks_set_aside",
             "Direct blocks of flush groups found cut short at open, never served (none of their "
             "batches was acknowledged).",
             [](S s) { return s.stats.direct_blocks_set_aside; })
      .Gauge("sluice_store_quarantined_records",
             "Write-buffer records skipped at open as unusable.",
             [](S s) { return s.stats.quarantined_records; })
      .Gauge("sluice_store_missing_segments",
             "Segment files found missing at open though the store never removed them.",
             [](S s) { return s.stats.missing_segments; })
      .Gauge("sluice_store_recovered_records", "Records replayed from the write buffer at open.",
             [](S s) { return s.stats.recovered_records; })
      .Gauge("sluice_store_recovery_seconds", "How long opening the store took.",
             [](S s) { return s.stats.recovery_us / 1e6; })
      .Gauge("sluice_store_index_ready",
             "1 once the whole index is loaded (after a restart from the index checkpoint, the "
             "index of older partitions loads in the background).",
             [](S s) { return s.stats.index_ready ? 1 : 0; })
      .Gauge("sluice_store_index_load_seconds",
             "From opening the store to the whole index loaded (0 while loading).",
             [](S s) { return s.stats.index_load_us / 1e6; })
      .Counter("sluice_store_index_checkpoints_total", "Index checkpoints written.",
               [](S s) { return s.stats.checkpoints_written; })
      .Counter("sluice_store_index_checkpoint_errors_total",
               "Index checkpoints that could not be written (the previous one stays).",
               [](S s) { return s.stats.checkpoint_errors; })
      .Counter("sluice_store_late_records_total", "Records placed in a late partition.",
               [](S s) { return s.stats.late_records; })
      .Counter("sluice_store_rejected_full_total", "Appends refused: disk budget full.",
               [](S s) { return s.stats.rejected_full; })
      .Counter("sluice_store_evicted_records_total", "Records evicted before upstream sync.",
               [](S s) { return s.stats.evicted_records; })
      .Gauge("sluice_store_series", "Registered series.", [](S s) { return s.stats.series; })
      .Gauge("sluice_store_segment_bytes", "Segment files on disk.",
             [](S s) { return s.stats.segment_bytes; })
      .Gauge("sluice_store_dram_index_bytes", "DRAM held by the index.",
             [](S s) { return s.stats.dram_index_bytes; })
      .Gauge("sluice_store_open_blocks_memory_bytes",
             "DRAM held by open blocks and blocks queued for writing.",
             [](S s) { return s.stats.open_blocks_memory_bytes; })
      .Gauge("sluice_store_disk_used_bytes", "Disk used by the store: segments plus write buffer.",
             [](S s) { return s.pressure.disk_used_bytes; })
      .Gauge("sluice_store_disk_budget_bytes", "The store's disk budget; 0: none.",
             [](S s) { return s.pressure.disk_budget_bytes; })
      .Gauge("sluice_store_disk_high_watermark_bytes",
             "Disk use at which synced partitions are reclaimed and intake slows; 0: no budget.",
             [high = DiskHighWatermarkBytes(options)](S) { return high; })
      .Gauge("sluice_store_write_buffer_bytes", "Write-buffer (WAL) files on disk.",
             [](S s) { return WriteBufferBytes(s.pressure, s.stats); })
      .Gauge("sluice_store_full", "1 while appends are refused because the disk budget is full.",
             [](S s) { return s.pressure.full ? 1 : 0; })
      .Counter("sluice_store_rejected_no_space_total",
               "Appends refused: the file system is full or read-only.",
               [](S s) { return s.stats.rejected_no_space; })
      .Gauge("sluice_store_fs_free_bytes",
             "Free space on the store's file system, as the service user sees it; 0: unknown.",
             [](S s) { return s.pressure.fs_free_bytes; })
      .Gauge("sluice_store_fs_total_bytes", "Size of the store's file system; 0: unknown.",
             [](S s) { return s.pressure.fs_total_bytes; })
      .Gauge("sluice_store_low_space",
             "1 while free space on the store's file system is below store.free_space_warning.",
             [](S s) { return s.pressure.low_space ? 1 : 0; })
      .Gauge("sluice_store_leftover_files",
             "Remains of interrupted file creation found and cleaned at open.",
             [](S s) { return s.stats.leftover_files; })
      .Family("sluice_store_partitions_removed_total", MetricType::kCounter,
              "Partitions freed for disk space, by reason.", {"reason"},
              [](S s, MetricSamples& out) {
                out.Add(static_cast<double>(s.stats.reclaimed_partitions),
                        {"reclaimed_after_sync"});
                out.Add(static_cast<double>(s.stats.evicted_partitions), {"evicted_before_sync"});
              })
      .Family("sluice_clock_jumps_total", MetricType::kCounter,
              "Wall-clock steps of more than 2 s seen against the monotonic clock, by direction.",
              {"direction"},
              [](S s, MetricSamples& out) {
                out.Add(static_cast<double>(s.stats.clock_jumps_forward), {"forward"});
                out.Add(static_cast<double>(s.stats.clock_jumps_backward), {"backward"});
              })
      .Family("sluice_store_partitions", MetricType::kGauge, "Partitions, by state.", {"state"},
              [](S s, MetricSamples& out) { ByState(s.partitions, out); })
      .Family("sluice_store_partition_bytes", MetricType::kGauge,
              "Block bytes on disk of the partitions, by state.", {"state"},
              [](S s, MetricSamples& out) { ByState(s.partition_bytes, out); });
  metrics_.Register();
}

}  // namespace sluice::store
