// The admin HTTP endpoint: Prometheus metrics, health, status, a small
// read-only data API and the web console's static files. Loopback by
// default; Boost.Beast and OpenSSL stay inside admin_server.cc.
//
//   GET /metrics                     text/plain; version=0.0.4 (Prometheus),
//                                    what AdminHandlers::registry holds
//   GET /healthz                     200 "ok", or 503 and why (liveness)
//   GET /readyz                      200 "ready", or 503 and why not
//   GET /v1/status                   application/json
//   GET /v1/series[...]              application/json, AdminHandlers::series
//                                    (series_api.h: list, glob, latest,
//                                    range, downsampled range)
//   GET /v1/partitions[?...]         application/json, AdminHandlers::partitions
//                                    (partitions_api.h)
//   GET / and GET /console/...       the console's files, AdminHandlers::asset
//
// With a token (AdminOptions::token_file) every request must carry
// `Authorization: Bearer <token>`; anything else is answered 401 before a
// handler runs. The token is compared in constant time and never logged.
// The one exception is the console's files (`/` and `/console/...`, when
// AdminHandlers::asset is set): they are the login page and its scripts,
// hold no data, and are served without a token; every byte of data comes
// from /v1/, which needs it. Bad requests get a 4xx with a one-line reason:
// JSON {"error": ...} under /v1/, plain text elsewhere.
//
// Every answer carries a strict Content-Security-Policy (same-origin
// scripts, styles, images, fonts and fetches only; no framing, no forms),
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and
// X-Frame-Options: DENY. Data answers are Cache-Control: no-store; console
// files carry an ETag of their content and Cache-Control: no-cache (their
// paths are not content-addressed, so a browser revalidates and gets a 304).
//
// With tls_cert_file and tls_key_file the port speaks TLS 1.2 or later only;
// a plain HTTP request on it is answered once, in plain text, with a 400
// saying to use https://, and the connection closed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/metrics.h"
#include "base/status.h"

namespace sluice::gateway {

struct AdminOptions {
  // Address to listen on. Default: 127.0.0.1 (the box itself).
  std::string address = "127.0.0.1";
  // TCP port; 0 picks a free one (tests). Default: 9464.
  std::uint16_t port = 9464;
  // File holding the bearer token (one line of 16 to 4096 visible ASCII
  // characters), readable by its owner only. Required when `address` is not
  // a loopback address. Empty: no token (loopback only). Default: empty.
  std::string token_file;
  // /healthz turns 503 when sealed partitions wait and no upload was
  // confirmed for this long; 0: never. Used by the App, not the server.
  // Bounds: 0, or 1 min .. 30 days. Default: 1 h.
  std::chrono::seconds sync_stuck_after{3600};
  // HTTPS: both set, the port speaks TLS 1.2 or later only. PEM files: the
  // certificate chain (server certificate first) and its private key, read
  // once by Start. Both empty: plain HTTP. Defaults: empty.
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls() const { return !tls_cert_file.empty() || !tls_key_file.empty(); }
  // InvalidArgument "field: why" for a bad address, a missing token on a
  // non-loopback address, a stuck threshold out of bounds, or only one of
  // the TLS files. Reads neither the token file nor the TLS files (Start
  // does).
  Status Validate() const;
};

// True for 127.0.0.0/8 and ::1 (and ::ffff:127.x.y.z).
bool IsLoopbackAddress(const std::string& address);

// Reads a token file: refused (InvalidArgument naming the file) unless it is
// a regular file that group and others cannot access, holding one token of
// 16 to 4096 visible ASCII characters (a trailing newline is ignored).
Result<std::string> LoadAdminToken(const std::string& path);

// A request as handlers see it: the path percent-decoded, the query split
// into decoded key/value pairs (the last of repeated keys wins).
struct AdminRequest {
  std::string path;      // e.g. "/v1/series/plant/l1/temp"
  std::string raw_path;  // as sent, before decoding, e.g. "/v1/series/plant%2Fl1%2Ftemp"
  std::map<std::string, std::string> query;
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// A file of the web console, embedded in the binary: both views point into
// storage that outlives the server.
struct StaticAsset {
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;
};

struct AdminHandlers {
  // /metrics renders every family registered here; the server registers
  // its own (sluice_admin_*, AdminProbe) while it runs. Must outlive the
  // server. Unset: `metrics` below.
  MetricRegistry* registry = nullptr;
  std::function<std::string()> metrics;  // Prometheus text, without a registry
  std::function<std::string()> status;   // JSON
  // Empty string: healthy; otherwise the reason it is not (/healthz).
  std::function<std::string()> unhealthy_reason;
  // Empty string: ready; otherwise the reason it is not (/readyz). Unset:
  // always ready.
  std::function<std::string()> unready_reason;
  // /v1/series and everything under it. Unset: 404.
  std::function<AdminResponse(const AdminRequest&)> series;
  // /v1/sources: brokers, endpoint connections, rules (JSON). Unset: 404.
  std::function<std::string()> sources;
  // /v1/partitions and everything under it. Unset: 404.
  std::function<AdminResponse(const AdminRequest&)> partitions;
  // The console's files by decoded path ("/", "/console/app.js"); nullopt:
  // 404. Set: `/` and `/console/...` are served from it without a token.
  // Unset: `/` answers the plain-text endpoint list (token required as for
  // any path) and /console/... is 404. Called on the server thread; must
  // be cheap (a lookup).
  std::function<std::optional<StaticAsset>(std::string_view path)> asset;
};

// What the server saw since Start. Relaxed counters.
struct AdminCounters {
  std::uint64_t requests = 0;       // answered, any status
  std::uint64_t client_errors = 0;  // answered 4xx (bad path, bad input, auth)
  std::uint64_t auth_failures = 0;  // answered 401
  std::uint64_t bad_requests = 0;   // unparsable HTTP, answered 400 or 431 and closed
};

class AdminServer {
 public:
  virtual ~AdminServer() = default;
  // Reads the token file and the TLS files (if any), binds and starts
  // serving on its own thread. Errors: InvalidArgument for bad options, a
  // bad token file or a TLS file that cannot be loaded (naming the field
  // and the file; the gateway must not start), Unavailable when the address cannot be
  // bound (observability only: the caller may go on without it).
  static Result<std::unique_ptr<AdminServer>> Start(const AdminOptions& options,
                                                    AdminHandlers handlers);
  virtual std::uint16_t port() const = 0;
  virtual AdminCounters counters() const = 0;
  // Stops accepting, closes connections, joins the thread. Idempotent.
  virtual void Stop() = 0;
};

// The Prometheus text writer (MetricsText, EscapeLabel) and the registry
// are base's (base/metrics.h), visible here as sluice::MetricsText.

}  // namespace sluice::gateway
