// The admin endpoint of a running gateway (App in-process): the series API
// with its limits and bad input, health and readiness, status, tokens.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include <chrono>
#include <cmath>
#include <string>

#include "admin_test_util.h"
#include "base/clock.h"
#include "sync/export.h"

namespace sluice::gateway {
namespace {

using testing::AppFixture;
using testing::Get;

constexpr std::int64_t kSecond = 1'000'000'000;

}  // namespace

TEST_CASE("the series list is sorted, filtered by prefix and paged") {
  AppFixture f;
  for (const char* name : {"plant/l2/temp", "plant/l1/temp", "yard/pump/flow", "plant/l1/press"}) {
    f.Put(name, {});
  }
  const auto all = Get(f.port(), "/v1/series");
  CHECK(all.status == 200);
  CHECK(all.HeadHas("application/json"));
  CHECK(all.Has(
      R"({"total":4,"series":[{"name":"plant/l1/press","type":"float64","unit":"degC","id":)"));
  CHECK(all.body.find("plant/l1/temp") < all.body.find("plant/l2/temp"));
  CHECK(all.Has(R"("next_after":null})"));

  const auto page1 = Get(f.port(), "/v1/series?prefix=plant/&limit=2");
  CHECK(page1.Has(R"("total":3)"));
  CHECK(page1.Has(R"("next_after":"plant/l1/temp")"));
  CHECK_FALSE(page1.Has("plant/l2/temp"));
  const auto page2 = Get(f.port(), "/v1/series?prefix=plant%2F&limit=2&after=plant%2Fl1%2Ftemp");
  CHECK(page2.Has(R"("series":[{"name":"plant/l2/temp")"));
  CHECK(page2.Has(R"("next_after":null)"));

  const auto too_many = Get(f.port(), "/v1/series?limit=10001");
  CHECK(too_many.status == 400);
  CHECK(too_many.Has("limit: 10001 is outside 1 .. 10000 series per request"));
  CHECK(Get(f.port(), "/v1/series?limit=0").status == 400);
  CHECK(Get(f.port(), "/v1/series?limit=ten").Has("limit: 'ten' is not a whole number"));
  CHECK(Get(f.port(), "/v1/series?limt=5")
            .Has("unknown parameter 'limt'; allowed here: prefix, glob, after, limit"));
}

TEST_CASE("latest and range reads, with names holding slashes") {
  AppFixture f;
  const std::int64_t t0 = WallNs() / kSecond * kSecond - 600 * kSecond;
  f.Put("plant/l1/temp", {{t0, 20.5}, {t0 + kSecond, 21.0}, {t0 + 2 * kSecond, 21.5}});
  f.Put("odd/latest", {{t0, 7.0}});
  f.Put("bin", {{t0, std::string("\x00\xff hi", 5)}}, store::ValueType::kBytes);
  f.Put("empty", {});

  const auto latest = Get(f.port(), "/v1/series/plant/l1/temp/latest");
  CHECK(latest.status == 200);
  CHECK(latest.Has(
      R"({"name":"plant/l1/temp","type":"float64","unit":"degC","latest":{"timestamp_ns":)" +
      std::to_string(t0 + 2 * kSecond)));
  CHECK(latest.Has(R"("value":21.5})"));
  CHECK(Get(f.port(), "/v1/series/plant%2Fl1%2Ftemp/latest").body == latest.body);
  CHECK(Get(f.port(), "/v1/series/empty/latest").Has(R"("latest":null)"));
  // A name ending in "/latest": its slash encoded reads the points; raw asks for the latest.
  CHECK(
      Get(f.port(), "/v1/series/odd%2Flatest").Has(R"("points":[[)" + std::to_string(t0) + ",7]]"));
  CHECK(Get(f.port(), "/v1/series/odd%2Flatest/latest").Has(R"("value":7})"));
  CHECK(Get(f.port(), "/v1/series/bin/latest").Has(R"("value":"AP8gaGk="})"));

  const std::string range =
      "?from=" + std::to_string(t0) + "&to=" + std::to_string(t0 + 10 * kSecond);
  const auto points = Get(f.port(), "/v1/series/plant/l1/temp" + range);
  CHECK(points.status == 200);
  CHECK(points.Has(R"("count":3,"points":[[)" + std::to_string(t0) + ",20.5],[" +
                   std::to_string(t0 + kSecond) + ",21],[" + std::to_string(t0 + 2 * kSecond) +
                   R"(,21.5]],"next_from":null})"));
  // Default window: the last hour up to now holds them all.
  CHECK(Get(f.port(), "/v1/series/plant/l1/temp").Has(R"("count":3)"));
  // RFC 3339 bounds; [from, to) excludes `to`.
  const std::string from = sync::FormatRfc3339Nanos(t0),
                    to = sync::FormatRfc3339Nanos(t0 + 2 * kSecond);
  CHECK(Get(f.port(), "/v1/series/plant/l1/temp?from=" + from + "&to=" + to).Has(R"("count":2)"));

  // Paging: limit 2 stops before the third record and says where to go on.
  const auto page = Get(f.port(), "/v1/series/plant/l1/temp" + range + "&limit=2");
  CHECK(page.Has(R"("count":2)"));
  CHECK(page.Has(R"("next_from":)" + std::to_string(t0 + 2 * kSecond) + "}"));
}

TEST_CASE("a page never splits records that share a timestamp") {
  AppFixture f;
  const std::int64_t t0 = WallNs() / kSecond * kSecond - 600 * kSecond;
  f.Put("s", {{t0, 1.0}, {t0 + kSecond, 2.0}, {t0 + kSecond, 3.0}, {t0 + 2 * kSecond, 4.0}});
  const std::string range =
      "?from=" + std::to_string(t0) + "&to=" + std::to_string(t0 + 10 * kSecond);
  const auto page = Get(f.port(), "/v1/series/s" + range + "&limit=2");
  CHECK(page.Has(R"("count":1,"points":[[)" + std::to_string(t0) + ",1]]"));
  CHECK(page.Has(R"("next_from":)" + std::to_string(t0 + kSecond) + "}"));
  const auto rest = Get(f.port(), "/v1/series/s?from=" + std::to_string(t0 + kSecond) +
                                      "&to=" + std::to_string(t0 + 10 * kSecond) + "&limit=2");
  CHECK(rest.Has(R"("count":2)"));
  CHECK(rest.Has(",2],[" + std::to_string(t0 + kSecond) + ",3]]"));
}

TEST_CASE("huge ranges, huge limits, bad times and unknown series are refused clearly") {
  AppFixture f;
  f.Put("plant/l1/temp", {{WallNs() - kSecond, 1.0}});
  const auto huge = Get(f.port(), "/v1/series/plant/l1/temp?from=0&to=9223372036854775807");
  CHECK(huge.status == 400);
  CHECK(huge.Has(
      R"({"error":"range too large: 292 years from 'from' to 'to'; at most 31.0 days per request)"));
  CHECK(Get(f.port(), "/v1/series/plant/l1/temp?from=-9223372036854775808&to=9223372036854775807")
            .status == 400);
  CHECK(Get(f.port(), "/v1/series/plant/l1/temp?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z")
            .Has("range too large: 59.0 days"));
  const auto limit = Get(f.port(), "/v1/series/plant/l1/temp?limit=1000000");
  CHECK(limit.status == 400);
  CHECK(limit.Has("limit: 1000000 is outside 1 .. 10000 records per request"));
  CHECK(Get(f.port(), "/v1/series/plant/l1/temp?limit=-1").status == 400);
  const auto bad_time = Get(f.port(), "/v1/series/plant/l1/temp?from=yesterday");
  CHECK(bad_time.status == 400);
  CHECK(bad_time.Has("from: "));
  CHECK(bad_time.Has("RFC 3339"));
  const auto backwards = Get(f.port(), "/v1/series/plant/l1/temp?from=20&to=10");
  CHECK(backwards.status == 400);
  CHECK(backwards.Has("empty range: from (20) must be before to (10)"));
  CHECK(Get(f.port(), "/v1/series/plant/l1/temp?from=5&to=5").status == 400);
  CHECK(Get(f.port(), "/v1/series/plant/l1/temp?frm=5").Has("unknown parameter 'frm'"));
  CHECK(Get(f.port(), "/v1/series/plant/l1/temp/latest?limit=1").Has("allowed here: none"));

  const auto unknown = Get(f.port(), "/v1/series/plant/l9/temp");
  CHECK(unknown.status == 404);
  CHECK(unknown.Has(R"({"error":"no series named \"plant/l9/temp\""})"));
  CHECK(Get(f.port(), "/v1/series/").Has("empty series name"));
  CHECK(Get(f.port(), "/v1/series//latest").status == 400);
  CHECK(Get(f.port(), "/v1/series/" + std::string(1100, 'x')).Has("series name of 1100 bytes"));
  CHECK(Get(f.port(), "/v1/series/bad%zzname").status == 400);
  // Nothing above changed the store.
  CHECK(f.app->store().ListSeries().size() == 1);
}

TEST_CASE("status, health and readiness of a running gateway") {
  AppFixture f;
  const auto status = Get(f.port(), "/v1/status");
  CHECK(status.status == 200);
  for (const char* key :
       {R"("gateway":"edge-01")", R"("site":"plant-a")", R"("board":{"profile":)", R"("ingest":{)",
        R"("store":{"disk_used_bytes":)", R"("sync":{"running":false)", R"("partitions":{"open":)",
        R"("health":{"healthy":true)", R"("uptime_s":)", R"("full":false,"full_reason":"")",
        R"("fs_free_bytes":)", R"("fs_total_bytes":)", R"("low_space":)",
        R"("free_space_warning_pct":5)", R"("rejected_no_space":0)", R"("leftover_files":)",
        R"("clock":{"jumps_forward":)", R"("jumps_backward":)", R"("last_jump_ns":)",
        R"("warnings":[)"}) {
    CAPTURE(key);
    CHECK(status.Has(key));
  }
  CHECK(Get(f.port(), "/healthz").status == 200);
  CHECK(Get(f.port(), "/readyz").body == "ready\n");
  CHECK(f.app->UnreadyReason().empty());
}

// The number after `"key":` (the first one) in `json`; -1 when absent.
double NumberAfter(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}

// The sample of `name` with exactly `labels` in Prometheus text; -1: none.
double MetricValue(const std::string& text, const std::string& name, const std::string& labels) {
  const std::string line = name + (labels.empty() ? "" : "{" + labels + "}") + " ";
  const auto at = text.find("\n" + line);
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + 1 + line.size(), nullptr);
}

TEST_CASE(
    "status and sources after traffic: windows, reasons, rules and errors agree with /metrics") {
  AppFixture f;
  const auto offer = [&](const std::string& topic, const std::string& payload) {
    InboundMessage m;
    m.topic = topic;
    m.payload = payload;
    m.qos = 1;
    m.receive_time_ns = WallNs();
    REQUIRE(f.app->pipeline().Offer(std::move(m)) == OfferResult::kQueued);
  };
  for (int i = 0; i < 20; ++i) offer("plant/l1/temp", std::to_string(i));
  offer("plant/l2/temp", "warm");
  offer("blob/a", "bytes");
  offer("nowhere", "1");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (f.app->stats().pipeline.records_stored < 21 ||
         f.app->stats().pipeline.messages_unmatched < 1 ||
         f.app->stats().pipeline.messages_malformed < 1) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  const auto status = Get(f.port(), "/v1/status");
  REQUIRE(status.status == 200);
  for (const char* key :
       {R"("started_ns":)", R"("rate_records_per_s":)", R"("rate_messages_per_s":)",
        R"("shed_by_reason":{"qos0":0,"priority":0})", R"("malformed_by_reason":{)",
        R"("not_a_number":1)", R"("ack_latency":{"window_s":60,"count":)",
        R"("since_start":{"count":)",
        R"("last_errors":[{"where":"ingest","message":"topic 'plant/l2/temp': not_a_number)"}) {
    CAPTURE(key);
    CHECK(status.Has(key));
  }
  CHECK(NumberAfter(status.body, "started_ns") <= static_cast<double>(WallNs()));
  CHECK(NumberAfter(status.body, "started_ns") > static_cast<double>(WallNs() - 600 * kSecond));

  const auto metrics = Get(f.port(), "/metrics");
  REQUIRE(metrics.status == 200);
  // Since start, the status counts what the histogram counts; the window
  // (the gateway is younger than 60 s) counts the same batches.
  const double acks = MetricValue(metrics.body, "sluice_durable_ack_latency_seconds_count", "");
  CHECK(acks >= 1);
  const auto since = status.body.substr(status.body.find(R"("since_start":)"));
  CHECK(NumberAfter(since, "count") == acks);
  CHECK(NumberAfter(status.body.substr(status.body.find(R"("ack_latency":)")), "count") == acks);
  CHECK(NumberAfter(since, "p50_ms") > 0);
  CHECK(NumberAfter(since, "p99_ms") >= NumberAfter(since, "p50_ms"));
  CHECK(MetricValue(metrics.body, "sluice_ingest_malformed_total", R"(reason="not_a_number")") ==
        NumberAfter(status.body, "not_a_number"));
  // Per rule: the float rule won 21 messages and refused one; the bytes
  // rule won one.
  CHECK(MetricValue(metrics.body, "sluice_ingest_rule_messages_total",
                    R"(rule="0",topic="plant/+/temp",result="matched")") == 21);
  CHECK(MetricValue(metrics.body, "sluice_ingest_rule_messages_total",
                    R"(rule="0",topic="plant/+/temp",result="malformed")") == 1);
  CHECK(MetricValue(metrics.body, "sluice_ingest_rule_messages_total",
                    R"(rule="1",topic="blob/+",result="matched")") == 1);

  const auto sources = Get(f.port(), "/v1/sources");
  REQUIRE(sources.status == 200);
  CHECK(sources.HeadHas("application/json"));
  CHECK(sources.Has(R"("brokers":[])"));
  CHECK(sources.Has(R"("endpoint":{"enabled":false,"address":"127.0.0.1")"));
  CHECK(sources.Has(R"("connections":[],"connections_total":0)"));
  CHECK(sources.Has(
      R"({"index":0,"topic":"plant/+/temp","format":"raw","priority":"normal","matched":21,"malformed":1,"samples":20})"));
  CHECK(sources.Has(
      R"({"index":1,"topic":"blob/+","format":"raw","priority":"normal","matched":1,"malformed":0,"samples":1})"));
  CHECK(sources.Has(R"("unmatched":1})"));
}

// The real file system, except that it reports a file system with `free`
// of `total` bytes free.
class SpaceEnv final : public store::Env {
 public:
  SpaceEnv(std::uint64_t free, std::uint64_t total) : free_(free), total_(total) {
    auto env = store::NewPosixEnv(store::IoEngine::kPwrite);
    REQUIRE_MESSAGE(env.ok(), env.status().ToString());
    real_ = std::move(*env);
  }
  Result<std::unique_ptr<store::File>> OpenFile(const std::string& path,
                                                store::FileOptions options) override {
    return real_->OpenFile(path, options);
  }
  Status CreateDirs(const std::string& path) override { return real_->CreateDirs(path); }
  Status SyncDir(const std::string& path) override { return real_->SyncDir(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return real_->Rename(from, to);
  }
  Status Remove(const std::string& path) override { return real_->Remove(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return real_->ListDir(dir);
  }
  bool Exists(const std::string& path) override { return real_->Exists(path); }
  store::IoEngine io_engine() const override { return real_->io_engine(); }
  Result<Space> FileSystemSpace(const std::string&) override {
    Space s;
    s.free_bytes = free_;
    s.total_bytes = total_;
    return s;
  }

 private:
  std::unique_ptr<store::Env> real_;
  std::uint64_t free_, total_;
};

TEST_CASE("low space on the store's file system is a warning: live, ready, and said in status") {
  SpaceEnv env(3ull << 30, 100ull << 30);
  AppHooks hooks;
  hooks.store_context.env = &env;
  AppFixture f("", "", std::move(hooks));
  CHECK(Get(f.port(), "/healthz").status == 200);
  CHECK(Get(f.port(), "/readyz").status == 200);
  const auto status = Get(f.port(), "/v1/status");
  CHECK(status.Has(R"("low_space":true)"));
  CHECK(status.Has(R"("fs_free_bytes":3221225472,"fs_total_bytes":107374182400)"));
  CHECK(status.Has(
      R"j("warnings":["3.0% free on the store's file system (3.0 GiB of 100.0 GiB)"])j"));
  CHECK(status.Has(R"("ready":true)"));
  const auto metrics = Get(f.port(), "/metrics");
  CHECK(metrics.Has("sluice_store_low_space 1\n"));
  CHECK(metrics.Has("sluice_store_fs_free_bytes 3221225472\n"));
}

TEST_CASE("a gateway with a broker it cannot reach is live but not ready") {
  AppFixture f("", "[[mqtt.broker]]\nuri = \"tcp://127.0.0.1:1\"\n");
  // One run in a CI build saw this request answered with nothing at all
  // (status 0) 0.1 s after start, not reproduced since: retried, bounded.
  auto r = Get(f.port(), "/readyz");
  for (int i = 0; i < 5 && r.status == 0; ++i) r = Get(f.port(), "/readyz");
  CHECK(r.status == 503);
  CHECK(r.Has("no broker connection (0 of 1 up)"));
  CHECK(Get(f.port(), "/healthz").status == 200);
}

TEST_CASE("the gateway's admin token: required off loopback, checked at start, enforced") {
  sluice::testing::TempDir dir("sluice-admin-token");
  const auto token = dir.path() / "token";
  testing::WriteFile(token, "0123456789abcdef0123456789abcdef\n", 0600);

  // Off loopback without a token: refused at configuration, naming the key.
  auto open = ParseConfig("[admin]\naddress = \"0.0.0.0\"\n", "t.toml");
  REQUIRE_FALSE(open.ok());
  CHECK(open.status().message().find("'admin.token_file': required when address is not loopback") !=
        std::string::npos);
  CHECK(ParseConfig("[admin]\nenabled = false\naddress = \"0.0.0.0\"\n", "t.toml").ok());
  CHECK(ParseConfig("[admin]\naddress = \"0.0.0.0\"\ntoken_file = \"" + token.string() + "\"\n",
                    "t.toml")
            .ok());
  CHECK(ParseConfig("[admin]\ntoken_file = \"relative/token\"\n", "t.toml")
            .status()
            .message()
            .find("must be an absolute path") != std::string::npos);
  CHECK(ParseConfig("[admin]\nsync_stuck_after = \"10s\"\n", "t.toml")
            .status()
            .message()
            .find("admin.sync_stuck_after") != std::string::npos);

  // A token readable by others: the configuration names the mode...
  testing::WriteFile(dir.path() / "open", "0123456789abcdef0123456789abcdef\n", 0640);
  auto loose =
      ParseConfig("[admin]\ntoken_file = \"" + (dir.path() / "open").string() + "\"\n", "t.toml");
  REQUIRE_FALSE(loose.ok());
  CHECK(loose.status().message().find("has mode 0640") != std::string::npos);

  // ...and a token file gone by start time refuses the start.
  {
    auto config = ParseConfig("[store]\ndir = \"" + (dir.path() / "store").string() +
                                  "\"\n[admin]\nport = 0\ntoken_file = \"" +
                                  (dir.path() / "later").string() + "\"\n",
                              "t.toml");
    REQUIRE(config.ok());
    auto app = App::Start(*config);
    REQUIRE_FALSE(app.ok());
    CHECK(app.status().message().find("admin token file") != std::string::npos);
  }

  AppFixture f("token_file = \"" + token.string() + "\"\n");
  CHECK(Get(f.port(), "/v1/series").status == 401);
  CHECK(Get(f.port(), "/metrics", "Bearer wrong").status == 401);
  CHECK(Get(f.port(), "/v1/series", "Bearer 0123456789abcdef0123456789abcdef").status == 200);
  // The refusals are counted by the server's handler after it answered:
  // poll (bounded) rather than race it.
  bool counted = false;
  for (int i = 0; i < 200 && !counted; ++i) {
    counted = Get(f.port(), "/metrics", "Bearer 0123456789abcdef0123456789abcdef")
                  .Has("sluice_admin_auth_failures_total 2\n");
    if (!counted) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(counted);
}

}  // namespace sluice::gateway
