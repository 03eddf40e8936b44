// Decides which lines of a noisy log may go out: at most N per window of a
// fixed length; the rest are counted, and the count of a window is handed
// back once, at the first line of a later window, for one summary line.
// It writes nothing itself (base knows no logger): the caller asks, then
// logs.
//
//   RateLimitedLog limit_{1'000'000'000, 5};  // 5 lines a second
//
//   const RateLimitedLog::Verdict v = limit_.Check(MonotonicNs());
//   if (v.suppressed > 0) spdlog::warn("{} similar lines suppressed", v.suppressed);
//   if (v.log) spdlog::warn("{}", line);
//
// Time comes in as an argument (ns, from whichever clock the caller reads),
// so tests drive it. Thread-safe; one short critical section per call, meant
// for error paths, not for every message of a hot loop.
#pragma once

#include <cstdint>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace sluice {

class RateLimitedLog {
 public:
  // Where a window starts.
  enum class Windows {
    // At the first line after the previous window ended; a clock that steps
    // back stays in the current window.
    kFromFirstLine,
    // On multiples of the interval since the clock's epoch (whole seconds of
    // the wall clock, say); a line in any other window, earlier ones too,
    // opens a new one.
    kAligned,
  };

  struct Verdict {
    bool log = false;  // this line may go out
    // Lines held back in the window that ended before this line's window,
    // reported with the first line of a new window and then forgotten.
    std::uint64_t suppressed = 0;
  };

  // `interval_ns` > 0; `lines_per_interval` may be 0 (hold back every line,
  // still counting).
  RateLimitedLog(std::int64_t interval_ns, std::uint32_t lines_per_interval,
                 Windows windows = Windows::kFromFirstLine);
  RateLimitedLog(const RateLimitedLog&) = delete;
  RateLimitedLog& operator=(const RateLimitedLog&) = delete;

  // Counts one line at `now_ns`: whether it may go out, and what an ended
  // window held back.
  [[nodiscard]] Verdict Check(std::int64_t now_ns);

  // Lines held back since construction.
  std::uint64_t suppressed_total() const;

 private:
  // Whether `now_ns` lies in the window opened at `opened_ns_`.
  bool InWindow(std::int64_t now_ns) const SLUICE_REQUIRES(mu_);

  const std::int64_t interval_ns_;
  const std::uint32_t lines_per_interval_;
  const Windows windows_;
  mutable Mutex mu_;
  bool open_ SLUICE_GUARDED_BY(mu_) = false;             // false until the first line
  std::int64_t opened_ns_ SLUICE_GUARDED_BY(mu_) = 0;    // the first line of the window
  std::uint32_t lines_ SLUICE_GUARDED_BY(mu_) = 0;       // let through in the window
  std::uint64_t suppressed_ SLUICE_GUARDED_BY(mu_) = 0;  // held back in the window
  std::uint64_t suppressed_total_ SLUICE_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice
