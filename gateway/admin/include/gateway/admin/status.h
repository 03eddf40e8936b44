// `sluice status`: a human view of a running gateway, read from its admin
// endpoint (/v1/status and /metrics): identity and board, health, ingest
// and upload rates, store fill and sync backlog with bars, recent errors.
//
//   sluice status [--admin URL] [--token-file F] [--ca-file F] [--watch [SECONDS]]
//
// An https:// URL speaks TLS 1.2 or later and verifies the server's
// certificate (chain and host name or IP address) against --ca-file, or the
// system's trust store without it; a failed verification is an error, never
// a fallback to an unverified or plain connection.
//
// Rates need two samples: a single view takes them one second apart;
// --watch redraws in place (ANSI) every SECONDS until Ctrl-C, each rate
// over the last interval.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sluice::gateway::status {

struct StatusOptions {
  std::string admin = "http://127.0.0.1:9464";  // scheme http or https, host, port
  std::string token_file;                       // empty: no Authorization header
  std::string ca_file;                          // https: PEM CAs to trust; empty: system store
  double watch_s = 0;                           // 0: draw once
};

// Runs the subcommand; the process exit code (0 shown, 1 unreachable or
// refused, 2 bad arguments).
int RunStatus(const StatusOptions& options);

// One reading of the admin endpoint. Rates come from the running totals
// of two status documents; /metrics supplies the ack latency histogram.
struct Snapshot {
  std::int64_t steady_ns = 0;  // when it was taken (monotonic)
  std::string status_json;     // /v1/status
  // Every sample of /metrics: "name{labels}" (as printed) -> value.
  std::map<std::string, double, std::less<>> samples;
};

// One reading of the admin endpoint of `options` (its watch_s unused):
// /metrics and /v1/status. InvalidArgument for a bad URL, token or CA file,
// or an answer other than 200; Unavailable when the endpoint cannot be
// reached or its certificate does not verify.
Result<Snapshot> TakeSnapshot(const StatusOptions& options);

// The samples of a Prometheus text page; comments and blank lines skipped,
// lines it cannot read ignored (this is a display, not a validator).
std::map<std::string, double, std::less<>> ParseSamples(std::string_view text);

struct RenderOptions {
  std::string source;   // the admin URL, shown in the title
  bool unicode = true;  // block characters for bars, else '#' and '.'
  int bar_width = 30;
};

// The view as lines (no trailing newline, no escape sequences). `before`
// (may be null) is the previous snapshot: rates are over the interval
// between the two. InvalidArgument when status_json cannot be read.
Result<std::vector<std::string>> Render(const Snapshot& now, const Snapshot* before,
                                        const RenderOptions& options);

}  // namespace sluice::gateway::status
