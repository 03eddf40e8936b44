// What the admin endpoint shows besides /metrics: App::StatusJson,
// UnhealthyReason (liveness) and UnreadyReason (readiness), built from
// AppStats and the store's pressure.
#include <cmath>
#include <cstdio>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "gateway/admin/health.h"
#include "gateway/admin/status_schema.h"
#include "gateway/app/app.h"
#include "gateway/pipeline/store_space.h"
#include "ingest_window.h"
#include "last_errors.h"
#include "store/store_probe.h"
#include "stream_status.h"
#include "version.h"

namespace sluice::gateway {
namespace {

namespace f = status_schema;

// Three decimals are plenty for a rate or a latency and keep the JSON short.
double Rounded(double v) { return std::round(v * 1000) / 1000; }

// Count and quantiles of a latency histogram; quantiles null when count is 0.
void Latency(StatusDoc& doc, std::span<const std::uint64_t> buckets, const StatusField& count,
             const StatusField& p50, const StatusField& p99) {
  std::uint64_t n = 0;
  for (auto b : buckets) n += b;
  doc.SetInt(count, n);
  for (auto [field, q] : {std::pair{&p50, 0.5}, std::pair{&p99, 0.99}}) {
    const auto ms = app::AckLatencyQuantileMs(buckets, q);
    doc.SetNumber(*field, ms ? std::optional(Rounded(*ms)) : std::nullopt);
  }
}

}  // namespace

std::string App::StatusJson() const {
  const AppStats s = stats();
  const std::int64_t now = WallNs();
  const store::StorePressure pressure = store_ ? store_->pressure() : store::StorePressure{};
  const auto& p = s.pipeline;
  const auto& st = s.store;
  const auto& y = s.sync;
  const app::IngestRates rates = window_->Rates();
  const app::AckLatencyHistogram recent = window_->LatencyWindow(app::SampleOf(p, MonotonicNs()));
  std::vector<MqttConnectionInfo> brokers;
  if (mqtt_) brokers = mqtt_->connections();
  const auto errors = app::CollectLastErrors(s, pressure, brokers, now);
  StatusDoc d;
  d.SetString(f::kGateway, config_.gateway.id);
  d.SetString(f::kSite, config_.gateway.site);
  d.SetString(f::kVersion, SLUICE_VERSION);
  d.SetInt(f::kNowNs, now);
  d.SetInt(f::kUptimeS, (now - start_wall_ns_) / 1'000'000'000);
  d.SetInt(f::kStartedNs, start_wall_ns_);
  d.SetString(f::kBoardProfile, config_.board.profile);
  d.SetString(f::kBoardReason, config_.board.reason);
  d.SetInt(f::kRecordsStored, p.records_stored);
  d.SetInt(f::kMessagesIn, p.messages_in);
  d.SetInt(f::kSeries, st.series);
  d.SetString(f::kWriteBuffer, st.write_buffer);
  d.SetString(f::kIoEngine, st.io_engine);
  d.SetInt(f::kSegmentBytes, st.segment_bytes);

  d.SetInt(f::kIngestMessagesIn, p.messages_in);
  d.SetInt(f::kIngestDecoded, p.messages_decoded);
  d.SetInt(f::kIngestMalformed, p.messages_malformed);
  d.SetInt(f::kIngestUnmatched, p.messages_unmatched);
  d.SetInt(f::kIngestShed, p.ShedTotal());
  d.SetInt(f::kIngestClosed, p.messages_closed);
  d.SetInt(f::kIngestRecordsStored, p.records_stored);
  d.SetInt(f::kIngestRecordsDropped, p.records_dropped);
  d.SetInt(f::kIngestSeriesConflicts, p.series_conflicts);
  d.SetString(f::kIngestPressure, PressureLevelName(p.level));
  d.SetNumber(f::kIngestRateRecords, Rounded(rates.records_per_s));
  d.SetNumber(f::kIngestRateMessages, Rounded(rates.messages_per_s));
  std::vector<std::pair<std::string_view, std::uint64_t>> shed, malformed;
  for (std::size_t r = 0; r < static_cast<std::size_t>(ShedReason::kCount); ++r) {
    std::uint64_t n = 0;
    for (const auto& by_class : p.shed) n += by_class[r];
    shed.emplace_back(ShedReasonName(static_cast<ShedReason>(r)), n);
  }
  d.SetCounts(f::kIngestShedByReason, shed);
  for (std::size_t r = 1; r < p.malformed.size(); ++r) {
    malformed.emplace_back(MalformedReasonName(static_cast<MalformedReason>(r)), p.malformed[r]);
  }
  d.SetCounts(f::kIngestMalformedByReason, malformed);
  // The pipeline counts dropped records in one total, not by reason.
  d.SetInt(f::kAckWindowS, app::IngestWindow::kLatencyWindow.count());
  Latency(d, recent, f::kAckCount, f::kAckP50Ms, f::kAckP99Ms);
  Latency(d, p.ack_latency, f::kAckSinceStartCount, f::kAckSinceStartP50Ms,
          f::kAckSinceStartP99Ms);
  d.SetJson(f::kLastErrors, app::LastErrorsJson(errors));
  d.SetInt(f::kMqttConnected, s.mqtt.connected);
  d.SetInt(f::kMqttConfigured, s.mqtt.total);
  d.SetInt(f::kMqttConnectionsLost, s.mqtt.connections_lost);
  d.SetBool(f::kEndpointEnabled, config_.endpoint.enabled);
  d.SetInt(f::kEndpointConnections, s.endpoint.connections_active);

  d.SetInt(f::kStoreDiskUsedBytes, pressure.disk_used_bytes);
  d.SetInt(f::kStoreDiskBudgetBytes, pressure.disk_budget_bytes);
  d.SetInt(f::kStoreHighWatermarkBytes, store::DiskHighWatermarkBytes(config_.store));
  d.SetBool(f::kStoreFull, pressure.full);
  d.SetString(f::kStoreFullReason, pressure.full_reason);
  d.SetInt(f::kStoreFsFreeBytes, pressure.fs_free_bytes);
  d.SetInt(f::kStoreFsTotalBytes, pressure.fs_total_bytes);
  d.SetBool(f::kStoreLowSpace, pressure.low_space);
  d.SetInt(f::kStoreFreeSpaceWarningPct, config_.store.free_space_warning);
  d.SetInt(f::kStoreRejectedFull, st.rejected_full);
  d.SetInt(f::kStoreRejectedNoSpace, st.rejected_no_space);
  d.SetInt(f::kStoreLeftoverFiles, st.leftover_files);
  d.SetInt(f::kStoreSegmentBytes, st.segment_bytes);
  d.SetInt(f::kStoreWriteBufferBytes, store::WriteBufferBytes(pressure, st));
  d.SetInt(f::kStoreRecords, st.records);
  d.SetInt(f::kStoreEvictedRecords, st.evicted_records);
  d.SetInt(f::kStoreQuarantinedBlocks, st.quarantined_blocks);
  d.SetString(f::kStoreRecoveryPath, st.recovery_path);
  d.SetInt(f::kStoreRecoveryMs, st.recovery_us / 1000);
  d.SetBool(f::kStoreIndexReady, st.index_ready);
  d.SetInt(f::kStoreIndexLoadMs, st.index_load_us / 1000);
  d.SetInt(f::kStoreIndexCheckpointBytes, st.checkpoint_bytes);
  d.SetString(f::kStoreLastCheckpointError, st.last_checkpoint_error);
  d.SetString(f::kStoreLastQuarantineReason, st.last_quarantine_reason);
  d.SetStrings(f::kStoreNotes, st.notes);
  d.SetInt(f::kClockJumpsForward, st.clock_jumps_forward);
  d.SetInt(f::kClockJumpsBackward, st.clock_jumps_backward);
  d.SetInt(f::kClockLastJumpNs, st.last_clock_jump_ns);

  d.SetBool(f::kSyncRunning, y.running);
  d.SetInt(f::kSyncUploadedObjects, y.live.uploaded_objects + y.backfill.uploaded_objects);
  d.SetInt(f::kSyncUploadedBytes, y.live.uploaded_bytes + y.backfill.uploaded_bytes);
  d.SetInt(f::kSyncBacklogPartitions, y.backlog_partitions);
  d.SetInt(f::kSyncBacklogBytes, y.backlog_bytes);
  d.SetInt(f::kSyncOldestUnsyncedAgeS, y.oldest_unsynced_age_ns / 1'000'000'000);
  d.SetInt(f::kSyncConsecutiveFailures, y.consecutive_failures);
  d.SetInt(f::kSyncLastSuccessNs, y.last_success_ns);
  d.SetInt(f::kSyncParkedPartitions, y.parked_partitions);
  d.SetString(f::kSyncLastError, y.last_error);
  d.SetString(f::kSyncLastPermanentError, y.last_permanent_error);
  d.SetInt(f::kSyncWatermarkIntervalS, config_.sync.engine.watermark_interval.count());
  d.SetInt(f::kSyncWatermarkNs, y.watermark_ns);
  d.SetInt(f::kSyncWatermarkLagS, y.watermark_lag_ns / 1'000'000'000);
  d.SetInt(f::kSyncWatermarkWrittenNs, y.watermark_written_ns);
  d.SetInt(f::kSyncWatermarkLateRecords, y.watermark_late_records);
  d.SetString(f::kSyncWatermarkError, y.watermark_error);
  if (stream_) StreamStatus(d, stream_->stats(), now);

  const store::StoreSnapshot partitions =
      store_ ? store::StoreSnapshot::Of(*store_) : store::StoreSnapshot{};
  const StatusField* by_state[] = {&f::kPartitionsOpen, &f::kPartitionsSealed,
                                   &f::kPartitionsSynced, &f::kPartitionsReclaimed};
  static_assert(std::size(by_state) == std::size(store::kPartitionStates));
  for (std::size_t i = 0; i < std::size(by_state); ++i) {
    d.SetInt(*by_state[i], partitions.partitions[i]);
  }
  const std::string unhealthy = UnhealthyReason(), unready = UnreadyReason();
  d.SetBool(f::kHealthHealthy, unhealthy.empty());
  d.SetString(f::kHealthUnhealthyReason, unhealthy);
  d.SetBool(f::kHealthReady, unready.empty());
  d.SetString(f::kHealthUnreadyReason, unready);
  // Worth a look before it becomes a refusal; never a failed probe.
  std::vector<std::string> warnings;
  if (std::string low = pipeline::LowSpaceWarning(pressure); !low.empty()) {
    warnings.push_back(std::move(low));
  }
  d.SetStrings(f::kHealthWarnings, warnings);
  return d.Json();
}

std::string App::UnhealthyReason() const {
  if (!store_) return "store not open";
  // A full store is not a reason to restart the process (it would meet the
  // same full disk): that is readiness, below.
  if (sync_) {
    return admin::SyncStuckReason(sync_->health(), config_.admin.http.sync_stuck_after,
                                  start_wall_ns_, WallNs());
  }
  return "";
}

std::string App::UnreadyReason() const {
  if (!store_) return "store not open";
  if (std::string full = pipeline::StoreFullReason(store_->pressure()); !full.empty()) return full;
  if (stream_) {
    if (std::string r = StreamUnreadyReason(stream_->stats()); !r.empty()) return r;
  }
  if (mqtt_) {
    const auto c = mqtt_->counters();
    if (c.total > 0 && c.connected == 0) {
      return "no broker connection (0 of " + std::to_string(c.total) + " up)";
    }
  }
  return "";
}

}  // namespace sluice::gateway
