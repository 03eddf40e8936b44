// The figures /v1/status computes over a recent window: ingest rates from
// the once-a-second samples, and durable-ack latency quantiles from the
// difference of two cumulative histograms. Driven with made-up times; no
// test here waits on the wall clock.
#include <doctest/doctest.h>

#include "ingest_window.h"
#include "last_errors.h"

namespace sluice::gateway::app {
namespace {

constexpr std::int64_t kS = 1'000'000'000;

IngestSample At(std::int64_t seconds, std::uint64_t records, std::uint64_t messages) {
  IngestSample s;
  s.at_ns = 5000 * kS + seconds * kS;  // any epoch
  s.records_stored = records;
  s.messages_in = messages;
  return s;
}

// The bucket of kAckLatencyBoundsUs whose upper bound is `us`.
std::size_t Bucket(std::uint64_t us) {
  for (std::size_t i = 0; i < kAckLatencyBoundsUs.size(); ++i) {
    if (kAckLatencyBoundsUs[i] == us) return i;
  }
  FAIL("no such bound");
  return 0;
}

}  // namespace

TEST_CASE("rates are zero until two samples exist, then cover the last ten seconds") {
  IngestWindow w;
  CHECK(w.Rates().records_per_s == 0);
  w.Add(At(0, 0, 0));
  CHECK(w.Rates().records_per_s == 0);
  w.Add(At(1, 500, 100));
  CHECK(w.Rates().records_per_s == doctest::Approx(500));
  CHECK(w.Rates().messages_per_s == doctest::Approx(100));
  // 30 s at 1000 records/s after a burst: the burst falls out of the window.
  for (int t = 2; t <= 31; ++t) w.Add(At(t, 500 + 1000 * (t - 1), 100 + 200 * (t - 1)));
  CHECK(w.Rates().records_per_s == doctest::Approx(1000));
  CHECK(w.Rates().messages_per_s == doctest::Approx(200));
  // A stall: nothing stored for five seconds of the last ten.
  for (int t = 32; t <= 36; ++t) w.Add(At(t, 500 + 1000 * 30, 100 + 200 * 30));
  CHECK(w.Rates().records_per_s == doctest::Approx(500));
}

TEST_CASE("a quantile is interpolated inside its bucket and empty without data") {
  AckLatencyHistogram h{};
  CHECK_FALSE(AckLatencyQuantileMs(h, 0.5).has_value());
  // 100 batches between 1 ms and 2.5 ms: p50 halfway, p99 near the top.
  h[Bucket(2'500)] = 100;
  CHECK(*AckLatencyQuantileMs(h, 0.5) == doctest::Approx(1.75));
  CHECK(*AckLatencyQuantileMs(h, 0.99) == doctest::Approx(1.0 + 1.5 * 0.99));
  // The first bucket starts at 0.
  AckLatencyHistogram low{};
  low[0] = 10;
  CHECK(*AckLatencyQuantileMs(low, 0.5) == doctest::Approx(0.05));
  // 90 fast, 10 slow (250 to 500 ms): p50 among the fast, p99 among the slow.
  AckLatencyHistogram mixed{};
  mixed[Bucket(1'000)] = 90;
  mixed[Bucket(500'000)] = 10;
  CHECK(*AckLatencyQuantileMs(mixed, 0.5) == doctest::Approx(0.5 + 0.5 * 50.0 / 90));
  CHECK(*AckLatencyQuantileMs(mixed, 0.99) == doctest::Approx(250 + 250 * 0.9));
  // Above every bound: the top bound is all that is known.
  AckLatencyHistogram over{};
  over.back() = 3;
  CHECK(*AckLatencyQuantileMs(over, 0.5) == doctest::Approx(10'000));
}

TEST_CASE("the latency window is the histogram now less the sample sixty seconds ago") {
  IngestWindow w;
  IngestSample start = At(0, 0, 0);
  start.ack_latency[Bucket(500'000)] = 7;  // slow batches at start
  w.Add(start);
  IngestSample now = At(30, 0, 0);
  now.ack_latency = start.ack_latency;
  now.ack_latency[Bucket(2'500)] = 40;
  // Younger than the window: since the first sample, taken at start.
  AckLatencyHistogram recent = w.LatencyWindow(now);
  CHECK(recent[Bucket(500'000)] == 0);
  CHECK(recent[Bucket(2'500)] == 40);
  // Older: the slow start is out of the window, the fast minute is in.
  for (int t = 1; t <= 100; ++t) {
    IngestSample s = At(t, 0, 0);
    s.ack_latency = start.ack_latency;
    s.ack_latency[Bucket(2'500)] = static_cast<std::uint64_t>(t);
    w.Add(s);
  }
  IngestSample later = At(100, 0, 0);
  later.ack_latency = start.ack_latency;
  later.ack_latency[Bucket(2'500)] = 100;
  recent = w.LatencyWindow(later);
  CHECK(recent[Bucket(2'500)] == 60);  // 100 now less 40 at t = 40
  CHECK(*AckLatencyQuantileMs(recent, 0.5) == doctest::Approx(1.75));
}

TEST_CASE("last errors come newest first with their module, capped") {
  AppStats s;
  s.sync.last_error = "key a: upload failed";
  s.sync.last_error_ns = 30;
  s.sync.watermark_error = "state file: denied";
  s.sync.watermark_error_ns = 10;
  s.endpoint.last_error = "endpoint: CONNECT from 10.0.0.9 refused: bad user name or password";
  s.endpoint.last_error_ns = 50;
  s.pipeline.last_malformed = "topic 'a': bad_json";
  s.pipeline.last_malformed_ns = 40;
  store::StorePressure full;
  full.full = true;
  full.full_reason = "disk budget: 10 of 10 bytes used";
  MqttConnectionInfo broker;
  broker.client_id = "sluice-0";
  broker.uri = "tcp://10.0.0.1:1883";
  broker.last_error = "connection lost: broker gone";
  broker.last_error_ns = 20;
  const std::vector<MqttConnectionInfo> brokers{broker};
  const auto errors = CollectLastErrors(s, full, brokers, 60);
  REQUIRE(errors.size() == 6);
  const char* order[] = {"store", "endpoint", "ingest", "sync", "mqtt", "watermark"};
  for (std::size_t i = 0; i < errors.size(); ++i) {
    CAPTURE(i);
    CHECK(errors[i].where == order[i]);
    if (i > 0) CHECK(errors[i - 1].at_ns >= errors[i].at_ns);
  }
  CHECK(errors[4].message == "sluice-0 (tcp://10.0.0.1:1883): connection lost: broker gone");
  CHECK(
      LastErrorsJson(std::span(errors).first(1)) ==
      R"([{"where":"store","message":"appends refused: disk budget: 10 of 10 bytes used","at_ns":60}])");

  std::vector<MqttConnectionInfo> many(30, broker);
  CHECK(CollectLastErrors(AppStats{}, {}, many, 0).size() == kMaxLastErrors);
}

}  // namespace sluice::gateway::app
