#include "gateway/ingest/malformed_log.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace sluice::gateway {
namespace {

template <std::size_t... I>
MalformedLog::PerReason Limits(std::uint32_t lines_per_second, std::index_sequence<I...>) {
  // Whole seconds, so that a clock before 1970 or one stepping back never
  // merges two seconds.
  return {{((void)I, RateLimitedLog(1'000'000'000, lines_per_second,
                                    RateLimitedLog::Windows::kAligned))...}};
}

}  // namespace

MalformedLog::MalformedLog(std::uint32_t lines_per_second, Sink sink)
    : sink_(std::move(sink)),
      limits_(Limits(lines_per_second, std::make_index_sequence<kReasons>())) {
  if (!sink_) {
    sink_ = [](std::string_view line) {
      spdlog::warn("malformed payload: {}", std::string_view(line));
    };
  }
}

void MalformedLog::Log(MalformedReason reason, const Status& status, std::int64_t now_ns) {
  const auto i = static_cast<std::size_t>(reason);
  if (i >= limits_.size()) return;
  const RateLimitedLog::Verdict v = limits_[i].Check(now_ns);
  if (v.suppressed > 0) {
    sink_(std::to_string(v.suppressed) + " more '" + std::string(MalformedReasonName(reason)) +
          "' lines suppressed");
  }
  if (v.log) sink_(status.message());
}

std::uint64_t MalformedLog::suppressed_total() const {
  std::uint64_t total = 0;
  for (const RateLimitedLog& limit : limits_) total += limit.suppressed_total();
  return total;
}

}  // namespace sluice::gateway
