// `sluice status`'s view: drawn from a status document and two metric
// samples, no terminal and no gateway needed.
#include <doctest/doctest.h>

#include <string>

#include "gateway/admin/status.h"

namespace sluice::gateway::status {
namespace {

const char* kStatus =
    R"({"gateway":"edge-01","site":"plant-a","version":"0.1.0","now_ns":2000000000000,
 "uptime_s":7265,"board":{"profile":"rpi5-nvme","reason":"devicetree model 'Raspberry Pi 5'"},
 "records_stored":900,"messages_in":1000,"series":12,"write_buffer":"wal","io_engine":"io_uring",
 "segment_bytes":1073741824,
 "ingest":{"messages_in":1000,"decoded":990,"malformed":7,"unmatched":3,"shed":0,"closed":0,
           "records_stored":900,"records_dropped":0,"series_conflicts":0,"pressure":"slow"},
 "mqtt":{"connected":1,"configured":2,"connections_lost":4},"endpoint":{"enabled":true,"connections":3},
 "store":{"disk_used_bytes":2147483648,"disk_budget_bytes":8589934592,"high_watermark_bytes":7730941132,
          "full":false,"segment_bytes":1073741824,"write_buffer_bytes":67108864,"records":900,
          "evicted_records":0,"quarantined_blocks":0,"last_quarantine_reason":"","notes":["torn tail: 12 bytes"]},
 "sync":{"running":true,"uploaded_objects":40,"uploaded_bytes":52428800,"backlog_partitions":3,
         "backlog_bytes":858993459,"oldest_unsynced_age_s":7200,"consecutive_failures":5,
         "last_success_ns":1990000000000,"parked_partitions":0,
         "last_error":"s3: connection refused","last_permanent_error":""},
 "partitions":{"open":2,"sealed":3,"synced":40,"reclaimed":10},
 "health":{"healthy":true,"unhealthy_reason":"","ready":false,"unready_reason":"no broker connection"}})";

// kStatus with `from` replaced by `to` (which must be there).
std::string Replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return text.replace(at, from.size(), to);
}

