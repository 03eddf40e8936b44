#include "base/rate_limited_log.h"

#include "base/status.h"

namespace sluice {
namespace {

// Rounds toward negative infinity: times before the epoch fall in the window
// that contains them.
std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

RateLimitedLog::RateLimitedLog(std::int64_t interval_ns, std::uint32_t lines_per_interval,
                               Windows windows)
    : interval_ns_(interval_ns), lines_per_interval_(lines_per_interval), windows_(windows) {
  SLUICE_CHECK(interval_ns_ > 0);
}

bool RateLimitedLog::InWindow(std::int64_t now_ns) const {
  if (windows_ == Windows::kAligned) {
    return FloorDiv(now_ns, interval_ns_) == FloorDiv(opened_ns_, interval_ns_);
  }
  if (now_ns < opened_ns_) return true;
  // The difference of two int64 fits in a uint64 when it is not negative.
  const std::uint64_t elapsed =
      static_cast<std::uint64_t>(now_ns) - static_cast<std::uint64_t>(opened_ns_);
  return elapsed < static_cast<std::uint64_t>(interval_ns_);
}

RateLimitedLog::Verdict RateLimitedLog::Check(std::int64_t now_ns) {
  Verdict v;
  MutexLock lock(mu_);
  if (!open_ || !InWindow(now_ns)) {
    v.suppressed = suppressed_;
    open_ = true;
    opened_ns_ = now_ns;
    lines_ = 0;
    suppressed_ = 0;
  }
  if (lines_ < lines_per_interval_) {
    ++lines_;
    v.log = true;
  } else {
    ++suppressed_;
    ++suppressed_total_;
  }
  return v;
}

std::uint64_t RateLimitedLog::suppressed_total() const {
  MutexLock lock(mu_);
  return suppressed_total_;
}

}  // namespace sluice
