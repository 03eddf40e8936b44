// The text of `sluice status`: pure functions of two snapshots, so tests can
// check it without a terminal or a gateway. It reads /v1/status through the
// fields of status_schema.h, the description the App writes it by.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "base/civil_time.h"
#include "gateway/admin/health.h"
#include "gateway/admin/status.h"
#include "gateway/admin/status_schema.h"

namespace sluice::gateway::status {
namespace {

namespace f = status_schema;

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string Bytes(double b) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? Format("%.0f B", b) : Format("%.1f ", b) + kUnits[u];
}

std::string Duration(std::int64_t s) {
  if (s < 0) s = 0;
  char buf[64];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s / 3600 % 24));
  return buf;
}

std::string Rate(double per_s) {
  if (per_s >= 1e6) return Format("%.2fM", per_s / 1e6);
  if (per_s >= 1e4) return Format("%.1fk", per_s / 1e3);
  return Format("%.1f", per_s);
}

std::string Bar(double fraction, const RenderOptions& o) {
  if (!(fraction >= 0)) fraction = 0;  // NaN too
  const double f = std::min(fraction, 1.0);
  const int filled = static_cast<int>(std::lround(f * o.bar_width));
  std::string bar = "[";
  for (int i = 0; i < o.bar_width; ++i) {
    bar += i < filled ? (o.unicode ? "\u2588" : "#") : (o.unicode ? "\u2591" : ".");
  }
  return bar + "] " + Format("%5.1f%%", fraction * 100);
}

// Reads the status document through the schema's fields; absent fields
// read as zero or empty, so a gateway one version older still draws.
class Doc {
 public:
  explicit Doc(simdjson::dom::element root) : root_(root) {}
  std::int64_t Int(const StatusField& f) const {
    std::int64_t i = 0;
    if (At(f).get(i) == simdjson::SUCCESS) return i;
    std::uint64_t u = 0;
    if (At(f).get(u) == simdjson::SUCCESS) return static_cast<std::int64_t>(u);
    return 0;
  }
  double Num(const StatusField& f) const { return static_cast<double>(Int(f)); }
  bool Has(const StatusField& f) const { return At(f).error() == simdjson::SUCCESS; }
  bool Bool(const StatusField& f) const {
    bool b = false;
    return At(f).get(b) == simdjson::SUCCESS && b;
  }
  std::string Str(const StatusField& f) const {
    std::string_view v;
    if (At(f).get(v) == simdjson::SUCCESS) return std::string(v);
    return "";
  }
  std::vector<std::string> Strs(const StatusField& f) const {
    std::vector<std::string> out;
    simdjson::dom::array a;
    if (At(f).get(a) != simdjson::SUCCESS) return out;
    for (auto e : a) {
      std::string_view v;
      if (e.get(v) == simdjson::SUCCESS) out.emplace_back(v);
    }
    return out;
  }

 private:
  simdjson::simdjson_result<simdjson::dom::element> At(const StatusField& f) const {
    return root_.at_pointer(f.pointer);
  }
  simdjson::dom::element root_;
};

// The durable-acknowledgement latency quantile `q` over the interval, as
// "<= bound" of the histogram bucket it falls in; empty without data. The
// histogram (the pipeline's, in /metrics) is the one reading /v1/status
// does not carry: its buckets are Prometheus's to aggregate.
std::string AckQuantile(const Snapshot& now, const Snapshot* before, double q) {
  static constexpr std::string_view kBucket = "sluice_durable_ack_latency_seconds_bucket{le=\"";
  std::vector<std::pair<double, double>> cum;  // (le, cumulative count in the interval)
  for (auto it = now.samples.lower_bound(kBucket);
       it != now.samples.end() && std::string_view(it->first).starts_with(kBucket); ++it) {
    const std::string le = it->first.substr(kBucket.size(), it->first.size() - kBucket.size() - 2);
    const double bound = le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr);
    double v = it->second;
    if (before) {
      if (auto b = before->samples.find(it->first); b != before->samples.end()) v -= b->second;
    }
    cum.emplace_back(bound, v);
  }
  std::sort(cum.begin(), cum.end());
  if (cum.empty() || cum.back().second <= 0) return "";
  const double want = q * cum.back().second;
  for (const auto& [bound, c] : cum) {
    if (c < want) continue;
    if (std::isinf(bound)) return "> 10 s";
    return bound < 1 ? Format("<= %g ms", bound * 1e3) : Format("<= %g s", bound);
  }
  return "";
}

}  // namespace

