#include "engine_token_bucket.h"

#include <algorithm>
#include <cmath>

namespace sluice::sync {

TokenBucket::TokenBucket(std::uint64_t rate_bytes_per_s, std::uint64_t burst_bytes,
                         std::int64_t now_ns)
    : rate_(static_cast<double>(rate_bytes_per_s) / 1e9),
      burst_(static_cast<double>(burst_bytes != 0 ? burst_bytes : rate_bytes_per_s)),
      tokens_(burst_),
      last_ns_(now_ns) {}

void TokenBucket::Refill(std::int64_t now_ns) {
  // A clock that steps back (it should not: monotonic) adds nothing.
  if (now_ns > last_ns_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ns - last_ns_) * rate_);
    last_ns_ = now_ns;
  }
}

std::int64_t TokenBucket::Reserve(std::uint64_t bytes, std::int64_t now_ns) {
  if (rate_ <= 0) return now_ns;
  MutexLock lock(mu_);
  Refill(now_ns);
  tokens_ -= static_cast<double>(bytes);
  if (tokens_ >= 0) return now_ns;
  // The debt is repaid at `rate_`; last_ns_ may lie ahead of now_ns when the
  // clock went back, which only makes the wait longer, never shorter.
  return last_ns_ + static_cast<std::int64_t>(std::ceil(-tokens_ / rate_));
}

double TokenBucket::Available(std::int64_t now_ns) {
  MutexLock lock(mu_);
  Refill(now_ns);
  return tokens_;
}

}  // namespace sluice::sync
