#include "stream_status.h"

#include <sstream>

#include "gateway/admin/admin_util.h"

namespace sluice::gateway {
namespace {

double D(std::uint64_t v) { return static_cast<double>(v); }

double OldestAgeS(const stream::KafkaLaneStats& s, std::int64_t now_ns) {
  const std::int64_t a = s.cursor.oldest_arrival_ns;
  return a > 0 && now_ns > a ? static_cast<double>(now_ns - a) / 1e9 : 0;
}

}  // namespace

void AppendStreamMetrics(MetricsText& m, const stream::KafkaLaneStats& s, std::int64_t now_ns) {
  const auto& c = s.cursor;
  auto counter = [&](const char* name, const char* help, double v) {
    m.Family(name, "counter", help).Sample(name, v);
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    m.Family(name, "gauge", help).Sample(name, v);
  };
  gauge("sluice_stream_running", "1 while the stream lane to Kafka runs.", s.running ? 1 : 0);
  counter("sluice_stream_records_sent_total", "Records handed to the Kafka producer.",
          D(s.records_sent));
  counter("sluice_stream_records_delivered_total",
          "Records in messages Kafka confirmed (delivery reports).", D(s.records_delivered));
  counter("sluice_stream_records_filtered_total",
          "Records of series matching no stream.kafka.series pattern: not sent.",
          D(s.records_filtered));
  counter("sluice_stream_messages_delivered_total", "Kafka messages confirmed.",
          D(s.messages_delivered));
  counter("sluice_stream_bytes_delivered_total", "Message value bytes confirmed.",
          D(s.bytes_delivered));
  gauge("sluice_stream_backlog_records", "Durable records not yet confirmed by Kafka.",
        D(c.backlog_records));
  gauge("sluice_stream_backlog_bytes",
        "Write-buffer bytes of the records not yet confirmed (kept in the log).",
        D(c.backlog_bytes));
  gauge("sluice_stream_oldest_age_seconds",
        "Age of the oldest durable record not yet confirmed; 0 when none.", OldestAgeS(s, now_ns));
  gauge("sluice_stream_in_flight_records", "Records sent and not yet confirmed to the store.",
        D(s.in_flight_records));
  m.Family("sluice_stream_lost_records_total", "counter",
           "Records the lane will never deliver, by reason (retain_budget: past "
           "stream.kafka.backlog_disk).")
      .Sample("sluice_stream_lost_records_total", D(c.lost_records), "reason=\"retain_budget\"");
  counter("sluice_stream_lost_batches_total",
          "Write-buffer batches given up (their records, where known, are in lost_records).",
          D(c.lost_batches));
  auto& de = m.Family("sluice_stream_delivery_errors_total", "counter",
                      "Failed delivery reports, by kind.");
  for (int k = 0; k < stream::kDeliveryErrorKinds; ++k) {
    de.Sample("sluice_stream_delivery_errors_total", D(s.delivery_errors[k]),
              std::string("kind=\"") +
                  stream::DeliveryErrorName(static_cast<stream::DeliveryError>(k)) + "\"");
  }
  auto& ce = m.Family("sluice_stream_client_errors_total", "counter",
                      "Kafka client errors (connections, authentication, fatal), by kind.");
  for (int k = 0; k < stream::kDeliveryErrorKinds; ++k) {
    ce.Sample("sluice_stream_client_errors_total", D(s.client_errors[k]),
              std::string("kind=\"") +
                  stream::DeliveryErrorName(static_cast<stream::DeliveryError>(k)) + "\"");
  }
  counter("sluice_stream_spilled_batches_total",
          "Persistent-memory write buffer: unconfirmed batches copied to the spill log because "
          "the ring needed their space or DRAM was full.",
          D(c.spilled_batches));
  counter("sluice_stream_spilled_bytes_total", "Bytes of the batches copied to the spill log.",
          D(c.spilled_bytes));
  counter("sluice_stream_spill_errors_total",
          "Failed copies to the spill log (retried; the ring stays pinned meanwhile).",
          D(c.spill_errors));
  counter("sluice_stream_rewinds_total",
          "Restarts from the confirmed position after a delivery failed for good.", D(s.rewinds));
  gauge("sluice_stream_auth_failed", "1 while Kafka refuses the lane's credentials or rights.",
        s.auth_error.empty() ? 0 : 1);
  gauge("sluice_stream_delivery_latency_p50_seconds",
        "Durable acknowledgement to delivery report, median of the last 65536 batches.",
        static_cast<double>(s.latency_p50_us) / 1e6);
  gauge("sluice_stream_delivery_latency_p99_seconds",
        "Durable acknowledgement to delivery report, 99th percentile of the last 65536 "
        "batches.",
        static_cast<double>(s.latency_p99_us) / 1e6);
}

std::string StreamStatusJson(const stream::KafkaLaneStats& s, std::int64_t now_ns) {
  using admin::JsonString;
  const auto& c = s.cursor;
  std::uint64_t delivery_errors = 0;
  for (auto n : s.delivery_errors) delivery_errors += n;
  std::ostringstream o;
  o << ",\"stream\":{\"running\":" << (s.running ? "true" : "false")
    << ",\"topic\":" << JsonString(s.topic)
    << ",\"format\":" << JsonString(stream::MessageFormatName(s.format))
    << ",\"records_delivered\":" << s.records_delivered
    << ",\"records_sent\":" << s.records_sent
    << ",\"backlog_records\":" << c.backlog_records << ",\"backlog_bytes\":" << c.backlog_bytes
    << ",\"oldest_age_s\":" << static_cast<std::int64_t>(OldestAgeS(s, now_ns))
    << ",\"in_flight_records\":" << s.in_flight_records
    << ",\"lost_records\":" << c.lost_records << ",\"delivery_errors\":{";
  for (int k = 0; k < stream::kDeliveryErrorKinds; ++k) {
    o << (k ? "," : "") << JsonString(stream::DeliveryErrorName(static_cast<stream::DeliveryError>(k)))
      << ":" << s.delivery_errors[k];
  }
  o << "},\"delivery_errors_total\":" << delivery_errors << ",\"rewinds\":" << s.rewinds
    << ",\"brokers_down\":" << (s.brokers_down ? "true" : "false")
    << ",\"auth_error\":" << JsonString(s.auth_error)
    << ",\"last_error\":" << JsonString(s.last_error)
    << ",\"last_delivery_ns\":" << s.last_delivery_ns
    << ",\"latency_p50_us\":" << s.latency_p50_us << ",\"latency_p99_us\":" << s.latency_p99_us
    << ",\"spilled_batches\":" << c.spilled_batches << ",\"spilled_bytes\":" << c.spilled_bytes
    << ",\"spill_errors\":" << c.spill_errors
    << ",\"last_spill_error\":" << JsonString(c.last_spill_error)
    << ",\"position\":" << c.position << ",\"durable_seq\":" << c.durable_seq << "}";
  return o.str();
}

std::string StreamUnreadyReason(const stream::KafkaLaneStats& s) {
  if (s.auth_error.empty()) return "";
  return "stream: Kafka refused the lane's credentials or permissions (" + s.auth_error + ")";
}

}  // namespace sluice::gateway
