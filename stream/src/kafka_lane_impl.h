// The lane: one thread reads the durable-record cursor, encodes, hands
// messages to an idempotent librdkafka producer, serves its delivery reports
// (rd_kafka_poll on the same thread: no locks around the in-flight table),
// and confirms the delivered prefix to the cursor.
//
// In-flight table: one Slot per cursor read, in read order. A slot counts
// the messages made from its batches that have no delivery report yet; it
// completes when that reaches zero. The completed prefix of the table is
// what may be confirmed: its last sequence number is the position.
//
// The class is outlined here; its code is in kafka_lane.cc.
#pragma once

#include <librdkafka/rdkafka.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <thread>
#include <unordered_map>

#include "base/mutex.h"
#include "stream/kafka_lane.h"
#include "message_format.h"
#include "producer_conf.h"

namespace sluice::stream {

using Clock = std::chrono::steady_clock;

// Messages of one series in protobuf_batch are cut at this many records,
// well under the brokers' default message.max.bytes (1 MB).
inline constexpr std::size_t kMaxBatchRecords = 20000;

inline constexpr std::size_t kLatencySamples = 65536;

// One cursor read (one slot) takes at most this share of the unconfirmed
// window. A slot is confirmed only once all its messages are delivered: with
// one read filling the whole window, the lane would wait for the producer to
// drain completely before reading on; with eight, it keeps encoding while
// the older slots are delivered.
inline constexpr std::uint64_t kReadsPerWindow = 8;

struct Slot {
  std::uint64_t last_seq = 0;
  std::uint32_t remaining = 1;  // messages without a report (+1 while filling)
  std::uint64_t sent = 0;       // records in its messages
  std::uint64_t read = 0;       // records read (sent or filtered)
  bool failed = false;
  std::vector<std::int64_t> arrivals;  // of its batches: durable_ns, else arrival_ns
};

struct SeriesEntry {
  bool known = false;
  bool send = false;
  std::string name, unit;
  store::ValueType type = store::ValueType::kFloat64;
};

class KafkaLaneImpl final : public KafkaLane {
 public:
  KafkaLaneImpl(store::Store* store, store::DurableCursor* cursor, KafkaLaneOptions options,
                std::string topic)
      : store_(store), cursor_(cursor), opt_(std::move(options)), topic_(std::move(topic)) {}
  ~KafkaLaneImpl() override {
    Stop(0);
    DestroyProducer();
    if (headers_ != nullptr) rd_kafka_headers_destroy(headers_);
  }

  Status Init();

  void Stop(std::uint32_t flush_ms) override;

  KafkaLaneStats stats() const override;

 private:
  Status CreateProducer();

  void DestroyProducer();

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    static_cast<KafkaLaneImpl*>(opaque)->Delivered(m);
  }
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    static_cast<KafkaLaneImpl*>(opaque)->ClientError(rk, static_cast<rd_kafka_resp_err_t>(err),
                                                     reason);
  }

  void Delivered(const rd_kafka_message_t* m);

  void ClientError(rd_kafka_t* rk, rd_kafka_resp_err_t err, const char* reason);

  void NoteError(DeliveryError kind, const std::string& what, bool delivery);

  const SeriesEntry& Series(store::SeriesId id);

  // Hands one message to the producer; false when it could not be queued
  // (counted, and the slot failed: the lane rewinds).
  bool Produce(const std::string& key, const std::string& value, std::int64_t timestamp_ns,
               Slot* slot);

  void Run();

  void Idle(std::chrono::milliseconds d) {
    const auto until = Clock::now() + d;
    while (!stop_.load() && Clock::now() < until) rd_kafka_poll(rk_, 10);
  }

  Result<std::vector<store::DurableBatch>> ReadSome(std::uint64_t budget,
                                                    std::chrono::milliseconds wait);

  Slot& NewSlot(const std::vector<store::DurableBatch>& batches);

  Status ProduceRecords(std::uint64_t budget, std::string& value);

  // protobuf_batch: gathers records for linger, then one message per
  // series (cut at kMaxBatchRecords), series in order of first appearance.
  Status ProduceBatches(std::uint64_t budget, std::string& value);

  void Sent(Slot& slot);

  // Pops completed slots off the front; a failed one sets rewind_.
  void CollectCompleted();

  void MaybeConfirm(bool force);

  // A delivery failed for good: give back everything in flight, confirm the
  // delivered prefix, and start again after it (a new producer when the
  // old one failed fatally).
  void Rewind();

  void PublishCounters();

  store::Store* const store_;
  store::DurableCursor* const cursor_;
  const KafkaLaneOptions opt_;
  const std::string topic_;

  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* rkt_ = nullptr;
  rd_kafka_headers_t* headers_ = nullptr;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> brokers_down_{false};
  Mutex stop_mu_;
  bool stop_requested_ SLUICE_GUARDED_BY(stop_mu_) = false;
  std::uint32_t flush_ms_ = 2000;   // set before stop_

  // The lane thread's (delivery reports run on it too, in rd_kafka_poll).
  std::deque<Slot> slots_;          // references stay valid at both ends
  std::vector<SeriesEntry> series_;
  std::unordered_map<std::uint32_t, std::vector<const store::Record*>> by_series_;
  std::vector<store::SeriesId> order_;
  bool rewind_ = false;
  bool fatal_ = false;
  char fatal_why_[512] = {};
  std::uint64_t in_flight_records_ = 0;          // read, in slots not completed
  std::uint64_t done_unconfirmed_records_ = 0;   // completed, not confirmed yet
  std::uint64_t confirm_target_ = 0, confirmed_ = 0;
  Clock::time_point last_confirm_{};
  std::uint64_t records_sent_ = 0, records_delivered_ = 0, records_filtered_ = 0,
                messages_delivered_ = 0, bytes_delivered_ = 0, rewinds_ = 0,
                producer_restarts_ = 0;

  mutable Mutex stats_mu_;
  KafkaLaneStats stats_ SLUICE_GUARDED_BY(stats_mu_);  // counters, errors
  std::vector<std::uint64_t> latencies_ SLUICE_GUARDED_BY(stats_mu_);
  std::size_t latency_next_ SLUICE_GUARDED_BY(stats_mu_) = 0;
};

}  // namespace sluice::stream
