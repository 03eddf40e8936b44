#include "base/clock.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace sluice {
namespace {

constexpr std::int64_t kMsNs = 1'000'000;

// Reads `ns` and `ms` between two reads of `Clock` and checks that both lie
// between them; returns the ns read.
template <typename Clock>
std::int64_t CheckReadsOf(std::int64_t (*ns_fn)(), std::int64_t (*ms_fn)()) {
  const auto before = Clock::now();
  const std::int64_t ns = ns_fn();
  const std::int64_t ms = ms_fn();
  const auto after = Clock::now();
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  using std::chrono::nanoseconds;
  CHECK(ns >= duration_cast<nanoseconds>(before.time_since_epoch()).count());
  CHECK(ns <= duration_cast<nanoseconds>(after.time_since_epoch()).count());
  CHECK(ms >= duration_cast<milliseconds>(before.time_since_epoch()).count());
  CHECK(ms <= duration_cast<milliseconds>(after.time_since_epoch()).count());
  return ns;
}

TEST_CASE("the wall clock reads the system clock in ns and ms since the Unix epoch") {
  const std::int64_t ns = CheckReadsOf<std::chrono::system_clock>(WallNs, WallMs);
  CHECK(ns > 1'577'836'800LL * 1'000'000'000);  // after 2020-01-01
}

TEST_CASE("the monotonic clock reads the steady clock and never goes back") {
  CheckReadsOf<std::chrono::steady_clock>(MonotonicNs, MonotonicMs);
  std::int64_t last = MonotonicNs();
  for (int i = 0; i < 1000; ++i) {
    const std::int64_t t = MonotonicNs();
    CHECK(t >= last);
    last = t;
  }
}

TEST_CASE("milliseconds are the nanoseconds of the same clock truncated") {
  // Read ms between two ns reads: its value lies between theirs.
  const std::int64_t wall0 = WallNs();
  const std::int64_t wall_ms = WallMs();
  const std::int64_t wall1 = WallNs();
  CHECK(wall_ms >= wall0 / kMsNs);
  CHECK(wall_ms <= wall1 / kMsNs);
  const std::int64_t mono0 = MonotonicNs();
  const std::int64_t mono_ms = MonotonicMs();
  const std::int64_t mono1 = MonotonicNs();
  CHECK(mono_ms >= mono0 / kMsNs);
  CHECK(mono_ms <= mono1 / kMsNs);
}

TEST_CASE("a manual clock moves only when told to") {
  ManualClock clock(5 * kMsNs);
  const ClockFn now = clock.Fn();
  CHECK(now() == 5 * kMsNs);
  CHECK(now() == 5 * kMsNs);
  CHECK(clock.Advance(kMsNs) == 6 * kMsNs);
  CHECK(now() == 6 * kMsNs);
  CHECK(clock.Advance(-10 * kMsNs) == -4 * kMsNs);  // a wall clock stepping back
  CHECK(now() == -4 * kMsNs);
  clock.Set(42);
  CHECK(clock.Now() == 42);
  CHECK(now() == 42);
}

TEST_CASE("a manual clock advanced from several threads loses no step") {
  ManualClock clock;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 10'000; ++i) clock.Advance(1);
    });
  }
  for (auto& t : threads) t.join();
  CHECK(clock.Now() == 40'000);
}

TEST_CASE("a ClockFn holds either a real clock or a manual one") {
  ManualClock manual(7);
  std::vector<ClockFn> clocks = {WallNs, MonotonicNs, manual.Fn()};
  CHECK(clocks[0]() > 0);
  CHECK(clocks[1]() >= 0);
  CHECK(clocks[2]() == 7);
}

}  // namespace
}  // namespace sluice
