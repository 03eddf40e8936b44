#include "gateway/admin/health.h"

#include <cstdio>

namespace sluice::gateway::admin {

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
