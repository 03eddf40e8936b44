// A logger for malformed payloads that cannot flood the journal: at most N
// lines per second per reason (whole seconds of the clock `Log` is given);
// the lines it holds back are counted and reported in one summary line when
// the next second's first line goes out.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/rate_limited_log.h"
#include "gateway/ingest/ingest_types.h"

namespace sluice::gateway {

class MalformedLog {
 public:
  // Receives each line that passes the limit. The default writes a warning
  // through spdlog's default logger.
  using Sink = std::function<void(std::string_view line)>;

  explicit MalformedLog(std::uint32_t lines_per_second, Sink sink = {});

  // Logs `status` (which names the topic) unless `reason` already used its
  // lines in the second containing `now_ns`. Not thread-safe.
  void Log(MalformedReason reason, const Status& status, std::int64_t now_ns);

  // Lines held back since the start, all reasons.
  std::uint64_t suppressed_total() const;

  static constexpr std::size_t kReasons = static_cast<std::size_t>(MalformedReason::kCount);
  using PerReason = std::array<RateLimitedLog, kReasons>;

 private:
  Sink sink_;
  PerReason limits_;
};

}  // namespace sluice::gateway
