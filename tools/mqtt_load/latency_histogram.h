// Log-linear latency histogram (internal to mqtt_load): 64 buckets per
// power of two above 128 ns, so a percentile read at a bucket's midpoint is
// within 0.8% of the true value; 30 KiB whatever the number of samples. The
// maximum is kept exactly. One per I/O thread, merged at the end.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace sluice::mqtt_load {

class LatencyHistogram {
 public:
  LatencyHistogram() : counts_(kBuckets, 0) {}

  void Record(std::uint64_t ns) {
    ++counts_[Index(ns)];
    ++samples_;
    max_ = std::max(max_, ns);
  }

  void Merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    samples_ += other.samples_;
    max_ = std::max(max_, other.max_);
  }

  std::uint64_t samples() const { return samples_; }
  std::uint64_t max() const { return max_; }

  // The value at quantile q (0 < q <= 1) in ns; 0 without samples.
  double Quantile(double q) const {
    if (samples_ == 0) return 0;
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(samples_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(Midpoint(i), static_cast<double>(max_));
    }
    return static_cast<double>(max_);
  }

 private:
  static constexpr std::size_t kLinear = 128;  // exact below 128 ns
  static constexpr std::size_t kBuckets = kLinear + 57 * 64;

  static std::size_t Index(std::uint64_t v) {
    if (v < kLinear) return static_cast<std::size_t>(v);
    const int e = 63 - __builtin_clzll(v) - 6;  // v >> e is in [64, 128)
    return kLinear + static_cast<std::size_t>(e - 1) * 64 + static_cast<std::size_t>((v >> e) - 64);
  }

  static double Midpoint(std::size_t i) {
    if (i < kLinear) return static_cast<double>(i);
    const std::size_t e = (i - kLinear) / 64 + 1;
    const double lower = std::ldexp(static_cast<double>((i - kLinear) % 64 + 64), static_cast<int>(e));
    return lower + std::ldexp(0.5, static_cast<int>(e));
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t samples_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace sluice::mqtt_load
