// Downsampled series reads (/v1/series/{name}?max_points=N) and the glob
// filter of the series list, against a running gateway's store. Each
// answer is checked against a brute-force computation over the records
// that went in.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "admin_test_util.h"
#include "base/clock.h"
#include "gateway/admin/admin_util.h"
#include "gateway/admin/series_api.h"

namespace sluice::gateway {
namespace {

using testing::AppFixture;
using testing::Get;

constexpr std::int64_t kSecond = 1'000'000'000;

using Points = std::vector<std::pair<std::int64_t, store::Value>>;

// Appends in batches the store takes whole.
void PutAll(AppFixture& f, const std::string& name, const Points& points, store::ValueType type) {
  for (std::size_t i = 0; i < points.size(); i += 500) {
    f.Put(name,
          Points(points.begin() + static_cast<std::ptrdiff_t>(i),
                 points.begin() + static_cast<std::ptrdiff_t>(std::min(i + 500, points.size()))),
          type);
  }
}

std::string Num(const store::Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "1" : "0";
  return admin::JsonDouble(std::get<double>(v));
}

double AsDouble(const store::Value& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  return std::get<double>(v);
}

// The "buckets" array as the API must write it, computed the slow way:
// every bucket of [from, to) looked at on its own.
std::string ExpectedBuckets(const Points& appended, std::int64_t from, std::int64_t to,
                            std::uint64_t n) {
  // In time order, equal timestamps in append order: as the store scans.
  Points sorted = appended;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::uint64_t span = static_cast<std::uint64_t>(to - from);
  const std::uint64_t width = span / n + (span % n != 0 ? 1 : 0);
  std::string out;
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::int64_t lo = from + static_cast<std::int64_t>(k * width);
    const std::int64_t hi = std::min<std::int64_t>(to, lo + static_cast<std::int64_t>(width));
    Points in;
    for (const auto& p : sorted) {
      if (p.first >= lo && p.first < hi) in.push_back(p);
    }
    if (in.empty()) continue;
    std::int64_t t_first = in.front().first, t_last = in.front().first;
    for (const auto& p : in) {
      t_first = std::min(t_first, p.first);
      t_last = std::max(t_last, p.first);
    }
    std::optional<store::Value> last;
    for (const auto& p : in) {
      if (p.first == t_last) last = p.second;  // the last appended of the newest
    }
    std::string mn, mx;
    if (std::holds_alternative<std::int64_t>(in.front().second)) {
      std::int64_t a = std::numeric_limits<std::int64_t>::max();
      std::int64_t b = std::numeric_limits<std::int64_t>::min();
      for (const auto& p : in) {
        a = std::min(a, std::get<std::int64_t>(p.second));
        b = std::max(b, std::get<std::int64_t>(p.second));
      }
      mn = std::to_string(a);
      mx = std::to_string(b);
    } else {
      std::vector<double> numbers;
      for (const auto& p : in) {
        if (!std::isnan(AsDouble(p.second))) numbers.push_back(AsDouble(p.second));
      }
      const double nan = std::nan("");
      mn = admin::JsonDouble(numbers.empty() ? nan
                                             : *std::min_element(numbers.begin(), numbers.end()));
      mx = admin::JsonDouble(numbers.empty() ? nan
                                             : *std::max_element(numbers.begin(), numbers.end()));
    }
    out += (out.empty() ? "[" : ",[") + std::to_string(t_first) + "," + mn + "," + mx + "," +
           Num(*last) + "," + std::to_string(in.size()) + "," + std::to_string(t_last) + "]";
  }
  return "\"buckets\":[" + out + "]}";
}

std::string Range(std::int64_t from, std::int64_t to, std::uint64_t n) {
  return "?from=" + std::to_string(from) + "&to=" + std::to_string(to) +
         "&max_points=" + std::to_string(n);
}

}  // namespace

