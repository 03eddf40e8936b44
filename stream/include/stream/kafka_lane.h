// The stream lane: durable records, in commit order, to a Kafka topic.
//
// Contract:
//  - Source: the store's durable-record cursor (store/durable_cursor.h).
//    Nothing is sent before the write buffer made it durable.
//  - Delivery: at-least-once. The lane confirms a batch to the cursor (which
//    persists the position) only after Kafka's delivery reports confirmed
//    every message made from it. After a crash, what was sent but not yet
//    confirmed is sent again: at most max_unconfirmed_records records plus
//    the records of one write-buffer batch (the stated duplicate bound).
//  - Order: each series keeps commit order (the message key is the series
//    name, so one series goes to one partition, and the producer is
//    idempotent with acks=all). A delivery that fails for good (a timeout
//    set through properties, a fatal producer error) rewinds the lane to the
//    confirmed position: the consumer sees the records again, in order.
//  - Isolation: a lane that cannot deliver never slows ingest or partition
//    sync. Its backlog stays in the write-ahead log up to the store's
//    cursor_retain_bytes; past it the oldest records are given up and
//    counted (CursorStats::lost_records).
//
// Thread-safety: Start, Stop and stats may be called from any thread.
// librdkafka stays behind this header (habit: third-party headers out of
// public ones).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace sluice::stream {

enum class MessageFormat : std::uint8_t {
  kJson = 1,           // one record per message, JSON (stream/README.md)
  kProtobuf = 2,       // one record per message, sluice.stream.v1.Record
  kProtobufBatch = 3,  // one series per message per linger, sluice.stream.v1.RecordBatch
};

const char* MessageFormatName(MessageFormat f);
Result<MessageFormat> ParseMessageFormat(std::string_view name);

struct KafkaLaneOptions {
  // librdkafka's bootstrap.servers: "host:port[,host:port...]". Required.
  std::string bootstrap_servers;
  // Topic, or a template with {site} and {gateway}. The topic must exist:
  // the lane never creates topics. Default: "sluice.{site}".
  std::string topic = "sluice.{site}";
  // Series to send: fnmatch(3) patterns without flags (`*` matches `/`
  // too). A series is sent when it matches any. Default: ["*"] (all).
  std::vector<std::string> series = {"*"};
  MessageFormat format = MessageFormat::kJson;
  // "zstd", "lz4" or "none". Default: "zstd".
  std::string compression = "zstd";
  // librdkafka's linger.ms; for protobuf_batch also how long records of one
  // series are gathered into one message. Bounds: 0 .. 10 s.
  // Default: 5 ms.
  std::chrono::milliseconds linger{5};
  // Records sent but not yet confirmed to the cursor; reading stops here
  // until delivery reports catch up. The duplicate bound after a crash.
  // Bounds: 1000 .. 10000000. Default: 200000.
  std::uint64_t max_unconfirmed_records = 200000;
  // Longest the confirmed position waits to be written. Bounds:
  // 10 ms .. 60 s. Default: 200 ms.
  std::chrono::milliseconds position_interval{200};
  // Passed to librdkafka as they are (security.protocol, sasl.*, ssl.*,
  // and so on). The lane's own settings (enable.idempotence, acks) cannot be
  // weakened. Default: none.
  std::map<std::string, std::string> properties;
  // Message headers "gateway" and "site"; {gateway} and {site} in topic.
  std::string gateway_id;
  std::string site;

  // InvalidArgument whose message starts with the field ("topic: ..."),
  // or "properties.<name>: ..." for a property librdkafka refuses.
  Status Validate() const;
};

// Delivery errors by kind. Never renumbered: they index counters.
enum class DeliveryError : std::uint8_t {
  kTransport = 0,      // broker down or unreachable, connection reset
  kTimedOut = 1,       // message.timeout.ms passed (only when set)
  kAuth = 2,           // authentication or authorisation failed
  kUnknownTopic = 3,   // the topic does not exist
  kTooLarge = 4,       // a message over the broker's limit
  kFatal = 5,          // the idempotent producer failed for good: recreated
  kOther = 6,
};
inline constexpr int kDeliveryErrorKinds = 7;
const char* DeliveryErrorName(DeliveryError e);

struct KafkaLaneStats {
  bool running = false;
  std::string topic;
  MessageFormat format = MessageFormat::kJson;
  std::uint64_t records_sent = 0;        // handed to the producer
  std::uint64_t records_delivered = 0;   // in messages Kafka confirmed
  std::uint64_t records_filtered = 0;    // matched no series pattern: not sent
  std::uint64_t messages_delivered = 0;
  std::uint64_t bytes_delivered = 0;     // message values
  std::uint64_t in_flight_records = 0;   // sent, not confirmed to the cursor
  std::uint64_t rewinds = 0;             // restarts from the confirmed position
  std::uint64_t producer_restarts = 0;   // after fatal producer errors
  // Delivery reports that failed, and client errors (error callback), by
  // DeliveryError.
  std::uint64_t delivery_errors[kDeliveryErrorKinds] = {};
  std::uint64_t client_errors[kDeliveryErrorKinds] = {};
  std::string last_error;                // empty when none yet
  std::int64_t last_error_ns = 0;        // wall clock
  // Set by an authentication or authorisation failure, cleared by the next
  // successful delivery: /readyz reports it.
  std::string auth_error;
  bool brokers_down = false;             // librdkafka: all brokers down
  // From a batch becoming durable (its append acknowledged) to the delivery
  // report of the last message made from it, over the last 65536 batches,
  // microseconds. A batch read back from the log files (after a restart)
  // counts from its arrival at the store.
  std::uint64_t latency_p50_us = 0, latency_p99_us = 0;
  std::int64_t last_delivery_ns = 0;     // wall clock; 0: none yet
  store::CursorStats cursor;             // backlog, position, lost records
};

class KafkaLane {
 public:
  virtual ~KafkaLane() = default;

  // Starts the lane on the store's durable-record cursor. FailedPrecondition
  // when the store has no cursor (Options::cursor_retain_bytes == 0);
  // InvalidArgument from Validate(). Does not wait for Kafka: an unreachable
  // cluster shows in stats(), not here. `store` must outlive the lane.
  static Result<std::unique_ptr<KafkaLane>> Start(store::Store* store,
                                                  const KafkaLaneOptions& options);

  // Stops reading, waits up to `flush_ms` for delivery reports of what is in
  // flight, confirms what was delivered. Idempotent.
  virtual void Stop(std::uint32_t flush_ms = 2000) = 0;

  virtual KafkaLaneStats stats() const = 0;
};

}  // namespace sluice::stream