std::map<std::string, double, std::less<>> ParseSamples(std::string_view text) {
  std::map<std::string, double, std::less<>> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    // The value follows the last space outside the label braces.
    const auto close = line.rfind('}');
    const auto space = line.find(' ', close == std::string_view::npos ? 0 : close);
    if (space == std::string_view::npos) continue;
    const std::string value(line.substr(space + 1));
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) continue;
    out[std::string(line.substr(0, space))] = v;
  }
  return out;
}

Result<std::vector<std::string>> Render(const Snapshot& now, const Snapshot* before,
                                        const RenderOptions& o) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(now.status_json).get(root); err != simdjson::SUCCESS) {
    return InvalidArgument(std::string("/v1/status is not JSON: ") + simdjson::error_message(err));
  }
  const Doc d(root);
  // The previous document, for rates; without one (or unreadable) rates show "-".
  simdjson::dom::parser before_parser;
  simdjson::dom::element before_root;
  const bool has_before =
      before != nullptr &&
      before_parser.parse(before->status_json).get(before_root) == simdjson::SUCCESS;
  std::vector<std::string> out;
  auto add = [&](const std::string& head, const std::string& text) {
    std::string h = head;
    h.resize(11, ' ');
    out.push_back(h + text);
  };

  out.push_back("sluice status: gateway " + d.Str(f::kGateway) + " at site " + d.Str(f::kSite) +
                "  (sluice " + d.Str(f::kVersion) + ", up " + Duration(d.Int(f::kUptimeS)) + ")  " +
                o.source);
  add("board", d.Str(f::kBoardProfile) + " (" + d.Str(f::kBoardReason) + ")");
  std::string health =
      d.Bool(f::kHealthHealthy) ? "healthy" : "UNHEALTHY: " + d.Str(f::kHealthUnhealthyReason);
  health += d.Bool(f::kHealthReady) ? ", ready" : ", NOT READY: " + d.Str(f::kHealthUnreadyReason);
  add("health", health);
  for (const auto& w : d.Strs(f::kHealthWarnings)) add("", "warning: " + w);

  // Rates of the documents' running totals over the interval between them.
  const double dt = before ? static_cast<double>(now.steady_ns - before->steady_ns) / 1e9 : 0;
  auto per_s = [&](const StatusField& total) -> std::optional<double> {
    if (!has_before || dt <= 0) return std::nullopt;
    return (d.Num(total) - Doc(before_root).Num(total)) / dt;
  };
  auto rate = [&](const StatusField& total) -> std::string {
    const auto r = per_s(total);
    return r ? Rate(*r) : "-";
  };
  std::string ingest = rate(f::kIngestMessagesIn) + " msg/s, " + rate(f::kIngestRecordsStored) +
                       " records/s stored, pressure " + d.Str(f::kIngestPressure);
  add("ingest", ingest);
  // Latency over the interval; with no acknowledgement in it, since start.
  const Snapshot* span = before;
  if (AckQuantile(now, span, 0.5).empty()) span = nullptr;
  const std::string p50 = AckQuantile(now, span, 0.5), p99 = AckQuantile(now, span, 0.99);
  if (!p50.empty()) {
    add("", "durable ack p50 " + p50 + ", p99 " + p99 + (span ? "" : " (since start)"));
  }
  add("", Format("%.0f in, ", d.Num(f::kIngestMessagesIn)) +
              Format("%.0f records stored, ", d.Num(f::kIngestRecordsStored)) +
              Format("malformed %.0f, ", d.Num(f::kIngestMalformed)) +
              Format("unmatched %.0f, ", d.Num(f::kIngestUnmatched)) +
              Format("shed %.0f, ", d.Num(f::kIngestShed)) +
              Format("dropped %.0f", d.Num(f::kIngestRecordsDropped)));
  std::string sources;
  if (d.Int(f::kMqttConfigured) > 0) {
    sources = Format("brokers %.0f", d.Num(f::kMqttConnected)) +
              Format("/%.0f connected", d.Num(f::kMqttConfigured)) +
              Format(" (%.0f lost)", d.Num(f::kMqttConnectionsLost));
  } else {
    sources = "no brokers";
  }
  sources += d.Bool(f::kEndpointEnabled)
                 ? Format(", endpoint %.0f connections", d.Num(f::kEndpointConnections))
                 : ", endpoint off";
  add("sources", sources);

  // Store fill against its disk budget, and the file system under it.
  const double used = d.Num(f::kStoreDiskUsedBytes), budget = d.Num(f::kStoreDiskBudgetBytes);
  std::string full;
  if (d.Bool(f::kStoreFull)) {
    const std::string why = d.Str(f::kStoreFullReason);
    full = ", FULL: appends refused" + (why.empty() ? "" : " (" + why + ")");
  }
  if (budget > 0) {
    add("store", Bar(used / budget, o) + "  " + Bytes(used) + " of " + Bytes(budget) + " budget" +
                     full);
  } else {
    add("store", Bytes(used) + " on disk, no disk budget" + full);
  }
  const double fs_free = d.Num(f::kStoreFsFreeBytes), fs_total = d.Num(f::kStoreFsTotalBytes);
  if (fs_total > 0) {
    add("", "file system " + Bytes(fs_free) + " free of " + Bytes(fs_total) +
                Format(" (%.1f%%)", 100 * fs_free / fs_total) +
                (d.Bool(f::kStoreLowSpace) ? ", LOW" : ""));
  }
  // Right after a restart from the index checkpoint: reads wait for the rest.
  if (!d.Str(f::kStoreRecoveryPath).empty() && !d.Bool(f::kStoreIndexReady)) {
    add("", "index of older partitions loading (restarted from the checkpoint; " +
                Format("appends taken after %.0f ms", d.Num(f::kStoreRecoveryMs)) +
                "); reads wait for it");
  }
  add("", "write buffer " + Bytes(d.Num(f::kStoreWriteBufferBytes)) + ", segments " +
              Bytes(d.Num(f::kStoreSegmentBytes)) + Format(", %.0f series", d.Num(f::kSeries)) +
              ", " + d.Str(f::kWriteBuffer) + ", io " + d.Str(f::kIoEngine));

  // Sync backlog: its share of the budget (or of what the store holds).
  const double backlog = d.Num(f::kSyncBacklogBytes);
  if (!d.Bool(f::kSyncRunning)) {
    add("sync", "off (sync.sink = \"none\"): sealed partitions stay on this box");
  } else {
    const double base = budget > 0 ? budget : used;
    add("sync", Bar(base > 0 ? backlog / base : 0, o) + "  backlog " + Bytes(backlog) + " in " +
                    Format("%.0f partitions", d.Num(f::kSyncBacklogPartitions)) +
                    (d.Int(f::kSyncBacklogPartitions) > 0
                         ? ", oldest " + Duration(d.Int(f::kSyncOldestUnsyncedAgeS))
                         : "") +
                    (budget > 0 ? " (of budget)" : " (of store)"));
    const std::int64_t last_ok = d.Int(f::kSyncLastSuccessNs);
    const std::int64_t now_ns = d.Int(f::kNowNs);
    add("", Format("uploaded %.0f objects, ", d.Num(f::kSyncUploadedObjects)) +
                Bytes(d.Num(f::kSyncUploadedBytes)) + ", " +
                (per_s(f::kSyncUploadedBytes) ? Bytes(*per_s(f::kSyncUploadedBytes)) + "/s"
                                              : "- /s") +
                ", last success " +
                (last_ok > 0 ? Duration((now_ns - last_ok) / 1'000'000'000) + " ago" : "never"));
    // Completeness: data before T is upstream (docs/sync.md).
    const std::int64_t t = d.Int(f::kSyncWatermarkNs);
    const std::string late = Format(", %.0f late records", d.Num(f::kSyncWatermarkLateRecords));
    if (!d.Has(f::kSyncWatermarkIntervalS)) {
      // A gateway without watermarks: nothing to say.
    } else if (d.Int(f::kSyncWatermarkIntervalS) == 0) {
      add("", "watermark off (sync.watermark_interval = \"0s\")");
    } else if (d.Int(f::kSyncWatermarkWrittenNs) == 0) {
      add("", "watermark not written yet" + late);
    } else {
      add("", "complete up to " +
                  FormatRfc3339(t / 1'000'000'000 * 1'000'000'000, Rfc3339Precision::kSeconds) +
                  " (lag " + Duration(d.Int(f::kSyncWatermarkLagS)) + ")" + late);
    }
    if (!d.Str(f::kSyncWatermarkError).empty()) {
      add("", "watermark: " + d.Str(f::kSyncWatermarkError));
    }
  }
  // The stream lane to Kafka, when configured.
  if (d.Has(f::kStreamRunning)) {
    add("stream", std::string(d.Bool(f::kStreamRunning) ? "" : "stopped, ") + "topic " +
                      d.Str(f::kStreamTopic) + " (" + d.Str(f::kStreamFormat) + ")" +
                      Format(", delivered %.0f records", d.Num(f::kStreamRecordsDelivered)) +
                      Format(", p99 %.0f ms", d.Num(f::kStreamLatencyP99Us) / 1000));
    add("", Format("backlog %.0f records, ", d.Num(f::kStreamBacklogRecords)) +
                Bytes(d.Num(f::kStreamBacklogBytes)) +
                (d.Int(f::kStreamBacklogRecords) > 0
                     ? ", oldest " + Duration(d.Int(f::kStreamOldestAgeS))
                     : "") +
                Format(", lost %.0f", d.Num(f::kStreamLostRecords)) +
                Format(", delivery errors %.0f", d.Num(f::kStreamDeliveryErrorsTotal)) +
                (d.Num(f::kStreamSpilledBatches) > 0
                     ? Format(", %.0f batches copied to the spill log",
                              d.Num(f::kStreamSpilledBatches))
                     : "") +
                (d.Bool(f::kStreamBrokersDown) ? ", ALL BROKERS DOWN" : ""));
    if (!d.Str(f::kStreamAuthError).empty()) {
      add("", "AUTH: " + d.Str(f::kStreamAuthError));
    } else if (!d.Str(f::kStreamLastError).empty()) {
      add("", "last error: " + d.Str(f::kStreamLastError));
    }
  }
  const std::int64_t forward = d.Int(f::kClockJumpsForward);
  const std::int64_t backward = d.Int(f::kClockJumpsBackward);
  if (forward + backward == 0) {
    add("clock", "no jumps seen");
  } else {
    add("clock", std::to_string(forward + backward) + (forward + backward == 1 ? " jump" : " jumps") +
                     " (" + std::to_string(forward) + " forward, " + std::to_string(backward) +
                     " backward; last " + admin::ClockJumpText(d.Int(f::kClockLastJumpNs)) +
                     ")");
  }
  add("partitions", Format("open %.0f", d.Num(f::kPartitionsOpen)) +
                        Format(", sealed %.0f", d.Num(f::kPartitionsSealed)) +
                        Format(", synced %.0f", d.Num(f::kPartitionsSynced)) +
                        Format(", reclaimed %.0f", d.Num(f::kPartitionsReclaimed)));

  // What went wrong last, newest knowledge first.
  std::vector<std::string> errors;
  if (!d.Str(f::kSyncLastError).empty()) {
    errors.push_back("sync: " + d.Str(f::kSyncLastError) +
                     Format(" (%.0f failures in a row)", d.Num(f::kSyncConsecutiveFailures)));
  }
  if (!d.Str(f::kSyncLastPermanentError).empty()) {
    errors.push_back("sync, permanent: " + d.Str(f::kSyncLastPermanentError) +
                     Format(" (%.0f partitions parked)", d.Num(f::kSyncParkedPartitions)));
  }
  if (!d.Str(f::kStoreLastQuarantineReason).empty()) {
    errors.push_back("store quarantine: " + d.Str(f::kStoreLastQuarantineReason));
  }
  for (const auto& note : d.Strs(f::kStoreNotes)) errors.push_back("store: " + note);
  if (errors.empty()) errors.push_back("none");
  for (std::size_t i = 0; i < errors.size(); ++i) add(i == 0 ? "errors" : "", errors[i]);
  return out;
}

}  // namespace sluice::gateway::status
