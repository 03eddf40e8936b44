#include "gateway/admin/series_api.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <variant>
#include <vector>

#include "api_params.h"
#include "base/civil_time.h"
#include "gateway/admin/admin_util.h"
#include "sync/export.h"

namespace sluice::gateway::admin {
namespace {

constexpr std::string_view kPrefix = "/v1/series";
constexpr std::size_t kMaxNameBytes = 1024;  // the store's limit

std::string SeriesFields(const store::SeriesInfo& s) {
  return "\"name\":" + JsonString(s.name) +
         ",\"type\":" + JsonString(store::ValueTypeName(s.type)) +
         ",\"unit\":" + JsonString(s.unit);
}

std::string Base64(std::string_view in) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8) |
                   static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < in.size()) {
    auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size())
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Bytes values travel as base64 (the series' type says so).
std::string ValueJson(const store::Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, double>)
          return JsonDouble(x);
        else if constexpr (std::is_same_v<T, std::int64_t>)
          return std::to_string(x);
        else if constexpr (std::is_same_v<T, bool>)
          return x ? "true" : "false";
        else
          return JsonString(Base64(x));
      },
      v);
}

// A glob is matched as `sluice export --series` matches one: fnmatch(3)
// without flags. Refused: an empty one, one longer than a name may be, one
// ending in a lone escaping backslash (it could match nothing), and one
// with more than kMaxGlobStars '*' (fnmatch backtracks once per star, so
// many stars over a long name cost time out of proportion).
constexpr std::size_t kMaxGlobStars = 16;

std::optional<AdminResponse> CheckGlob(const std::string& glob) {
  const std::string named = "glob '" + glob + "'";
  if (glob.empty()) return BadRequest("glob: empty; leave it out to list every series");
  if (glob.size() > kMaxNameBytes) {
    return BadRequest("glob of " + std::to_string(glob.size()) + " bytes; at most " +
                      std::to_string(kMaxNameBytes));
  }
  std::size_t backslashes = 0;
  for (auto it = glob.rbegin(); it != glob.rend() && *it == '\\'; ++it) ++backslashes;
  if (backslashes % 2 == 1) {
    return BadRequest(named + " ends in an escaping backslash with nothing to escape");
  }
  if (std::count(glob.begin(), glob.end(), '*') > static_cast<std::ptrdiff_t>(kMaxGlobStars)) {
    return BadRequest(named + " has more than " + std::to_string(kMaxGlobStars) + " '*'");
  }
  const int probe = fnmatch(glob.c_str(), "", 0);
  if (probe != 0 && probe != FNM_NOMATCH) return BadRequest(named + " is not a valid pattern");
  return std::nullopt;
}

AdminResponse List(const store::Store& store, const AdminRequest& r, const SeriesApiLimits& l) {
  if (auto bad = OnlyParams(r, {"prefix", "glob", "after", "limit"})) return *bad;
  std::uint32_t limit = 0;
  if (auto bad = GetLimit(r, l.default_series, l.max_series, "series", limit)) return *bad;
  const auto prefix_it = r.query.find("prefix");
  const std::string prefix = prefix_it == r.query.end() ? "" : prefix_it->second;
  const auto glob_it = r.query.find("glob");
  const bool has_glob = glob_it != r.query.end();
  if (has_glob) {
    if (auto bad = CheckGlob(glob_it->second)) return *bad;
  }
  const auto after_it = r.query.find("after");
  std::vector<store::SeriesInfo> all = store.ListSeries();
  std::erase_if(all, [&](const store::SeriesInfo& s) {
    return !s.name.starts_with(prefix) ||
           (has_glob && fnmatch(glob_it->second.c_str(), s.name.c_str(), 0) != 0);
  });
  std::sort(all.begin(), all.end(),
            [](const store::SeriesInfo& a, const store::SeriesInfo& b) { return a.name < b.name; });
  auto first = all.begin();
  if (after_it != r.query.end()) {
    first = std::upper_bound(
        all.begin(), all.end(), after_it->second,
        [](const std::string& n, const store::SeriesInfo& s) { return n < s.name; });
  }
  const auto count = std::min<std::size_t>(limit, static_cast<std::size_t>(all.end() - first));
  std::string body = "{\"total\":" + std::to_string(all.size()) + ",\"series\":[";
  for (std::size_t i = 0; i < count; ++i) {
    const auto& s = first[static_cast<std::ptrdiff_t>(i)];
    body += (i ? ",{" : "{") + SeriesFields(s) + ",\"id\":" + std::to_string(s.id.value) + "}";
  }
  body += "],\"next_after\":";
  const bool more = first + static_cast<std::ptrdiff_t>(count) != all.end();
  body += more ? JsonString(first[static_cast<std::ptrdiff_t>(count) - 1].name) : "null";
  return Json(200, body + "}\n");
}

