// The App's metrics: its own families (what runs, on which board, since
// when) and the wiring of every module's probe into App::metrics_. The
// families themselves live with the modules that count them: a new counter
// goes into that module's probe, and nowhere here.
#include <string>

#include "app_probes.h"
#include "version.h"

namespace sluice::gateway {
namespace {

MetricRegistration AppFamilies(MetricRegistry& r, std::string profile, std::int64_t start_ns) {
  return r.Register(
      {{"sluice_build_info", MetricType::kGauge, "Always 1; the version in a label.", {"version"}},
       {"sluice_board_info",
        MetricType::kGauge,
        "Always 1; the board profile in use in a label.",
        {"profile"}},
       {"sluice_start_time_seconds",
        MetricType::kGauge,
        "Wall clock when the gateway started.",
        {}}},
      [profile = std::move(profile), start_ns](MetricSamples& out) {
        out.Select(0);
        out.Add(1, {SLUICE_VERSION});
        out.Select(1);
        out.Add(1, {profile});
        out.Select(2);
        out.Add(static_cast<double>(start_ns) / 1e9);
      });
}

}  // namespace

App::Probes::Probes(App& a)
    : app(AppFamilies(a.metrics_, a.config_.board.profile, a.start_wall_ns_)),
      pipeline(*a.pipeline_, a.rules_, *a.store_, &a.metrics_),
      frontend(a.mqtt_.get(), &a.metrics_),
      endpoint(a.endpoint_.get(), &a.metrics_),
      store(*a.store_, a.config_.store, &a.metrics_),
      sync(a.sync_.get(), {a.config_.admin.http.sync_stuck_after, a.start_wall_ns_},
           &a.metrics_) {
  if (a.stream_) stream = std::make_unique<stream::KafkaLaneProbe>(*a.stream_, &a.metrics_);
}

void App::StartProbes() { probes_ = std::make_unique<Probes>(*this); }

}  // namespace sluice::gateway
