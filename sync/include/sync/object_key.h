// Upstream object keys.
//
// Keys are Hive-style so that Spark, Trino and friends prune by them, and
// deterministic: the same partition always maps to the same key, which is
// what makes a retried upload idempotent (see ../../README.md).
//
//   <prefix>/site=<site>/gateway=<id>/date=<YYYY-MM-DD>/hour=<HH>/<window>-<shard>-<seq>.<ext>
//
// date= and hour= name the UTC hour of the data the object holds (its
// records' own timestamps), so that a query on the data's dates prunes to
// exactly the objects holding it; <window> is the partition's start time as
// UTC `YYYYMMDDTHHMMSSZ`, <shard> and <seq> are zero-padded decimal so that
// keys sort in time order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sluice::sync {

struct ObjectKeyParts {
  std::string prefix;             // may be empty; no leading or trailing '/'
  std::string site;               // [A-Za-z0-9._-]+
  std::string gateway_id;         // [A-Za-z0-9._-]+
  std::int64_t window_start_ns = 0;  // partition start, ns since the Unix epoch, >= 0
  std::uint32_t shard = 0;
  std::uint64_t seq = 0;
  // Start of the UTC hour of the object's data, ns, >= 0: date= and hour=.
  // Unset: the window's hour.
  std::optional<std::int64_t> data_hour_ns;
  std::string extension = "slp";  // [a-z0-9]+
};

// Checks a key component: non-empty, at most 128 bytes, [A-Za-z0-9._-] only,
// not "." or "..". `what` names the component in the error.
Status ValidateKeyComponent(std::string_view what, std::string_view value);

Result<std::string> BuildObjectKey(const ObjectKeyParts& parts);

}  // namespace sluice::sync
