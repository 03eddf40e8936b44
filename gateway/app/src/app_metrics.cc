// What the admin endpoint shows: App::MetricsText, StatusJson,
// UnhealthyReason (liveness) and UnreadyReason (readiness), built from
// AppStats and the store's pressure.
//
// Metric names are an interface (dashboards, alerts): never rename one;
// add a new name and retire the old one over a release. Every name starts
// with sluice_, counters end in _total, units are base units (seconds,
// bytes), and every family has HELP and TYPE.
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

#include "base/clock.h"
#include "gateway/admin/admin_util.h"
#include "gateway/admin/health.h"
#include "gateway/app/app.h"
#include "gateway/pipeline/store_space.h"
#include "ingest_window.h"
#include "last_errors.h"
#include "stream_status.h"
#include "version.h"

namespace sluice::gateway {
namespace {

using admin::JsonDouble;
using admin::JsonString;

constexpr store::PartitionState kStates[] = {
    store::PartitionState::kOpen, store::PartitionState::kSealed, store::PartitionState::kSynced,
    store::PartitionState::kReclaimed};

void Counter(gateway::MetricsText& m, const std::string& name, const std::string& help, double v) {
  m.Family(name, "counter", help).Sample(name, v);
}
void Gauge(gateway::MetricsText& m, const std::string& name, const std::string& help, double v) {
  m.Family(name, "gauge", help).Sample(name, v);
}
std::string Label(const std::string& key, std::string_view value) {
  return key + "=\"" + EscapeLabel(std::string(value)) + "\"";
}
auto D(std::uint64_t v) { return static_cast<double>(v); }

// Three decimals are plenty for a rate or a latency and keep the JSON short.
std::string Rounded(double v) { return JsonDouble(std::round(v * 1000) / 1000); }

// {"count":n,"p50_ms":x,"p99_ms":y}, quantiles null when count is 0.
std::string LatencyJson(std::span<const std::uint64_t> buckets) {
  std::uint64_t count = 0;
  for (auto n : buckets) count += n;
  auto q = [&](double p) {
    const auto ms = app::AckLatencyQuantileMs(buckets, p);
    return ms ? Rounded(*ms) : std::string("null");
  };
  return "\"count\":" + std::to_string(count) + ",\"p50_ms\":" + q(0.5) + ",\"p99_ms\":" + q(0.99);
}

// The write buffer's files on disk: the store's disk use less its segments.
std::uint64_t WriteBufferBytes(const store::StorePressure& p, const store::StoreStats& st) {
  return p.disk_used_bytes > st.segment_bytes ? p.disk_used_bytes - st.segment_bytes : 0;
}

struct PartitionTally {
  std::uint64_t count = 0, bytes = 0;
};

}  // namespace

std::string App::MetricsText() const {
  const AppStats s = stats();
  gateway::MetricsText m;
  const auto& p = s.pipeline;

  m.Family("sluice_build_info", "gauge", "Always 1; the version in a label.")
      .Sample("sluice_build_info", 1, Label("version", SLUICE_VERSION));
  m.Family("sluice_board_info", "gauge", "Always 1; the board profile in use in a label.")
      .Sample("sluice_board_info", 1, Label("profile", config_.board.profile));
  Gauge(m, "sluice_start_time_seconds", "Wall clock when the gateway started.",
        start_wall_ns_ / 1e9);

  // Ingest: every offered message ends in one result; malformed and shed
  // ones by reason.
  Counter(m, "sluice_mqtt_messages_total", "MQTT messages received.", D(p.messages_in));
  Counter(m, "sluice_mqtt_messages_malformed_total", "Messages refused by a decoder.",
          D(p.messages_malformed));
  Counter(m, "sluice_mqtt_messages_unmatched_total", "Messages no rule matched.",
          D(p.messages_unmatched));
  Counter(m, "sluice_mqtt_messages_shed_total", "Messages dropped by the shed policy.",
          D(p.ShedTotal()));
  m.Family("sluice_ingest_messages_total", "counter",
           "Messages offered to the pipeline, by result: decoded (0 or more samples), "
           "malformed, unmatched (no rule), shed (shed policy), closed (offered while stopping).")
      .Sample("sluice_ingest_messages_total", D(p.messages_decoded), Label("result", "decoded"))
      .Sample("sluice_ingest_messages_total", D(p.messages_malformed), Label("result", "malformed"))
      .Sample("sluice_ingest_messages_total", D(p.messages_unmatched), Label("result", "unmatched"))
      .Sample("sluice_ingest_messages_total", D(p.ShedTotal()), Label("result", "shed"))
      .Sample("sluice_ingest_messages_total", D(p.messages_closed), Label("result", "closed"));
  {
    auto& f = m.Family("sluice_ingest_malformed_total", "counter",
                       "Messages refused by a decoder, by reason.");
    for (std::size_t r = 1; r < p.malformed.size(); ++r) {
      f.Sample("sluice_ingest_malformed_total", D(p.malformed[r]),
               Label("reason", MalformedReasonName(static_cast<MalformedReason>(r))));
    }
  }
  {
    auto& f = m.Family("sluice_ingest_shed_total", "counter",
                       "Messages dropped by the shed policy, by rule priority class and reason.");
    for (std::size_t c = 0; c < p.shed.size(); ++c) {
      for (std::size_t r = 0; r < p.shed[c].size(); ++r) {
        f.Sample("sluice_ingest_shed_total", D(p.shed[c][r]),
                 Label("class", PriorityClassName(static_cast<PriorityClass>(c))) + "," +
                     Label("reason", ShedReasonName(static_cast<ShedReason>(r))));
      }
    }
  }
  {
    // One series pair per configured rule: rules are few (a configuration
    // holds tens, not thousands), so the topic filter is a safe label.
    auto& f = m.Family("sluice_ingest_rule_messages_total", "counter",
                       "Messages whose topic a rule matched (it won: first match), by rule "
                       "(its position from 0 and its topic filter) and result: matched (all), "
                       "malformed (of those, refused by the rule's decoder).");
    const auto rules = rules_.rules();
    for (std::size_t i = 0; i < rules.size() && i < p.rules.size(); ++i) {
      const std::string labels =
          Label("rule", std::to_string(i)) + "," + Label("topic", rules[i].pattern.filter());
      f.Sample("sluice_ingest_rule_messages_total", D(p.rules[i].matched),
               labels + "," + Label("result", "matched"));
      f.Sample("sluice_ingest_rule_messages_total", D(p.rules[i].malformed),
               labels + "," + Label("result", "malformed"));
    }
  }
  Counter(m, "sluice_ingest_samples_total", "Samples decoded from messages.", D(p.samples));
  Counter(m, "sluice_ingest_series_registered_total", "Series registered by the pipeline.",
          D(p.series_registered));
  Counter(m, "sluice_ingest_batches_total", "Store appends issued (retries included).",
          D(p.batches));
  Counter(m, "sluice_ingest_append_retries_total",
          "Appends refused (no space, I/O error) and retried.", D(p.append_retries));
  Counter(m, "sluice_ingest_rebirth_requests_total", "Sparkplug B rebirth requests sent.",
          D(p.rebirth_requests));
  Counter(m, "sluice_ingest_slowed_seconds_total",
          "Time Offer spent slowed or stopped by pressure.", p.slowed_us / 1e6);
  {
    auto& f = m.Family("sluice_ingest_pressure", "gauge",
                       "Backpressure level now: 1 for the current level, 0 for the others.");
    for (auto l : {PressureLevel::kOpen, PressureLevel::kSlow, PressureLevel::kStop}) {
      f.Sample("sluice_ingest_pressure", p.level == l ? 1 : 0,
               Label("level", PressureLevelName(l)));
    }
  }
  {
    std::vector<double> bounds;
    for (auto us : kAckLatencyBoundsUs) bounds.push_back(static_cast<double>(us) / 1e6);
    m.Histogram(
        "sluice_durable_ack_latency_seconds",
        "Store batches from Store::Append until durable and acknowledged, retries included.",
        bounds, std::vector<std::uint64_t>(p.ack_latency.begin(), p.ack_latency.end()),
        p.ack_latency_sum_us / 1e6);
  }
  Counter(m, "sluice_records_stored_total", "Records acknowledged durable by the store.",
          D(p.records_stored));
  Counter(m, "sluice_records_dropped_total", "Records lost before the store, by any reason.",
          D(p.records_dropped));
  m.Family("sluice_records_lost_total", "counter",
           "Samples and records that will never reach upstream, by reason: dropped_before_store "
           "(store refused them for good, value too large, abandoned at shutdown), "
           "series_conflict (type differs from the series'), evicted_before_sync (disk budget).")
      .Sample("sluice_records_lost_total", D(p.records_dropped),
              Label("reason", "dropped_before_store"))
      .Sample("sluice_records_lost_total", D(p.series_conflicts),
              Label("reason", "series_conflict"))
      .Sample("sluice_records_lost_total", D(s.store.evicted_records),
              Label("reason", "evicted_before_sync"));

  // MQTT front-end (broker subscriber).
  Gauge(m, "sluice_mqtt_connections", "Broker connections up.", s.mqtt.connected);
  Gauge(m, "sluice_mqtt_connections_configured", "Broker connections configured.", s.mqtt.total);
  Counter(m, "sluice_mqtt_connects_total", "Successful broker CONNECTs.", D(s.mqtt.connects));
  Counter(m, "sluice_mqtt_connect_failures_total", "Broker CONNECTs that failed.",
          D(s.mqtt.connect_failures));
  Counter(m, "sluice_mqtt_connections_lost_total", "Broker connections lost.",
          D(s.mqtt.connections_lost));
  Counter(m, "sluice_mqtt_publish_failures_total", "Rebirth requests that could not be sent.",
          D(s.mqtt.publish_failures));

  // Native endpoint.
  const auto& e = s.endpoint;
  Gauge(m, "sluice_endpoint_connections", "Native endpoint client connections open.",
        D(e.connections_active));
  Counter(m, "sluice_endpoint_connections_accepted_total", "Native endpoint connections accepted.",
          D(e.connections_accepted));
  Counter(m, "sluice_endpoint_connections_refused_total",
          "Connections refused: max_connections or max_sessions reached.",
          D(e.connections_refused));
  Counter(m, "sluice_endpoint_auth_failures_total", "CONNECTs with bad or missing credentials.",
          D(e.auth_failures));
  Counter(m, "sluice_endpoint_tls_failures_total", "TLS handshakes that failed.",
          D(e.tls_failures));
  Counter(m, "sluice_endpoint_protocol_errors_total",
          "Connections closed for a malformed packet or a protocol error.", D(e.protocol_errors));
  Counter(m, "sluice_endpoint_keepalive_timeouts_total", "Connections closed past keep alive.",
          D(e.keepalive_timeouts));
  Gauge(m, "sluice_endpoint_sessions", "Sessions kept, connected or waiting to expire.",
        D(e.sessions_active));
  Counter(m, "sluice_endpoint_sessions_resumed_total", "CONNECTs that found their session.",
          D(e.sessions_resumed));
  Counter(m, "sluice_endpoint_sessions_expired_total", "Sessions ended by their expiry.",
          D(e.sessions_expired));
  {
    auto& f = m.Family("sluice_endpoint_publishes_total", "counter",
                       "PUBLISH packets taken by the native endpoint, by QoS.");
    for (int q = 0; q < 3; ++q) {
      f.Sample("sluice_endpoint_publishes_total", D(e.publishes[q]),
               Label("qos", std::to_string(q)));
    }
  }
  Counter(m, "sluice_endpoint_duplicates_total",
          "Redelivered QoS 1/2 messages recognised and not stored again.", D(e.duplicates));
  Counter(m, "sluice_endpoint_acks_total", "PUBACK and PUBREC sent, each after durability.",
          D(e.acks_sent));
  Counter(m, "sluice_endpoint_acks_negative_total", "Acknowledgements with a failure reason.",
          D(e.acks_negative));
  Counter(m, "sluice_endpoint_not_stored_total",
          "Acknowledged messages not stored: malformed, no rule, or shed.", D(e.not_stored));
  Counter(m, "sluice_endpoint_subscribes_refused_total", "SUBSCRIBE/UNSUBSCRIBE refused.",
          D(e.subscribes_refused));
  Counter(m, "sluice_endpoint_socket_reads_total", "Socket reads completed.", D(e.reads));
  Counter(m, "sluice_endpoint_socket_writes_total", "Socket writes completed.", D(e.writes));
  Counter(m, "sluice_endpoint_bytes_in_total", "Bytes received.", D(e.bytes_in));
  Counter(m, "sluice_endpoint_bytes_out_total", "Bytes sent.", D(e.bytes_out));
  Counter(m, "sluice_endpoint_paused_reads_total",
          "Times a connection stopped reading: pipeline busy or in-flight limit.",
          D(e.paused_reads));

  // Store: work done, fill, partitions.
  const auto& st = s.store;
  const store::StorePressure pressure = store_ ? store_->pressure() : store::StorePressure{};
  Counter(m, "sluice_store_appends_total", "Batches acknowledged durable.", D(st.appends));
  Counter(m, "sluice_store_records_total", "Records acknowledged durable.", D(st.records));
  Counter(m, "sluice_store_bytes_total", "Write-buffer payload bytes acknowledged durable.",
          D(st.bytes));
  Counter(m, "sluice_store_commit_groups_total", "Write-buffer syncs.", D(st.commit_groups));
  Counter(m, "sluice_store_rejected_batches_total", "Batches refused as bad input.",
          D(st.rejected_batches));
  Counter(m, "sluice_store_failed_batches_total",
          "Batches the write buffer failed to make durable.", D(st.failed_batches));
  Counter(m, "sluice_store_blocks_written_total", "Blocks written to segments.",
          D(st.blocks_written));
  Counter(m, "sluice_store_block_bytes_written_total", "Bytes of blocks written.",
          D(st.block_bytes_written));
  Counter(m, "sluice_store_block_write_failures_total",
          "Block writes that failed (retried; the write buffer keeps the records).",
          D(st.block_write_failures));
  Counter(m, "sluice_store_quarantined_blocks_total", "Blocks that failed their CRC.",
          D(st.quarantined_blocks));
  Gauge(m, "sluice_store_quarantined_records", "Write-buffer records skipped at open as unusable.",
        D(st.quarantined_records));
  Gauge(m, "sluice_store_missing_segments",
        "Segment files found missing at open though the store never removed them.",
        D(st.missing_segments));
  Gauge(m, "sluice_store_recovered_records", "Records replayed from the write buffer at open.",
        D(st.recovered_records));
  Gauge(m, "sluice_store_recovery_seconds", "How long opening the store took.",
        st.recovery_us / 1e6);
  Gauge(m, "sluice_store_index_ready",
        "1 once the whole index is loaded (after a restart from the index checkpoint, "
        "the index of older partitions loads in the background).",
        st.index_ready ? 1 : 0);
  Gauge(m, "sluice_store_index_load_seconds",
        "From opening the store to the whole index loaded (0 while loading).",
        st.index_load_us / 1e6);
  Counter(m, "sluice_store_index_checkpoints_total", "Index checkpoints written.",
          D(st.checkpoints_written));
  Counter(m, "sluice_store_index_checkpoint_errors_total",
          "Index checkpoints that could not be written (the previous one stays).",
          D(st.checkpoint_errors));
  Counter(m, "sluice_store_late_records_total", "Records placed in a late partition.",
          D(st.late_records));
  Counter(m, "sluice_store_rejected_full_total", "Appends refused: disk budget full.",
          D(st.rejected_full));
  Counter(m, "sluice_store_evicted_records_total", "Records evicted before upstream sync.",
          D(st.evicted_records));
  m.Family("sluice_store_partitions_removed_total", "counter",
           "Partitions freed for disk space, by reason.")
      .Sample("sluice_store_partitions_removed_total", D(st.reclaimed_partitions),
              Label("reason", "reclaimed_after_sync"))
      .Sample("sluice_store_partitions_removed_total", D(st.evicted_partitions),
              Label("reason", "evicted_before_sync"));
  Gauge(m, "sluice_store_series", "Registered series.", D(st.series));
  Gauge(m, "sluice_store_segment_bytes", "Segment files on disk.", D(st.segment_bytes));
  Gauge(m, "sluice_store_dram_index_bytes", "DRAM held by the index.", D(st.dram_index_bytes));
  Gauge(m, "sluice_store_disk_used_bytes", "Disk used by the store: segments plus write buffer.",
        D(pressure.disk_used_bytes));
  Gauge(m, "sluice_store_disk_budget_bytes", "The store's disk budget; 0: none.",
        D(pressure.disk_budget_bytes));
  Gauge(m, "sluice_store_disk_high_watermark_bytes",
        "Disk use at which synced partitions are reclaimed and intake slows; 0: no budget.",
        D(config_.store.disk_budget / 100 * config_.store.disk_high_watermark));
  Gauge(m, "sluice_store_write_buffer_bytes", "Write-buffer (WAL) files on disk.",
        D(WriteBufferBytes(pressure, st)));
  Gauge(m, "sluice_store_full", "1 while appends are refused because the disk budget is full.",
        pressure.full ? 1 : 0);
  Counter(m, "sluice_store_rejected_no_space_total",
          "Appends refused: the file system is full or read-only.", D(st.rejected_no_space));
  Gauge(m, "sluice_store_fs_free_bytes",
        "Free space on the store's file system, as the service user sees it; 0: unknown.",
        D(pressure.fs_free_bytes));
  Gauge(m, "sluice_store_fs_total_bytes", "Size of the store's file system; 0: unknown.",
        D(pressure.fs_total_bytes));
  Gauge(m, "sluice_store_low_space",
        "1 while free space on the store's file system is below store.free_space_warning.",
        pressure.low_space ? 1 : 0);
  Gauge(m, "sluice_store_leftover_files",
        "Remains of interrupted file creation found and cleaned at open.", D(st.leftover_files));
  m.Family("sluice_clock_jumps_total", "counter",
           "Wall-clock steps of more than 2 s seen against the monotonic clock, by direction.")
      .Sample("sluice_clock_jumps_total", D(st.clock_jumps_forward), Label("direction", "forward"))
      .Sample("sluice_clock_jumps_total", D(st.clock_jumps_backward),
              Label("direction", "backward"));
  {
    PartitionTally tally[std::size(kStates)];
    if (store_) {
      for (const auto& info : store_->ListPartitions()) {
        const auto i = static_cast<std::size_t>(info.state) - 1;
        if (i >= std::size(kStates)) continue;
        ++tally[i].count;
        tally[i].bytes += info.block_bytes;
      }
    }
    auto& f = m.Family("sluice_store_partitions", "gauge", "Partitions, by state.");
    for (std::size_t i = 0; i < std::size(kStates); ++i) {
      f.Sample("sluice_store_partitions", D(tally[i].count),
               Label("state", store::PartitionStateName(kStates[i])));
    }
    auto& b = m.Family("sluice_store_partition_bytes", "gauge",
                       "Block bytes on disk of the partitions, by state.");
    for (std::size_t i = 0; i < std::size(kStates); ++i) {
      b.Sample("sluice_store_partition_bytes", D(tally[i].bytes),
               Label("state", store::PartitionStateName(kStates[i])));
    }
  }

  // Sync: backlog, progress, upstream errors.
  const auto& y = s.sync;
  Gauge(m, "sluice_sync_running", "1 when a sink is configured and the engine runs.",
        y.running ? 1 : 0);
  Gauge(m, "sluice_sync_backlog_partitions", "Sealed partitions not yet synced.",
        D(y.backlog_partitions));
  Gauge(m, "sluice_sync_backlog_bytes", "Their size on local disk.", D(y.backlog_bytes));
  Gauge(m, "sluice_sync_oldest_unsynced_age_seconds", "Age of the oldest unsynced partition.",
        y.oldest_unsynced_age_ns / 1e9);
  Gauge(m, "sluice_sync_consecutive_failures", "Failed uploads since the last success.",
        D(y.consecutive_failures));
  Gauge(m, "sluice_sync_last_success_timestamp_seconds", "Wall clock of the last upload.",
        y.last_success_ns / 1e9);
  Gauge(m, "sluice_sync_parked_partitions", "Partitions parked after a permanent upload failure.",
        D(y.parked_partitions));
  Counter(m, "sluice_sync_duplicates_dropped_total",
          "Exact duplicates (series, timestamp, value) dropped when partitions were encoded.",
          D(y.duplicates_dropped));
  Counter(m, "sluice_sync_timestamp_conflicts_total",
          "Records kept that share series and timestamp with another value.",
          D(y.timestamp_conflicts));
  Gauge(m, "sluice_sync_watermark_timestamp_seconds",
        "Completeness watermark T last written upstream: data before it is confirmed; 0: none yet.",
        y.watermark_ns / 1e9);
  Gauge(m, "sluice_sync_watermark_lag_seconds", "Wall clock minus the watermark T.",
        y.watermark_lag_ns / 1e9);
  Counter(m, "sluice_sync_watermark_late_records_total",
          "Records confirmed that arrived for a time before the watermark T in effect.",
          D(y.watermark_late_records));
  Gauge(m, "sluice_sync_stuck",
        "1 while partitions wait and no upload was confirmed for admin.sync_stuck_after.",
        admin::SyncStuckReason(y, config_.admin.http.sync_stuck_after, start_wall_ns_, WallNs())
                .empty()
            ? 0
            : 1);
  const std::pair<const char*, const sync::SyncLaneHealth*> lanes[] = {{"live", &y.live},
                                                                       {"backfill", &y.backfill}};
  {
    auto& f =
        m.Family("sluice_sync_uploaded_objects_total", "counter", "Objects confirmed by the sink.");
    for (auto [lane, h] : lanes) {
      f.Sample("sluice_sync_uploaded_objects_total", D(h->uploaded_objects), Label("lane", lane));
    }
    auto& b =
        m.Family("sluice_sync_uploaded_bytes_total", "counter", "Bytes of objects confirmed.");
    for (auto [lane, h] : lanes) {
      b.Sample("sluice_sync_uploaded_bytes_total", D(h->uploaded_bytes), Label("lane", lane));
    }
    auto& a = m.Family("sluice_sync_already_identical_total", "counter",
                       "Uploads the sink already held, byte for byte (retries after a crash).");
    for (auto [lane, h] : lanes) {
      a.Sample("sluice_sync_already_identical_total", D(h->already_identical), Label("lane", lane));
    }
    auto& u =
        m.Family("sluice_sync_upload_errors_total", "counter",
                 "Failed upload attempts, by lane and kind: retryable (retried with backoff), "
                 "permanent (partition parked), stuck (overran sync.attempt_timeout).");
    for (auto [lane, h] : lanes) {
      u.Sample("sluice_sync_upload_errors_total", D(h->retries),
               Label("lane", lane) + "," + Label("kind", "retryable"));
      u.Sample("sluice_sync_upload_errors_total", D(h->permanent_failures),
               Label("lane", lane) + "," + Label("kind", "permanent"));
      u.Sample("sluice_sync_upload_errors_total", D(h->stuck_attempts),
               Label("lane", lane) + "," + Label("kind", "stuck"));
    }
    auto& i = m.Family("sluice_sync_in_flight", "gauge", "Upload attempts running now.");
    for (auto [lane, h] : lanes)
      i.Sample("sluice_sync_in_flight", h->in_flight, Label("lane", lane));
  }

  // The admin endpoint itself.
  const AdminCounters a = admin_ ? admin_->counters() : AdminCounters{};
  Counter(m, "sluice_admin_requests_total", "Admin HTTP requests answered.", D(a.requests));
  Counter(m, "sluice_admin_client_errors_total",
          "Admin requests answered 4xx: bad path, bad input, unauthorized.", D(a.client_errors));
  Counter(m, "sluice_admin_auth_failures_total",
          "Admin requests refused 401 (token missing or wrong).", D(a.auth_failures));
  Counter(m, "sluice_admin_bad_requests_total", "Unparsable or oversized HTTP requests.",
          D(a.bad_requests));
  if (stream_) AppendStreamMetrics(m, stream_->stats(), WallNs());
  return m.str();
}

std::string App::StatusJson() const {
  const AppStats s = stats();
  const std::int64_t now = WallNs();
  const store::StorePressure pressure = store_ ? store_->pressure() : store::StorePressure{};
  const auto& p = s.pipeline;
  const auto& st = s.store;
  const auto& y = s.sync;
  std::ostringstream o;
  const app::IngestRates rates = window_->Rates();
  const app::AckLatencyHistogram recent = window_->LatencyWindow(app::SampleOf(p, MonotonicNs()));
  std::vector<MqttConnectionInfo> brokers;
  if (mqtt_) brokers = mqtt_->connections();
  const auto errors = app::CollectLastErrors(s, pressure, brokers, now);
  o << "{\"gateway\":" << JsonString(config_.gateway.id)
    << ",\"site\":" << JsonString(config_.gateway.site)
    << ",\"version\":" << JsonString(SLUICE_VERSION) << ",\"now_ns\":" << now
    << ",\"uptime_s\":" << (now - start_wall_ns_) / 1'000'000'000
    << ",\"started_ns\":" << start_wall_ns_
    << ",\"board\":{\"profile\":" << JsonString(config_.board.profile)
    << ",\"reason\":" << JsonString(config_.board.reason)
    << "}"
    // Flat fields of the first version, kept for scripts that read them.
    << ",\"records_stored\":" << p.records_stored << ",\"messages_in\":" << p.messages_in
    << ",\"series\":" << st.series << ",\"write_buffer\":" << JsonString(st.write_buffer)
    << ",\"io_engine\":" << JsonString(st.io_engine) << ",\"segment_bytes\":" << st.segment_bytes;
  o << ",\"ingest\":{\"messages_in\":" << p.messages_in << ",\"decoded\":" << p.messages_decoded
    << ",\"malformed\":" << p.messages_malformed << ",\"unmatched\":" << p.messages_unmatched
    << ",\"shed\":" << p.ShedTotal() << ",\"closed\":" << p.messages_closed
    << ",\"records_stored\":" << p.records_stored << ",\"records_dropped\":" << p.records_dropped
    << ",\"series_conflicts\":" << p.series_conflicts
    << ",\"pressure\":" << JsonString(PressureLevelName(p.level))
    << ",\"rate_records_per_s\":" << Rounded(rates.records_per_s)
    << ",\"rate_messages_per_s\":" << Rounded(rates.messages_per_s) << ",\"shed_by_reason\":{";
  for (std::size_t r = 0; r < static_cast<std::size_t>(ShedReason::kCount); ++r) {
    std::uint64_t n = 0;
    for (const auto& by_class : p.shed) n += by_class[r];
    o << (r ? "," : "") << JsonString(ShedReasonName(static_cast<ShedReason>(r))) << ":" << n;
  }
  o << "},\"malformed_by_reason\":{";
  for (std::size_t r = 1; r < p.malformed.size(); ++r) {
    o << (r > 1 ? "," : "") << JsonString(MalformedReasonName(static_cast<MalformedReason>(r)))
      << ":" << p.malformed[r];
  }
  // The pipeline counts dropped records in one total, not by reason.
  o << "}}";
  o << ",\"ack_latency\":{\"window_s\":" << app::IngestWindow::kLatencyWindow.count() << ","
    << LatencyJson(recent) << ",\"since_start\":{" << LatencyJson(p.ack_latency) << "}}";
  o << ",\"last_errors\":" << app::LastErrorsJson(errors);
  o << ",\"mqtt\":{\"connected\":" << s.mqtt.connected << ",\"configured\":" << s.mqtt.total
    << ",\"connections_lost\":" << s.mqtt.connections_lost << "}";
  o << ",\"endpoint\":{\"enabled\":" << (config_.endpoint.enabled ? "true" : "false")
    << ",\"connections\":" << s.endpoint.connections_active << "}";
  o << ",\"store\":{\"disk_used_bytes\":" << pressure.disk_used_bytes
    << ",\"disk_budget_bytes\":" << pressure.disk_budget_bytes << ",\"high_watermark_bytes\":"
    << config_.store.disk_budget / 100 * config_.store.disk_high_watermark
    << ",\"full\":" << (pressure.full ? "true" : "false")
    << ",\"full_reason\":" << JsonString(pressure.full_reason)
    << ",\"fs_free_bytes\":" << pressure.fs_free_bytes
    << ",\"fs_total_bytes\":" << pressure.fs_total_bytes
    << ",\"low_space\":" << (pressure.low_space ? "true" : "false")
    << ",\"free_space_warning_pct\":" << config_.store.free_space_warning
    << ",\"rejected_full\":" << st.rejected_full
    << ",\"rejected_no_space\":" << st.rejected_no_space
    << ",\"leftover_files\":" << st.leftover_files
    << ",\"segment_bytes\":" << st.segment_bytes
    << ",\"write_buffer_bytes\":" << WriteBufferBytes(pressure, st) << ",\"records\":" << st.records
    << ",\"evicted_records\":" << st.evicted_records
    << ",\"quarantined_blocks\":" << st.quarantined_blocks
    << ",\"recovery_path\":" << JsonString(st.recovery_path)
    << ",\"recovery_ms\":" << st.recovery_us / 1000
    << ",\"index_ready\":" << (st.index_ready ? "true" : "false")
    << ",\"index_load_ms\":" << st.index_load_us / 1000
    << ",\"index_checkpoint_bytes\":" << st.checkpoint_bytes
    << ",\"last_checkpoint_error\":" << JsonString(st.last_checkpoint_error)
    << ",\"last_quarantine_reason\":" << JsonString(st.last_quarantine_reason) << ",\"notes\":[";
  for (std::size_t i = 0; i < st.notes.size(); ++i) o << (i ? "," : "") << JsonString(st.notes[i]);
  o << "]}";
  o << ",\"clock\":{\"jumps_forward\":" << st.clock_jumps_forward
    << ",\"jumps_backward\":" << st.clock_jumps_backward
    << ",\"last_jump_ns\":" << st.last_clock_jump_ns << "}";
  o << ",\"sync\":{\"running\":" << (y.running ? "true" : "false")
    << ",\"uploaded_objects\":" << y.live.uploaded_objects + y.backfill.uploaded_objects
    << ",\"uploaded_bytes\":" << y.live.uploaded_bytes + y.backfill.uploaded_bytes
    << ",\"backlog_partitions\":" << y.backlog_partitions
    << ",\"backlog_bytes\":" << y.backlog_bytes
    << ",\"oldest_unsynced_age_s\":" << y.oldest_unsynced_age_ns / 1'000'000'000
    << ",\"consecutive_failures\":" << y.consecutive_failures
    << ",\"last_success_ns\":" << y.last_success_ns
    << ",\"parked_partitions\":" << y.parked_partitions
    << ",\"last_error\":" << JsonString(y.last_error)
    << ",\"last_permanent_error\":" << JsonString(y.last_permanent_error)
    << ",\"watermark_interval_s\":" << config_.sync.engine.watermark_interval.count()
    << ",\"watermark_ns\":" << y.watermark_ns
    << ",\"watermark_lag_s\":" << y.watermark_lag_ns / 1'000'000'000
    << ",\"watermark_written_ns\":" << y.watermark_written_ns
    << ",\"watermark_late_records\":" << y.watermark_late_records
    << ",\"watermark_error\":" << JsonString(y.watermark_error) << "}";
  if (stream_) o << StreamStatusJson(stream_->stats(), now);
  o << ",\"partitions\":{";
  std::uint64_t counts[std::size(kStates)] = {};
  if (store_) {
    for (const auto& info : store_->ListPartitions()) {
      const auto i = static_cast<std::size_t>(info.state) - 1;
      if (i < std::size(kStates)) ++counts[i];
    }
  }
  for (std::size_t i = 0; i < std::size(kStates); ++i) {
    o << (i ? "," : "") << JsonString(store::PartitionStateName(kStates[i])) << ":" << counts[i];
  }
  const std::string unhealthy = UnhealthyReason(), unready = UnreadyReason();
  o << "},\"health\":{\"healthy\":" << (unhealthy.empty() ? "true" : "false")
    << ",\"unhealthy_reason\":" << JsonString(unhealthy)
    << ",\"ready\":" << (unready.empty() ? "true" : "false")
    << ",\"unready_reason\":" << JsonString(unready) << ",\"warnings\":[";
  // Worth a look before it becomes a refusal; never a failed probe.
  const std::string low_space = pipeline::LowSpaceWarning(pressure);
  if (!low_space.empty()) o << JsonString(low_space);
  o << "]}}";
  return o.str();
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
