// Retry delays: exponential backoff with full jitter (the delay is uniform
// in [0, min(cap, base * 2^(n-1))]), which spreads the retries of many
// partitions, or many gateways, after a shared outage instead of having
// them hit the upstream in lockstep.
#pragma once

#include <cstdint>

namespace sluice::sync {

// The upper bound of the delay after the `failures`-th consecutive failure
// (>= 1), ns: min(cap, base * 2^(failures-1)), without overflow.
std::int64_t BackoffCeilingNs(std::uint32_t failures, std::int64_t base_ns, std::int64_t cap_ns);

// A delay in [0, BackoffCeilingNs(...)], drawn from `random_bits`.
std::int64_t FullJitterDelayNs(std::uint32_t failures, std::int64_t base_ns, std::int64_t cap_ns,
                               std::uint64_t random_bits);

}  // namespace sluice::sync
