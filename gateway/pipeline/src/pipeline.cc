#include "gateway/pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "base/mutex.h"
#include "gateway/ingest/topic_rules.h"
#include "pressure.h"
#include "series_resolver.h"
#include "shard.h"
#include "shed.h"
#include "store/store.h"

namespace sluice::gateway {

std::string_view PressureLevelName(PressureLevel level) {
  switch (level) {
    case PressureLevel::kOpen: return "open";
    case PressureLevel::kSlow: return "slow";
    case PressureLevel::kStop: return "stop";
  }
  return "?";
}

std::string_view ShedReasonName(ShedReason reason) {
  switch (reason) {
    case ShedReason::kQos0: return "qos0";
    case ShedReason::kPriority: return "priority";
    case ShedReason::kCount: break;
  }
  return "?";
}

std::uint64_t PipelineCounters::ShedTotal() const {
  std::uint64_t n = 0;
  for (const auto& c : shed) n += c[0] + c[1];
  return n;
}

// The routing key of a topic: the edge node for Sparkplug B
// (spBv1.0/<group>/<type>/<node>[/<device>] -> "<group>/<node>"), so that a
// node's births and data are decoded in order by one shard; else the topic.
std::uint64_t RoutingHash(std::string_view topic) {
  constexpr std::string_view kSparkplug = "spBv1.0/";
  if (topic.starts_with(kSparkplug)) {
    std::string_view rest = topic.substr(kSparkplug.size());
    const auto g = rest.find('/');
    if (g != std::string_view::npos) {
      const std::string_view group = rest.substr(0, g);
      rest.remove_prefix(g + 1);
      const auto t = rest.find('/');
      if (t != std::string_view::npos) {
        rest.remove_prefix(t + 1);
        const std::string_view node = rest.substr(0, rest.find('/'));
        return std::hash<std::string_view>{}(group) * 31 + std::hash<std::string_view>{}(node);
      }
    }
  }
  return std::hash<std::string_view>{}(topic);
}

namespace {

using pipeline::PressureController;
using pipeline::SeriesResolver;
using pipeline::Shard;

class PipelineImpl final : public Pipeline {
 public:
  PipelineImpl(const PipelineOptions& options, RuleSet rules, const PipelineStoreLimits& limits,
               store::Store* store)
      : options_(options),
        rules_(std::move(rules)),
        series_(store),
        pressure_(store, limits.disk_slow_bytes, options.slow_queue_pct,
                  options.pressure_poll,
                  [this] { return QueueFillPct(); }) {
    env_.options = options;
    env_.max_value_bytes = limits.max_value_bytes;
    env_.max_batch_bytes = limits.max_batch_bytes;
    env_.store = store;
    env_.series = &series_;
    env_.pressure = &pressure_;
    env_.counters = &counters_;
    env_.publish = &publish_;
    env_.ack = &ack_;
  }

  ~PipelineImpl() override { Drain(); }

  Status Init(const IngestOptions& ingest) {
    for (std::uint32_t i = 0; i < options_.shards; ++i) {
      SLUICE_ASSIGN_OR_RETURN(auto decoder, IngestDecoder::Create(ingest));
      shards_.push_back(std::make_unique<Shard>(env_, std::move(decoder), i));
    }
    return Status::Ok();
  }

  void Start() {
    pressure_.Start();
    for (auto& s : shards_) s->Start();
  }

  OfferResult Offer(InboundMessage m) override {
    in_.fetch_add(1, std::memory_order_relaxed);
    if (closed_.load(std::memory_order_acquire)) return Closed();
    PressureLevel level = pressure_.level();
    if (level != PressureLevel::kOpen) {
      const auto t0 = std::chrono::steady_clock::now();
      if (auto shed = MaybeShed(m, level)) return *shed;
      if (level == PressureLevel::kSlow) {
        std::this_thread::sleep_for(options_.slow_delay);
      }
      while (pressure_.level() == PressureLevel::kStop) {
        if (auto shed = MaybeShed(m, PressureLevel::kStop)) return *shed;
        pressure_.WaitWhileStopped(closed_);
        if (closed_.load(std::memory_order_acquire)) return Closed();
      }
      slowed_us_.fetch_add(static_cast<std::uint64_t>(
                               std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - t0)
                                   .count()),
                           std::memory_order_relaxed);
    }
    Shard& shard = *shards_[RoutingHash(m.topic) % shards_.size()];
    if (!shard.queue().Push(m)) return Closed();
    queued_.fetch_add(1, std::memory_order_relaxed);
    return OfferResult::kQueued;
  }

  OfferResult TryOffer(InboundMessage& m) override {
    if (closed_.load(std::memory_order_acquire)) {
      in_.fetch_add(1, std::memory_order_relaxed);
      return Closed();
    }
    const PressureLevel level = pressure_.level();
    if (level != PressureLevel::kOpen) {
      if (auto shed = MaybeShed(m, level)) {
        in_.fetch_add(1, std::memory_order_relaxed);
        return *shed;
      }
      if (level == PressureLevel::kStop) return OfferResult::kBusy;
    }
    Shard& shard = *shards_[RoutingHash(m.topic) % shards_.size()];
    using R = pipeline::BoundedQueue<InboundMessage>::TryPushResult;
    switch (shard.queue().TryPush(m)) {
      case R::kFull: return OfferResult::kBusy;
      case R::kClosed:
        in_.fetch_add(1, std::memory_order_relaxed);
        return Closed();
      case R::kPushed: break;
    }
    in_.fetch_add(1, std::memory_order_relaxed);
    queued_.fetch_add(1, std::memory_order_relaxed);
    return OfferResult::kQueued;
  }

