#include <algorithm>

#include "message_format.h"
#include "producer_conf.h"
#include "stream/kafka_lane.h"

namespace sluice::stream {

const char* MessageFormatName(MessageFormat f) {
  switch (f) {
    case MessageFormat::kJson: return "json";
    case MessageFormat::kProtobuf: return "protobuf";
    case MessageFormat::kProtobufBatch: return "protobuf_batch";
  }
  return "unknown";
}

Result<MessageFormat> ParseMessageFormat(std::string_view name) {
  for (auto f : {MessageFormat::kJson, MessageFormat::kProtobuf, MessageFormat::kProtobufBatch}) {
    if (name == MessageFormatName(f)) return f;
  }
  return InvalidArgument("'" + std::string(name) +
                         "' is not a format; allowed: json, protobuf, protobuf_batch");
}

const char* DeliveryErrorName(DeliveryError e) {
  switch (e) {
    case DeliveryError::kTransport: return "transport";
    case DeliveryError::kTimedOut: return "timed_out";
    case DeliveryError::kAuth: return "auth";
    case DeliveryError::kUnknownTopic: return "unknown_topic";
    case DeliveryError::kTooLarge: return "too_large";
    case DeliveryError::kFatal: return "fatal";
    case DeliveryError::kOther: return "other";
  }
  return "other";
}

Status KafkaLaneOptions::Validate() const {
  if (bootstrap_servers.empty()) {
    return InvalidArgument("bootstrap_servers: required, e.g. \"kafka1:9092,kafka2:9092\"");
  }
  if (auto t = ExpandTopic(topic, site.empty() ? "site" : site,
                           gateway_id.empty() ? "gateway" : gateway_id);
      !t.ok()) {
    return InvalidArgument("topic: " + t.status().message());
  }
  if (series.empty()) return InvalidArgument("series: at least one pattern (\"*\": every series)");
  for (const auto& g : series) {
    if (g.empty()) return InvalidArgument("series: an empty pattern matches nothing");
  }
  if (compression != "zstd" && compression != "lz4" && compression != "none") {
    return InvalidArgument("compression: '" + compression + "'; allowed: zstd, lz4, none");
  }
  if (linger < std::chrono::milliseconds(0) || linger > std::chrono::seconds(10)) {
    return InvalidArgument("linger: at most 10s");
  }
  if (max_unconfirmed_records < 1000 || max_unconfirmed_records > 10'000'000) {
    return InvalidArgument("max_unconfirmed_records: must be 1000 .. 10000000, got " +
                           std::to_string(max_unconfirmed_records));
  }
  if (position_interval < std::chrono::milliseconds(10) ||
      position_interval > std::chrono::seconds(60)) {
    return InvalidArgument("position_interval: must be 10ms .. 60s");
  }
  auto conf = BuildProducerConf(*this);
  return conf.ok() ? Status::Ok() : conf.status();
}

Result<ConfPtr> BuildProducerConf(const KafkaLaneOptions& o) {
  ConfPtr conf(rd_kafka_conf_new());
  char err[512];
  auto set = [&](const std::string& name, const std::string& value,
                 const std::string& where) -> Status {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
      return InvalidArgument(where + ": " + err);
    }
    return Status::Ok();
  };
  SLUICE_RETURN_IF_ERROR(set("bootstrap.servers", o.bootstrap_servers, "bootstrap_servers"));
  SLUICE_RETURN_IF_ERROR(set("enable.idempotence", "true", "enable.idempotence"));
  SLUICE_RETURN_IF_ERROR(set("acks", "all", "acks"));
  SLUICE_RETURN_IF_ERROR(set("compression.type", o.compression, "compression"));
  SLUICE_RETURN_IF_ERROR(set("linger.ms", std::to_string(o.linger.count()), "linger"));
  // Infinite: a message waits in the producer while brokers are away, and
  // the lane stops reading at max_unconfirmed_records instead.
  SLUICE_RETURN_IF_ERROR(set("message.timeout.ms", "0", "message.timeout.ms"));
  SLUICE_RETURN_IF_ERROR(set("queue.buffering.max.messages",
                             std::to_string(std::min<std::uint64_t>(
                                 o.max_unconfirmed_records + 100000, 2147483647)),
                             "queue.buffering.max.messages"));
  SLUICE_RETURN_IF_ERROR(set("queue.buffering.max.kbytes", "1048576", "queue.buffering.max.kbytes"));
  SLUICE_RETURN_IF_ERROR(set("client.id", "sluice-" + (o.gateway_id.empty() ? std::string("gateway")
                                                                            : o.gateway_id),
                             "client.id"));
  for (const auto& [name, value] : o.properties) {
    const std::string where = "properties." + name;
    if (name == "enable.idempotence" && value != "true") {
      return InvalidArgument(where + ": must stay true (at-least-once in order needs the "
                             "idempotent producer)");
    }
    if ((name == "acks" || name == "request.required.acks") && value != "all" && value != "-1") {
      return InvalidArgument(where + ": must stay all (a record is confirmed only once every "
                             "in-sync replica has it)");
    }
    if (name == "bootstrap.servers" || name == "metadata.broker.list") {
      return InvalidArgument(where + ": set stream.kafka.bootstrap_servers instead");
    }
    if (name == "dr_msg_cb" || name == "dr_cb" || name == "error_cb" || name == "opaque") {
      return InvalidArgument(where + ": the lane sets its own callbacks");
    }
    SLUICE_RETURN_IF_ERROR(set(name, value, where));
  }
  return conf;
}

}  // namespace sluice::stream
