#include "gateway/admin/admin_server.h"

#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/admin/admin_util.h"
#include "gateway/admin/health.h"
#include "admin_test_util.h"
#include "temp_dir.h"

namespace sluice::gateway {
namespace {

using testing::Get;
using testing::Raw;

constexpr const char* kToken = "0123456789abcdef0123456789abcdef";

AdminHandlers FakeHandlers(std::string* unhealthy = nullptr, std::string* unready = nullptr) {
  AdminHandlers h;
  h.metrics = [] {
    MetricsText m;
    m.Family("sluice_store_records_total", "counter", "Records acknowledged durable.")
        .Sample("sluice_store_records_total", 12345)
        .Family("sluice_sync_backlog_bytes", "gauge", "Bytes waiting for upload.")
        .Sample("sluice_sync_backlog_bytes", 0.5, "lane=\"" + EscapeLabel("li\"ve") + "\"");
    return m.str();
  };
  h.status = [] { return std::string(R"({"gateway":"edge-01"})"); };
  h.unhealthy_reason = [unhealthy] { return unhealthy ? *unhealthy : ""; };
  h.unready_reason = [unready] { return unready ? *unready : ""; };
  h.series = [](const AdminRequest& r) {
    return AdminResponse{200, "application/json", "{\"path\":" + admin::JsonString(r.path) + "}"};
  };
  return h;
}

std::unique_ptr<AdminServer> StartServer(AdminHandlers h, const std::string& token_file = "") {
  AdminOptions o;
  o.port = 0;
  o.token_file = token_file;
  auto server = AdminServer::Start(o, std::move(h));
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  return std::move(*server);
}

}  // namespace

TEST_CASE("the admin endpoint serves metrics, health, readiness and status") {
  std::string unhealthy, unready;
  auto server = StartServer(FakeHandlers(&unhealthy, &unready));
  const auto port = server->port();

  const auto metrics = Get(port, "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.HeadHas("text/plain; version=0.0.4"));
  CHECK(metrics.Has("# TYPE sluice_store_records_total counter\n"));
  CHECK(metrics.Has("sluice_store_records_total 12345\n"));
  CHECK(metrics.Has("sluice_sync_backlog_bytes{lane=\"li\\\"ve\"} 0.5\n"));

  CHECK(Get(port, "/healthz").status == 200);
  unhealthy = "sync stuck: no upload confirmed for 4000 s";
  const auto sick = Get(port, "/healthz");
  CHECK(sick.status == 503);
  CHECK(sick.Has("sync stuck"));

  CHECK(Get(port, "/readyz").status == 200);
  unready = "appends refused: no space (file system full)";
  const auto not_ready = Get(port, "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.Has("appends refused: no space (file system full)"));

  CHECK(Get(port, "/v1/status").Has(R"({"gateway":"edge-01"})"));
  const auto head = Raw(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.HeadHas("Content-Length: "));
  server->Stop();
  server->Stop();  // idempotent
}

TEST_CASE("bad paths, methods and requests get a clear 4xx and change nothing") {
  auto server = StartServer(FakeHandlers());
  const auto port = server->port();

  const auto missing = Get(port, "/nope");
  CHECK(missing.status == 404);
  CHECK(missing.Has("not found: '/nope'; try /metrics"));
  const auto v1_missing = Get(port, "/v1/nope");
  CHECK(v1_missing.status == 404);
  CHECK(v1_missing.HeadHas("application/json"));
  CHECK(v1_missing.Has("{\"error\":\"not found: '/v1/nope'"));

  const auto post = Raw(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
  CHECK(post.status == 405);
  CHECK(post.HeadHas("Allow: GET, HEAD"));

  const auto bad_escape = Get(port, "/v1/series/%zz");
  CHECK(bad_escape.status == 400);
  CHECK(bad_escape.Has("bad percent-encoding"));
  CHECK(Get(port, "/v1/series/a%00b").status == 400);  // an encoded NUL

  CHECK(Raw(port, "this is not http\r\n\r\n").status == 400);
  CHECK(Raw(port,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n")
            .status == 431);
  CHECK(Raw(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n").status ==
        413);

  // The series handler sees the decoded path, slashes and all.
  const auto series = Get(port, "/v1/series/plant%2Fl1/temp%20x?limit=5");
  CHECK(series.status == 200);
  CHECK(series.Has(R"({"path":"/v1/series/plant/l1/temp x"})"));

  // Still serving after all that.
  CHECK(Get(port, "/metrics").status == 200);
  const AdminCounters c = server->counters();
  CHECK(c.bad_requests == 3);
  CHECK(c.client_errors == 8);
}

TEST_CASE("with a token every request needs it: missing, wrong and right tokens") {
  sluice::testing::TempDir dir("sluice-admin-token");
  const auto token_file = dir.path() / "token";
  testing::WriteFile(token_file, std::string(kToken) + "\n", 0600);
  auto server = StartServer(FakeHandlers(), token_file.string());
  const auto port = server->port();

  for (const char* path :
       {"/metrics", "/healthz", "/readyz", "/v1/status", "/v1/series", "/nope"}) {
    CAPTURE(path);
    const auto none = Get(port, path);
    CHECK(none.status == 401);
    CHECK(none.HeadHas("WWW-Authenticate: Bearer realm=\"sluice\""));
    CHECK(none.Has("needs 'Authorization: Bearer <token>'"));
  }
  const std::string t = kToken;
  for (const std::string& wrong :
       {std::string("Bearer nope"), "Bearer " + t.substr(1), "Bearer " + t + "x",
        "Bearer " + t.substr(0, 31) + "F", std::string("Bearer "), "Basic " + t, t}) {
    CAPTURE(wrong);
    const auto r = Get(port, "/metrics", wrong);
    CHECK(r.status == 401);
    CHECK(r.body.find(kToken) == std::string::npos);  // never echoed
  }
  CHECK(Get(port, "/v1/status", "Bearer nope").HeadHas("application/json"));
  CHECK(Get(port, "/metrics", "Bearer " + t).status == 200);
  CHECK(Get(port, "/metrics", "bearer " + t).status == 200);  // the scheme is case-insensitive
  CHECK(Get(port, "/healthz", "Bearer " + t).Has("ok"));
  // Even a 404 is not told before the token: unauthenticated clients learn nothing.
  CHECK(Get(port, "/nope", "Bearer " + t).status == 404);
  CHECK(server->counters().auth_failures == 14);
}

// A stand-in for the console's embedded files.
std::optional<StaticAsset> FakeAsset(std::string_view path) {
  if (path == "/") return StaticAsset{"text/html; charset=utf-8", "<!doctype html><p>login"};
  if (path == "/console/app.js") return StaticAsset{"text/javascript; charset=utf-8", "go();"};
  return std::nullopt;
}

void CheckSecurityHeaders(const testing::HttpReply& r) {
  CHECK(
      r.HeadHas("Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
                "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
                "form-action 'none'; frame-ancestors 'none'\r\n"));
  CHECK(r.HeadHas("X-Content-Type-Options: nosniff\r\n"));
  CHECK(r.HeadHas("Referrer-Policy: no-referrer\r\n"));
  CHECK(r.HeadHas("X-Frame-Options: DENY\r\n"));
}

TEST_CASE("the console's files are served without a token, the data behind them only with one") {
  sluice::testing::TempDir dir("sluice-admin-console");
  const auto token_file = dir.path() / "token";
  testing::WriteFile(token_file, std::string(kToken) + "\n", 0600);
  AdminHandlers h = FakeHandlers();
  h.asset = FakeAsset;
  auto server = StartServer(std::move(h), token_file.string());
  const auto port = server->port();

  const auto page = Get(port, "/");
  CHECK(page.status == 200);
  CHECK(page.body == "<!doctype html><p>login");
  CHECK(page.HeadHas("Content-Type: text/html; charset=utf-8"));
  CHECK(page.HeadHas("Cache-Control: no-cache"));
  CHECK_FALSE(page.HeadHas("WWW-Authenticate"));
  const auto script = Get(port, "/console/app.js");
  CHECK(script.status == 200);
  CHECK(script.body == "go();");
  CHECK(script.HeadHas("Content-Type: text/javascript; charset=utf-8"));

  // The same file answers 304 to a client that holds it.
  const auto etag_at = script.head.find("ETag: ");
  REQUIRE(etag_at != std::string::npos);
  const std::string etag =
      script.head.substr(etag_at + 6, script.head.find("\r\n", etag_at) - etag_at - 6);
  CHECK(etag.starts_with('"'));
  const auto again =
      Raw(port, "GET /console/app.js HTTP/1.0\r\nIf-None-Match: " + etag + "\r\n\r\n");
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(Raw(port, "GET /console/app.js HTTP/1.0\r\nIf-None-Match: \"other\"\r\n\r\n").status ==
        200);
  const auto head = Raw(port, "HEAD /console/app.js HTTP/1.0\r\n\r\n");
  CHECK(head.status == 200);
  CHECK(head.body.empty());

  const auto unknown = Get(port, "/console/x");
  CHECK(unknown.status == 404);
  CHECK(unknown.Has("not found: '/console/x'"));
  CHECK(Raw(port, "POST /console/app.js HTTP/1.0\r\nContent-Length: 0\r\n\r\n").status == 405);

  // Everything else still needs the token, whatever the path looks like.
  for (const char* path : {"/v1/status", "/metrics", "/v1/series", "/console", "/consolex",
                           "/v1/status?x=/console/", "/index.html"}) {
    CAPTURE(path);
    CHECK(Get(port, path).status == 401);
  }
  CHECK(Get(port, "/v1/status", std::string("Bearer ") + kToken).status == 200);
}

TEST_CASE("without console files the root keeps its plain list and needs the token like any path") {
  sluice::testing::TempDir dir("sluice-admin-console");
  const auto token_file = dir.path() / "token";
  testing::WriteFile(token_file, std::string(kToken) + "\n", 0600);
  auto server = StartServer(FakeHandlers(), token_file.string());
  CHECK(Get(server->port(), "/").status == 401);
  CHECK(Get(server->port(), "/console/app.js").status == 401);
  const auto root = Get(server->port(), "/", std::string("Bearer ") + kToken);
  CHECK(root.status == 200);
  CHECK(root.Has("sluice admin endpoint: /metrics"));
  CHECK(root.Has("/v1/partitions"));
  CHECK(Get(server->port(), "/console/app.js", std::string("Bearer ") + kToken).status == 404);
}

TEST_CASE("every answer carries the security headers: data, files, errors and refusals") {
  sluice::testing::TempDir dir("sluice-admin-console");
  const auto token_file = dir.path() / "token";
  testing::WriteFile(token_file, std::string(kToken) + "\n", 0600);
  AdminHandlers h = FakeHandlers();
  h.asset = FakeAsset;
  auto server = StartServer(std::move(h), token_file.string());
  const auto port = server->port();
  const std::string bearer = std::string("Bearer ") + kToken;
  for (const auto& r :
       {Get(port, "/"), Get(port, "/console/app.js"), Get(port, "/console/x"),
        Get(port, "/v1/status"), Get(port, "/v1/status", bearer), Get(port, "/metrics", bearer),
        Get(port, "/healthz", bearer), Get(port, "/nope", bearer),
        Raw(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n"),
        Raw(port, "this is not http\r\n\r\n")}) {
    CAPTURE(r.head);
    CHECK(r.status != 0);
    CheckSecurityHeaders(r);
  }
  CHECK(Get(port, "/v1/status", bearer).HeadHas("Cache-Control: no-store"));
}

TEST_CASE("the partitions handler answers /v1/partitions, unset, the path is not found") {
  AdminHandlers h = FakeHandlers();
  h.partitions = [](const AdminRequest& r) {
    return AdminResponse{200, "application/json", "{\"p\":" + admin::JsonString(r.path) + "}"};
  };
  auto server = StartServer(std::move(h));
  CHECK(Get(server->port(), "/v1/partitions?state=open").body == R"({"p":"/v1/partitions"})");
  auto plain = StartServer(FakeHandlers());
  CHECK(Get(plain->port(), "/v1/partitions").status == 404);
}

TEST_CASE("HTTPS needs both the certificate and the key, and they must load") {
  AdminOptions o;
  o.port = 0;
  o.tls_cert_file = "/etc/sluice/admin.pem";
  const Status only_cert = o.Validate();
  REQUIRE_FALSE(only_cert.ok());
  CHECK(only_cert.message() ==
        "tls_key_file: HTTPS needs both tls_cert_file and tls_key_file (or neither, for plain "
        "HTTP)");
  o.tls_cert_file.clear();
  o.tls_key_file = "/etc/sluice/admin.key";
  CHECK(
      o.Validate().message().starts_with("tls_cert_file: HTTPS needs both tls_cert_file and "
                                         "tls_key_file"));
  o.tls_cert_file = "/nonexistent/admin.pem";
  auto refused = AdminServer::Start(o, FakeHandlers());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message().starts_with("tls_cert_file: /nonexistent/admin.pem: "));
}

TEST_CASE("token files are refused when readable by others, missing, short or not one line") {
  sluice::testing::TempDir dir("sluice-admin-token");
  const auto file = dir.path() / "token";
  testing::WriteFile(file, kToken, 0644);
  auto open = LoadAdminToken(file.string());
  REQUIRE_FALSE(open.ok());
  CHECK(open.status().message().find("has mode 0644") != std::string::npos);
  CHECK(open.status().message().find("chmod 600") != std::string::npos);
  CHECK(open.status().message().find(kToken) == std::string::npos);

  AdminOptions o;
  o.port = 0;
  o.token_file = file.string();
  auto refused = AdminServer::Start(o, FakeHandlers());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);  // the gateway must not start

  testing::WriteFile(file, "short\n", 0600);
  CHECK(LoadAdminToken(file.string()).status().message().find("16 to 4096") != std::string::npos);
  testing::WriteFile(file, std::string(kToken) + "\nsecond line\n", 0600);
  CHECK_FALSE(LoadAdminToken(file.string()).ok());
  testing::WriteFile(file, std::string(kToken) + "\r\n", 0600);
  CHECK(*LoadAdminToken(file.string()) == kToken);
  CHECK_FALSE(LoadAdminToken((dir.path() / "absent").string()).ok());
  AdminOptions absent;
  absent.port = 0;
  absent.token_file = (dir.path() / "absent").string();
  CHECK(AdminServer::Start(absent, {}).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a non-loopback address needs a token, loopback does not") {
  CHECK(IsLoopbackAddress("127.0.0.1"));
  CHECK(IsLoopbackAddress("127.9.9.9"));
  CHECK(IsLoopbackAddress("::1"));
  CHECK(IsLoopbackAddress("::ffff:127.0.0.1"));
  CHECK_FALSE(IsLoopbackAddress("0.0.0.0"));
  CHECK_FALSE(IsLoopbackAddress("::"));
  CHECK_FALSE(IsLoopbackAddress("192.168.1.10"));
  CHECK_FALSE(IsLoopbackAddress("localhost"));

  AdminOptions o;
  o.address = "0.0.0.0";
  const Status s = o.Validate();
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().starts_with("token_file: required when address is not loopback ('0.0.0.0')"));
  o.token_file = "/etc/sluice/admin.token";
  CHECK(o.Validate().ok());
  o.sync_stuck_after = std::chrono::seconds(5);
  CHECK(o.Validate().message().starts_with("sync_stuck_after:"));
}

TEST_CASE("a bad admin address is refused with the address named") {
  AdminOptions o;
  o.address = "not-an-ip";
  auto server = AdminServer::Start(o, {});
  REQUIRE_FALSE(server.ok());
  CHECK(server.status().message().find("not-an-ip") != std::string::npos);
}

TEST_CASE("request targets are split and percent-decoded, tokens compared whole") {
  auto r = admin::ParseTarget("/v1/series/a%2Fb/c?from=1&to=2026-01-01T00%3A00%3A00Z&x=a+b&flag");
  REQUIRE(r.ok());
  CHECK(r->path == "/v1/series/a/b/c");
  CHECK(r->raw_path == "/v1/series/a%2Fb/c");
  CHECK(r->query.at("from") == "1");
  CHECK(r->query.at("to") == "2026-01-01T00:00:00Z");
  CHECK(r->query.at("x") == "a b");
  CHECK(r->query.at("flag").empty());
  CHECK_FALSE(admin::ParseTarget("http://host/metrics").ok());
  CHECK_FALSE(admin::ParseTarget("/a%2").ok());
  CHECK_FALSE(admin::ParseTarget("/a?b=%g0").ok());
  CHECK(admin::PercentEncode("plant/l1 temp~") == "plant%2Fl1%20temp~");

  CHECK(admin::TokenEquals("abc", "abc"));
  CHECK_FALSE(admin::TokenEquals("abd", "abc"));
  CHECK_FALSE(admin::TokenEquals("ab", "abc"));
  CHECK_FALSE(admin::TokenEquals("abcd", "abc"));
  CHECK_FALSE(admin::TokenEquals("", "abc"));
  CHECK(admin::JsonString("a\"b\\c\n\x01") == R"("a\"b\\c\u000a\u0001")");
  CHECK(admin::JsonDouble(0.1) == "0.1");
  CHECK(admin::JsonDouble(std::nan("")) == "\"NaN\"");
}

TEST_CASE("sync is stuck when partitions wait and no upload succeeded for the threshold") {
  constexpr std::int64_t kS = 1'000'000'000;
  const std::int64_t start = 1'000'000 * kS;
  sync::SyncHealth h;
  h.running = true;
  h.backlog_partitions = 3;
  h.backlog_bytes = 4096;
  h.last_error = "s3: connection refused";
  // Never succeeded: counted from the start.
  CHECK(admin::SyncStuckReason(h, std::chrono::seconds(3600), start, start + 3599 * kS).empty());
  const std::string stuck = admin::SyncStuckReason(h, std::chrono::seconds(3600), start, start + 3600 * kS);
  CHECK(stuck ==
        "sync stuck: no upload confirmed for 3600 s (none since start), more than "
        "admin.sync_stuck_after (3600 s), while 3 sealed partitions (4096 bytes) wait; "
        "last error: s3: connection refused");
  // A recent success resets the clock.
  h.last_success_ns = start + 3000 * kS;
  CHECK(admin::SyncStuckReason(h, std::chrono::seconds(3600), start, start + 3700 * kS).empty());
  CHECK_FALSE(admin::SyncStuckReason(h, std::chrono::seconds(3600), start, start + 6600 * kS).empty());
  // Nothing waiting, the check off, or no sync: never stuck.
  CHECK(admin::SyncStuckReason(h, std::chrono::seconds(0), start, start + 99999 * kS).empty());
  h.backlog_partitions = 0;
  CHECK(admin::SyncStuckReason(h, std::chrono::seconds(3600), start, start + 99999 * kS).empty());
  h.backlog_partitions = 3;
  h.running = false;
  CHECK(admin::SyncStuckReason(h, std::chrono::seconds(3600), start, start + 99999 * kS).empty());
}

TEST_CASE("clock jumps read as signed spans") {
  constexpr std::int64_t kS = 1'000'000'000;
  CHECK(admin::ClockJumpText(365 * 86400 * kS) == "+365d");
  CHECK(admin::ClockJumpText(-3 * kS) == "-3s");
  CHECK(admin::ClockJumpText(7500 * kS) == "+2h05m");
  CHECK(admin::ClockJumpText(-(86400 + 7200) * kS) == "-1d02h");
  CHECK(admin::ClockJumpText(-150 * kS) == "-2m30s");
  CHECK(admin::ClockJumpText(0) == "+0s");
  CHECK(admin::ClockJumpText(INT64_MIN).starts_with("-"));
}

}  // namespace sluice::gateway
