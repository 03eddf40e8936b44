#include "sync/sync_probe.h"

#include <algorithm>

#include "base/clock.h"

namespace sluice::sync {

std::string SyncStuckReason(const SyncHealth& y, std::chrono::seconds stuck_after,
                            std::int64_t start_wall_ns, std::int64_t now_wall_ns) {
  const std::int64_t stuck_after_s = stuck_after.count();
  if (!y.running || stuck_after_s == 0 || y.backlog_partitions == 0) return "";
  const std::int64_t since = std::max(y.last_success_ns, start_wall_ns);
  const std::int64_t idle_s = (now_wall_ns - since) / 1'000'000'000;
  if (idle_s < stuck_after_s) return "";
  std::string why = "sync stuck: no upload confirmed for " + std::to_string(idle_s) + " s" +
                    (y.last_success_ns == 0 ? " (none since start)" : "") +
                    ", more than admin.sync_stuck_after (" + std::to_string(stuck_after_s) +
                    " s), while " + std::to_string(y.backlog_partitions) + " sealed partitions (" +
                    std::to_string(y.backlog_bytes) + " bytes) wait";
  if (!y.last_error.empty()) {
    why += "; last error: " + y.last_error;
  } else if (!y.last_permanent_error.empty()) {
    why += "; last permanent error: " + y.last_permanent_error;
  }
  return why;
}

namespace {

using S = const SyncSnapshot&;

// One sample per lane of `value(lane health)`.
template <class F>
void ByLane(S s, MetricSamples& out, F value) {
  out.Add(static_cast<double>(value(s.health.live)), {"live"});
  out.Add(static_cast<double>(value(s.health.backfill)), {"backfill"});
}

}  // namespace

SyncProbe::SyncProbe(const SyncEngine* engine, const SyncProbeOptions& o, MetricRegistry* registry)
    : metrics_(registry, [engine, o] {
        SyncSnapshot s;
        if (engine != nullptr) s.health = engine->health();
        s.stuck = !SyncStuckReason(s.health, o.stuck_after, o.start_wall_ns, WallNs()).empty();
        return s;
      }) {
  using L = const SyncLaneHealth&;
  metrics_
      .Gauge("sluice_sync_running", "1 when a sink is configured and the engine runs.",
             [](S s) { return s.health.running ? 1 : 0; })
      .Gauge("sluice_sync_backlog_partitions", "Sealed partitions not yet synced.",
             [](S s) { return s.health.backlog_partitions; })
      .Gauge("sluice_sync_backlog_bytes", "Their size on local disk.",
             [](S s) { return s.health.backlog_bytes; })
      .Gauge("sluice_sync_oldest_unsynced_age_seconds", "Age of the oldest unsynced partition.",
             [](S s) { return s.health.oldest_unsynced_age_ns / 1e9; })
      .Gauge("sluice_sync_consecutive_failures", "Failed uploads since the last success.",
             [](S s) { return s.health.consecutive_failures; })
      .Gauge("sluice_sync_last_success_timestamp_seconds", "Wall clock of the last upload.",
             [](S s) { return s.health.last_success_ns / 1e9; })
      .Gauge("sluice_sync_parked_partitions", "Partitions parked after a permanent upload failure.",
             [](S s) { return s.health.parked_partitions; })
      .Counter("sluice_sync_duplicates_dropped_total",
               "Exact duplicates (series, timestamp, value) dropped when partitions were encoded.",
               [](S s) { return s.health.duplicates_dropped; })
      .Counter("sluice_sync_timestamp_conflicts_total",
               "Records kept that share series and timestamp with another value.",
               [](S s) { return s.health.timestamp_conflicts; })
      .Gauge("sluice_sync_watermark_timestamp_seconds",
             "Completeness watermark T last written upstream: data before it is confirmed; 0: none "
             "yet.",
             [](S s) { return s.health.watermark_ns / 1e9; })
      .Gauge("sluice_sync_watermark_lag_seconds", "Wall clock minus the watermark T.",
             [](S s) { return s.health.watermark_lag_ns / 1e9; })
      .Counter("sluice_sync_watermark_late_records_total",
               "Records confirmed that arrived for a time before the watermark T in effect.",
               [](S s) { return s.health.watermark_late_records; })

      .Gauge("sluice_sync_stuck",
             "1 while partitions wait and no upload was confirmed for admin.sync_stuck_after.",
             [](S s) { return s.stuck ? 1 : 0; })
      .Family(
          "sluice_sync_uploaded_objects_total", MetricType::kCounter,
          "Objects confirmed by the sink.", {"lane"},
          [](S s, MetricSamples& out) { ByLane(s, out, [](L h) { return h.uploaded_objects; }); })
      .Family("sluice_sync_uploaded_bytes_total", MetricType::kCounter,
              "Bytes of objects confirmed.", {"lane"},
              [](S s, MetricSamples& out) { ByLane(s, out, [](L h) { return h.uploaded_bytes; }); })
      .Family(
          "sluice_sync_already_identical_total", MetricType::kCounter,
          "Uploads the sink already held, byte for byte (retries after a crash).", {"lane"},
          [](S s, MetricSamples& out) { ByLane(s, out, [](L h) { return h.already_identical; }); })
      .Family("sluice_sync_upload_errors_total", MetricType::kCounter,
              "Failed upload attempts, by lane and kind: retryable (retried with backoff), "
              "permanent (partition parked), stuck (overran sync.attempt_timeout).",
              {"lane", "kind"},
              [](S s, MetricSamples& out) {
                const auto lane = [&out](const char* name, L h) {
                  out.Add(static_cast<double>(h.retries), {name, "retryable"});
                  out.Add(static_cast<double>(h.permanent_failures), {name, "permanent"});
                  out.Add(static_cast<double>(h.stuck_attempts), {name, "stuck"});
                };
                lane("live", s.health.live);
                lane("backfill", s.health.backfill);
              })
      .Family("sluice_sync_in_flight", MetricType::kGauge, "Upload attempts running now.", {"lane"},
              [](S s, MetricSamples& out) { ByLane(s, out, [](L h) { return h.in_flight; }); });
  metrics_.Register();
}

}  // namespace sluice::sync
