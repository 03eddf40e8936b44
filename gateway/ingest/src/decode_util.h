// Helpers shared by the payload decoders: timestamps and common results.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "gateway/ingest/ingest_options.h"
#include "gateway/ingest/ingest_types.h"

namespace sluice::gateway::ingest {

// value * unit in ns; false on overflow.
bool ScaleToNs(std::int64_t value, TimeUnit unit, std::int64_t& ns);
// Same for a fractional value (JSON numbers such as 1714567890.123 s); false
// when not finite or out of the int64 ns range.
bool ScaleToNs(double value, TimeUnit unit, std::int64_t& ns);

// RFC 3339 date-time: "2024-05-01T12:00:00Z", "...T12:00:00.123456789+02:00".
// 'T' may be 't' or ' '; 'Z' may be 'z'. Years 1678..2261 fit int64 ns.
// Lenient where devices are: a leap second (:60) folds onto the next second,
// as POSIX time does, and fraction digits past the nanosecond are dropped
// (sluice::ParseRfc3339 in base/civil_time.h with those options).
bool ParseRfc3339(std::string_view text, std::int64_t& ns);

// A timestamp written as text: an integer in `unit`, or RFC 3339.
bool ParseTimestampText(std::string_view text, TimeUnit unit, std::int64_t& ns);

// The timestamp of a message whose rule takes it from the receive time or a
// user property; nullopt when the property is missing or unparsable.
std::optional<std::int64_t> MessageTimestamp(const Message& message, TimestampSource source,
                                             std::string_view key, TimeUnit unit);

}  // namespace sluice::gateway::ingest
