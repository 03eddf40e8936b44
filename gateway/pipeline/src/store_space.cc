#include "gateway/pipeline/store_space.h"

#include <cstdint>
#include <cstdio>

namespace sluice::gateway::pipeline {
namespace {

std::string Gib(std::uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  return b;
}

}  // namespace

std::string StoreFullReason(const store::StorePressure& p) {
  if (!p.full) return "";
  // A store that does not say why is still refusing: say what is known.
  return "appends refused: no space" + (p.full_reason.empty() ? "" : " (" + p.full_reason + ")");
}

std::string LowSpaceWarning(const store::StorePressure& p) {
  if (!p.low_space) return "";
  if (p.fs_total_bytes == 0) return "low free space on the store's file system";
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%",
                100.0 * static_cast<double>(p.fs_free_bytes) / static_cast<double>(p.fs_total_bytes));
  return std::string(pct) + " free on the store's file system (" + Gib(p.fs_free_bytes) + " of " +
         Gib(p.fs_total_bytes) + ")";
}

}  // namespace sluice::gateway::pipeline