std::optional<AdminResponse> GetTime(const AdminRequest& r, const char* key, std::int64_t fallback,
                                     std::int64_t& out) {
  out = fallback;
  const auto it = r.query.find(key);
  if (it == r.query.end()) return std::nullopt;
  auto t = sync::ParseExportTime(it->second);
  if (!t.ok()) {
    return BadRequest(std::string(key) + ": " + t.status().message() +
                      " (ns since the epoch, or RFC 3339 such as 2026-01-31T12:00:00Z)");
  }
  out = *t;
  return std::nullopt;
}

std::string HumanSpan(std::uint64_t ns) {
  const double s = static_cast<double>(ns) / 1e9;
  char buf[64];
  if (s >= 86400 * 365.25)
    std::snprintf(buf, sizeof buf, "%.0f years", s / (86400 * 365.25));
  else if (s >= 86400)
    std::snprintf(buf, sizeof buf, "%.1f days", s / 86400);
  else
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  return buf;
}

// [from, to) from the query: `to` defaults to now, `from` to `to` minus
// default_span_ns; 400 for an empty or too large range.
std::optional<AdminResponse> GetRange(const AdminRequest& r, std::int64_t now_ns,
                                      const SeriesApiLimits& l, std::int64_t& from,
                                      std::int64_t& to) {
  if (auto bad = GetTime(r, "to", now_ns, to)) return *bad;
  const std::int64_t from_default =
      to > INT64_MIN + l.default_span_ns ? to - l.default_span_ns : INT64_MIN;
  if (auto bad = GetTime(r, "from", from_default, from)) return *bad;
  if (from >= to) {
    return BadRequest("empty range: from (" + std::to_string(from) + ") must be before to (" +
                      std::to_string(to) + "); the range is [from, to)");
  }
  // to > from, so the unsigned difference is exact.
  const std::uint64_t span = static_cast<std::uint64_t>(to) - static_cast<std::uint64_t>(from);
  if (span > static_cast<std::uint64_t>(l.max_span_ns)) {
    return BadRequest("range too large: " + HumanSpan(span) + " from 'from' to 'to'; at most " +
                      HumanSpan(static_cast<std::uint64_t>(l.max_span_ns)) +
                      " per request: ask for smaller ranges");
  }
  return std::nullopt;
}

std::string RangeFields(const store::SeriesInfo& s, std::int64_t from, std::int64_t to) {
  return SeriesFields(s) + ",\"from_ns\":" + std::to_string(from) +
         ",\"to_ns\":" + std::to_string(to) +
         ",\"from\":" + JsonString(FormatRfc3339(from, Rfc3339Precision::kNanos)) +
         ",\"to\":" + JsonString(FormatRfc3339(to, Rfc3339Precision::kNanos));
}

// One bucket of a downsampled answer. Values are held as double for
// float64 and bool, as int64 for int64 (exact beyond 2^53).
struct Bucket {
  std::int64_t t_first = 0, t_last = 0;
  std::uint64_t count = 0;
  double dmin = 0, dmax = 0, dlast = 0;
  std::int64_t imin = 0, imax = 0, ilast = 0;
};

