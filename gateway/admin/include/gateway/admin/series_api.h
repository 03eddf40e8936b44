// The read-only series API of the admin endpoint, answered from the store's
// DRAM index (docs/config.md, [admin]):
//
//   GET /v1/series?prefix=&glob=&after=&limit=    names, types, units; paged
//   GET /v1/series/{name}/latest                  the newest record
//   GET /v1/series/{name}?from=&to=&limit=        records in [from, to)
//   GET /v1/series/{name}?from=&to=&max_points=N  [from, to) downsampled
//
// `glob` is a shell pattern matched as `sluice export --series` matches one
// (fnmatch(3), no flags: '*' also matches '/'); with `prefix`, a series must
// satisfy both.
//
// max_points=N (1 .. max_buckets) cuts [from, to) into N buckets of
// bucket_ns = ceil((to - from) / N) starting at `from` and answers one row
// per non-empty bucket, in time order:
//
//   {"name","type","unit","from_ns","to_ns","from","to","max_points","bucket_ns",
//    "records","buckets":[[t_first_ns,min,max,last,count,t_last_ns],...]}
//
// `last` is the value of the newest record in the bucket (of equal
// timestamps, the last appended); bool values count as 0 and 1; a float
// bucket's min and max skip NaN unless every value is NaN. A bytes series
// cannot be downsampled (400), nor can `limit` be combined with max_points.
//
// {name} is percent-decoded; a raw '/' stays part of the name, so
// /v1/series/plant/l1/temp works. Only a final raw "/latest" segment asks
// for the newest record: a series whose name itself ends in "/latest" is
// reached by encoding that slash (%2Flatest).
//
// Limits bound what one request costs: at most max_series names and
// max_points records (or max_buckets buckets) per answer, a span of at most
// max_span_ns, and a downsampled answer scans at most max_scan_records. A
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
  std::uint32_t max_buckets = 10000;                        // max_points of a downsampled answer
  // Records one downsampled answer may visit; a range holding more is
  // refused (400), not cut: the admin thread is busy for the whole scan.
  // Default: 50,000,000.
  std::uint64_t max_scan_records = 50'000'000;
};

// `now_ns`: wall clock, the default `to`. Thread-safe as the store is.
AdminResponse ServeSeries(const store::Store& store, const AdminRequest& request,
                          std::int64_t now_ns, const SeriesApiLimits& limits = {});

}  // namespace sluice::gateway::admin
