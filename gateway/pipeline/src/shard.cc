#include "shard.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace sluice::gateway::pipeline {
namespace {

using namespace std::chrono_literals;

// After shutdown began, a store that keeps refusing appends is retried this
// long before the batch is given up (and counted as dropped).
constexpr auto kShutdownGiveUp = 5s;
constexpr auto kIdleWait = 100ms;
constexpr auto kRetryMin = 5ms;
constexpr auto kRetryMax = 1s;
// Messages a shard with an open batch lets gather before it wakes.
constexpr std::size_t kMaxGather = 256;

bool Retryable(const Status& s) {
  return s.code() == StatusCode::kNoSpace || s.code() == StatusCode::kIoError ||
         s.code() == StatusCode::kUnavailable;
}

std::size_t ValueBytes(const store::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return s->size();
  return 0;
}

void CountAckLatency(ShardCounters& c, std::chrono::steady_clock::duration d) {
  const auto us = static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kAckLatencyBoundsUs.begin(), kAckLatencyBoundsUs.end(), us) -
      kAckLatencyBoundsUs.begin());
  c.ack_latency[bucket].fetch_add(1, std::memory_order_relaxed);
  c.ack_latency_sum_us.fetch_add(us, std::memory_order_relaxed);
}

}  // namespace

Shard::Shard(const ShardEnv& env, std::unique_ptr<IngestDecoder> decoder, std::uint32_t index)
    : env_(env),
      decoder_(std::move(decoder)),
      index_(index),
      queue_(std::make_shared<BoundedQueue<InboundMessage>>(env.options.queue_capacity)),
      batch_(env.options.batch_max_records, env.max_batch_bytes,
             env.options.batch_linger) {}

Shard::~Shard() {
  queue_->Close();
  Join();
}

void Shard::Start() { thread_ = std::thread([this] { Run(); }); }

void Shard::Join() {
  if (thread_.joinable()) thread_.join();
}

Shard::Clock::time_point Shard::NextDeadline(Clock::time_point now) const {
  Clock::time_point d = now + kIdleWait;
  if (!batch_.empty()) d = std::min(d, batch_.deadline());
  if (!inflight_.empty() && inflight_.front().waiting_retry) {
    d = std::min(d, inflight_.front().retry_at);
  }
  return d;
}

void Shard::Run() {
  using Q = BoundedQueue<InboundMessage>;
  // While a batch is open its linger deadline bounds every wait, so the
  // shard can let messages gather in the queue instead of waking for each.
  const std::size_t gather =
      std::clamp<std::size_t>(env_.options.queue_capacity / 2, 1, kMaxGather);
  std::deque<InboundMessage> taken;
  for (;;) {
    const std::size_t want = batch_.empty() && inflight_.empty() ? 1 : gather;
    // A completed append only needs the shard awake when acknowledgements
    // wait in the open batch for a free append slot, or when no batch is
    // open (nothing else would wake it soon to count what was stored). With
    // a batch filling, its linger deadline brings the shard back anyway and
    // Reap() then counts every completed append: one context switch fewer
    // per batch.
    const bool events = !acks_.empty() || batch_.empty();
    const auto r = closing_ ? Q::Pop::kClosed
                            : queue_->PopAllUntil(taken, NextDeadline(Clock::now()), want, events);
    for (auto& m : taken) Handle(m);
    taken.clear();
    if (r == Q::Pop::kClosed && !closing_) {
      closing_ = true;
      give_up_at_ = Clock::now() + kShutdownGiveUp;
      // Take what is still queued: it was acknowledged to the broker.
      queue_->PopAllUntil(taken, Clock::now(), 1);
      for (auto& m : taken) Handle(m);
      taken.clear();
    }
    const auto now = Clock::now();
    // A batch holding messages whose sender waits for its acknowledgement
    // (the native endpoint) goes out as soon as an append slot is free: the
    // store's group commit does the batching, the linger would only add
    // latency. Others wait for the linger or a full batch.
    const bool acked_waiting =
        !acks_.empty() && inflight_.size() < env_.options.max_inflight_batches;
    if (batch_.Due(now) || acked_waiting || (closing_ && !batch_.empty())) Flush();
    Reap();
    if (closing_) {
      if (inflight_.empty() && batch_.empty()) return;
      WaitOldest(Clock::now() + kIdleWait);
      Reap();
    }
  }
}

