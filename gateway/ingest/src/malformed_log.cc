#include "gateway/ingest/malformed_log.h"

#include <spdlog/spdlog.h>

namespace sluice::gateway {

MalformedLog::MalformedLog(std::uint32_t lines_per_second, Sink sink)
    : lines_per_second_(lines_per_second), sink_(std::move(sink)) {
  if (!sink_) {
    sink_ = [](std::string_view line) {
      spdlog::warn("malformed payload: {}", std::string_view(line));
    };
  }
}

void MalformedLog::Log(MalformedReason reason, const Status& status, std::int64_t now_ns) {
  const auto i = static_cast<std::size_t>(reason);
  if (i >= windows_.size()) return;
  Window& w = windows_[i];
  // Floor division: a clock before 1970 must not merge two seconds.
  const std::int64_t second = now_ns / 1'000'000'000 - (now_ns % 1'000'000'000 < 0 ? 1 : 0);
  if (second != w.second) {
    if (w.suppressed > 0) {
      sink_(std::to_string(w.suppressed) + " more '" +
            std::string(MalformedReasonName(reason)) + "' lines suppressed");
    }
    w = Window{second, 0, 0};
  }
  if (w.lines < lines_per_second_) {
    ++w.lines;
    sink_(status.message());
    return;
  }
  ++w.suppressed;
  ++suppressed_total_;
}

}  // namespace sluice::gateway
