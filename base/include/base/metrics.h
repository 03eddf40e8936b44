// Metrics: families registered once by the module that counts them, their
// samples read at scrape time, rendered in the Prometheus text exposition
// format (version 0.0.4).
//
//   MetricSet<StoreStats> m(&registry, [&store] { return store.stats(); });
//   m.Counter("sluice_store_blocks_written_total", "Blocks written to segments.",
//             [](const StoreStats& s) { return s.blocks_written; });
//   m.Family("sluice_clock_jumps_total", MetricType::kCounter, "Clock steps, by direction.",
//            {"direction"}, [](const StoreStats& s, MetricSamples& out) {
//              out.Add(s.clock_jumps_forward, {"forward"});
//              out.Add(s.clock_jumps_backward, {"backward"});
//            });
//   m.Register();       // once, after the last family
//   registry.Render();  // what /metrics serves
//
// A family is its name, type, HELP text and label names; its samples come
// from a collect function. The families of one registration (a module's
// probe) are collected together: the MetricSet reads its module's state
// once per scrape and hands that snapshot to each family. A family stays
// registered while its registration (MetricSet, MetricRegistration) lives.
//
// Metric names are an interface (dashboards, alerts): never rename one; add
// a new name and retire the old one over a release. Every name starts with
// sluice_, counters end in _total, units are base units (seconds, bytes).
//
// Thread-safety: MetricRegistry is thread-safe. Render runs the collect
// functions under the registry's lock, so a registration's destructor waits
// for a scrape in progress; collect functions must not call the registry.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace sluice {

// Prometheus text helpers: one sample line, with HELP and TYPE emitted once
// per metric name by the caller through Family.
class MetricsText {
 public:
  // Starts a family: "# HELP name help" and "# TYPE name type".
  MetricsText& Family(const std::string& name, const std::string& type, const std::string& help);
  // "name{labels} value". `labels` is already formatted: key="value",...
  MetricsText& Sample(const std::string& name, double value, const std::string& labels = "");
  // A whole histogram family: name_bucket{le="..."} (cumulative, ending with
  // +Inf), name_sum and name_count. `counts[i]` are the observations in
  // (upper_bounds[i-1], upper_bounds[i]]; counts has one more slot than
  // upper_bounds, for the observations above the last bound.
  MetricsText& Histogram(const std::string& name, const std::string& help,
                         const std::vector<double>& upper_bounds,
                         const std::vector<std::uint64_t>& counts, double sum);
  // The samples of Histogram without its HELP and TYPE lines.
  MetricsText& HistogramSamples(const std::string& name, std::span<const double> upper_bounds,
                                std::span<const std::uint64_t> counts, double sum);
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// Escapes a label value for the Prometheus text format.
std::string EscapeLabel(const std::string& value);

enum class MetricType : std::uint8_t { kCounter, kGauge, kHistogram };

// "counter", "gauge", "histogram".
const char* MetricTypeName(MetricType type);

struct MetricFamily {
  std::string name;
  MetricType type = MetricType::kGauge;
  std::string help;
  std::vector<std::string> labels;  // label names, in the order samples give values
};

// Where collect functions put the samples of a scrape.
class MetricSamples {
 public:
  // Selects the family (its position in the registration) that the next
  // samples belong to.
  void Select(std::size_t family);
  // One sample of the selected family; `label_values` in the order of the
  // family's label names (a count that differs aborts).
  void Add(double value, std::initializer_list<std::string_view> label_values = {});
  // The whole of a histogram family (see MetricsText::Histogram).
  void Histogram(std::span<const double> upper_bounds, std::span<const std::uint64_t> counts,
                 double sum);

 private:
  friend class MetricRegistry;
  explicit MetricSamples(std::span<const MetricFamily> families);
  std::span<const MetricFamily> families_;
  std::vector<MetricsText> bodies_;  // per family
  std::size_t current_ = 0;
};

class MetricRegistry;

// Keeps families registered; removes them when destroyed. Movable.
class MetricRegistration {
 public:
  MetricRegistration() = default;
  MetricRegistration(MetricRegistration&& other) noexcept
      : registry_(std::exchange(other.registry_, nullptr)), id_(other.id_) {}
  MetricRegistration& operator=(MetricRegistration&& other) noexcept;
  ~MetricRegistration() { Reset(); }
  void Reset();

 private:
  friend class MetricRegistry;
  MetricRegistration(MetricRegistry* registry, std::uint64_t id) : registry_(registry), id_(id) {}
  MetricRegistry* registry_ = nullptr;
  std::uint64_t id_ = 0;
};

class MetricRegistry {
 public:
  // Writes the samples of the registration's families (Select, then Add).
  using CollectFn = std::function<void(MetricSamples&)>;

  MetricRegistry() = default;
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  // Registers `families`, collected together by `collect`. A name that is
  // already registered aborts (two modules counting one thing is a bug).
  [[nodiscard]] MetricRegistration Register(std::vector<MetricFamily> families, CollectFn collect);
  // Every registered family, in registration order, with its samples now.
  std::string Render() const;
  // The names registered, in registration order.
  std::vector<std::string> Names() const;

 private:
  friend class MetricRegistration;
  struct Entry {
    std::uint64_t id;
    std::vector<MetricFamily> families;
    CollectFn collect;
  };
  void Remove(std::uint64_t id);

  mutable Mutex mu_;
  std::vector<Entry> entries_ SLUICE_GUARDED_BY(mu_);
  std::uint64_t next_id_ SLUICE_GUARDED_BY(mu_) = 1;
};

// A module's families over one snapshot `S` of its state, read by `read`
// once per scrape. Each family reads the snapshot: adding a counter is one
// call here, in the module's probe.
template <class S>
class MetricSet {
 public:
  using ValueFn = std::function<double(const S&)>;
  using SamplesFn = std::function<void(const S&, MetricSamples&)>;

  // `registry` null: nothing is registered (a probe with nowhere to go).
  MetricSet(MetricRegistry* registry, std::function<S()> read)
      : registry_(registry), read_(std::move(read)) {}

  MetricSet& Counter(std::string name, std::string help, ValueFn value) {
    return Family(std::move(name), MetricType::kCounter, std::move(help), {}, Single(value));
  }
  MetricSet& Gauge(std::string name, std::string help, ValueFn value) {
    return Family(std::move(name), MetricType::kGauge, std::move(help), {}, Single(value));
  }
  MetricSet& Family(std::string name, MetricType type, std::string help,
                    std::vector<std::string> labels, SamplesFn samples) {
    families_.push_back({std::move(name), type, std::move(help), std::move(labels)});
    samples_.push_back(std::move(samples));
    return *this;
  }
  // Registers what was declared, once, after the last family; the families
  // stay while this set lives.
  void Register() {
    if (registry_ == nullptr) return;
    registration_ = registry_->Register(
        std::move(families_),
        [read = std::move(read_), samples = std::move(samples_)](MetricSamples& out) {
          const S snapshot = read();
          for (std::size_t i = 0; i < samples.size(); ++i) {
            out.Select(i);
            samples[i](snapshot, out);
          }
        });
  }

 private:
  static SamplesFn Single(ValueFn value) {
    return [value = std::move(value)](const S& s, MetricSamples& out) { out.Add(value(s)); };
  }

  MetricRegistry* registry_;
  std::function<S()> read_;
  std::vector<MetricFamily> families_;
  std::vector<SamplesFn> samples_;
  MetricRegistration registration_;
};

}  // namespace sluice
