#include "engine_backoff.h"

#include <algorithm>

namespace sluice::sync {

std::int64_t BackoffCeilingNs(std::uint32_t failures, std::int64_t base_ns, std::int64_t cap_ns) {
  if (failures == 0 || base_ns <= 0) return 0;
  std::int64_t ceiling = base_ns;
  // Doubling stops at the cap, so no overflow for any failure count.
  for (std::uint32_t i = 1; i < failures && ceiling < cap_ns; ++i) ceiling *= 2;
  return std::min(ceiling, cap_ns);
}

std::int64_t FullJitterDelayNs(std::uint32_t failures, std::int64_t base_ns, std::int64_t cap_ns,
                               std::uint64_t random_bits) {
  const std::int64_t ceiling = BackoffCeilingNs(failures, base_ns, cap_ns);
  if (ceiling <= 0) return 0;
  return static_cast<std::int64_t>(random_bits % (static_cast<std::uint64_t>(ceiling) + 1));
}

}  // namespace sluice::sync
