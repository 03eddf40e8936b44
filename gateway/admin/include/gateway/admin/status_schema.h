// /v1/status, described once: every field's JSON pointer and kind. The App
// writes the document through these fields (a StatusDoc) and `sluice status`
// reads it back through the same ones (status_view.cc), so a status field
// is added, renamed or dropped here, and the compiler finds every writer
// and reader. Objects are implied by the pointers ("/store/full" lives in
// "store"); an object none of whose fields was set is absent ("stream"
// without a lane). The names are an interface, as metric names are: scripts
// read them.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::gateway {

enum class StatusKind : std::uint8_t {
  kString,
  kInt,
  kNumber,  // a double, or null when unknown
  kBool,
  kStrings,  // an array of strings
  kCounts,   // an object of name: count, its names from an enum's names
  kJson,     // written as given (an array of objects)
};

struct StatusField {
  std::string_view pointer;  // JSON pointer, e.g. "/store/full"
  StatusKind kind;
};

namespace status_schema {

using enum StatusKind;

// Identity.
inline constexpr StatusField kGateway{"/gateway", kString};
inline constexpr StatusField kSite{"/site", kString};
inline constexpr StatusField kVersion{"/version", kString};
inline constexpr StatusField kNowNs{"/now_ns", kInt};
inline constexpr StatusField kUptimeS{"/uptime_s", kInt};
inline constexpr StatusField kStartedNs{"/started_ns", kInt};
inline constexpr StatusField kBoardProfile{"/board/profile", kString};
inline constexpr StatusField kBoardReason{"/board/reason", kString};
// Flat fields of the first version, kept for scripts that read them.
inline constexpr StatusField kRecordsStored{"/records_stored", kInt};
inline constexpr StatusField kMessagesIn{"/messages_in", kInt};
inline constexpr StatusField kSeries{"/series", kInt};
inline constexpr StatusField kWriteBuffer{"/write_buffer", kString};
inline constexpr StatusField kIoEngine{"/io_engine", kString};
inline constexpr StatusField kSegmentBytes{"/segment_bytes", kInt};
// Ingest (the pipeline).
inline constexpr StatusField kIngestMessagesIn{"/ingest/messages_in", kInt};
inline constexpr StatusField kIngestDecoded{"/ingest/decoded", kInt};
inline constexpr StatusField kIngestMalformed{"/ingest/malformed", kInt};
inline constexpr StatusField kIngestUnmatched{"/ingest/unmatched", kInt};
inline constexpr StatusField kIngestShed{"/ingest/shed", kInt};
inline constexpr StatusField kIngestClosed{"/ingest/closed", kInt};
inline constexpr StatusField kIngestRecordsStored{"/ingest/records_stored", kInt};
inline constexpr StatusField kIngestRecordsDropped{"/ingest/records_dropped", kInt};
inline constexpr StatusField kIngestSeriesConflicts{"/ingest/series_conflicts", kInt};
inline constexpr StatusField kIngestPressure{"/ingest/pressure", kString};
inline constexpr StatusField kIngestRateRecords{"/ingest/rate_records_per_s", kNumber};
inline constexpr StatusField kIngestRateMessages{"/ingest/rate_messages_per_s", kNumber};
inline constexpr StatusField kIngestShedByReason{"/ingest/shed_by_reason", kCounts};
inline constexpr StatusField kIngestMalformedByReason{"/ingest/malformed_by_reason", kCounts};
// Durable-acknowledgement latency: over the last window, and since start.
inline constexpr StatusField kAckWindowS{"/ack_latency/window_s", kInt};
inline constexpr StatusField kAckCount{"/ack_latency/count", kInt};
inline constexpr StatusField kAckP50Ms{"/ack_latency/p50_ms", kNumber};
inline constexpr StatusField kAckP99Ms{"/ack_latency/p99_ms", kNumber};
inline constexpr StatusField kAckSinceStartCount{"/ack_latency/since_start/count", kInt};
inline constexpr StatusField kAckSinceStartP50Ms{"/ack_latency/since_start/p50_ms", kNumber};
inline constexpr StatusField kAckSinceStartP99Ms{"/ack_latency/since_start/p99_ms", kNumber};
inline constexpr StatusField kLastErrors{"/last_errors", kJson};
// Sources.
inline constexpr StatusField kMqttConnected{"/mqtt/connected", kInt};
inline constexpr StatusField kMqttConfigured{"/mqtt/configured", kInt};
inline constexpr StatusField kMqttConnectionsLost{"/mqtt/connections_lost", kInt};
inline constexpr StatusField kEndpointEnabled{"/endpoint/enabled", kBool};
inline constexpr StatusField kEndpointConnections{"/endpoint/connections", kInt};
// Store.
inline constexpr StatusField kStoreDiskUsedBytes{"/store/disk_used_bytes", kInt};
inline constexpr StatusField kStoreDiskBudgetBytes{"/store/disk_budget_bytes", kInt};
inline constexpr StatusField kStoreHighWatermarkBytes{"/store/high_watermark_bytes", kInt};
inline constexpr StatusField kStoreFull{"/store/full", kBool};
inline constexpr StatusField kStoreFullReason{"/store/full_reason", kString};
inline constexpr StatusField kStoreFsFreeBytes{"/store/fs_free_bytes", kInt};
inline constexpr StatusField kStoreFsTotalBytes{"/store/fs_total_bytes", kInt};
inline constexpr StatusField kStoreLowSpace{"/store/low_space", kBool};
inline constexpr StatusField kStoreFreeSpaceWarningPct{"/store/free_space_warning_pct", kInt};
inline constexpr StatusField kStoreRejectedFull{"/store/rejected_full", kInt};
inline constexpr StatusField kStoreRejectedNoSpace{"/store/rejected_no_space", kInt};
inline constexpr StatusField kStoreLeftoverFiles{"/store/leftover_files", kInt};
inline constexpr StatusField kStoreSegmentBytes{"/store/segment_bytes", kInt};
inline constexpr StatusField kStoreWriteBufferBytes{"/store/write_buffer_bytes", kInt};
inline constexpr StatusField kStoreRecords{"/store/records", kInt};
inline constexpr StatusField kStoreEvictedRecords{"/store/evicted_records", kInt};
inline constexpr StatusField kStoreQuarantinedBlocks{"/store/quarantined_blocks", kInt};
inline constexpr StatusField kStoreRecoveryPath{"/store/recovery_path", kString};
inline constexpr StatusField kStoreRecoveryMs{"/store/recovery_ms", kInt};
inline constexpr StatusField kStoreIndexReady{"/store/index_ready", kBool};
inline constexpr StatusField kStoreIndexLoadMs{"/store/index_load_ms", kInt};
inline constexpr StatusField kStoreIndexCheckpointBytes{"/store/index_checkpoint_bytes", kInt};
inline constexpr StatusField kStoreLastCheckpointError{"/store/last_checkpoint_error", kString};
inline constexpr StatusField kStoreLastQuarantineReason{"/store/last_quarantine_reason", kString};
inline constexpr StatusField kStoreNotes{"/store/notes", kStrings};
inline constexpr StatusField kClockJumpsForward{"/clock/jumps_forward", kInt};
inline constexpr StatusField kClockJumpsBackward{"/clock/jumps_backward", kInt};
inline constexpr StatusField kClockLastJumpNs{"/clock/last_jump_ns", kInt};
inline constexpr StatusField kPartitionsOpen{"/partitions/open", kInt};
inline constexpr StatusField kPartitionsSealed{"/partitions/sealed", kInt};
inline constexpr StatusField kPartitionsSynced{"/partitions/synced", kInt};
inline constexpr StatusField kPartitionsReclaimed{"/partitions/reclaimed", kInt};
// Sync.
inline constexpr StatusField kSyncRunning{"/sync/running", kBool};
inline constexpr StatusField kSyncUploadedObjects{"/sync/uploaded_objects", kInt};
inline constexpr StatusField kSyncUploadedBytes{"/sync/uploaded_bytes", kInt};
inline constexpr StatusField kSyncBacklogPartitions{"/sync/backlog_partitions", kInt};
inline constexpr StatusField kSyncBacklogBytes{"/sync/backlog_bytes", kInt};
inline constexpr StatusField kSyncOldestUnsyncedAgeS{"/sync/oldest_unsynced_age_s", kInt};
inline constexpr StatusField kSyncConsecutiveFailures{"/sync/consecutive_failures", kInt};
inline constexpr StatusField kSyncLastSuccessNs{"/sync/last_success_ns", kInt};
inline constexpr StatusField kSyncParkedPartitions{"/sync/parked_partitions", kInt};
inline constexpr StatusField kSyncLastError{"/sync/last_error", kString};
inline constexpr StatusField kSyncLastPermanentError{"/sync/last_permanent_error", kString};
inline constexpr StatusField kSyncWatermarkIntervalS{"/sync/watermark_interval_s", kInt};
inline constexpr StatusField kSyncWatermarkNs{"/sync/watermark_ns", kInt};
inline constexpr StatusField kSyncWatermarkLagS{"/sync/watermark_lag_s", kInt};
inline constexpr StatusField kSyncWatermarkWrittenNs{"/sync/watermark_written_ns", kInt};
inline constexpr StatusField kSyncWatermarkLateRecords{"/sync/watermark_late_records", kInt};
inline constexpr StatusField kSyncWatermarkError{"/sync/watermark_error", kString};
// The stream lane to Kafka (absent without one).
inline constexpr StatusField kStreamRunning{"/stream/running", kBool};
inline constexpr StatusField kStreamTopic{"/stream/topic", kString};
inline constexpr StatusField kStreamFormat{"/stream/format", kString};
inline constexpr StatusField kStreamRecordsDelivered{"/stream/records_delivered", kInt};
inline constexpr StatusField kStreamRecordsSent{"/stream/records_sent", kInt};
inline constexpr StatusField kStreamBacklogRecords{"/stream/backlog_records", kInt};
inline constexpr StatusField kStreamBacklogBytes{"/stream/backlog_bytes", kInt};
inline constexpr StatusField kStreamOldestAgeS{"/stream/oldest_age_s", kInt};
inline constexpr StatusField kStreamInFlightRecords{"/stream/in_flight_records", kInt};
inline constexpr StatusField kStreamLostRecords{"/stream/lost_records", kInt};
inline constexpr StatusField kStreamDeliveryErrors{"/stream/delivery_errors", kCounts};
inline constexpr StatusField kStreamDeliveryErrorsTotal{"/stream/delivery_errors_total", kInt};
inline constexpr StatusField kStreamRewinds{"/stream/rewinds", kInt};
inline constexpr StatusField kStreamBrokersDown{"/stream/brokers_down", kBool};
inline constexpr StatusField kStreamAuthError{"/stream/auth_error", kString};
inline constexpr StatusField kStreamLastError{"/stream/last_error", kString};
inline constexpr StatusField kStreamLastDeliveryNs{"/stream/last_delivery_ns", kInt};
inline constexpr StatusField kStreamLatencyP50Us{"/stream/latency_p50_us", kInt};
inline constexpr StatusField kStreamLatencyP99Us{"/stream/latency_p99_us", kInt};
inline constexpr StatusField kStreamSpilledBatches{"/stream/spilled_batches", kInt};
inline constexpr StatusField kStreamSpilledBytes{"/stream/spilled_bytes", kInt};
inline constexpr StatusField kStreamSpillErrors{"/stream/spill_errors", kInt};
inline constexpr StatusField kStreamLastSpillError{"/stream/last_spill_error", kString};
inline constexpr StatusField kStreamPosition{"/stream/position", kInt};
inline constexpr StatusField kStreamDurableSeq{"/stream/durable_seq", kInt};
// Health (/healthz, /readyz) and warnings.
inline constexpr StatusField kHealthHealthy{"/health/healthy", kBool};
inline constexpr StatusField kHealthUnhealthyReason{"/health/unhealthy_reason", kString};
inline constexpr StatusField kHealthReady{"/health/ready", kBool};
inline constexpr StatusField kHealthUnreadyReason{"/health/unready_reason", kString};
inline constexpr StatusField kHealthWarnings{"/health/warnings", kStrings};

}  // namespace status_schema

// A status document being written: fields in the order they are set, each
// checked against its kind (a mismatch aborts). Not thread-safe.
class StatusDoc {
 public:
  void SetString(const StatusField& field, std::string_view value);
  template <std::integral T>
  void SetInt(const StatusField& field, T value) {
    Put(field, StatusKind::kInt, std::to_string(value));
  }
  void SetNumber(const StatusField& field, std::optional<double> value);  // nullopt: null
  void SetBool(const StatusField& field, bool value);
  void SetStrings(const StatusField& field, const std::vector<std::string>& values);
  void SetCounts(const StatusField& field,
                 const std::vector<std::pair<std::string_view, std::uint64_t>>& counts);
  void SetJson(const StatusField& field, std::string json);
  // The document, objects nested as the pointers say.
  std::string Json() const;

 private:
  void Put(const StatusField& field, StatusKind kind, std::string json);
  std::vector<std::pair<std::string_view, std::string>> values_;  // pointer, JSON
};

}  // namespace sluice::gateway
