// Float64 values that are decimals in disguise (21.375, 0.026173): the
// double m / 10^d for an integer m and at most kMaxDecimalDigits digits d.
// The write buffer's batches (batch_format.h) and the blocks' float64
// chunks (block_format.h) store such values as m, bit-exact: the encoders
// check each one with the decoders' own division.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace sluice::store {

inline constexpr int kMaxDecimalDigits = 15;

inline constexpr double kPow10[kMaxDecimalDigits + 1] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

// Every integer of smaller magnitude is exactly a double.
inline constexpr std::int64_t kExactIntegerLimit = std::int64_t{1} << 53;

// What the decoders compute for m at `digits` (0 to kMaxDecimalDigits).
inline double FromDecimal(std::int64_t m, int digits) {
  return static_cast<double>(m) / kPow10[digits];
}

inline bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The fewest digits after the point with which `v` round-trips bit for bit
// through FromDecimal, and its m (|m| < 2^53); false when none does (NaN,
// infinities, -0.0, values with more digits).
inline bool AsDecimal(double v, int& digits, std::int64_t& m) {
  constexpr double kExact = static_cast<double>(kExactIntegerLimit);
  for (int k = 0; k <= kMaxDecimalDigits; ++k) {
    const double scaled = std::nearbyint(v * kPow10[k]);
    if (!(std::fabs(scaled) < kExact)) return false;
    const auto candidate = static_cast<std::int64_t>(scaled);
    if (SameBits(FromDecimal(candidate, k), v)) {  // not ==: -0.0 must stay -0.0
      digits = k;
      m = candidate;
      return true;
    }
  }
  return false;
}

// m at `more` extra digits (m * 10^more), while its magnitude stays below
// 2^53; false otherwise. m / 10^d and (m * 10^k) / 10^(d + k) are the same
// real number, so IEEE division, correctly rounded, gives the same double.
inline bool ScaleDecimal(std::int64_t m, int more, std::int64_t& out) {
  std::int64_t p = 1;
  for (int i = 0; i < more; ++i) p *= 10;
  const std::int64_t limit = (kExactIntegerLimit - 1) / p;
  if (m > limit || m < -limit) return false;
  out = m * p;
  return true;
}

}  // namespace sluice::store
