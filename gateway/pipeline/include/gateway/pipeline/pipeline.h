// The ingest pipeline: MQTT messages in, durable store appends out, through
// bounded queues only.
//
//   front-end thread(s) --Offer()--> [shard queue] --> decoder shard thread:
//     IngestDecoder -> series cache (RegisterSeries once per new name)
//     -> batch (batch_max_records or batch_linger) -> Store::Append (at most
//     max_inflight_batches waiting for their ticket per shard)
//
// Backpressure: a controller samples the store's pressure(), the queue fill
// and any extra sources every pressure_poll. kSlow delays each Offer by
// slow_delay; kStop makes Offer wait until the pressure clears. A full
// shard queue makes Offer wait too. Offer runs on the MQTT client's receive
// thread, so waiting there stops Paho from reading the socket: TCP flow
// control and the broker's queue take the pressure.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "gateway/ingest/ingest_options.h"
#include "gateway/ingest/ingest_types.h"
#include "gateway/pipeline/pipeline_options.h"

namespace sluice::store {
class Store;
}

namespace sluice::gateway {

// Where a message came from, and so where its replies and its
// acknowledgement go: a Paho front-end connection (by its index across all
// brokers) or a session of the native endpoint (by its number).
struct MessageSource {
  enum class Kind : std::uint8_t { kFrontend = 0, kEndpoint = 1 };
  Kind kind = Kind::kFrontend;
  std::uint32_t id = 0;

  static MessageSource Frontend(std::uint32_t connection) { return {Kind::kFrontend, connection}; }
  static MessageSource Endpoint(std::uint32_t session) { return {Kind::kEndpoint, session}; }
  friend bool operator==(const MessageSource&, const MessageSource&) = default;
};

// One received MQTT message, owned.
struct InboundMessage {
  std::string topic;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> user_properties;  // MQTT 5
  int qos = 0;
  std::int64_t receive_time_ns = 0;
  MessageSource source;  // replies go there
  // Non-zero: the front-end wants to know when the message is durable (or
  // why it was not stored): the pipeline calls its AckFn with
  // {source, ack_tag, outcome}. The native endpoint uses it to send PUBACK
  // only after the store's ticket completed.
  std::uint64_t ack_tag = 0;
};

// What became of a message that asked for an acknowledgement. Never
// renumber (metrics).
enum class MessageOutcome : std::uint8_t {
  kStored = 0,     // every record it produced is durable (or it produced none)
  kMalformed = 1,  // refused by its decoder, or none of its samples could be stored
  kUnmatched = 2,  // no rule matches its topic
  kFailed = 3,     // the store refused its records for good (not retryable)
};

struct MessageAck {
  MessageSource source;
  std::uint64_t tag = 0;
  MessageOutcome outcome = MessageOutcome::kStored;
};

// Ordered: higher is worse. Never renumber (metrics).
enum class PressureLevel : std::uint8_t { kOpen = 0, kSlow = 1, kStop = 2 };
std::string_view PressureLevelName(PressureLevel level);

// Why a message was shed. Never renumber (metrics).
enum class ShedReason : std::uint8_t {
  kQos0 = 0,      // QoS 0 under pressure (shed policy qos0 and above)
  kPriority = 1,  // its rule's class while stopped (shed policy low, normal)
  kCount,
};
std::string_view ShedReasonName(ShedReason reason);

// What the pipeline must know of the store it feeds.
struct PipelineStoreLimits {
  // Disk use (store pressure) at which intake is slowed; 0: never. The App
  // sets it to the store's high watermark of its disk budget.
  std::uint64_t disk_slow_bytes = 0;
  // store.max_value_bytes: a larger bytes sample is dropped alone (counted)
  // instead of making the store refuse its whole batch.
  std::uint32_t max_value_bytes = 64u << 10;
  // A batch is flushed once its records' estimated encoded size reaches
  // this, whatever batch_max_records says: the store refuses a batch that
  // does not fit one block. The App sets it to half of store.block_size.
  std::uint64_t max_batch_bytes = 512u << 10;
};

// Routing of a topic to a decoder shard: Sparkplug B topics by edge node
// (group and node), others by the whole topic.
std::uint64_t RoutingHash(std::string_view topic);

// kBusy only from TryOffer: Offer would have waited (pressure kStop, or the
// shard's queue is full).
enum class OfferResult : std::uint8_t { kQueued, kShed, kClosed, kBusy };

// Upper bounds, microseconds, of the durable-acknowledgement latency
// histogram (PipelineCounters::ack_latency): 100 us to 10 s.
inline constexpr std::array<std::uint64_t, 16> kAckLatencyBoundsUs = {
    100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000,
    1'000'000, 2'500'000, 5'000'000, 10'000'000};

struct PipelineCounters {
  std::uint64_t messages_in = 0;        // offered
  std::uint64_t messages_queued = 0;
  std::uint64_t messages_decoded = 0;   // decoded with >= 0 samples
  std::uint64_t messages_malformed = 0; // refused by a decoder (by reason: decoder counters)
  std::uint64_t messages_unmatched = 0;
  std::uint64_t messages_closed = 0;    // offered after shutdown began: not stored
  // [priority class][reason]
  std::array<std::array<std::uint64_t, 2>, 3> shed{};
  std::uint64_t samples = 0;
  std::uint64_t records_stored = 0;     // durable tickets completed OK
  std::uint64_t records_dropped = 0;    // refused by the store or abandoned at shutdown
  std::uint64_t series_registered = 0;  // RegisterSeries calls that succeeded
  std::uint64_t series_conflicts = 0;   // samples whose type differs from the series'
  std::uint64_t batches = 0;
  std::uint64_t append_retries = 0;     // appends refused (NoSpace, IoError) and retried
  std::uint64_t rebirth_requests = 0;   // Sparkplug NCMDs handed to the front-end
  std::uint64_t slowed_us = 0;          // time Offer spent slowed or stopped
  std::array<std::uint64_t, static_cast<std::size_t>(MalformedReason::kCount)> malformed{};
  PressureLevel level = PressureLevel::kOpen;
  // Batches from Store::Append until their shard saw them durable and sent
  // their acknowledgements, retries included; durable batches only.
  // ack_latency[i]: in (bound[i-1], bound[i]] of kAckLatencyBoundsUs; the
  // last slot: above every bound.
  std::array<std::uint64_t, kAckLatencyBoundsUs.size() + 1> ack_latency{};
  std::uint64_t ack_latency_sum_us = 0;
  // Per ingest rule, in configuration order, summed over the shards'
  // decoders.
  std::vector<RuleCounts> rules;
  // The newest refusal over the shards' decoders: its text and receive
  // time (wall clock, ns); empty and 0: none.
  std::string last_malformed;
  std::int64_t last_malformed_ns = 0;
  std::uint64_t ShedTotal() const;
};

class Pipeline {
 public:
  // Publishes a message where `source` is connected (rebirths).
  using PublishFn = std::function<void(MessageSource source, const OutboundMessage&)>;
  // An extra pressure input (the sync backlog, tests). Called from the
  // controller thread; must be cheap and thread-safe.
  using PressureSource = std::function<PressureLevel()>;
  // Outcomes of messages offered with an ack_tag, called from shard threads
  // in batches (one call per durable store batch). Must not block.
  using AckFn = std::function<void(std::span<const MessageAck>)>;

