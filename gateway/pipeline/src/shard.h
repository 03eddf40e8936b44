// One decoder shard: its queue, its IngestDecoder (per-node Sparkplug state
// is not thread-safe, so each shard owns one and a routing key always maps
// to the same shard), its batch and its appends in flight.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/rate_limited_log.h"
#include "batcher.h"
#include "bounded_queue.h"
#include "gateway/ingest/ingest_decoder.h"
#include "gateway/pipeline/pipeline.h"
#include "pressure.h"
#include "series_resolver.h"
#include "store/store.h"

namespace sluice::gateway::pipeline {

// Counters every shard adds to; relaxed atomics.
struct ShardCounters {
  std::atomic<std::uint64_t> decoded{0}, malformed{0}, unmatched{0}, samples{0};
  std::atomic<std::uint64_t> records_stored{0}, records_dropped{0}, series_conflicts{0};
  std::atomic<std::uint64_t> batches{0}, append_retries{0}, rebirths{0};
  // Durable-acknowledgement latency (PipelineCounters::ack_latency).
  std::array<std::atomic<std::uint64_t>, kAckLatencyBoundsUs.size() + 1> ack_latency{};
  std::atomic<std::uint64_t> ack_latency_sum_us{0};
};

// What the shards share; owned by the pipeline, outlives them.
struct ShardEnv {
  PipelineOptions options;
  std::uint32_t max_value_bytes = 64u << 10;
  std::uint64_t max_batch_bytes = 512u << 10;
  store::Store* store = nullptr;
  SeriesResolver* series = nullptr;
  PressureController* pressure = nullptr;
  ShardCounters* counters = nullptr;
  const Pipeline::PublishFn* publish = nullptr;
  const Pipeline::AckFn* ack = nullptr;
};

// The acknowledgements riding on one store batch. The store's completion
// callback sends them the moment the batch is durable, without waiting for
// the shard to wake; the shard sends what is left (a failed batch's, or one
// whose callback ran before they were added).
class AckBatch {
 public:
  // False when the batch already went out durable: the caller sends `ack`.
  bool Add(const MessageAck& ack) {
    MutexLock lock(mu_);
    if (sent_) return false;
    acks_.push_back(ack);
    return true;
  }
  void Add(std::vector<MessageAck>& acks) {
    MutexLock lock(mu_);
    for (auto& a : acks) acks_.push_back(a);
    acks.clear();
  }
  // Everything not sent yet; later Add() calls return false.
  std::vector<MessageAck> Take() {
    MutexLock lock(mu_);
    sent_ = true;
    return std::move(acks_);
  }

 private:
  Mutex mu_;
  std::vector<MessageAck> acks_ SLUICE_GUARDED_BY(mu_);
  bool sent_ SLUICE_GUARDED_BY(mu_) = false;
};

class Shard {
 public:
  Shard(const ShardEnv& env, std::unique_ptr<IngestDecoder> decoder, std::uint32_t index);
  ~Shard();

  BoundedQueue<InboundMessage>& queue() { return *queue_; }
  const IngestDecoder& decoder() const { return *decoder_; }
  void Start();
  // REQUIRES: queue().Close() was called. Returns once everything queued is
  // appended and every ticket completed (or, if the store keeps refusing,
  // abandoned after a few seconds and counted as dropped).
  void Join();

 private:
  using Clock = std::chrono::steady_clock;
  struct InFlight {
    store::Batch batch;
    // Messages whose last record is in this batch: acknowledged when it is
    // durable. (Earlier batches of the shard complete first: Reap is in order.)
    std::shared_ptr<AckBatch> acks;  // null: none
    store::Ticket ticket = store::Ticket::Completed(Status::Ok());
    std::uint32_t attempts = 0;
    Clock::time_point first_append{};  // for the latency histogram
    bool waiting_retry = false;
    Clock::time_point retry_at{};
  };

  void Run();
  void Handle(InboundMessage& m);
  void Flush();
  void Append(InFlight& f);
  // Completes finished appends in order; schedules retries.
  void Reap();
  // Waits for the oldest append (or its retry time), bounded by `limit`.
  void WaitOldest(Clock::time_point limit);
  Clock::time_point NextDeadline(Clock::time_point now) const;
  void LogLimited(const std::string& line);
  // Records the outcome of an acknowledged message: at once when it has no
  // record waiting, else with the batch that holds its last record.
  void Settle(const InboundMessage& m, MessageOutcome outcome, bool has_records);
  void Deliver(std::span<const MessageAck> acks);
  // Sends the acknowledgements of `f` its callback did not send; a batch
  // that failed for good sends `outcome` instead of what each message had.
  void DeliverRest(InFlight& f, MessageOutcome outcome);

  const ShardEnv& env_;
  std::unique_ptr<IngestDecoder> decoder_;
  const std::uint32_t index_;
  // Shared with the ticket callbacks: the store may run one after the
  // shard saw the ticket done and went away.
  std::shared_ptr<BoundedQueue<InboundMessage>> queue_;
  Batcher batch_;
  std::deque<InFlight> inflight_;
  std::vector<Sample> samples_;
  std::vector<OutboundMessage> publish_;
  std::vector<UserProperty> props_;
  std::vector<MessageAck> acks_;  // settled with the open batch
  bool closing_ = false;
  Clock::time_point give_up_at_{};
  RateLimitedLog log_limit_{1'000'000'000, 5};  // LogLimited: 5 lines a second
  std::thread thread_;
};

}  // namespace sluice::gateway::pipeline