void Shard::Handle(InboundMessage& m) {
  props_.clear();
  for (const auto& [k, v] : m.user_properties) props_.push_back({k, v});
  Message msg;
  msg.topic = m.topic;
  msg.payload = m.payload;
  msg.receive_time_ns = m.receive_time_ns;
  msg.user_properties = props_;
  samples_.clear();
  publish_.clear();
  DecodeStatus st = decoder_->Decode(msg, samples_, publish_);
  for (const auto& out : publish_) {
    env_.counters->rebirths.fetch_add(1, std::memory_order_relaxed);
    if (*env_.publish) (*env_.publish)(m.source, out);
  }
  if (!st.ok()) {
    const bool unmatched = st.unmatched;
    auto& c = unmatched ? env_.counters->unmatched : env_.counters->malformed;
    c.fetch_add(1, std::memory_order_relaxed);
    Settle(m, unmatched ? MessageOutcome::kUnmatched : MessageOutcome::kMalformed, false);
    return;  // the decoder counted the reason and logged it, rate-limited
  }
  env_.counters->decoded.fetch_add(1, std::memory_order_relaxed);
  env_.counters->samples.fetch_add(samples_.size(), std::memory_order_relaxed);
  const auto now = Clock::now();
  std::size_t added = 0;
  bool prefetched = false;
  for (std::size_t k = 0; k < samples_.size(); ++k) {
    auto& s = samples_[k];
    std::optional<store::SeriesRef> known = env_.series->Find(s.series);
    if (!known && !prefetched && k + 1 < samples_.size()) {
      // The first unknown name of a message with more to come: register
      // every new name from here on with one sync.
      std::vector<store::SeriesSpec> specs;
      for (std::size_t j = k; j < samples_.size(); ++j) {
        const Sample& x = samples_[j];
        if (ValueBytes(x.value) <= env_.max_value_bytes) {
          specs.push_back({x.series, x.type, x.unit});
        }
      }
      if (specs.size() > 1) {
        env_.series->Prefetch(specs);
        known = env_.series->Find(s.series);
      }
      prefetched = true;
    }
    if (ValueBytes(s.value) > env_.max_value_bytes) {
      // The store would refuse the whole batch for it: drop this one alone.
      env_.counters->records_dropped.fetch_add(1, std::memory_order_relaxed);
      LogLimited("series '" + s.series + "': bytes value of " +
                 std::to_string(ValueBytes(s.value)) + " bytes above store.max_value_bytes");
      continue;
    }
    auto id = known ? env_.series->Accept(*known, s.series, s.type)
                    : env_.series->Resolve(s.series, s.type, s.unit);
    if (!id.ok()) {
      env_.counters->series_conflicts.fetch_add(1, std::memory_order_relaxed);
      LogLimited("topic '" + m.topic + "': " + id.status().ToString());
      continue;
    }
    const std::size_t bytes = ValueBytes(s.value);
    batch_.Add(store::Record{*id, s.timestamp_ns, std::move(s.value)}, bytes, now);
    ++added;
    if (batch_.Full()) Flush();
  }
  const bool none_stored = added == 0 && !samples_.empty();
  Settle(m, none_stored ? MessageOutcome::kMalformed : MessageOutcome::kStored, added > 0);
}

void Shard::Settle(const InboundMessage& m, MessageOutcome outcome, bool has_records) {
  if (m.ack_tag == 0) return;
  const MessageAck ack{m.source, m.ack_tag, outcome};
  if (!has_records) {
    Deliver({&ack, 1});
  } else if (!batch_.empty()) {
    acks_.push_back(ack);
  } else {
    // Its last record filled a batch that is already on its way.
    SLUICE_CHECK(!inflight_.empty());
    auto& batch = inflight_.back().acks;
    if (!batch) batch = std::make_shared<AckBatch>();
    if (!batch->Add(ack)) Deliver({&ack, 1});  // that batch is durable already
  }
}

void Shard::Deliver(std::span<const MessageAck> acks) {
  if (!acks.empty() && env_.ack != nullptr && *env_.ack) (*env_.ack)(acks);
}