// The status document with the ingest totals given, and the ack histogram.
Snapshot At(std::int64_t t_s, int messages, int records, double acks_fast, double acks_slow) {
  Snapshot s;
  s.steady_ns = t_s * 1'000'000'000;
  s.status_json = Replaced(kStatus, R"("ingest":{"messages_in":1000,)",
                           R"("ingest":{"messages_in":)" + std::to_string(messages) + ",");
  s.status_json = Replaced(s.status_json, R"("records_stored":900,"records_dropped")",
                           R"("records_stored":)" + std::to_string(records) +
                               R"(,"records_dropped")");
  s.samples = ParseSamples(
      "# HELP sluice_durable_ack_latency_seconds x\n"
      "# TYPE sluice_durable_ack_latency_seconds histogram\n"
      "sluice_durable_ack_latency_seconds_bucket{le=\"0.001\"} " +
      std::to_string(acks_fast) +
      "\n"
      "sluice_durable_ack_latency_seconds_bucket{le=\"0.01\"} " +
      std::to_string(acks_fast + acks_slow) +
      "\n"
      "sluice_durable_ack_latency_seconds_bucket{le=\"+Inf\"} " +
      std::to_string(acks_fast + acks_slow) + "\n");
  return s;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("the status view shows every section, with rates from two status documents") {
  const Snapshot before = At(100, 1000, 900, 10, 0);
  const Snapshot now = At(102, 1500, 1300, 10, 100);
  RenderOptions o;
  o.source = "http://127.0.0.1:9464";
  o.unicode = false;
  o.bar_width = 20;
  auto lines = Render(now, &before, o);
  REQUIRE_MESSAGE(lines.ok(), lines.status().ToString());
  const std::string text = Joined(*lines);
  MESSAGE(text);
  for (const char* needle :
       {"gateway edge-01 at site plant-a", "up 2h01m",
        "board      rpi5-nvme (devicetree model 'Raspberry Pi 5')",
        "healthy, NOT READY: no broker connection",
        "250.0 msg/s, 200.0 records/s stored, pressure slow", "durable ack p50 <= 10 ms",
        "malformed 7, unmatched 3", "brokers 1/2 connected (4 lost), endpoint 3 connections",
        "store      [#####...............]  25.0%  2.0 GiB of 8.0 GiB budget",
        "write buffer 64.0 MiB, segments 1.0 GiB, 12 series",
        "sync       [##..................]  10.0%  backlog 819.2 MiB in 3 partitions, oldest 2h00m",
        "uploaded 40 objects, 50.0 MiB, 0 B/s, last success 10s ago",
        "partitions open 2, sealed 3, synced 40, reclaimed 10",
        "errors     sync: s3: connection refused (5 failures in a row)",
        "store: torn tail: 12 bytes"}) {
    CAPTURE(needle);
    CHECK(text.find(needle) != std::string::npos);
  }
}

TEST_CASE("the status view shows the completeness watermark, its lag and late records, or why "
          "there is none") {
  RenderOptions o;
  o.unicode = false;
  const auto text = [&](const std::string& fields) {
    Snapshot s = At(1, 0, 0, 0, 0);
    s.status_json = Replaced(s.status_json, R"("last_permanent_error":"")",
                             R"("last_permanent_error":"",)" + fields);
    auto lines = Render(s, nullptr, o);
    REQUIRE_MESSAGE(lines.ok(), lines.status().ToString());
    return Joined(*lines);
  };
  // T = 1764100800.5 s, written 90 s later.
  const std::string written = text(
      R"("watermark_interval_s":60,"watermark_ns":1764100800500000000,"watermark_lag_s":90,)"
      R"("watermark_written_ns":1764100890000000000,"watermark_late_records":12,)"
      R"("watermark_error":"")");
  CHECK(written.find("complete up to 2025-11-25T20:00:00Z (lag 1m30s), 12 late records") !=
        std::string::npos);
  const std::string failing = text(
      R"("watermark_interval_s":60,"watermark_ns":0,"watermark_lag_s":0,)"
      R"("watermark_written_ns":0,"watermark_late_records":0,)"
      R"("watermark_error":"writing watermark: 503")");
  CHECK(failing.find("watermark not written yet, 0 late records") != std::string::npos);
  CHECK(failing.find("watermark: writing watermark: 503") != std::string::npos);
  CHECK(text(R"("watermark_interval_s":0)").find("watermark off") != std::string::npos);
  // An older gateway without the fields: no watermark line at all.
  CHECK(text(R"("x":0)").find("watermark") == std::string::npos);
}

TEST_CASE("the status view says why appends are refused, warns of low space, counts clock jumps") {
  Snapshot s = At(1, 0, 0, 0, 0);
  s.status_json = Replaced(
      s.status_json, R"("full":false,)",
      R"j("full":true,"full_reason":"file system full (ENOSPC)","fs_free_bytes":1073741824,
         "fs_total_bytes":42949672960,"low_space":true,"recovery_path":"checkpoint",
         "index_ready":false,"recovery_ms":310,)j");
  s.status_json = Replaced(
      s.status_json, R"("ready":false,"unready_reason":"no broker connection"})",
      R"j("ready":false,"unready_reason":"appends refused: no space (file system full (ENOSPC))",
         "warnings":["2.5% free on the store's file system (1.0 GiB of 40.0 GiB)"]},
         "clock":{"jumps_forward":1,"jumps_backward":1,"last_jump_ns":31536000000000000})j");
  RenderOptions o;
  o.unicode = false;
  auto lines = Render(s, nullptr, o);
  REQUIRE_MESSAGE(lines.ok(), lines.status().ToString());
  const std::string text = Joined(*lines);
  MESSAGE(text);
  for (const char* needle :
       {"healthy, NOT READY: appends refused: no space (file system full (ENOSPC))",
        "warning: 2.5% free on the store's file system (1.0 GiB of 40.0 GiB)",
        "8.0 GiB budget, FULL: appends refused (file system full (ENOSPC))",
        "file system 1.0 GiB free of 40.0 GiB (2.5%), LOW",
        "clock      2 jumps (1 forward, 1 backward; last +365d)",
        "index of older partitions loading"}) {
    CAPTURE(needle);
    CHECK(text.find(needle) != std::string::npos);
  }
  // A gateway one version older has none of these fields: no such lines.
  auto old = Render(At(1, 0, 0, 0, 0), nullptr, o);
  REQUIRE(old.ok());
  const std::string old_text = Joined(*old);
  CHECK(old_text.find("warning:") == std::string::npos);
  CHECK(old_text.find("file system") == std::string::npos);
  CHECK(old_text.find("loading") == std::string::npos);
  CHECK(old_text.find("clock      no jumps seen") != std::string::npos);
}

TEST_CASE("a first view has no rates yet, and a broken document is an error") {
  auto lines = Render(At(1, 5, 5, 1, 0), nullptr, RenderOptions{});
  REQUIRE(lines.ok());
  const std::string text = Joined(*lines);
  CHECK(text.find("- msg/s") != std::string::npos);
  CHECK(text.find("durable ack p50 <= 1 ms, p99 <= 1 ms (since start)") != std::string::npos);
  CHECK(text.find("\u2588") != std::string::npos);  // unicode bars by default
  Snapshot bad = At(1, 0, 0, 0, 0);
  bad.status_json = "{not json";
  CHECK_FALSE(Render(bad, nullptr, RenderOptions{}).ok());
}

TEST_CASE("metric samples are read with their labels, comments and broken lines skipped") {
  const auto samples = ParseSamples(
      "# c\na_total{x=\"1\",y=\"a b\"} 2\na_total{x=\"2\"} 3.5\nb 1e3\nbroken\n\n");
  CHECK(samples.size() == 3);
  CHECK(samples.at("a_total{x=\"1\",y=\"a b\"}") == 2);
  CHECK(samples.at("a_total{x=\"2\"}") == 3.5);
  CHECK(samples.at("b") == 1000);
}

}  // namespace sluice::gateway::status