void Add(Bucket& b, const store::Record& rec) {
  const bool first = b.count++ == 0;
  // The scan visits in time order, equal timestamps in append order: the
  // record visited first is the oldest, the one visited last the newest.
  if (first) b.t_first = rec.timestamp_ns;
  b.t_last = rec.timestamp_ns;
  if (const auto* i = std::get_if<std::int64_t>(&rec.value)) {
    b.imin = first ? *i : std::min(b.imin, *i);
    b.imax = first ? *i : std::max(b.imax, *i);
    b.ilast = *i;
    return;
  }
  const double v = std::holds_alternative<bool>(rec.value) ? (std::get<bool>(rec.value) ? 1.0 : 0.0)
                                                           : std::get<double>(rec.value);
  // fmin/fmax pass over NaN: a bucket's min and max are NaN only when all
  // its values are.
  b.dmin = first ? v : std::fmin(b.dmin, v);
  b.dmax = first ? v : std::fmax(b.dmax, v);
  b.dlast = v;
}

AdminResponse Downsample(const store::Store& store, const store::SeriesInfo& s,
                         const AdminRequest& r, std::int64_t now_ns, const SeriesApiLimits& l) {
  if (r.query.contains("limit")) {
    return BadRequest(
        "limit and max_points together: max_points answers the whole range in "
        "buckets, limit pages through records; ask for one of them");
  }
  const std::string& v = r.query.at("max_points");
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || v.empty()) {
    return BadRequest("max_points: '" + v + "' is not a whole number");
  }
  if (n == 0 || n > l.max_buckets) {
    return BadRequest("max_points: " + v + " is outside 1 .. " + std::to_string(l.max_buckets));
  }
  if (s.type == store::ValueType::kBytes) {
    return BadRequest("cannot downsample bytes: series " + JsonString(s.name) +
                      " holds opaque values; read its records with limit instead");
  }
  std::int64_t from = 0, to = 0;
  if (auto bad = GetRange(r, now_ns, l, from, to)) return *bad;
  const std::uint64_t span = static_cast<std::uint64_t>(to) - static_cast<std::uint64_t>(from);
  const std::uint64_t width = (span + n - 1) / n;  // ceil; >= 1 since span >= 1

  // Buckets are filled in time order, so only the current one is open.
  std::string rows;
  Bucket b;
  std::uint64_t current = 0, records = 0, nonempty = 0;
  const bool ints = s.type == store::ValueType::kInt64;
  const auto flush = [&] {
    if (b.count == 0) return;
    rows += nonempty++ ? ",[" : "[";
    rows += std::to_string(b.t_first) + ",";
    if (ints) {
      rows += std::to_string(b.imin) + "," + std::to_string(b.imax) + "," + std::to_string(b.ilast);
    } else {
      rows += JsonDouble(b.dmin) + "," + JsonDouble(b.dmax) + "," + JsonDouble(b.dlast);
    }
    rows += "," + std::to_string(b.count) + "," + std::to_string(b.t_last) + "]";
    b = Bucket{};
  };
  bool over = false;
  const Status scanned = store.Scan(s.id, from, to, [&](const store::Record& rec) {
    if (++records > l.max_scan_records) {
      over = true;
      return false;
    }
    const std::uint64_t at =
        (static_cast<std::uint64_t>(rec.timestamp_ns) - static_cast<std::uint64_t>(from)) / width;
    if (at != current) {
      flush();
      current = at;
    }
    Add(b, rec);
    return true;
  });
  if (!scanned.ok()) return Json(500, JsonError("scan: " + scanned.message()));
  if (over) {
    return BadRequest("range holds more than " + std::to_string(l.max_scan_records) +
                      " records, the most one downsampled answer may scan "
                      "(max_scan_records): ask for a shorter range");
  }
  flush();
  std::string body = "{" + RangeFields(s, from, to) + ",\"max_points\":" + std::to_string(n) +
                     ",\"bucket_ns\":" + std::to_string(width) +
                     ",\"records\":" + std::to_string(records) + ",\"buckets\":[" + rows + "]}\n";
  return Json(200, std::move(body));
}

