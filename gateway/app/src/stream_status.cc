#include "stream_status.h"

#include <string_view>
#include <utility>
#include <vector>

#include "stream/kafka_lane_probe.h"

namespace sluice::gateway {

void StreamStatus(StatusDoc& d, const stream::KafkaLaneStats& s, std::int64_t now_ns) {
  namespace f = status_schema;
  const auto& c = s.cursor;
  std::uint64_t delivery_errors = 0;
  std::vector<std::pair<std::string_view, std::uint64_t>> by_kind;
  for (int k = 0; k < stream::kDeliveryErrorKinds; ++k) {
    by_kind.emplace_back(stream::DeliveryErrorName(static_cast<stream::DeliveryError>(k)),
                         s.delivery_errors[k]);
    delivery_errors += s.delivery_errors[k];
  }
  d.SetBool(f::kStreamRunning, s.running);
  d.SetString(f::kStreamTopic, s.topic);
  d.SetString(f::kStreamFormat, stream::MessageFormatName(s.format));
  d.SetInt(f::kStreamRecordsDelivered, s.records_delivered);
  d.SetInt(f::kStreamRecordsSent, s.records_sent);
  d.SetInt(f::kStreamBacklogRecords, c.backlog_records);
  d.SetInt(f::kStreamBacklogBytes, c.backlog_bytes);
  d.SetInt(f::kStreamOldestAgeS,
           static_cast<std::int64_t>(stream::OldestUnconfirmedAgeS(s, now_ns)));
  d.SetInt(f::kStreamInFlightRecords, s.in_flight_records);
  d.SetInt(f::kStreamLostRecords, c.lost_records);
  d.SetCounts(f::kStreamDeliveryErrors, by_kind);
  d.SetInt(f::kStreamDeliveryErrorsTotal, delivery_errors);
  d.SetInt(f::kStreamRewinds, s.rewinds);
  d.SetBool(f::kStreamBrokersDown, s.brokers_down);
  d.SetString(f::kStreamAuthError, s.auth_error);
  d.SetString(f::kStreamLastError, s.last_error);
  d.SetInt(f::kStreamLastDeliveryNs, s.last_delivery_ns);
  d.SetInt(f::kStreamLatencyP50Us, s.latency_p50_us);
  d.SetInt(f::kStreamLatencyP99Us, s.latency_p99_us);
  d.SetInt(f::kStreamSpilledBatches, c.spilled_batches);
  d.SetInt(f::kStreamSpilledBytes, c.spilled_bytes);
  d.SetInt(f::kStreamSpillErrors, c.spill_errors);
  d.SetString(f::kStreamLastSpillError, c.last_spill_error);
  d.SetInt(f::kStreamPosition, c.position);
  d.SetInt(f::kStreamDurableSeq, c.durable_seq);
}

std::string StreamUnreadyReason(const stream::KafkaLaneStats& s) {
  if (s.auth_error.empty()) return "";
  return "stream: Kafka refused the lane's credentials or permissions (" + s.auth_error + ")";
}

}  // namespace sluice::gateway