  virtual ~Pipeline() = default;

  // `store` must outlive the pipeline. Starts the shard and controller threads.
  static Result<std::unique_ptr<Pipeline>> Create(const PipelineOptions& options,
                                                  const IngestOptions& ingest,
                                                  const PipelineStoreLimits& limits,
                                                  store::Store* store);

  // Hands one message over. Waits while the pressure is kStop or its shard
  // queue is full (unless the shed policy drops it: kShed, counted). kClosed
  // after Close(). Thread-safe; called from the MQTT receive threads.
  virtual OfferResult Offer(InboundMessage message) = 0;

  // Like Offer, but never waits: kBusy (message untouched) where Offer
  // would wait, so a front-end that multiplexes many connections on one
  // thread can stop reading and try again later. Under kSlow it queues
  // without the slow delay (the caller's own flow control paces it).
  // `message` is moved from only on kQueued.
  virtual OfferResult TryOffer(InboundMessage& message) = 0;

  // Set before messages flow; called from shard threads.
  virtual void SetPublisher(PublishFn publish) = 0;
  virtual void SetAcker(AckFn ack) = 0;
  virtual void AddPressureSource(PressureSource source) = 0;

  // Stops intake: Offer returns kClosed, waiting Offers are released.
  virtual void CloseIntake() = 0;
  // CloseIntake, then decodes what is queued, appends it and waits for every
  // ticket. Idempotent.
  virtual void Drain() = 0;

  virtual PipelineCounters counters() const = 0;
  virtual PressureLevel level() const = 0;
};

}  // namespace sluice::gateway