void Shard::Flush() {
  if (batch_.empty()) return;
  // At most max_inflight_batches appends wait for their tickets; past that
  // the shard waits, its queue fills, and Offer() pushes back.
  while (inflight_.size() >= env_.options.max_inflight_batches) {
    WaitOldest(Clock::time_point::max());
    Reap();
  }
  inflight_.emplace_back();
  inflight_.back().batch = batch_.Take();
  if (!acks_.empty()) {
    inflight_.back().acks = std::make_shared<AckBatch>();
    inflight_.back().acks->Add(acks_);
  }
  Append(inflight_.back());
}

void Shard::Append(InFlight& f) {
  f.waiting_retry = false;
  if (f.attempts++ == 0) f.first_append = Clock::now();
  env_.counters->batches.fetch_add(1, std::memory_order_relaxed);
  // A copy goes to the store: the records are kept until the ticket says
  // they are durable, so a refused append can be retried.
  // The callback may outlive the shard and the pipeline (it runs after the
  // ticket is done): it holds copies, never `this`.
  Pipeline::AckFn ack_fn;
  if (f.acks && env_.ack != nullptr) ack_fn = *env_.ack;
  f.ticket = env_.store->Append(
      f.batch, [q = queue_, acks = f.acks, ack_fn = std::move(ack_fn)](const Status& s) {
        if (s.ok() && acks && ack_fn) {
          const auto list = acks->Take();
          if (!list.empty()) ack_fn(list);
        }
        q->Wake();
      });
}

void Shard::WaitOldest(Clock::time_point limit) {
  if (inflight_.empty()) return;
  const InFlight& f = inflight_.front();
  if (f.waiting_retry) {
    std::this_thread::sleep_until(std::min(limit, f.retry_at));  // backoff, not a wait for an event
    return;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(limit - Clock::now());
  (void)f.ticket.WaitFor(std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(1000)));
}

void Shard::Reap() {
  while (!inflight_.empty()) {
    InFlight& f = inflight_.front();
    const auto now = Clock::now();
    if (f.waiting_retry) {
      if (closing_ && now >= give_up_at_) {
        env_.counters->records_dropped.fetch_add(f.batch.size(), std::memory_order_relaxed);
        spdlog::error("shard {}: store still refuses appends at shutdown; {} records dropped",
                      index_, f.batch.size());
        DeliverRest(f, MessageOutcome::kFailed);
        inflight_.pop_front();
        continue;
      }
      if (now < f.retry_at) return;
      Append(f);
    }
    if (!f.ticket.done()) return;
    const Status s = f.ticket.status();
    if (s.ok()) {
      env_.counters->records_stored.fetch_add(f.batch.size(), std::memory_order_relaxed);
      CountAckLatency(*env_.counters, now - f.first_append);
      if (f.attempts > 1) env_.pressure->ReportStoreAccepting();
      DeliverRest(f, MessageOutcome::kStored);
      inflight_.pop_front();
      continue;
    }
    if (Retryable(s)) {
      // Acknowledged to the broker already: keep it and try again, and stop
      // reading from the brokers meanwhile.
      env_.counters->append_retries.fetch_add(1, std::memory_order_relaxed);
      // Logged once per turn by the controller, not once per batch.
      env_.pressure->ReportStoreRefused(s);
      const auto backoff = std::min<std::chrono::microseconds>(
          kRetryMax, kRetryMin * (1u << std::min<std::uint32_t>(f.attempts, 8)));
      f.waiting_retry = true;
      f.retry_at = now + backoff;
      return;
    }
    env_.counters->records_dropped.fetch_add(f.batch.size(), std::memory_order_relaxed);
    spdlog::error("shard {}: store refused a batch of {} records: {}", index_, f.batch.size(),
                  s.ToString());
    DeliverRest(f, MessageOutcome::kFailed);
    inflight_.pop_front();
  }
}

void Shard::DeliverRest(InFlight& f, MessageOutcome outcome) {
  if (!f.acks) return;
  auto list = f.acks->Take();
  if (outcome != MessageOutcome::kStored) {
    for (auto& a : list) a.outcome = outcome;
  }
  Deliver(list);
}

void Shard::LogLimited(const std::string& line) {
  if (log_limit_.Check(MonotonicNs()).log) spdlog::warn("ingest: {}", line);
}

}  // namespace sluice::gateway::pipeline
