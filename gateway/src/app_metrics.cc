// What the admin endpoint shows: App::MetricsText, StatusJson and
// UnhealthyReason, built from AppStats.
#include <cstdio>
#include <sstream>

#include "gateway/app.h"

namespace sluice::gateway {
namespace {

void Counter(MetricsText& m, const std::string& name, const std::string& help, double v) {
  m.Family(name, "counter", help).Sample(name, v);
}
void Gauge(MetricsText& m, const std::string& name, const std::string& help, double v) {
  m.Family(name, "gauge", help).Sample(name, v);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string App::MetricsText() const {
  const AppStats s = stats();
  gateway::MetricsText m;
  const auto& p = s.pipeline;
  Counter(m, "sluice_mqtt_messages_total", "MQTT messages received.", p.messages_in);
  Counter(m, "sluice_mqtt_messages_malformed_total", "Messages refused by a decoder.",
          p.messages_malformed);
  Counter(m, "sluice_mqtt_messages_unmatched_total", "Messages no rule matched.",
          p.messages_unmatched);
  Counter(m, "sluice_mqtt_messages_shed_total", "Messages dropped by the shed policy.",
          p.ShedTotal());
  Gauge(m, "sluice_mqtt_connections", "Broker connections up.", s.mqtt.connected);
  const auto& e = s.endpoint;
  Gauge(m, "sluice_endpoint_connections", "Native endpoint client connections open.",
        e.connections_active);
  Counter(m, "sluice_endpoint_connections_accepted_total", "Native endpoint connections accepted.",
          e.connections_accepted);
  Counter(m, "sluice_endpoint_connections_refused_total",
          "Connections refused: max_connections or max_sessions reached.", e.connections_refused);
  Counter(m, "sluice_endpoint_auth_failures_total", "CONNECTs with bad or missing credentials.",
          e.auth_failures);
  Counter(m, "sluice_endpoint_tls_failures_total", "TLS handshakes that failed.", e.tls_failures);
  Counter(m, "sluice_endpoint_protocol_errors_total",
          "Connections closed for a malformed packet or a protocol error.", e.protocol_errors);
  Counter(m, "sluice_endpoint_keepalive_timeouts_total", "Connections closed past keep alive.",
          e.keepalive_timeouts);
  Gauge(m, "sluice_endpoint_sessions", "Sessions kept, connected or waiting to expire.",
        e.sessions_active);
  Counter(m, "sluice_endpoint_sessions_resumed_total", "CONNECTs that found their session.",
          e.sessions_resumed);
  Counter(m, "sluice_endpoint_sessions_expired_total", "Sessions ended by their expiry.",
          e.sessions_expired);
  {
    auto& f = m.Family("sluice_endpoint_publishes_total", "counter",
                       "PUBLISH packets taken by the native endpoint, by QoS.");
    for (int q = 0; q < 3; ++q) {
      f.Sample("sluice_endpoint_publishes_total", static_cast<double>(e.publishes[q]),
               "qos=\"" + std::to_string(q) + "\"");
    }
  }
  Counter(m, "sluice_endpoint_duplicates_total",
          "Redelivered QoS 1/2 messages recognised and not stored again.", e.duplicates);
  Counter(m, "sluice_endpoint_acks_total", "PUBACK and PUBREC sent, each after durability.",
          e.acks_sent);
  Counter(m, "sluice_endpoint_acks_negative_total", "Acknowledgements with a failure reason.",
          e.acks_negative);
  Counter(m, "sluice_endpoint_not_stored_total",
          "Acknowledged messages not stored: malformed, no rule, or shed.", e.not_stored);
  Counter(m, "sluice_endpoint_subscribes_refused_total", "SUBSCRIBE/UNSUBSCRIBE refused.",
          e.subscribes_refused);
  Counter(m, "sluice_endpoint_socket_reads_total", "Socket reads completed.", e.reads);
  Counter(m, "sluice_endpoint_socket_writes_total", "Socket writes completed.", e.writes);
  Counter(m, "sluice_endpoint_bytes_in_total", "Bytes received.", e.bytes_in);
  Counter(m, "sluice_endpoint_bytes_out_total", "Bytes sent.", e.bytes_out);
  Counter(m, "sluice_endpoint_paused_reads_total",
          "Times a connection stopped reading: pipeline busy or in-flight limit.", e.paused_reads);
  Counter(m, "sluice_records_stored_total", "Records acknowledged durable by the store.",
          p.records_stored);
  Counter(m, "sluice_records_dropped_total", "Records lost before the store, by any reason.",
          p.records_dropped);
  const auto& st = s.store;
  Counter(m, "sluice_store_appends_total", "Batches acknowledged durable.", st.appends);
  Counter(m, "sluice_store_commit_groups_total", "Write-buffer syncs.", st.commit_groups);
  Counter(m, "sluice_store_blocks_written_total", "Blocks written to segments.", st.blocks_written);
  Counter(m, "sluice_store_block_bytes_written_total", "Bytes of blocks written.",
          st.block_bytes_written);
  Counter(m, "sluice_store_quarantined_blocks_total", "Blocks that failed their CRC.",
          st.quarantined_blocks);
  Counter(m, "sluice_store_late_records_total", "Records placed in a late partition.",
          st.late_records);
  Counter(m, "sluice_store_rejected_full_total", "Appends refused: disk budget full.",
          st.rejected_full);
  Counter(m, "sluice_store_evicted_records_total", "Records evicted before upstream sync.",
          st.evicted_records);
  Gauge(m, "sluice_store_series", "Registered series.", st.series);
  Gauge(m, "sluice_store_segment_bytes", "Segment files on disk.", st.segment_bytes);
  Gauge(m, "sluice_store_dram_index_bytes", "DRAM held by the index.", st.dram_index_bytes);
  const auto& y = s.sync;
  Gauge(m, "sluice_sync_backlog_partitions", "Sealed partitions not yet synced.",
        y.backlog_partitions);
  Gauge(m, "sluice_sync_backlog_bytes", "Their size on local disk.", y.backlog_bytes);
  Gauge(m, "sluice_sync_oldest_unsynced_age_seconds", "Age of the oldest unsynced partition.",
        y.oldest_unsynced_age_ns / 1e9);
  Gauge(m, "sluice_sync_consecutive_failures", "Failed uploads since the last success.",
        y.consecutive_failures);
  Gauge(m, "sluice_sync_last_success_timestamp_seconds", "Wall clock of the last upload.",
        y.last_success_ns / 1e9);
  m.Family("sluice_sync_uploaded_objects_total", "counter", "Objects confirmed by the sink.")
      .Sample("sluice_sync_uploaded_objects_total", y.live.uploaded_objects, "lane=\"live\"")
      .Sample("sluice_sync_uploaded_objects_total", y.backfill.uploaded_objects,
              "lane=\"backfill\"");
  m.Family("sluice_sync_uploaded_bytes_total", "counter", "Bytes of objects confirmed.")
      .Sample("sluice_sync_uploaded_bytes_total", y.live.uploaded_bytes, "lane=\"live\"")
      .Sample("sluice_sync_uploaded_bytes_total", y.backfill.uploaded_bytes, "lane=\"backfill\"");
  return m.str();
}

std::string App::StatusJson() const {
  const AppStats s = stats();
  std::ostringstream o;
  o << "{\"gateway\":" << JsonString(config_.gateway.id)
    << ",\"site\":" << JsonString(config_.gateway.site)
    << ",\"board\":{\"profile\":" << JsonString(config_.board.profile)
    << ",\"reason\":" << JsonString(config_.board.reason) << "}"
    << ",\"records_stored\":" << s.pipeline.records_stored
    << ",\"messages_in\":" << s.pipeline.messages_in
    << ",\"series\":" << s.store.series
    << ",\"write_buffer\":" << JsonString(s.store.write_buffer)
    << ",\"io_engine\":" << JsonString(s.store.io_engine)
    << ",\"segment_bytes\":" << s.store.segment_bytes
    << ",\"sync\":{\"running\":" << (s.sync.running ? "true" : "false")
    << ",\"uploaded_objects\":" << s.sync.live.uploaded_objects + s.sync.backfill.uploaded_objects
    << ",\"uploaded_bytes\":" << s.sync.live.uploaded_bytes + s.sync.backfill.uploaded_bytes
    << ",\"backlog_partitions\":" << s.sync.backlog_partitions
    << ",\"last_error\":" << JsonString(s.sync.last_error) << "}";
  o << ",\"partitions\":{";
  bool first = true;
  for (auto state : {store::PartitionState::kOpen, store::PartitionState::kSealed,
                     store::PartitionState::kSynced, store::PartitionState::kReclaimed}) {
    o << (first ? "" : ",") << JsonString(store::PartitionStateName(state)) << ":"
      << (store_ ? store_->ListPartitions(state).size() : 0);
    first = false;
  }
  o << "}}";
  return o.str();
}

std::string App::UnhealthyReason() const {
  if (!store_) return "store not open";
  if (store_->pressure().full) return "store disk budget full: appends refused";
  if (mqtt_) {
    const auto c = mqtt_->counters();
    if (c.total > 0 && c.connected == 0) return "no broker connection";
  }
  return "";
}

}  // namespace sluice::gateway
