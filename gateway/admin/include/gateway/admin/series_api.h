// The read-only series API of the admin endpoint, answered from the store's
// DRAM index (docs/config.md, [admin]):
//
//   GET /v1/series?prefix=&after=&limit=          names, types, units; paged
//   GET /v1/series/{name}/latest                  the newest record
//   GET /v1/series/{name}?from=&to=&limit=        records in [from, to)
//
// {name} is percent-decoded; a raw '/' stays part of the name, so
// /v1/series/plant/l1/temp works. Only a final raw "/latest" segment asks
// for the newest record: a series whose name itself ends in "/latest" is
// reached by encoding that slash (%2Flatest).
//
// Limits bound what one request costs: at most max_series names and
// max_points records per answer, and a span of at most max_span_ns. A
// request above a limit is answered 400 naming it, never silently cut;
// an answer that stops at its limit says where the next page starts.
#pragma once

#include <cstdint>

#include "gateway/admin/admin_server.h"
#include "store/store.h"

namespace sluice::gateway::admin {

struct SeriesApiLimits {
  std::uint32_t default_series = 1000;  // names per page without `limit`
  std::uint32_t max_series = 10000;
  std::uint32_t default_points = 1000;  // records per answer without `limit`
  std::uint32_t max_points = 10000;
  std::int64_t default_span_ns = 3600LL * 1'000'000'000;    // `from` absent: `to` - 1 h
  std::int64_t max_span_ns = 31LL * 86400 * 1'000'000'000;  // 31 days
};

// `now_ns`: wall clock, the default `to`. Thread-safe as the store is.
AdminResponse ServeSeries(const store::Store& store, const AdminRequest& request,
                          std::int64_t now_ns, const SeriesApiLimits& limits = {});

}  // namespace sluice::gateway::admin
