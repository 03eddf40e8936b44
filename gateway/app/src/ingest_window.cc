#include "ingest_window.h"

#include <algorithm>

namespace sluice::gateway::app {

IngestSample SampleOf(const PipelineCounters& counters, std::int64_t at_ns) {
  IngestSample s;
  s.at_ns = at_ns;
  s.records_stored = counters.records_stored;
  s.messages_in = counters.messages_in;
  s.ack_latency = counters.ack_latency;
  return s;
}

std::optional<double> AckLatencyQuantileMs(std::span<const std::uint64_t> buckets, double q) {
  std::uint64_t total = 0;
  for (auto n : buckets) total += n;
  if (total == 0) return std::nullopt;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  double below = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const double n = static_cast<double>(buckets[i]);
    if (n > 0 && below + n >= rank) {
      if (i >= kAckLatencyBoundsUs.size()) return kAckLatencyBoundsUs.back() / 1000.0;
      const double lo = i == 0 ? 0.0 : static_cast<double>(kAckLatencyBoundsUs[i - 1]);
      const double hi = static_cast<double>(kAckLatencyBoundsUs[i]);
      return (lo + (hi - lo) * ((rank - below) / n)) / 1000.0;
    }
    below += n;
  }
  return kAckLatencyBoundsUs.back() / 1000.0;  // not reached: rank <= total
}

void IngestWindow::Add(const IngestSample& sample) {
  MutexLock lock(mu_);
  samples_.push_back(sample);
  while (samples_.size() > kCapacity) samples_.pop_front();
}

IngestRates IngestWindow::Rates() const {
  MutexLock lock(mu_);
  if (samples_.size() < 2) return {};
  const IngestSample& newest = samples_.back();
  const std::int64_t from = newest.at_ns - std::chrono::nanoseconds(kRateWindow).count();
  const auto oldest = std::find_if(samples_.begin(), samples_.end(),
                                   [&](const IngestSample& s) { return s.at_ns >= from; });
  if (oldest->at_ns >= newest.at_ns) return {};
  const double seconds = static_cast<double>(newest.at_ns - oldest->at_ns) / 1e9;
  IngestRates r;
  r.records_per_s = static_cast<double>(newest.records_stored - oldest->records_stored) / seconds;
  r.messages_per_s = static_cast<double>(newest.messages_in - oldest->messages_in) / seconds;
  return r;
}

AckLatencyHistogram IngestWindow::LatencyWindow(const IngestSample& now) const {
  AckLatencyHistogram h = now.ack_latency;
  MutexLock lock(mu_);
  const std::int64_t from = now.at_ns - std::chrono::nanoseconds(kLatencyWindow).count();
  const auto base = std::find_if(samples_.begin(), samples_.end(),
                                 [&](const IngestSample& s) { return s.at_ns >= from; });
  if (base == samples_.end()) return h;
  for (std::size_t i = 0; i < h.size(); ++i) {
    h[i] = h[i] >= base->ack_latency[i] ? h[i] - base->ack_latency[i] : 0;
  }
  return h;
}

}  // namespace sluice::gateway::app
