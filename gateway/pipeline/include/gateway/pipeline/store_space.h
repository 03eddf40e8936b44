// The store's space in words, for the pipeline's log lines, /readyz and
// /v1/status. Pure functions of store::StorePressure.
#pragma once

#include <string>

#include "store/store.h"

namespace sluice::gateway::pipeline {

// Empty while the store takes appends; else the /readyz reason,
// "appends refused: no space (<full_reason>)", whatever the cause (the disk
// budget or the file system itself).
std::string StoreFullReason(const store::StorePressure& pressure);

// Empty unless free space on the store's file system is below the warning
// threshold (pressure.low_space): "3.2% free on the store's file system
// (1.3 GiB of 40.0 GiB)". A warning, never a failed probe.
std::string LowSpaceWarning(const store::StorePressure& pressure);

}  // namespace sluice::gateway::pipeline
