// The real Env's persistent-memory mappings (posix_pmem.cc), through
// libpmem2: writes with its memcpy (non-temporal stores or CLWB as the CPU
// allows), Drain with its drain (SFENCE), msync where the mapping's
// granularity is the page.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "store/env.h"

namespace sluice::store {

// Maps the open descriptor `fd` whole, at whatever granularity the file
// allows. Takes `fd`: it is closed with the region, or at once on failure.
Result<std::unique_ptr<PersistentRegion>> MapPersistentFile(int fd, const std::string& path);

}  // namespace sluice::store