TEST_CASE("downsampled float64 buckets match a brute-force computation, empty ones left out") {
  AppFixture f;
  const std::int64_t from = WallNs() / kSecond * kSecond - 5 * 86400 * kSecond;
  const std::int64_t to = from + 2 * 86400 * kSecond + 7;  // not a multiple of any N below
  std::mt19937_64 rng(42);
  Points points;
  // Two dense stretches with a hole between them, shared timestamps, NaN,
  // records on both edges and just outside.
  for (int i = 0; i < 3000; ++i) {
    std::int64_t t = from + static_cast<std::int64_t>(rng() % (36000 * kSecond));
    if (i % 3 == 0)
      t = from + 86400 * kSecond + static_cast<std::int64_t>(rng() % (20000 * kSecond));
    const double v = i % 97 == 0 ? std::nan("") : static_cast<double>(rng() % 100000) / 7.0 - 5000;
    points.emplace_back(t, v);
    if (i % 50 == 0) points.emplace_back(t, v + 1);  // same timestamp, appended later
  }
  points.emplace_back(from, -1e9);
  points.emplace_back(to - 1, 1e9);
  points.emplace_back(from + 40000 * kSecond, std::nan(""));  // a bucket of NaN only
  PutAll(f, "plant/l1/temp", points, store::ValueType::kFloat64);
  Points outside = {{from - 1, 5.0}, {to, 6.0}};
  PutAll(f, "plant/l1/temp", outside, store::ValueType::kFloat64);

  for (std::uint64_t n : {1u, 7u, 100u, 1000u, 10000u}) {
    CAPTURE(n);
    const auto r = Get(f.port(), "/v1/series/plant/l1/temp" + Range(from, to, n));
    REQUIRE(r.status == 200);
    const std::uint64_t span = static_cast<std::uint64_t>(to - from);
    CHECK(r.Has(R"({"name":"plant/l1/temp","type":"float64","unit":"degC","from_ns":)" +
                std::to_string(from)));
    CHECK(r.Has(",\"max_points\":" + std::to_string(n) +
                ",\"bucket_ns\":" + std::to_string((span + n - 1) / n) +
                ",\"records\":" + std::to_string(points.size()) + ","));
    CHECK(r.body == r.body.substr(0, r.body.find("\"buckets\":")) +
                        ExpectedBuckets(points, from, to, n) + "\n");
  }
}

TEST_CASE("downsampled int64 keeps exact values, bool counts as 0 and 1") {
  AppFixture f;
  const std::int64_t from = WallNs() / kSecond * kSecond - 3 * 86400 * kSecond;
  const std::int64_t to = from + 3600 * kSecond;
  Points ints, bools;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const std::int64_t t = from + static_cast<std::int64_t>(rng() % (3600 * kSecond));
    // Beyond 2^53, where a double would round.
    ints.emplace_back(
        t, static_cast<std::int64_t>((1LL << 60) + static_cast<std::int64_t>(rng() % 1000) -
                                     (i % 2 ? 0 : (1LL << 61))));
    bools.emplace_back(t + 1, rng() % 3 == 0);
  }
  PutAll(f, "counter", ints, store::ValueType::kInt64);
  PutAll(f, "door", bools, store::ValueType::kBool);
  for (std::uint64_t n : {1u, 13u, 600u}) {
    CAPTURE(n);
    const auto i = Get(f.port(), "/v1/series/counter" + Range(from, to, n));
    REQUIRE(i.status == 200);
    CHECK(i.Has(R"("type":"int64")"));
    CHECK(i.body.ends_with(ExpectedBuckets(ints, from, to, n) + "\n"));
    const auto b = Get(f.port(), "/v1/series/door" + Range(from, to, n));
    REQUIRE(b.status == 200);
    CHECK(b.body.ends_with(ExpectedBuckets(bools, from, to, n) + "\n"));
  }
  // A range with nothing in it: no buckets, not an error.
  CHECK(Get(f.port(), "/v1/series/counter" + Range(to, to + kSecond, 10))
            .Has(R"("records":0,"buckets":[]})"));
}

