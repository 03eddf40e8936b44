#include "base/rate_limited_log.h"

#include <doctest/doctest.h>

#include <limits>
#include <thread>
#include <vector>

#include "base/clock.h"

namespace sluice {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMs = 1'000'000;
using Windows = RateLimitedLog::Windows;

// How many of `n` lines at `now` go out; `suppressed` gets the sum reported.
int Logged(RateLimitedLog& limit, std::int64_t now, int n, std::uint64_t* suppressed = nullptr) {
  int logged = 0;
  for (int i = 0; i < n; ++i) {
    const RateLimitedLog::Verdict v = limit.Check(now);
    logged += v.log ? 1 : 0;
    if (suppressed) *suppressed += v.suppressed;
  }
  return logged;
}

TEST_CASE("the first lines of a window go out and the rest are counted") {
  ManualClock clock(100 * kSecond);
  RateLimitedLog limit(kSecond, 5);
  std::uint64_t reported = 0;
  CHECK(Logged(limit, clock.Now(), 8, &reported) == 5);
  CHECK(reported == 0);
  CHECK(limit.suppressed_total() == 3);
  clock.Advance(999 * kMs);
  CHECK(Logged(limit, clock.Now(), 1, &reported) == 0);  // still the same window
  CHECK(limit.suppressed_total() == 4);
}

TEST_CASE("the first line of the next window reports what the last one held back") {
  ManualClock clock(100 * kSecond);
  RateLimitedLog limit(kSecond, 2);
  CHECK(Logged(limit, clock.Now(), 5) == 2);
  clock.Advance(kSecond);
  const RateLimitedLog::Verdict first = limit.Check(clock.Now());
  CHECK(first.log);
  CHECK(first.suppressed == 3);
  const RateLimitedLog::Verdict second = limit.Check(clock.Now());
  CHECK(second.log);
  CHECK(second.suppressed == 0);  // reported once
  CHECK(limit.suppressed_total() == 3);
}

TEST_CASE("a window that held nothing back reports nothing") {
  ManualClock clock(0);
  RateLimitedLog limit(kSecond, 5);
  std::uint64_t reported = 0;
  CHECK(Logged(limit, clock.Now(), 3, &reported) == 3);
  clock.Advance(10 * kSecond);
  CHECK(Logged(limit, clock.Now(), 3, &reported) == 3);
  CHECK(reported == 0);
  CHECK(limit.suppressed_total() == 0);
}

TEST_CASE("a window opened by a line lasts one interval from that line") {
  ManualClock clock(10 * kSecond + 700 * kMs);
  RateLimitedLog limit(kSecond, 1);
  CHECK(Logged(limit, clock.Now(), 2) == 1);
  clock.Advance(500 * kMs);  // past a whole second, but not a second after the first line
  CHECK(Logged(limit, clock.Now(), 1) == 0);
  clock.Advance(499 * kMs);
  CHECK(Logged(limit, clock.Now(), 1) == 0);
  clock.Advance(1 * kMs);  // exactly one interval after the first line
  const RateLimitedLog::Verdict v = limit.Check(clock.Now());
  CHECK(v.log);
  CHECK(v.suppressed == 3);
}

TEST_CASE("a clock stepping back keeps a window that opened at a line") {
  ManualClock clock(50 * kSecond);
  RateLimitedLog limit(kSecond, 1);
  CHECK(Logged(limit, clock.Now(), 1) == 1);
  clock.Advance(-20 * kSecond);
  CHECK(Logged(limit, clock.Now(), 1) == 0);
  clock.Set(50 * kSecond + kSecond);
  const RateLimitedLog::Verdict v = limit.Check(clock.Now());
  CHECK(v.log);
  CHECK(v.suppressed == 1);
}

TEST_CASE("aligned windows start on multiples of the interval") {
  ManualClock clock(10 * kSecond + 700 * kMs);
  RateLimitedLog limit(kSecond, 1, Windows::kAligned);
  CHECK(Logged(limit, clock.Now(), 3) == 1);
  clock.Set(10 * kSecond + 999 * kMs);
  CHECK(Logged(limit, clock.Now(), 1) == 0);
  clock.Set(11 * kSecond);  // the next whole second, 300 ms after the first line
  const RateLimitedLog::Verdict v = limit.Check(clock.Now());
  CHECK(v.log);
  CHECK(v.suppressed == 3);
}

TEST_CASE("an aligned window is left for an earlier one when the clock steps back") {
  ManualClock clock(10 * kSecond);
  RateLimitedLog limit(kSecond, 1, Windows::kAligned);
  CHECK(Logged(limit, clock.Now(), 2) == 1);
  clock.Set(9 * kSecond + 500 * kMs);
  const RateLimitedLog::Verdict v = limit.Check(clock.Now());
  CHECK(v.log);
  CHECK(v.suppressed == 1);
}

TEST_CASE("aligned windows before the epoch are whole intervals too") {
  ManualClock clock(-1);  // the last ns of the second before 1970
  RateLimitedLog limit(kSecond, 1, Windows::kAligned);
  CHECK(Logged(limit, clock.Now(), 1) == 1);
  clock.Set(-kSecond);  // the first ns of that second
  CHECK(Logged(limit, clock.Now(), 1) == 0);
  clock.Set(0);
  CHECK(Logged(limit, clock.Now(), 1) == 1);
}

TEST_CASE("the ends of the int64 range neither overflow nor merge windows") {
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  RateLimitedLog from_line(kSecond, 1);
  CHECK(Logged(from_line, kMin, 2) == 1);
  const RateLimitedLog::Verdict later = from_line.Check(kMax);
  CHECK(later.log);
  CHECK(later.suppressed == 1);
  RateLimitedLog aligned(kSecond, 1, Windows::kAligned);
  CHECK(Logged(aligned, kMin, 2) == 1);
  CHECK(Logged(aligned, kMax, 2) == 1);
  CHECK(aligned.suppressed_total() == 2);
}

TEST_CASE("a limit of zero lines holds back every line and still reports the count") {
  ManualClock clock(0);
  RateLimitedLog limit(kSecond, 0);
  CHECK(Logged(limit, clock.Now(), 4) == 0);
  clock.Advance(kSecond);
  const RateLimitedLog::Verdict v = limit.Check(clock.Now());
  CHECK_FALSE(v.log);
  CHECK(v.suppressed == 4);
  CHECK(limit.suppressed_total() == 5);
}

TEST_CASE("lines from several threads are each counted once") {
  RateLimitedLog limit(kSecond, 10);
  constexpr int kThreads = 4;
  constexpr int kLines = 5'000;
  std::vector<int> logged(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&limit, &logged, t] { logged[t] = Logged(limit, 7 * kSecond, kLines); });
  }
  for (auto& t : threads) t.join();
  int total = 0;
  for (int n : logged) total += n;
  CHECK(total == 10);
  CHECK(limit.suppressed_total() == kThreads * kLines - 10);
  const RateLimitedLog::Verdict v = limit.Check(8 * kSecond);
  CHECK(v.log);
  CHECK(v.suppressed == kThreads * kLines - 10);
}

}  // namespace
}  // namespace sluice
