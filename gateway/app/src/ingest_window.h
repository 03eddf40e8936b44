// Figures over a recent window for /v1/status: ingest rates over the last
// 10 s and durable-ack latency quantiles over the last 60 s. The App's
// sampler thread adds one sample of the pipeline's cumulative counters a
// second; a window is the difference between the counters now and a
// sample from its start. Pure apart from its mutex: the clock is the
// caller's, so tests drive it with made-up times.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>

#include "base/mutex.h"
#include "gateway/pipeline/pipeline.h"

namespace sluice::gateway::app {

using AckLatencyHistogram = std::array<std::uint64_t, kAckLatencyBoundsUs.size() + 1>;

struct IngestSample {
  std::int64_t at_ns = 0;  // monotonic clock, any epoch
  std::uint64_t records_stored = 0;
  std::uint64_t messages_in = 0;
  AckLatencyHistogram ack_latency{};
};

IngestSample SampleOf(const PipelineCounters& counters, std::int64_t at_ns);

// The q-quantile (0 < q <= 1) of a durable-ack latency histogram laid out
// like PipelineCounters::ack_latency, in milliseconds, interpolated
// linearly inside its bucket (the first bucket starts at 0). A quantile
// in the last bucket (above every bound) is reported as the top bound:
// nothing better is known. Empty when the histogram counts nothing.
std::optional<double> AckLatencyQuantileMs(std::span<const std::uint64_t> buckets, double q);

struct IngestRates {
  double records_per_s = 0;
  double messages_per_s = 0;
};

class IngestWindow {
 public:
  // Enough one-second samples to reach back 60 s.
  static constexpr std::size_t kCapacity = 62;
  static constexpr std::chrono::seconds kRateWindow{10};
  static constexpr std::chrono::seconds kLatencyWindow{60};

  // Samples must come in time order. Thread-safe.
  void Add(const IngestSample& sample);

  // From the oldest sample at most kRateWindow older than the newest, to
  // the newest; zeros until there are two samples.
  IngestRates Rates() const;

  // The histogram of `now` less that of the oldest sample at most
  // kLatencyWindow older than it (with a younger gateway: the first
  // sample, taken at start, so the window is "since start").
  AckLatencyHistogram LatencyWindow(const IngestSample& now) const;

 private:
  mutable Mutex mu_;
  std::deque<IngestSample> samples_ SLUICE_GUARDED_BY(mu_);  // oldest first
};

}  // namespace sluice::gateway::app