TEST_CASE("downsampling refuses bytes, bad max_points, limit with it, and scans above the bound") {
  AppFixture f;
  const std::int64_t t0 = WallNs() / kSecond * kSecond - 600 * kSecond;
  f.Put("bin", {{t0, std::string("x")}}, store::ValueType::kBytes);
  Points many;
  for (int i = 0; i < 50; ++i) many.emplace_back(t0 + i, static_cast<double>(i));
  f.Put("s", many);
  const std::string range = "?from=" + std::to_string(t0) + "&to=" + std::to_string(t0 + kSecond);

  const auto bytes = Get(f.port(), "/v1/series/bin" + range + "&max_points=10");
  CHECK(bytes.status == 400);
  CHECK(bytes.Has("cannot downsample bytes"));
  for (const char* bad : {"0", "10001", "-1", "ten", ""}) {
    CAPTURE(bad);
    const auto r = Get(f.port(), "/v1/series/s" + range + "&max_points=" + bad);
    CHECK(r.status == 400);
    CHECK(r.Has("max_points: "));
  }
  CHECK(Get(f.port(), "/v1/series/s" + range + "&max_points=10001")
            .Has("max_points: 10001 is outside 1 .. 10000"));
  const auto both = Get(f.port(), "/v1/series/s" + range + "&max_points=10&limit=5");
  CHECK(both.status == 400);
  CHECK(both.Has("limit and max_points together"));
  CHECK(Get(f.port(), "/v1/series/s?from=0&to=9223372036854775807&max_points=10")
            .Has("range too large"));
  CHECK(Get(f.port(), "/v1/series/s" + range + "&max_points=10").Has(R"("records":50,)"));

  // The scan bound, through the handler with a small limit.
  admin::SeriesApiLimits small;
  small.max_scan_records = 49;
  auto req = admin::ParseTarget("/v1/series/s" + range + "&max_points=10");
  REQUIRE(req.ok());
  const auto over = admin::ServeSeries(f.app->store(), *req, WallNs(), small);
  CHECK(over.status == 400);
  CHECK(over.body.find("more than 49 records") != std::string::npos);
  CHECK(over.body.find("max_scan_records") != std::string::npos);
  small.max_scan_records = 50;
  CHECK(admin::ServeSeries(f.app->store(), *req, WallNs(), small).status == 200);
}

TEST_CASE("the series list filters by glob as sluice export does, together with prefix") {
  AppFixture f;
  for (const char* name : {"plant/l1/temp", "plant/l2/temp", "plant/l1/press", "yard/pump/temp",
                           "plant/l10/temp", "a*b"}) {
    f.Put(name, {});
  }
  const auto temps = Get(f.port(), "/v1/series?glob=*/temp");
  CHECK(temps.status == 200);
  CHECK(temps.Has(R"("total":4)"));
  CHECK_FALSE(temps.Has("press"));
  // '*' crosses '/', as fnmatch without flags does.
  CHECK(Get(f.port(), "/v1/series?glob=plant*temp").Has(R"("total":3)"));
  CHECK(Get(f.port(), "/v1/series?glob=plant/l%3F/temp").Has(R"("total":2)"));  // ?: one char
  CHECK(Get(f.port(), "/v1/series?glob=plant/l%5B2-9%5D/temp").Has(R"("total":1)"));
  CHECK(Get(f.port(), "/v1/series?glob=a%5C*b").Has(R"("series":[{"name":"a*b")"));  // escaped
  // With prefix both must hold; total counts the filtered set, paging works.
  const auto both = Get(f.port(), "/v1/series?prefix=plant/&glob=*temp&limit=2");
  CHECK(both.Has(R"("total":3)"));
  CHECK(both.Has(R"("next_after":"plant/l10/temp")"));
  CHECK(Get(f.port(), "/v1/series?prefix=yard/&glob=plant*").Has(R"("total":0,"series":[])"));

  for (const std::string& bad :
       {std::string("glob="), std::string("glob=abc%5C"), "glob=" + std::string(1025, 'x'),
        "glob=" + std::string(17, '*')}) {
    CAPTURE(bad);
    const auto r = Get(f.port(), "/v1/series?" + bad);
    CHECK(r.status == 400);
    CHECK(r.Has("glob"));
  }
  CHECK(Get(f.port(), "/v1/series?glob=abc%5C").Has(R"(glob 'abc\\' ends in an escaping)"));
}

}  // namespace sluice::gateway
