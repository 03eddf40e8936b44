#include "base/metrics.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>

namespace sluice {
namespace {

struct Counts {
  std::uint64_t requests = 0;
  std::uint64_t errors[2] = {};
};

}  // namespace

TEST_CASE("a metric set renders its families from one snapshot per scrape") {
  MetricRegistry registry;
  Counts counts;
  int reads = 0;
  MetricSet<Counts> set(&registry, [&] {
    ++reads;
    return counts;
  });
  set.Counter("x_requests_total", "Requests.", [](const Counts& c) { return c.requests; })
      .Family("x_errors_total", MetricType::kCounter, "Errors, by kind.", {"kind"},
              [](const Counts& c, MetricSamples& out) {
                out.Add(static_cast<double>(c.errors[0]), {"a\"b"});
                out.Add(static_cast<double>(c.errors[1]), {"c"});
              });
  set.Register();
  counts.requests = 7;
  counts.errors[1] = 2;
  CHECK(registry.Render() ==
        "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n"
        "x_requests_total 7\n"
        "# HELP x_errors_total Errors, by kind.\n# TYPE x_errors_total counter\n"
        "x_errors_total{kind=\"a\\\"b\"} 0\nx_errors_total{kind=\"c\"} 2\n");
  CHECK(reads == 1);
  CHECK(registry.Names() == std::vector<std::string>{"x_requests_total", "x_errors_total"});
}

TEST_CASE("a histogram family renders cumulative buckets, sum and count") {
  MetricRegistry registry;
  MetricSet<int> set(&registry, [] { return 0; });
  set.Family("x_latency_seconds", MetricType::kHistogram, "Latency.", {},
             [](int, MetricSamples& out) {
               const std::vector<double> bounds = {0.1, 1};
               const std::vector<std::uint64_t> counts = {1, 2, 3};
               out.Histogram(bounds, counts, 4.5);
             });
  set.Register();
  CHECK(registry.Render() ==
        "# HELP x_latency_seconds Latency.\n# TYPE x_latency_seconds histogram\n"
        "x_latency_seconds_bucket{le=\"0.1\"} 1\nx_latency_seconds_bucket{le=\"1\"} 3\n"
        "x_latency_seconds_bucket{le=\"+Inf\"} 6\nx_latency_seconds_sum 4.5\n"
        "x_latency_seconds_count 6\n");
}

TEST_CASE("families leave the registry with their registration") {
  MetricRegistry registry;
  std::optional<MetricSet<int>> set;
  set.emplace(&registry, [] { return 3; });
  set->Gauge("x_things", "Things.", [](int v) { return v; });
  set->Register();
  MetricRegistration other =
      registry.Register({{"x_other", MetricType::kGauge, "Other.", {}}}, [](MetricSamples& out) {
        out.Select(0);
        out.Add(1);
      });
  CHECK(registry.Names() == std::vector<std::string>{"x_things", "x_other"});
  set.reset();
  CHECK(registry.Render() == "# HELP x_other Other.\n# TYPE x_other gauge\nx_other 1\n");
  other.Reset();
  CHECK(registry.Render().empty());
}

TEST_CASE("a set without a registry registers nothing") {
  MetricSet<int> set(nullptr, [] { return 0; });
  set.Gauge("x", "X.", [](int) { return 1; });
  set.Register();  // no registry: a no-op
}

}  // namespace sluice