AdminResponse Points(const store::Store& store, const store::SeriesInfo& s, const AdminRequest& r,
                     std::int64_t now_ns, const SeriesApiLimits& l) {
  if (auto bad = OnlyParams(r, {"from", "to", "limit", "max_points"})) return *bad;
  if (r.query.contains("max_points")) return Downsample(store, s, r, now_ns, l);
  std::uint32_t limit = 0;
  if (auto bad = GetLimit(r, l.default_points, l.max_points, "records", limit)) return *bad;
  std::int64_t from = 0, to = 0;
  if (auto bad = GetRange(r, now_ns, l, from, to)) return *bad;
  std::vector<store::Record> out;
  out.reserve(std::min<std::uint32_t>(limit, 4096) + 1);
  const Status scanned = store.Scan(s.id, from, to, [&](const store::Record& rec) {
    out.push_back(rec);
    return out.size() <= limit;  // one past the limit tells that more follow
  });
  if (!scanned.ok()) return Json(500, JsonError("scan: " + scanned.message()));
  std::string next = "null";
  if (out.size() > limit) {
    // The next page starts at the first record left out. Records sharing
    // its timestamp go to that page whole, so none is repeated or missed;
    // only if the whole page shares one timestamp is it cut there.
    const std::int64_t t_next = out[limit].timestamp_ns;
    out.pop_back();
    auto keep = out.size();
    while (keep > 0 && out[keep - 1].timestamp_ns == t_next) --keep;
    if (keep > 0) {
      out.resize(keep);
      next = std::to_string(t_next);
    } else {
      next = std::to_string(t_next + 1);
    }
  }
  std::string body =
      "{" + RangeFields(s, from, to) + ",\"count\":" + std::to_string(out.size()) + ",\"points\":[";
  for (std::size_t i = 0; i < out.size(); ++i) {
    body += (i ? ",[" : "[") + std::to_string(out[i].timestamp_ns) + "," + ValueJson(out[i].value) +
            "]";
  }
  body += "],\"next_from\":" + next + "}\n";
  return Json(200, body);
}

AdminResponse Latest(const store::Store& store, const store::SeriesInfo& s, const AdminRequest& r) {
  if (auto bad = OnlyParams(r, {})) return *bad;
  std::string body = "{" + SeriesFields(s) + ",\"latest\":";
  if (auto rec = store.Latest(s.id)) {
    body += "{\"timestamp_ns\":" + std::to_string(rec->timestamp_ns) +
            ",\"time\":" + JsonString(FormatRfc3339(rec->timestamp_ns, Rfc3339Precision::kNanos)) +
            ",\"value\":" + ValueJson(rec->value) + "}";
  } else {
    body += "null";
  }
  return Json(200, body + "}\n");
}

}  // namespace

AdminResponse ServeSeries(const store::Store& store, const AdminRequest& request,
                          std::int64_t now_ns, const SeriesApiLimits& limits) {
  if (request.path == kPrefix) return List(store, request, limits);
  // Work on the raw path: an encoded slash (%2F) belongs to the name, a raw
  // one too, except before a final "latest".
  std::string_view raw = request.raw_path;
  if (!raw.starts_with(std::string(kPrefix) + "/")) {
    return Json(404, JsonError("not found: '" + request.path + "'"));
  }
  raw.remove_prefix(kPrefix.size() + 1);
  bool latest = false;
  if (raw.ends_with("/latest")) {
    latest = true;
    raw.remove_suffix(std::string_view("/latest").size());
  }
  std::string name;
  if (!PercentDecode(raw, false, name)) {
    return BadRequest("bad percent-encoding (or an encoded NUL) in the series name");
  }
  if (name.empty()) {
    return BadRequest("empty series name: use /v1/series to list, /v1/series/<name> to read");
  }
  if (name.size() > kMaxNameBytes) {
    return BadRequest("series name of " + std::to_string(name.size()) +
                      " bytes; names have at most " + std::to_string(kMaxNameBytes));
  }
  const auto info = store.FindSeries(name);
  if (!info) return Json(404, JsonError("no series named " + JsonString(name)));
  return latest ? Latest(store, *info, request) : Points(store, *info, request, now_ns, limits);
}

}  // namespace sluice::gateway::admin
