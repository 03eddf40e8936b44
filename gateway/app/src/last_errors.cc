#include "last_errors.h"

#include <algorithm>

#include "gateway/admin/admin_util.h"

namespace sluice::gateway::app {

std::vector<LastError> CollectLastErrors(const AppStats& s, const store::StorePressure& pressure,
                                         std::span<const MqttConnectionInfo> brokers,
                                         std::int64_t now_ns) {
  std::vector<LastError> out;
  auto add = [&](const char* where, const std::string& message, std::int64_t at_ns) {
    if (!message.empty()) out.push_back({where, message, at_ns});
  };
  const auto& y = s.sync;
  add("sync", y.last_error, y.last_error_ns);
  // The same failure, when permanent, is in last_error already.
  if (y.last_permanent_error != y.last_error || y.last_permanent_error_ns != y.last_error_ns) {
    add("sync", y.last_permanent_error, y.last_permanent_error_ns);
  }
  add("watermark", y.watermark_error, y.watermark_error_ns);
  add("store",
      s.store.last_quarantine_reason.empty() ? std::string()
                                             : "quarantined: " + s.store.last_quarantine_reason,
      s.store.last_quarantine_ns);
  if (pressure.full) add("store", "appends refused: " + pressure.full_reason, now_ns);
  for (const auto& b : brokers) {
    if (!b.last_error.empty())
      add("mqtt", b.client_id + " (" + b.uri + "): " + b.last_error, b.last_error_ns);
  }
  add("endpoint", s.endpoint.last_error, s.endpoint.last_error_ns);
  add("ingest", s.pipeline.last_malformed, s.pipeline.last_malformed_ns);
  std::stable_sort(out.begin(), out.end(),
                   [](const LastError& a, const LastError& b) { return a.at_ns > b.at_ns; });
  if (out.size() > kMaxLastErrors) out.resize(kMaxLastErrors);
  return out;
}

std::string LastErrorsJson(std::span<const LastError> errors) {
  std::string o = "[";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (i) o += ',';
    o += "{\"where\":" + admin::JsonString(errors[i].where) +
         ",\"message\":" + admin::JsonString(errors[i].message) +
         ",\"at_ns\":" + std::to_string(errors[i].at_ns) + "}";
  }
  return o + "]";
}

}  // namespace sluice::gateway::app
