// The "last_errors" list of /v1/status: the last error each module keeps
// (sync, watermark, store, broker connections, endpoint, ingest), newest
// first, so that an operator sees in one place what went wrong lately
// without reading the journal.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gateway/app/app.h"

namespace sluice::gateway::app {

struct LastError {
  std::string where;  // sync | watermark | store | mqtt | endpoint | ingest
  std::string message;
  std::int64_t at_ns = 0;  // wall clock, ns since the epoch
};

inline constexpr std::size_t kMaxLastErrors = 20;

// Every error the modules still hold, newest first, at most kMaxLastErrors.
// A store that refuses appends is a present condition with no recorded
// start: it is dated `now_ns`.
std::vector<LastError> CollectLastErrors(const AppStats& stats,
                                         const store::StorePressure& pressure,
                                         std::span<const MqttConnectionInfo> brokers,
                                         std::int64_t now_ns);

// [{"where":...,"message":...,"at_ns":n},...]
std::string LastErrorsJson(std::span<const LastError> errors);

}  // namespace sluice::gateway::app
