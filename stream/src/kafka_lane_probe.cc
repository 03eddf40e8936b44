#include "stream/kafka_lane_probe.h"

#include "base/clock.h"

namespace sluice::stream {
namespace {

using S = const KafkaLaneSnapshot&;

// One sample per delivery-error kind.
void ByKind(const std::uint64_t (&v)[kDeliveryErrorKinds], MetricSamples& out) {
  for (int k = 0; k < kDeliveryErrorKinds; ++k) {
    out.Add(static_cast<double>(v[k]), {DeliveryErrorName(static_cast<DeliveryError>(k))});
  }
}

}  // namespace

double OldestUnconfirmedAgeS(const KafkaLaneStats& s, std::int64_t now_ns) {
  const std::int64_t a = s.cursor.oldest_arrival_ns;
  return a > 0 && now_ns > a ? static_cast<double>(now_ns - a) / 1e9 : 0;
}

KafkaLaneProbe::KafkaLaneProbe(const KafkaLane& lane, MetricRegistry* registry)
    : metrics_(registry, [&lane] {
        return KafkaLaneSnapshot{lane.stats(), WallNs()};
      }) {
  metrics_
      .Gauge("sluice_stream_running", "1 while the stream lane to Kafka runs.",
             [](S s) { return s.stats.running ? 1 : 0; })
      .Counter("sluice_stream_records_sent_total", "Records handed to the Kafka producer.",
               [](S s) { return s.stats.records_sent; })
      .Counter("sluice_stream_records_delivered_total",
               "Records in messages Kafka confirmed (delivery reports).",
               [](S s) { return s.stats.records_delivered; })
      .Counter("sluice_stream_records_filtered_total",
               "Records of series matching no stream.kafka.series pattern: not sent.",
               [](S s) { return s.stats.records_filtered; })
      .Counter("sluice_stream_messages_delivered_total", "Kafka messages confirmed.",
               [](S s) { return s.stats.messages_delivered; })
      .Counter("sluice_stream_bytes_delivered_total", "Message value bytes confirmed.",
               [](S s) { return s.stats.bytes_delivered; })
      .Gauge("sluice_stream_backlog_records", "Durable records not yet confirmed by Kafka.",
             [](S s) { return s.stats.cursor.backlog_records; })
      .Gauge("sluice_stream_backlog_bytes",
             "Write-buffer bytes of the records not yet confirmed (kept in the log).",
             [](S s) { return s.stats.cursor.backlog_bytes; })
      .Gauge("sluice_stream_oldest_age_seconds",
             "Age of the oldest durable record not yet confirmed; 0 when none.",
             [](S s) { return OldestUnconfirmedAgeS(s.stats, s.now_wall_ns); })
      .Gauge("sluice_stream_in_flight_records", "Records sent and not yet confirmed to the store.",
             [](S s) { return s.stats.in_flight_records; })
      .Counter("sluice_stream_lost_batches_total",
               "Write-buffer batches given up (their records, where known, are in lost_records).",
               [](S s) { return s.stats.cursor.lost_batches; })
      .Counter("sluice_stream_spilled_batches_total",
               "Persistent-memory write buffer: unconfirmed batches copied to the spill log "
               "because the ring needed their space or DRAM was full.",
               [](S s) { return s.stats.cursor.spilled_batches; })
      .Counter("sluice_stream_spilled_bytes_total", "Bytes of the batches copied to the spill log.",
               [](S s) { return s.stats.cursor.spilled_bytes; })
      .Counter("sluice_stream_spill_errors_total",
               "Failed copies to the spill log (retried; the ring stays pinned meanwhile).",
               [](S s) { return s.stats.cursor.spill_errors; })
      .Counter("sluice_stream_rewinds_total",
               "Restarts from the confirmed position after a delivery failed for good.",
               [](S s) { return s.stats.rewinds; })
      .Gauge("sluice_stream_auth_failed", "1 while Kafka refuses the lane's credentials or rights.",
             [](S s) { return s.stats.auth_error.empty() ? 0 : 1; })
      .Gauge("sluice_stream_delivery_latency_p50_seconds",
             "Durable acknowledgement to delivery report, median of the last 65536 batches.",
             [](S s) { return static_cast<double>(s.stats.latency_p50_us) / 1e6; })
      .Gauge(
          "sluice_stream_delivery_latency_p99_seconds",
          "Durable acknowledgement to delivery report, 99th percentile of the last 65536 batches.",
          [](S s) { return static_cast<double>(s.stats.latency_p99_us) / 1e6; })

      .Family("sluice_stream_lost_records_total", MetricType::kCounter,
              "Records the lane will never deliver, by reason (retain_budget: past "
              "stream.kafka.backlog_disk).",
              {"reason"},
              [](S s, MetricSamples& out) {
                out.Add(static_cast<double>(s.stats.cursor.lost_records), {"retain_budget"});
              })
      .Family("sluice_stream_delivery_errors_total", MetricType::kCounter,
              "Failed delivery reports, by kind.", {"kind"},
              [](S s, MetricSamples& out) { ByKind(s.stats.delivery_errors, out); })
      .Family("sluice_stream_client_errors_total", MetricType::kCounter,
              "Kafka client errors (connections, authentication, fatal), by kind.", {"kind"},
              [](S s, MetricSamples& out) { ByKind(s.stats.client_errors, out); });
  metrics_.Register();
}

}  // namespace sluice::stream
