#include "gateway/admin/health.h"

#include <algorithm>
#include <cstdio>

namespace sluice::gateway::admin {

std::string SyncStuckReason(const sync::SyncHealth& y, std::chrono::seconds stuck_after,
                            std::int64_t start_wall_ns, std::int64_t now_wall_ns) {
  const std::int64_t stuck_after_s = stuck_after.count();
  if (!y.running || stuck_after_s == 0 || y.backlog_partitions == 0) return "";
  const std::int64_t since = std::max(y.last_success_ns, start_wall_ns);
  const std::int64_t idle_s = (now_wall_ns - since) / 1'000'000'000;
  if (idle_s < stuck_after_s) return "";
  std::string why = "sync stuck: no upload confirmed for " + std::to_string(idle_s) + " s" +
                    (y.last_success_ns == 0 ? " (none since start)" : "") +
                    ", more than admin.sync_stuck_after (" + std::to_string(stuck_after_s) +
                    " s), while " + std::to_string(y.backlog_partitions) + " sealed partitions (" +
                    std::to_string(y.backlog_bytes) + " bytes) wait";
  if (!y.last_error.empty()) {
    why += "; last error: " + y.last_error;
  } else if (!y.last_permanent_error.empty()) {
    why += "; last permanent error: " + y.last_permanent_error;
  }
  return why;
}

std::string ClockJumpText(std::int64_t jump_ns) {
  const char sign = jump_ns < 0 ? '-' : '+';
  // Magnitude in whole seconds, without overflowing on INT64_MIN.
  const std::uint64_t s =
      (jump_ns < 0 ? 0 - static_cast<std::uint64_t>(jump_ns) : static_cast<std::uint64_t>(jump_ns)) /
      1'000'000'000;
  char b[48];
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  if (s < 60) {
    std::snprintf(b, sizeof b, "%c%llus", sign, u(s));
  } else if (s < 3600) {
    std::snprintf(b, sizeof b, "%c%llum%02llus", sign, u(s / 60), u(s % 60));
  } else if (s < 86400) {
    std::snprintf(b, sizeof b, "%c%lluh%02llum", sign, u(s / 3600), u(s / 60 % 60));
  } else if (s % 86400 < 3600) {
    std::snprintf(b, sizeof b, "%c%llud", sign, u(s / 86400));
  } else {
    std::snprintf(b, sizeof b, "%c%llud%02lluh", sign, u(s / 86400), u(s / 3600 % 24));
  }
  return b;
}

}  // namespace sluice::gateway::admin
