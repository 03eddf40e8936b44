// A token bucket that paces uploads to a byte rate. Reservation style: a
// caller takes a chunk's bytes at once, possibly into debt, and is told how
// long to wait before sending it, so chunks larger than the burst still go
// out and the long-run rate never exceeds the limit. Callers are served in
// the order they reserve.
#pragma once

#include <cstdint>

#include "base/mutex.h"

namespace sluice::sync {

class TokenBucket {
 public:
  // rate_bytes_per_s 0: unlimited (Reserve never waits). burst_bytes 0: one
  // second's worth. The bucket starts full at `now_ns`.
  TokenBucket(std::uint64_t rate_bytes_per_s, std::uint64_t burst_bytes, std::int64_t now_ns);

  // Takes `bytes` tokens at `now_ns`; returns the time at which the caller
  // may start sending (<= now_ns when it may start at once).
  std::int64_t Reserve(std::uint64_t bytes, std::int64_t now_ns);

  // Tokens available at `now_ns` (negative: debt), for tests and health.
  double Available(std::int64_t now_ns);

 private:
  void Refill(std::int64_t now_ns) SLUICE_REQUIRES(mu_);

  const double rate_;   // bytes per ns
  const double burst_;  // bytes
  Mutex mu_;
  double tokens_ SLUICE_GUARDED_BY(mu_);
  std::int64_t last_ns_ SLUICE_GUARDED_BY(mu_);
};

}  // namespace sluice::sync
