// The two clocks of Sluice, read as int64 counts, and the type through which
// a module takes a clock it can be given in tests.
//
//   Wall clock (std::chrono::system_clock): time since the Unix epoch. It may
//   jump, forward or back; use it for timestamps that leave the process
//   (arrival times, "last error at", object keys).
//   Monotonic clock (std::chrono::steady_clock, CLOCK_MONOTONIC on Linux):
//   never steps back, any epoch; use it for timeouts, intervals and rates.
//
// The readers are header-only: every call is one clock read.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

namespace sluice {

// A clock a module reads through its options or context, so that tests can
// drive time (ManualClock). Each such field says which clock it stands for
// and its unit.
using ClockFn = std::function<std::int64_t()>;

// Wall clock, ns since the Unix epoch.
inline std::int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Wall clock, ms since the Unix epoch (truncated).
inline std::int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic clock, ns (any epoch: compare only with other MonotonicNs values).
inline std::int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Monotonic clock, ms (truncated; any epoch).
inline std::int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A clock that moves only when told to, for tests. Thread-safe; Fn() hands
// out a ClockFn that reads it, valid while the ManualClock lives. It can
// stand for either clock: a test that steps it back plays a wall clock.
class ManualClock {
 public:
  explicit ManualClock(std::int64_t start = 0) : now_(start) {}
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  std::int64_t Now() const { return now_.load(std::memory_order_relaxed); }
  void Set(std::int64_t t) { now_.store(t, std::memory_order_relaxed); }
  // Moves the clock by `d` (negative: back) and returns the new time.
  std::int64_t Advance(std::int64_t d) { return now_.fetch_add(d, std::memory_order_relaxed) + d; }
  ClockFn Fn() const {
    return [this] { return Now(); };
  }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace sluice