  void SetPublisher(PublishFn publish) override { publish_ = std::move(publish); }
  void SetAcker(AckFn ack) override { ack_ = std::move(ack); }
  void AddPressureSource(PressureSource source) override { pressure_.AddSource(std::move(source)); }

  void CloseIntake() override {
    closed_.store(true, std::memory_order_release);
    pressure_.NotifyAll();
    for (auto& s : shards_) s->queue().Close();
  }

  void Drain() override {
    MutexLock lock(mu_);
    if (drained_) return;
    CloseIntake();
    for (auto& s : shards_) s->Join();
    pressure_.Stop();
    drained_ = true;
  }

  PipelineCounters counters() const override {
    PipelineCounters c;
    auto get = [](const std::atomic<std::uint64_t>& a) {
      return a.load(std::memory_order_relaxed);
    };
    c.messages_in = get(in_);
    c.messages_queued = get(queued_);
    c.messages_closed = get(closed_count_);
    c.messages_decoded = get(counters_.decoded);
    c.messages_malformed = get(counters_.malformed);
    c.messages_unmatched = get(counters_.unmatched);
    for (std::size_t p = 0; p < 3; ++p) {
      for (std::size_t r = 0; r < 2; ++r) {
        c.shed[p][r] = shed_.Get(static_cast<PriorityClass>(p), static_cast<ShedReason>(r));
      }
    }
    c.samples = get(counters_.samples);
    c.records_stored = get(counters_.records_stored);
    c.records_dropped = get(counters_.records_dropped);
    c.series_registered = series_.registered();
    c.series_conflicts = get(counters_.series_conflicts);
    c.batches = get(counters_.batches);
    c.append_retries = get(counters_.append_retries);
    c.rebirth_requests = get(counters_.rebirths);
    c.slowed_us = get(slowed_us_);
    c.rules.resize(rules_.rules().size());
    for (const auto& s : shards_) {
      for (std::size_t r = 0; r < c.malformed.size(); ++r) {
        c.malformed[r] += s->decoder().malformed().Get(static_cast<MalformedReason>(r));
      }
      const std::vector<RuleCounts> rules = s->decoder().rule_counts();
      for (std::size_t r = 0; r < rules.size() && r < c.rules.size(); ++r) {
        c.rules[r].matched += rules[r].matched;
        c.rules[r].malformed += rules[r].malformed;
        c.rules[r].samples += rules[r].samples;
      }
      auto [text, at] = s->decoder().last_malformed();
      if (!text.empty() && (c.last_malformed.empty() || at > c.last_malformed_ns)) {
        c.last_malformed = std::move(text);
        c.last_malformed_ns = at;
      }
    }
    c.level = pressure_.level();
    for (std::size_t i = 0; i < c.ack_latency.size(); ++i)
      c.ack_latency[i] = get(counters_.ack_latency[i]);
    c.ack_latency_sum_us = get(counters_.ack_latency_sum_us);
    return c;
  }

  PressureLevel level() const override { return pressure_.level(); }

 private:
  OfferResult Closed() {
    closed_count_.fetch_add(1, std::memory_order_relaxed);
    return OfferResult::kClosed;
  }

  std::optional<OfferResult> MaybeShed(const InboundMessage& m, PressureLevel level) {
    if (options_.shed == ShedPolicy::kNone) return std::nullopt;
    // Sheds are counted by class, so the rule is matched even for QoS 0.
    PriorityClass priority = PriorityClass::kLow;  // unmatched: refused later anyway
    RuleMatch match;
    if (rules_.Match(m.topic, match)) priority = match.rule->options.priority;
    auto reason = pipeline::ShedDecision(options_.shed, level, m.qos, priority);
    if (!reason) return std::nullopt;
    shed_.Add(priority, *reason);
    return OfferResult::kShed;
  }

  std::uint32_t QueueFillPct() const {
    std::uint32_t worst = 0;
    for (const auto& s : shards_) {
      worst = std::max<std::uint32_t>(
          worst, static_cast<std::uint32_t>(s->queue().size() * 100 / s->queue().capacity()));
    }
    return worst;
  }

  const PipelineOptions options_;
  const RuleSet rules_;
  SeriesResolver series_;
  PressureController pressure_;
  pipeline::ShardCounters counters_;
  pipeline::ShardEnv env_;
  PublishFn publish_;
  AckFn ack_;
  std::vector<std::unique_ptr<Shard>> shards_;
  pipeline::ShedCounters shed_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> in_{0}, queued_{0}, closed_count_{0}, slowed_us_{0};
  Mutex mu_;
  bool drained_ = false;
};

}  // namespace

Result<std::unique_ptr<Pipeline>> Pipeline::Create(const PipelineOptions& options,
                                                   const IngestOptions& ingest,
                                                   const PipelineStoreLimits& limits,
                                                   store::Store* store) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  SLUICE_ASSIGN_OR_RETURN(auto rules, RuleSet::Build(ingest));
  auto p = std::make_unique<PipelineImpl>(options, std::move(rules), limits, store);
  SLUICE_RETURN_IF_ERROR(p->Init(ingest));
  p->Start();
  return std::unique_ptr<Pipeline>(std::move(p));
}

}  // namespace sluice::gateway
